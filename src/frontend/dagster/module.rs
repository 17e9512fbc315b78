//! Reads a Dagster module top to bottom, the way importing it would build definitions, into a
//! [`Catalog`]; nothing is executed. What cannot be read becomes an opaque entry with a span.

use crate::python::ast::TextRange;
use crate::python::ast::{self, Expr, Ranged, Stmt};
use std::collections::{BTreeMap, HashMap, HashSet};

use super::body::{self, BodyFacts};
use super::catalog::{
    AssetDef, Catalog, CheckDef, DefsDef, Dep, GraphDef, JobDef, JobKind, OpDef, ScheduleCron,
    ScheduleDef, SensorDef,
};
use super::names::{self, Decorator, api};
use super::options::{self, literal_key};
use super::partitions::{self, ScheduleOverrides, render};
use super::selection::{self, Selection, user_key};
use crate::frontend::FileContext;
use crate::frontend::callable::FunctionDef;
use crate::frontend::interp::{Core, Entered, Reader, Unread, decorator_parts};
use crate::ir::{
    Check, Diagnostic, EdgeKind, Node, NodeKind, Opaque, Policy, SensorTrigger, Span, Value,
};
use crate::python::literal::Evaluator;
use crate::python::visit::each_expr;

/// Asset keys with the partition mapping each was declared with.
type KeyDeps = Vec<(Vec<String>, Option<Value>)>;

mod assets;
mod checks;
mod definitions;
mod jobs;
mod keys;
mod multi_asset;
mod params;
mod schedules;

/// Deepest chain of names followed when resolving a value to a definition.
const MAX_LOOKUP: usize = 16;
/// Most iterations unrolled from one module-level loop.
const MAX_UNROLL: usize = 1_000;

/// What a module-level expression evaluates to, as far as Dagster definitions are concerned.
#[derive(Debug, Clone)]
pub enum Obj {
    /// One or more asset keys of asset definitions (catalog indexes).
    Assets(Vec<usize>),
    /// An `AssetSpec` (catalog index).
    Spec(usize),
    /// Asset checks.
    Checks(Vec<usize>),
    /// An op.
    Op(usize),
    /// A graph.
    Graph(usize),
    /// A job.
    Job(usize),
    /// A schedule.
    Schedule(usize),
    /// A sensor.
    Sensor(usize),
    /// An asset selection.
    Selection(Selection),
    /// A `Definitions` object.
    Defs(usize),
    /// The result of `load_assets_from_modules` and friends.
    Loaded,
    /// A local function that builds Dagster definitions when called.
    Factory,
    /// Something already reported as opaque.
    Unknown,
    /// A list or tuple.
    List(Vec<Obj>),
    /// A plain value.
    Value(Value),
}

/// The module reader.
pub struct ModuleReader<'c, 's, 'a> {
    ctx: &'c FileContext<'s, 'a>,
    /// The shared interpreter state; its module scope holds the names bound to definitions or
    /// values.
    core: Core<'s, 'a, Obj>,
    /// What the module defines.
    pub cat: Catalog<'s>,
    /// Module-level names in the order they were first bound.
    pub bound: Vec<String>,
    resource_classes: HashSet<String>,
    config_classes: HashSet<String>,
}

/// The role of a function parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Context,
    Config,
    Resource,
    Input,
}

impl<'c, 's, 'a> ModuleReader<'c, 's, 'a>
where
    'a: 's,
{
    /// A reader over a parsed module.
    pub fn new(ctx: &'c FileContext<'s, 'a>) -> Self {
        ModuleReader {
            ctx,
            core: Core::new(ctx),
            cat: Catalog::default(),
            bound: Vec::new(),
            resource_classes: HashSet::new(),
            config_classes: HashSet::new(),
        }
    }

    /// Reads the module's statements.
    pub fn run(&mut self) {
        self.core.ev.names.clear();
        let suite = self.ctx.suite;
        self.block(suite);
    }

    /// Problems found.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.core.diagnostics
    }

    /// Opaque constructs that belong to no particular definition.
    pub fn file_opaque(&self) -> &[Opaque] {
        &self.core.file_opaque
    }

    /// What a module-level name is bound to (aliases not followed).
    pub fn env_get(&self, name: &str) -> Option<&Obj> {
        self.core.scopes.first().and_then(|scope| scope.get(name))
    }

    /// Forgets a module-level name (rebound to something that is not a definition).
    fn env_remove(&mut self, name: &str) {
        if let Some(scope) = self.core.scopes.first_mut() {
            scope.remove(name);
        }
        self.core.ev.names.remove(name);
    }

    fn span(&self, range: TextRange) -> Span {
        self.ctx.src.span(range)
    }

    /// The span of a source range.
    pub fn span_of(&self, range: TextRange) -> Span {
        self.ctx.src.span(range)
    }

    /// The source text of a range.
    pub fn source(&self, range: TextRange) -> &'a str {
        self.ctx.src.slice(range)
    }

    /// The whole module's source text.
    pub fn full_text(&self) -> &'a str {
        self.ctx.src.text
    }

    /// Evaluates an expression with extra names bound (loop variables of a job body).
    pub fn ev_eval_with(&self, e: &Expr, extra: &HashMap<String, Value>) -> Value {
        if extra.is_empty() {
            return self.core.ev.eval(e);
        }
        let mut ev = Evaluator::new(self.ctx.src, self.ctx.imports);
        ev.names = self.core.ev.names.clone();
        ev.names
            .extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        ev.eval(e)
    }

    /// An opaque entry for a construct.
    pub fn opaque_at(&self, kind: &str, range: TextRange, why: String) -> Opaque {
        self.core.opaque_entry(kind, range, why)
    }

    fn add_file_opaque(&mut self, kind: &str, range: TextRange, why: String) {
        let o = self.opaque_at(kind, range, why);
        self.core.file_opaque.push(o);
    }

    fn qualify(&self, e: &Expr) -> Option<String> {
        self.ctx.imports.qualify(e)
    }

    /// A dotted name as written, its head resolved through the imports (`dg.x` → `dagster.x`).
    fn qualify_text(&self, text: &str) -> String {
        let (head, rest) = text.split_once('.').unwrap_or((text, ""));
        if !is_identifier(head) {
            return text.to_string();
        }
        match self.ctx.imports.get(head) {
            Some(q) if rest.is_empty() => q.to_string(),
            Some(q) => format!("{q}.{rest}"),
            None => text.to_string(),
        }
    }

    fn api_of(&self, e: &Expr) -> Option<String> {
        self.qualify(e).and_then(|q| api(&q).map(str::to_string))
    }

    // ----- names ---------------------------------------------------------------------------

    /// What a name refers to, following plain aliases.
    fn lookup(&self, name: &str) -> Option<&Obj> {
        let mut cur = self.env_get(name)?;
        for _ in 0..MAX_LOOKUP {
            match cur {
                Obj::Value(Value::Expr(e)) if is_identifier(e) && e != name => {
                    match self.env_get(e.as_str()) {
                        Some(next) => cur = next,
                        None => return Some(cur),
                    }
                }
                _ => return Some(cur),
            }
        }
        Some(cur)
    }

    /// `name.append(x)` / `name.extend(xs)` on a module-level list, or any other expression.
    fn expr_or_list_change(&mut self, e: &'s Expr) {
        if let Expr::Call(c) = e
            && let Expr::Attribute(a) = &*c.func
            && let Expr::Name(n) = &*a.value
            && matches!(a.attr.as_str(), "append" | "extend")
            && let Some(existing) = self.env_get(n.id.as_str()).cloned()
        {
            let mut items = match existing {
                Obj::List(items) => items,
                Obj::Value(Value::List(v)) => v.into_iter().map(Obj::Value).collect(),
                _ => {
                    self.obj(e);
                    return;
                }
            };
            for arg in &c.arguments.args {
                match (a.attr.as_str(), self.obj(arg)) {
                    ("extend", Obj::List(more)) => items.extend(more),
                    (_, o) => items.push(o),
                }
            }
            self.bind(n.id.as_str(), Obj::List(items));
            return;
        }
        self.obj(e);
    }

    fn read_class(&mut self, c: &'s ast::StmtClassDef) {
        let mut resource = false;
        let mut config = false;
        for base in c.bases() {
            let base = match base {
                Expr::Subscript(s) => &*s.value,
                other => other,
            };
            if let Expr::Name(n) = base {
                resource |= self.resource_classes.contains(n.id.as_str());
                config |= self.config_classes.contains(n.id.as_str());
            }
            if let Some(name) = self.api_of(base) {
                resource |= names::is_resource_base(&name);
                config |= names::is_config_base(&name);
            }
        }
        if resource {
            self.resource_classes.insert(c.name.to_string());
        }
        if config {
            self.config_classes.insert(c.name.to_string());
        }
        self.env_remove(c.name.as_str());
    }

    fn decorate(&mut self, def: FunctionDef<'s>) {
        for d in def.decorators {
            let (func, call) = decorator_parts(d);
            let Some(dec) = self.qualify(func).and_then(|q| names::decorator(&q)) else {
                continue;
            };
            let obj = self.decorated(dec, def, call);
            self.bind(def.name, obj);
            return;
        }
        if body_builds(self, def.body) {
            self.bind(def.name, Obj::Factory);
        } else {
            self.env_remove(def.name);
        }
    }

    // ----- expressions ---------------------------------------------------------------------

    /// Evaluates an expression to a definition object or a value.
    pub fn obj(&mut self, e: &'s Expr) -> Obj {
        match e {
            Expr::Name(n) => match self.lookup(n.id.as_str()) {
                Some(o) => o.clone(),
                None => Obj::Value(self.core.ev.eval(e)),
            },
            Expr::List(ast::ExprList { elts, .. })
            | Expr::Tuple(ast::ExprTuple { elts, .. })
            | Expr::Set(ast::ExprSet { elts, .. }) => Obj::List(self.elements(elts)),
            Expr::BinOp(b) => {
                let l = self.obj(&b.left);
                let r = self.obj(&b.right);
                match (b.op, l, r) {
                    (ast::Operator::Add, Obj::List(mut a), Obj::List(b)) => {
                        a.extend(b);
                        Obj::List(a)
                    }
                    (ast::Operator::Add, Obj::List(mut a), Obj::Value(Value::List(b)))
                    | (ast::Operator::Add, Obj::Value(Value::List(b)), Obj::List(mut a)) => {
                        a.extend(b.into_iter().map(Obj::Value));
                        Obj::List(a)
                    }
                    (
                        op @ (ast::Operator::BitOr | ast::Operator::BitAnd | ast::Operator::Sub),
                        l @ Obj::Selection(_),
                        r,
                    ) => match self.selection_of(&r) {
                        Ok(rs) => {
                            let Obj::Selection(ls) = l else {
                                return Obj::Value(self.core.ev.eval(e));
                            };
                            Obj::Selection(match op {
                                ast::Operator::BitOr => ls.or(rs),
                                ast::Operator::BitAnd => ls.and(rs),
                                _ => Selection::Sub(Box::new(ls), Box::new(rs)),
                            })
                        }
                        Err(_) => Obj::Value(self.core.ev.eval(e)),
                    },
                    _ => Obj::Value(self.core.ev.eval(e)),
                }
            }
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::Invert => match self.obj(&u.operand) {
                Obj::Selection(s) => Obj::Selection(Selection::Not(Box::new(s))),
                _ => Obj::Value(self.core.ev.eval(e)),
            },
            Expr::Call(c) => self.call(e, c),
            _ => Obj::Value(self.core.ev.eval(e)),
        }
    }

    fn elements(&mut self, elts: &'s [Expr]) -> Vec<Obj> {
        let mut out = Vec::new();
        for elt in elts {
            match elt {
                Expr::Starred(s) => match self.obj(&s.value) {
                    Obj::List(items) => out.extend(items),
                    Obj::Value(Value::List(items)) => out.extend(items.into_iter().map(Obj::Value)),
                    other => out.push(other),
                },
                other => out.push(self.obj(other)),
            }
        }
        out
    }

    fn call(&mut self, e: &'s Expr, c: &'s ast::ExprCall) -> Obj {
        if let Some(q) = self.qualify(&c.func)
            && names::decorator(&q).is_some()
        {
            self.add_file_opaque(
                "decorator_call",
                c.range(),
                format!(
                    "`{}` is called as a function rather than used as a decorator; what it builds is not read",
                    self.ctx.src.slice(c.func.range())
                ),
            );
            return Obj::Unknown;
        }
        if let Expr::Call(inner) = &*c.func
            && let Some(q) = self.qualify(&inner.func)
            && names::decorator(&q).is_some()
        {
            self.add_file_opaque(
                "decorator_call",
                c.range(),
                format!(
                    "`{}(...)` is applied to a function by a call rather than as a decorator; what it builds is not read",
                    self.ctx.src.slice(inner.func.range())
                ),
            );
            return Obj::Unknown;
        }
        if let Some(name) = self.api_of(&c.func) {
            match name.as_str() {
                "AssetSpec" | "SourceAsset" => return self.asset_spec(c),
                "define_asset_job" => return self.define_asset_job(c),
                "ScheduleDefinition" => return self.schedule_definition(c),
                "build_schedule_from_partitioned_job" => return self.partitioned_schedule(c),
                "Definitions" => return self.definitions(c),
                "Definitions.merge" => {
                    let parts: Vec<Obj> = c.arguments.args.iter().map(|a| self.obj(a)).collect();
                    return self.merge_definitions(&parts, c.range());
                }
                "with_source_code_references" | "link_code_references_to_git" => {
                    return match c.arguments.args.first() {
                        Some(a) => self.obj(a),
                        None => Obj::Unknown,
                    };
                }
                n if n.starts_with("load_assets_from")
                    || n.starts_with("load_asset_checks_from")
                    || n.starts_with("load_definitions_from") =>
                {
                    self.add_file_opaque(
                        "load_from_modules",
                        c.range(),
                        format!(
                            "`{n}` collects definitions from modules at import time; orchmig does not import them and reads the assets defined in this file in their place"
                        ),
                    );
                    return Obj::Loaded;
                }
                n if n.starts_with("AssetSelection.") => {
                    return self.selection_call(&n["AssetSelection.".len()..], c);
                }
                _ => {}
            }
        }
        if let Expr::Attribute(a) = &*c.func {
            match self.obj(&a.value) {
                Obj::Selection(s) => return self.selection_method(s, a.attr.as_str(), c),
                Obj::Graph(g) if a.attr.as_str() == "to_job" => return self.graph_to_job(g, c),
                Obj::Defs(d) if a.attr.as_str() == "merge" => {
                    let mut parts = vec![Obj::Defs(d)];
                    parts.extend(c.arguments.args.iter().map(|x| self.obj(x)));
                    return self.merge_definitions(&parts, c.range());
                }
                _ => {}
            }
        }
        if let Expr::Name(n) = &*c.func
            && matches!(self.env_get(n.id.as_str()), Some(Obj::Factory))
        {
            self.add_file_opaque(
                "definition_factory",
                c.range(),
                format!(
                    "`{}` builds Dagster definitions inside a function; orchmig does not run it, so what it returns is not read",
                    n.id
                ),
            );
            return Obj::Unknown;
        }
        Obj::Value(self.core.ev.eval(e))
    }

    // ----- decorators ----------------------------------------------------------------------

    fn decorated(
        &mut self,
        dec: Decorator,
        def: FunctionDef<'s>,
        call: Option<&'s ast::ExprCall>,
    ) -> Obj {
        match dec {
            Decorator::Asset => self.asset(def, call, None),
            Decorator::GraphAsset => self.asset(def, call, Some("graph_asset")),
            Decorator::MultiAsset => self.multi_asset(def, call),
            Decorator::AssetCheck => self.asset_check(def, call),
            Decorator::MultiAssetCheck => self.multi_asset_check(def, call),
            Decorator::Op => self.op(def, call),
            Decorator::Graph => {
                let name = self
                    .kw_str(call, "name")
                    .unwrap_or_else(|| def.name.to_string());
                let description = self.kw_str(call, "description").or_else(|| def.docstring());
                let mut extra = BTreeMap::new();
                for (k, e) in self.keywords(call) {
                    if !matches!(k, "name" | "description") {
                        extra.insert(k.to_string(), self.core.ev.eval(e));
                    }
                }
                self.cat.graphs.push(GraphDef {
                    name,
                    def,
                    description,
                    extra,
                });
                Obj::Graph(self.cat.graphs.len() - 1)
            }
            Decorator::Job => self.job(def, call),
            Decorator::Schedule => self.schedule_fn(def, call),
            Decorator::Sensor(kind) => self.sensor_fn(def, call, kind),
        }
    }
}

impl<'c, 's, 'a> Reader<'s, 'a> for ModuleReader<'c, 's, 'a>
where
    'a: 's,
{
    type Obj = Obj;
    type Mark = ();
    const MAX_UNROLL: usize = MAX_UNROLL;
    const MAX_TOTAL_UNROLL: usize = usize::MAX;

    fn core(&self) -> &Core<'s, 'a, Obj> {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core<'s, 'a, Obj> {
        &mut self.core
    }

    fn value(v: Value) -> Obj {
        Obj::Value(v)
    }

    fn weight_within(obj: &Obj, budget: usize) -> Option<usize> {
        obj_weight_within(obj, budget)
    }

    fn plain(obj: &Obj) -> Option<Value> {
        plain_value(obj)
    }

    fn expr(&mut self, e: &'s Expr) -> Obj {
        self.obj(e)
    }

    fn record_opaque(&mut self, entry: Opaque) {
        self.core.file_opaque.push(entry);
    }

    /// Keeps the order in which module-level names are first bound.
    fn on_bind(&mut self, name: &str, _obj: &Obj) {
        if self.env_get(name).is_none() {
            self.bound.push(name.to_string());
        }
    }

    fn sequence(&self, obj: &Obj) -> Option<Vec<Obj>> {
        match obj {
            Obj::List(items) => Some(items.clone()),
            _ => self.plain_sequence(obj),
        }
    }

    fn collect(&self, items: Vec<Obj>) -> Obj {
        Obj::List(items)
    }

    fn expr_stmt(&mut self, e: &'s Expr) {
        self.expr_or_list_change(e);
    }

    fn augment(&mut self, name: &str, added: Obj) -> Option<Obj> {
        match (self.env_get(name).cloned(), added) {
            (Some(Obj::List(mut old)), Obj::List(new)) => {
                old.extend(new);
                Some(Obj::List(old))
            }
            (Some(Obj::Value(Value::List(old))), Obj::List(new)) => {
                let mut items: Vec<Obj> = old.into_iter().map(Obj::Value).collect();
                items.extend(new);
                Some(Obj::List(items))
            }
            _ => None,
        }
    }

    fn define_function(&mut self, def: FunctionDef<'s>) {
        self.decorate(def);
    }

    fn class_def(&mut self, c: &'s ast::StmtClassDef) {
        self.read_class(c);
    }

    const WHILE_UNREAD: &'static str = "the definitions it builds are not read";

    fn builds_in(&self, body: &'s [Stmt]) -> bool {
        block_defines(self, body)
    }

    fn loop_iterable(&mut self, iter: &'s Expr, _spent: bool) -> Obj {
        Obj::Value(self.core.ev.eval(iter))
    }

    fn loop_items(&mut self, _iter: &'s Expr, iterable: &Obj, _spent: bool) -> Option<Vec<Obj>> {
        match iterable {
            Obj::Value(Value::List(items)) => Some(items.iter().cloned().map(Obj::Value).collect()),
            _ => None,
        }
    }

    /// A loop variable is a plain value, not a module-level definition.
    fn bind_loop_item(&mut self, target: &'s Expr, item: Obj) {
        if let Obj::Value(v) = &item {
            self.core.ev.bind_target(target, v);
        }
        if let Expr::Name(n) = target
            && let Some(scope) = self.core.scopes.first_mut()
        {
            scope.remove(n.id.as_str());
        }
    }

    fn unread_loop(&mut self, lp: Unread<'s, Obj>) {
        if block_defines(self, &lp.lp.body) {
            let shown = self.core.text(&*lp.lp.iter);
            self.opaque(
                "dynamic_loop",
                lp.stmt,
                format!(
                    "the loop iterates over `{shown}`, which is not a static list; the definitions it builds are not read"
                ),
            );
        }
    }

    fn context_mark(&self) {}

    fn restore_context(&mut self, _mark: ()) {}

    /// A `with` at module level builds nothing itself; its body is read.
    fn enter(&mut self, _item: &'s ast::WithItem, _sole: bool, _body: &'s [Stmt]) -> Entered<Obj> {
        Entered::Skip
    }
}

/// The weight of an object if it is at most `budget` (see `python::literal::weight_within`);
/// iterative, so it stops at the budget however deep lists nest.
fn obj_weight_within(obj: &Obj, budget: usize) -> Option<usize> {
    let mut weight = 0usize;
    let mut todo = vec![obj];
    while let Some(o) = todo.pop() {
        weight += match o {
            Obj::Value(v) => crate::python::literal::weight_within(v, budget - weight.min(budget))?,
            Obj::List(items) => {
                todo.extend(items);
                1
            }
            Obj::Assets(v) | Obj::Checks(v) => v.len().max(1),
            _ => 1,
        };
        if weight > budget {
            return None;
        }
    }
    Some(weight)
}

/// The plain value of an object made only of values (a list of constants, …).
fn plain_value(obj: &Obj) -> Option<Value> {
    match obj {
        Obj::Value(v) => Some(v.clone()),
        Obj::List(items) => items
            .iter()
            .map(plain_value)
            .collect::<Option<Vec<_>>>()
            .map(Value::List),
        _ => None,
    }
}

fn flatten(obj: Obj, out: &mut Vec<Obj>) {
    match obj {
        Obj::List(items) => {
            for i in items {
                flatten(i, out);
            }
        }
        Obj::Value(Value::List(items)) => {
            for i in items {
                flatten(Obj::Value(i), out);
            }
        }
        Obj::Value(Value::None) => {}
        other => out.push(other),
    }
}

/// True for a plain Python identifier.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// True when statements define Dagster objects (decorated functions or definition calls).
fn block_defines(r: &ModuleReader, stmts: &[Stmt]) -> bool {
    body_builds(r, stmts)
}

/// True when a body builds Dagster definitions: a Dagster decorator or definition call in it.
fn body_builds(r: &ModuleReader, stmts: &[Stmt]) -> bool {
    fn decorated(r: &ModuleReader, stmts: &[Stmt]) -> bool {
        stmts.iter().any(|s| {
            let inner: &[Stmt] = match s {
                Stmt::FunctionDef(f) if !f.is_async => {
                    if f.decorator_list.iter().any(|d| {
                        let func = match &d.expression {
                            Expr::Call(c) => &*c.func,
                            other => other,
                        };
                        r.qualify(func).and_then(|q| names::decorator(&q)).is_some()
                    }) {
                        return true;
                    }
                    &f.body
                }
                Stmt::For(f) => &f.body,
                Stmt::If(i) => {
                    return decorated(r, &i.body) || decorated(r, crate::python::orelse(i));
                }
                Stmt::With(w) => &w.body,
                Stmt::Try(t) => &t.body,
                _ => return false,
            };
            decorated(r, inner)
        })
    }
    if decorated(r, stmts) {
        return true;
    }
    let mut found = false;
    each_expr(stmts, &mut |e| {
        if let Expr::Call(c) = e
            && let Some(n) = r.api_of(&c.func)
            && matches!(
                n.as_str(),
                "AssetSpec"
                    | "define_asset_job"
                    | "ScheduleDefinition"
                    | "build_schedule_from_partitioned_job"
                    | "Definitions"
                    | "AssetsDefinition"
            )
        {
            found = true;
        }
    });
    found
}
