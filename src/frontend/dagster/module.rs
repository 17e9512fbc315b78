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
use crate::frontend::interp::{Core, Entered, Gaps, Reader, Unread};
use crate::frontend::literal::Evaluator;
use crate::ir::{
    Check, Diagnostic, EdgeKind, Node, NodeKind, Opaque, Policy, SensorTrigger, Span, Value,
};
use crate::python::visit::each_expr;

/// Asset keys with the partition mapping each was declared with.
type KeyDeps = Vec<(Vec<String>, Option<Value>)>;

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
            let (func, call) = match &d.expression {
                Expr::Call(c) => (&*c.func, Some(c)),
                other => (other, None),
            };
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

    // ----- keys and selections -------------------------------------------------------------

    /// The keys one dependency-like object stands for (a multi-asset stands for all of its
    /// keys), with a partition mapping when it is an `AssetDep`.
    fn dep_item(&self, obj: &Obj, depth: usize) -> Result<KeyDeps, String> {
        if depth > MAX_LOOKUP {
            return Err("too many indirections".into());
        }
        match obj {
            Obj::Assets(idxs) => Ok(idxs
                .iter()
                .map(|&i| (self.cat.assets[i].key.clone(), None))
                .collect()),
            Obj::Spec(i) => Ok(vec![(self.cat.assets[*i].key.clone(), None)]),
            Obj::List(items)
                if !items.is_empty()
                    && items.iter().all(|x| matches!(x, Obj::Value(Value::Str(_)))) =>
            {
                Ok(vec![(
                    items
                        .iter()
                        .filter_map(|x| match x {
                            Obj::Value(Value::Str(s)) => Some(s.clone()),
                            _ => None,
                        })
                        .collect(),
                    None,
                )])
            }
            Obj::Value(v) => self.value_keys(v, depth + 1),
            _ => Err("not an asset, key or spec".into()),
        }
    }

    fn value_keys(&self, v: &Value, depth: usize) -> Result<KeyDeps, String> {
        if depth > MAX_LOOKUP {
            return Err("too many indirections".into());
        }
        if let Some(k) = literal_key(v) {
            return Ok(vec![(k, None)]);
        }
        match v {
            Value::Expr(name) if is_identifier(name) => match self.lookup(name) {
                Some(o) => self.dep_item(o, depth + 1),
                None => Err(format!("`{name}` is not defined in this file")),
            },
            Value::Call(c) if api(&c.func) == Some("AssetDep") => {
                let asset = c
                    .args
                    .first()
                    .or_else(|| c.kwargs.get("asset"))
                    .ok_or("AssetDep without an asset")?;
                let mapping = c.kwargs.get("partition_mapping").cloned();
                Ok(self
                    .value_keys(asset, depth + 1)?
                    .into_iter()
                    .map(|(k, _)| (k, mapping.clone()))
                    .collect())
            }
            Value::Call(c) if matches!(api(&c.func), Some("AssetSpec" | "SourceAsset")) => {
                let key = c
                    .args
                    .first()
                    .or_else(|| c.kwargs.get("key"))
                    .and_then(literal_key)
                    .ok_or("an AssetSpec without a literal key")?;
                Ok(vec![(key, None)])
            }
            other => Err(format!("`{}` is not a literal asset key", render(other))),
        }
    }

    /// The keys of a `deps=` list.
    fn dep_list(&self, obj: &Obj) -> Result<KeyDeps, String> {
        match obj {
            Obj::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.dep_item(item, 0)?);
                }
                Ok(out)
            }
            Obj::Value(Value::List(items)) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.value_keys(item, 0)?);
                }
                Ok(out)
            }
            Obj::Value(Value::None) => Ok(Vec::new()),
            other => self.dep_item(other, 0),
        }
    }

    /// The one key an `asset=` argument names.
    fn one_key(&self, obj: &Obj) -> Result<Vec<String>, String> {
        let mut keys = self.dep_item(obj, 0)?;
        match keys.len() {
            1 => Ok(keys.remove(0).0),
            _ => Err("it names several assets".into()),
        }
    }

    /// An object coerced to an asset selection (strings, lists of names or assets, selections).
    pub fn selection_of(&self, obj: &Obj) -> Result<Selection, String> {
        match obj {
            Obj::Selection(s) => Ok(s.clone()),
            Obj::Value(Value::Str(s)) => selection::parse(s),
            Obj::Value(Value::Expr(name)) if is_identifier(name) => match self.lookup(name) {
                Some(o) if !matches!(o, Obj::Value(Value::Expr(_))) => self.selection_of(o),
                _ => Err(format!(
                    "the selection `{name}` is not defined in this file"
                )),
            },
            Obj::Value(Value::List(items)) => {
                let objs: Vec<Obj> = items.iter().cloned().map(Obj::Value).collect();
                self.selection_of(&Obj::List(objs))
            }
            Obj::List(items) => {
                if items.is_empty() {
                    return Ok(Selection::Keys(Vec::new()));
                }
                if items.iter().all(|x| matches!(x, Obj::Value(Value::Str(_)))) {
                    let mut parts = Vec::new();
                    for x in items {
                        if let Obj::Value(Value::Str(s)) = x {
                            parts.push(selection::parse(s)?);
                        }
                    }
                    return Ok(parts
                        .into_iter()
                        .reduce(Selection::or)
                        .unwrap_or(Selection::Keys(Vec::new())));
                }
                let mut keys = Vec::new();
                for x in items {
                    keys.extend(self.dep_item(x, 0)?.into_iter().map(|(k, _)| k));
                }
                Ok(Selection::Keys(keys))
            }
            Obj::Assets(_) | Obj::Spec(_) => Ok(Selection::Keys(
                self.dep_item(obj, 0)?.into_iter().map(|(k, _)| k).collect(),
            )),
            Obj::Value(v) => Err(format!(
                "the selection `{}` is not one orchmig resolves statically",
                render(v)
            )),
            _ => Err("this is not an asset selection".into()),
        }
    }

    fn selection_call(&mut self, method: &str, c: &'s ast::ExprCall) -> Obj {
        let args: Vec<Obj> = self.elements(&c.arguments.args);
        let strs = |args: &[Obj]| -> Option<Vec<String>> {
            args.iter()
                .map(|a| match a {
                    Obj::Value(Value::Str(s)) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        };
        let kw = |name: &str| {
            c.arguments
                .keywords
                .iter()
                .find(|k| k.arg.as_deref() == Some(name))
                .map(|k| &k.value)
        };
        let sel = match method {
            "all" => Some(Selection::All),
            "assets" => {
                let mut keys = Vec::new();
                let mut ok = true;
                for a in &args {
                    match self.dep_item(a, 0) {
                        Ok(ks) => keys.extend(ks.into_iter().map(|(k, _)| k)),
                        Err(_) => ok = false,
                    }
                }
                ok.then_some(Selection::Keys(keys))
            }
            "keys" => {
                let mut keys = Vec::new();
                let mut ok = true;
                for a in &args {
                    match a {
                        Obj::Value(Value::Str(s)) => keys.push(user_key(s)),
                        other => match self.dep_item(other, 0) {
                            Ok(ks) => keys.extend(ks.into_iter().map(|(k, _)| k)),
                            Err(_) => ok = false,
                        },
                    }
                }
                ok.then_some(Selection::Keys(keys))
            }
            "groups" => strs(&args).map(Selection::Groups),
            "key_prefixes" => {
                let mut out = Vec::new();
                let mut ok = true;
                for a in &args {
                    match a {
                        Obj::Value(Value::Str(s)) => out.push(vec![s.clone()]),
                        Obj::List(_) | Obj::Value(Value::List(_)) => match self.dep_item(a, 0) {
                            Ok(ks) => out.extend(ks.into_iter().map(|(k, _)| k)),
                            Err(_) => ok = false,
                        },
                        _ => ok = false,
                    }
                }
                ok.then_some(Selection::KeyPrefixes(out))
            }
            "tag" => {
                let key = args
                    .first()
                    .cloned()
                    .or_else(|| kw("key").map(|e| Obj::Value(self.core.ev.eval(e))));
                let value = args
                    .get(1)
                    .cloned()
                    .or_else(|| kw("value").map(|e| Obj::Value(self.core.ev.eval(e))));
                match (key, value) {
                    (Some(Obj::Value(Value::Str(k))), Some(Obj::Value(Value::Str(v)))) => {
                        Some(Selection::Tag(k, v))
                    }
                    _ => None,
                }
            }
            "tag_string" => match args.first() {
                Some(Obj::Value(Value::Str(s))) => Some(match s.split_once('=') {
                    Some((k, v)) => Selection::Tag(k.into(), v.into()),
                    None => Selection::Tag(s.clone(), String::new()),
                }),
                _ => None,
            },
            "kind" => match args.first() {
                Some(Obj::Value(Value::Str(s))) => Some(Selection::Kind(s.clone())),
                _ => None,
            },
            "owner" => match args.first() {
                Some(Obj::Value(Value::Str(s))) => Some(Selection::Owner(s.clone())),
                _ => None,
            },
            "from_string" => match args.first() {
                Some(Obj::Value(Value::Str(s))) => selection::parse(s).ok(),
                _ => None,
            },
            "from_coercible" => args.first().and_then(|a| self.selection_of(a).ok()),
            _ => None,
        };
        match sel {
            Some(s) => Obj::Selection(s),
            None => Obj::Value(Value::Expr(self.ctx.src.slice(c.range()).to_string())),
        }
    }

    fn selection_method(&mut self, base: Selection, method: &str, c: &'s ast::ExprCall) -> Obj {
        let arg = |i: usize, name: &str| -> Option<Value> {
            c.arguments
                .args
                .get(i)
                .or_else(|| {
                    c.arguments
                        .keywords
                        .iter()
                        .find(|k| k.arg.as_deref() == Some(name))
                        .map(|k| &k.value)
                })
                .map(|e| self.core.ev.eval(e))
        };
        let depth = arg(0, "depth")
            .and_then(|v| v.as_int())
            .map(|d| d.max(0) as u32);
        let include_self = arg(1, "include_self")
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        let of = Box::new(base.clone());
        Obj::Selection(match method {
            "downstream" => Selection::Downstream {
                of,
                depth,
                include_self,
            },
            "upstream" => Selection::Upstream {
                of,
                depth,
                include_self,
            },
            "sinks" => Selection::Sinks(of),
            "roots" | "sources" => Selection::Roots(of),
            "required_multi_asset_neighbors" => Selection::RequiredNeighbors(of),
            "materializable" | "without_checks" => base,
            _ => {
                return Obj::Value(Value::Expr(self.ctx.src.slice(c.range()).to_string()));
            }
        })
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

    fn keywords(&mut self, call: Option<&'s ast::ExprCall>) -> Vec<(&'s str, &'s Expr)> {
        let Some(call) = call else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for kw in &call.arguments.keywords {
            match kw.arg.as_deref() {
                Some(name) => out.push((name, &kw.value)),
                None => self.add_file_opaque(
                    "kwargs_spread",
                    kw.value.range(),
                    "`**options` passed to a Dagster decorator or call: its keys are not known statically".into(),
                ),
            }
        }
        out
    }

    /// Keywords plus positional arguments named by their position.
    fn arguments(
        &mut self,
        call: Option<&'s ast::ExprCall>,
        positional: &[&'s str],
    ) -> Vec<(&'s str, &'s Expr)> {
        let mut out = Vec::new();
        if let Some(c) = call {
            for (i, a) in c.arguments.args.iter().enumerate() {
                match positional.get(i) {
                    Some(name) => out.push((*name, a)),
                    None => self.add_file_opaque(
                        "positional_argument",
                        a.range(),
                        "an unexpected positional argument; it was not read".into(),
                    ),
                }
            }
        }
        out.extend(self.keywords(call));
        out
    }

    /// A dict's entries in source order when it is written out (a literal `{...}`), else in
    /// key order; `None` when it is not a dict with literal keys.
    fn ordered_dict(&self, e: &'s Expr) -> Option<Vec<(String, Value, TextRange)>> {
        if let Expr::Dict(d) = e {
            let mut out = Vec::new();
            for item in &d.items {
                let (k, v) = (&item.key, &item.value);
                let Value::Str(key) = self.core.ev.eval(k.as_ref()?) else {
                    return None;
                };
                out.push((key, self.core.ev.eval(v), v.range()));
            }
            return Some(out);
        }
        match self.core.ev.eval(e) {
            Value::Dict(m) => Some(m.into_iter().map(|(k, v)| (k, v, e.range())).collect()),
            _ => None,
        }
    }

    fn kw_str(&self, call: Option<&'s ast::ExprCall>, name: &str) -> Option<String> {
        call?
            .arguments
            .keywords
            .iter()
            .find(|k| k.arg.as_deref() == Some(name))
            .and_then(|k| self.core.ev.eval(&k.value).as_str().map(str::to_string))
    }

    fn role(&self, index: usize, p: &'s ast::ParameterWithDefault) -> Role {
        let name = p.parameter.name.as_str();
        if let Some(ann) = &p.parameter.annotation {
            let (head, subscripted) = match &**ann {
                Expr::Subscript(s) => (&*s.value, true),
                other => (other, false),
            };
            if let Some(n) = self.api_of(head) {
                if names::is_context_annotation(&n) {
                    return Role::Context;
                }
                if names::is_resource_base(&n) || (subscripted && n == "ResourceParam") {
                    return Role::Resource;
                }
                if names::is_config_base(&n) {
                    return Role::Config;
                }
            }
            if let Expr::Name(n) = head {
                if self.resource_classes.contains(n.id.as_str()) {
                    return Role::Resource;
                }
                if self.config_classes.contains(n.id.as_str()) {
                    return Role::Config;
                }
            }
        }
        if index == 0 && matches!(name, "context" | "_context" | "_") {
            return Role::Context;
        }
        if matches!(name, "config" | "_config") {
            return Role::Config;
        }
        Role::Input
    }

    /// The function's parameters with their roles (`*args` and `**kwargs` left out).
    fn params(&self, def: &FunctionDef<'s>) -> Vec<(&'s str, Role)> {
        let a = def.args;
        a.posonlyargs
            .iter()
            .chain(&a.args)
            .chain(&a.kwonlyargs)
            .enumerate()
            .map(|(i, p)| (p.parameter.name.as_str(), self.role(i, p)))
            .collect()
    }

    fn context_name(&self, def: &FunctionDef<'s>) -> Option<&'s str> {
        self.params(def)
            .into_iter()
            .find(|(_, r)| *r == Role::Context)
            .map(|(n, _)| n)
    }

    fn facts(&self, def: &FunctionDef<'s>) -> BodyFacts {
        body::scan(def.body, self.ctx.imports, self.context_name(def))
    }

    fn new_asset(&mut self, def: &FunctionDef<'s>, definition: usize) -> AssetDef {
        let span = self.span(def.range);
        let mut node = Node::new("", NodeKind::Asset, span);
        node.callable = Some(def.to_callable(self.ctx.src));
        node.description = def.docstring();
        AssetDef {
            key: Vec::new(),
            node,
            group: "default".into(),
            deps: Vec::new(),
            tags: BTreeMap::new(),
            kinds: Vec::new(),
            owners: Vec::new(),
            partitions: None,
            definition,
            external: false,
            checks: Vec::new(),
            opaque: Vec::new(),
        }
    }

    /// Applies an option shared by `@asset`, `@multi_asset`, `AssetOut` and `AssetSpec`.
    fn asset_option(&mut self, a: &mut AssetDef, key: &str, value: &Value, range: TextRange) {
        let problem = |this: &Self, a: &mut AssetDef, why: String| {
            a.opaque.push(this.opaque_at("unread_option", range, why));
            a.node.extra.insert(key.to_string(), value.clone());
        };
        match key {
            "group_name" => match value {
                Value::Str(s) => a.group = s.clone(),
                Value::None => {}
                other => problem(
                    self,
                    a,
                    format!("the group name `{}` is not literal", render(other)),
                ),
            },
            "description" => match value {
                Value::Str(s) => a.node.description = Some(s.clone()),
                Value::None => {}
                other => problem(
                    self,
                    a,
                    format!("the description `{}` is not literal", render(other)),
                ),
            },
            "owners" => match options::strings(value) {
                Ok(o) => {
                    a.node.policy.owner = (!o.is_empty()).then(|| o.join(","));
                    a.owners = o;
                }
                Err(why) => problem(self, a, why),
            },
            "tags" => match options::tag_map(value) {
                Ok(t) => {
                    a.node.tags = options::tag_strings(&t);
                    a.tags = t;
                }
                Err(why) => problem(self, a, why),
            },
            "kinds" | "compute_kind" => match options::strings(value) {
                Ok(k) => {
                    for kind in &k {
                        if !a.kinds.contains(kind) {
                            a.kinds.push(kind.clone());
                        }
                    }
                    a.node.extra.insert(key.to_string(), value.clone());
                }
                Err(why) => problem(self, a, why),
            },
            "partitions_def" => match value {
                Value::None => {}
                v => match partitions::from_value(v) {
                    Ok(p) => {
                        a.node.partitions = Some(p.partitions.clone());
                        if !p.extra.is_empty() {
                            a.node
                                .extra
                                .insert("partitions_options".into(), Value::Dict(p.extra.clone()));
                        }
                        a.partitions = Some(p);
                    }
                    Err(why) => problem(self, a, why),
                },
            },
            "io_manager_key" => match value {
                Value::Str(s) => a.node.io_manager = Some(s.clone()),
                Value::None => {}
                other => problem(
                    self,
                    a,
                    format!("the IO manager key `{}` is not literal", render(other)),
                ),
            },
            "retry_policy" => match value {
                Value::None => {}
                v => match options::retry_policy(v) {
                    Ok(p) => a.node.policy = a.node.policy.over(&p),
                    Err(why) => problem(self, a, why),
                },
            },
            "pool" => match value {
                Value::Str(s) => a.node.policy.pool = Some(s.clone()),
                Value::None => {}
                other => problem(
                    self,
                    a,
                    format!("the pool `{}` is not literal", render(other)),
                ),
            },
            "op_tags" => {
                if let Value::Dict(m) = value
                    && let Some(Value::Str(pool)) = m.get("dagster/concurrency_key")
                {
                    a.node.policy.pool = Some(pool.clone());
                }
                a.node.extra.insert(key.into(), value.clone());
            }
            _ => {
                a.node.extra.insert(key.into(), value.clone());
            }
        }
    }

    /// The key and partition mapping of an `ins` entry for a parameter.
    fn asset_in(&self, param: &str, v: &Value) -> Result<(Vec<String>, Option<Value>), String> {
        match v {
            Value::Call(c) if api(&c.func) == Some("AssetIn") => {
                let key = c.args.first().or_else(|| c.kwargs.get("key"));
                let key = match key {
                    None | Some(Value::None) => {
                        let mut k = match c.kwargs.get("key_prefix") {
                            Some(p) => options::key_prefix(p)?,
                            None => Vec::new(),
                        };
                        k.push(param.to_string());
                        k
                    }
                    Some(k) => self
                        .value_keys(k, 0)?
                        .into_iter()
                        .next()
                        .map(|x| x.0)
                        .ok_or("an AssetIn without a key")?,
                };
                Ok((key, c.kwargs.get("partition_mapping").cloned()))
            }
            other => Ok((
                self.value_keys(other, 0)?
                    .into_iter()
                    .next()
                    .map(|x| x.0)
                    .ok_or("an input without a key")?,
                None,
            )),
        }
    }

    /// Data deps from the function's inputs (parameters and `ins=`).
    fn input_deps(
        &mut self,
        def: &FunctionDef<'s>,
        ins: &BTreeMap<String, Value>,
        ins_range: Option<TextRange>,
        a: &mut AssetDef,
    ) {
        let span = self.span(def.range);
        let mut resources = Vec::new();
        let mut seen = HashSet::new();
        let params = self.params(def);
        let mut names: Vec<&str> = Vec::new();
        for (name, role) in &params {
            match role {
                Role::Input => names.push(name),
                Role::Resource => resources.push(Value::Str(name.to_string())),
                Role::Context | Role::Config => {}
            }
        }
        for name in ins.keys() {
            if !names.contains(&name.as_str()) {
                names.push(name.as_str());
            }
        }
        for name in names {
            if !seen.insert(name.to_string()) {
                continue;
            }
            let (key, mapping) = match ins.get(name) {
                Some(v) => match self.asset_in(name, v) {
                    Ok(x) => x,
                    Err(why) => {
                        let range = ins_range.unwrap_or(def.range);
                        a.opaque.push(self.opaque_at(
                            "unread_input",
                            range,
                            format!("the input `{name}` could not be read: {why}"),
                        ));
                        continue;
                    }
                },
                None => (vec![name.to_string()], None),
            };
            a.deps.push(Dep {
                key,
                kind: EdgeKind::Data,
                param: Some(name.to_string()),
                mapping,
                span,
            });
        }
        if !resources.is_empty() {
            a.node
                .extra
                .insert("resources".into(), Value::List(resources));
        }
        let mut in_options = BTreeMap::new();
        for (name, v) in ins {
            if let Value::Call(c) = v {
                let other: BTreeMap<String, Value> = c
                    .kwargs
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(k.as_str(), "key" | "key_prefix" | "partition_mapping")
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if !other.is_empty() {
                    in_options.insert(name.clone(), Value::Dict(other));
                }
            }
        }
        if !in_options.is_empty() {
            a.node.extra.insert("ins".into(), Value::Dict(in_options));
        }
    }

    fn order_deps(&mut self, expr: &'s Expr, a: &mut AssetDef) {
        let obj = self.obj(expr);
        let span = self.span(expr.range());
        if let Value::List(items) = self.core.ev.eval(expr) {
            let mut meta = BTreeMap::new();
            for item in &items {
                if let Value::Call(c) = item
                    && api(&c.func) == Some("AssetDep")
                    && let Some(m) = c.kwargs.get("metadata")
                    && let Ok(keys) = self.value_keys(item, 0)
                {
                    for (k, _) in keys {
                        meta.insert(k.join("/"), m.clone());
                    }
                }
            }
            if !meta.is_empty() {
                a.node
                    .extra
                    .insert("dep_metadata".into(), Value::Dict(meta));
            }
        }
        match self.dep_list(&obj) {
            Ok(keys) => {
                for (key, mapping) in keys {
                    if let Some(d) = a.deps.iter_mut().find(|d| d.key == key) {
                        if d.mapping.is_none() {
                            d.mapping = mapping;
                        }
                        continue;
                    }
                    a.deps.push(Dep {
                        key,
                        kind: EdgeKind::Order,
                        param: None,
                        mapping,
                        span,
                    });
                }
            }
            Err(why) => a.opaque.push(self.opaque_at(
                "unread_deps",
                expr.range(),
                format!("the deps could not be read: {why}"),
            )),
        }
    }

    fn finish_asset(&mut self, mut a: AssetDef, facts: &BodyFacts) -> usize {
        a.node.id = a.key.join("/");
        a.node.group = Some(a.group.clone());
        if !facts.uses.is_empty() {
            a.node.extra.insert(
                "uses".into(),
                Value::List(facts.uses.iter().cloned().map(Value::Str).collect()),
            );
        }
        let mut mappings = BTreeMap::new();
        for d in &a.deps {
            if let Some(m) = &d.mapping {
                mappings.insert(d.key.join("/"), m.clone());
            }
        }
        if !mappings.is_empty() {
            a.node
                .extra
                .insert("partition_mappings".into(), Value::Dict(mappings));
        }
        self.cat.assets.push(a);
        self.cat.assets.len() - 1
    }

    fn next_definition(&mut self) -> usize {
        self.cat.definitions += 1;
        self.cat.definitions
    }

    fn asset(
        &mut self,
        def: FunctionDef<'s>,
        call: Option<&'s ast::ExprCall>,
        flavor: Option<&str>,
    ) -> Obj {
        let definition = self.next_definition();
        let mut a = self.new_asset(&def, definition);
        a.node.flavor = flavor.map(str::to_string);
        let mut name = def.name.to_string();
        let mut prefix = Vec::new();
        let mut key = None;
        let mut ins = BTreeMap::new();
        let mut ins_range = None;
        let mut deps_expr = None;
        let mut specs_expr = None;
        for (k, e) in self.keywords(call) {
            match k {
                "name" => match self.core.ev.eval(e) {
                    Value::Str(s) => name = s,
                    other => a.opaque.push(self.opaque_at(
                        "dynamic_name",
                        e.range(),
                        format!("the asset name `{}` is not known statically; the function name is used", render(&other)),
                    )),
                },
                "key" => {
                    let obj = self.obj(e);
                    match self.one_key(&obj) {
                        Ok(k) => key = Some(k),
                        Err(why) => a.opaque.push(self.opaque_at(
                            "dynamic_key",
                            e.range(),
                            format!("the asset key could not be read ({why}); the function name is used"),
                        )),
                    }
                }
                "key_prefix" => match options::key_prefix(&self.core.ev.eval(e)) {
                    Ok(p) => prefix = p,
                    Err(why) => a.opaque.push(self.opaque_at("dynamic_key", e.range(), why)),
                },
                "ins" => {
                    ins_range = Some(e.range());
                    match self.core.ev.eval(e) {
                        Value::Dict(m) => ins = m,
                        other => a.opaque.push(self.opaque_at(
                            "unread_input",
                            e.range(),
                            format!("the ins `{}` are not a literal dict", render(&other)),
                        )),
                    }
                }
                "deps" | "non_argument_deps" => deps_expr = Some(e),
                "check_specs" => specs_expr = Some(e),
                _ => {
                    let v = self.core.ev.eval(e);
                    self.asset_option(&mut a, k, &v, e.range());
                }
            }
        }
        a.key = key.unwrap_or_else(|| {
            let mut k = prefix.clone();
            k.push(name.clone());
            k
        });
        self.input_deps(&def, &ins, ins_range, &mut a);
        if let Some(e) = deps_expr {
            self.order_deps(e, &mut a);
        }
        let facts = self.facts(&def);
        if flavor == Some("graph_asset") {
            let ops = self.graph_ops(&def);
            if !ops.is_empty() {
                // The ops' definitions as written, so that a port can carry them with the asset.
                let defs: Vec<Value> = ops
                    .iter()
                    .filter_map(|name| {
                        self.cat
                            .ops
                            .iter()
                            .find(|o| Some(o.name.as_str()) == name.as_str())
                    })
                    .filter_map(|o| o.node.callable.as_ref())
                    .map(|c| {
                        let text = self.ctx.src.text;
                        Value::Str(
                            text.get(c.span.start as usize..c.span.end as usize)
                                .unwrap_or("")
                                .to_string(),
                        )
                    })
                    .collect();
                a.node.extra.insert("graph_ops".into(), Value::List(ops));
                a.node
                    .extra
                    .insert("graph_op_defs".into(), Value::List(defs));
            }
        }
        let key = a.key.clone();
        let idx = self.finish_asset(a, &facts);
        if let Some(e) = specs_expr {
            let by = key.join("/");
            let checks = self.check_specs(e, &facts, None, Some(&key), Some(&by));
            self.cat.assets[idx].checks = checks;
        }
        Obj::Assets(vec![idx])
    }

    /// Names of the ops a graph-backed asset's body invokes.
    fn graph_ops(&self, def: &FunctionDef<'s>) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        each_expr(def.body, &mut |e| {
            if let Expr::Call(c) = e
                && let Expr::Name(n) = &*c.func
                && let Some(Obj::Op(i)) = self.env_get(n.id.as_str())
            {
                let v = Value::Str(self.cat.ops[*i].name.clone());
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        });
        out
    }

    fn multi_asset(&mut self, def: FunctionDef<'s>, call: Option<&'s ast::ExprCall>) -> Obj {
        let definition = self.next_definition();
        let mut common = self.new_asset(&def, definition);
        let mut op_name = def.name.to_string();
        let mut outs: Vec<(String, Value, TextRange)> = Vec::new();
        let mut specs: Vec<Obj> = Vec::new();
        let mut ins = BTreeMap::new();
        let mut ins_range = None;
        let mut deps_expr = None;
        let mut specs_checks = None;
        let mut internal: Option<(Value, TextRange)> = None;
        let mut options: Vec<(&'s str, Value, TextRange)> = Vec::new();
        for (k, e) in self.keywords(call) {
            match k {
                "name" => {
                    if let Value::Str(s) = self.core.ev.eval(e) {
                        op_name = s;
                    }
                }
                "outs" => match self.ordered_dict(e) {
                    Some(items) => outs = items,
                    None => common.opaque.push(self.opaque_at(
                        "unread_outs",
                        e.range(),
                        format!(
                            "the outs `{}` are not a literal dict",
                            self.ctx.src.slice(e.range())
                        ),
                    )),
                },
                "specs" => match self.obj(e) {
                    Obj::List(items) => specs = items,
                    other => specs = vec![other],
                },
                "ins" => {
                    ins_range = Some(e.range());
                    if let Value::Dict(m) = self.core.ev.eval(e) {
                        ins = m;
                    }
                }
                "deps" => deps_expr = Some(e),
                "check_specs" => specs_checks = Some(e),
                "internal_asset_deps" => internal = Some((self.core.ev.eval(e), e.range())),
                "group_name" => {
                    let v = self.core.ev.eval(e);
                    self.asset_option(&mut common, k, &v, e.range());
                }
                _ => options.push((k, self.core.ev.eval(e), e.range())),
            }
        }
        for (k, v, r) in &options {
            self.asset_option(&mut common, k, v, *r);
        }
        common
            .node
            .extra
            .insert("multi_asset".into(), Value::Str(op_name.clone()));
        self.input_deps(&def, &ins, ins_range, &mut common);
        if let Some(e) = deps_expr {
            self.order_deps(e, &mut common);
        }
        let facts = self.facts(&def);
        let mut members: Vec<AssetDef> = Vec::new();
        for (name, v, range) in outs {
            let mut a = common.clone();
            let mut key = vec![name.clone()];
            if let Value::Call(c) = &v
                && api(&c.func) == Some("AssetOut")
            {
                let mut prefix = Vec::new();
                let mut explicit = None;
                for (k, val) in &c.kwargs {
                    match k.as_str() {
                        "key_prefix" => prefix = options::key_prefix(val).unwrap_or_default(),
                        "key" => explicit = literal_key(val),
                        "is_required" | "dagster_type" => {
                            a.node.extra.insert(k.clone(), val.clone());
                        }
                        _ => self.asset_option(&mut a, k, val, range),
                    }
                }
                if let Some(p) = c.args.first() {
                    prefix = options::key_prefix(p).unwrap_or_default();
                }
                key = explicit.unwrap_or_else(|| {
                    let mut k = prefix;
                    k.push(name.clone());
                    k
                });
            }
            a.node
                .extra
                .insert("output".into(), Value::Str(name.clone()));
            a.key = key;
            members.push(a);
        }
        for spec in &specs {
            let base = match spec {
                Obj::Spec(i) => Some(self.cat.assets[*i].clone()),
                _ => None,
            };
            let Some(base) = base else {
                common.opaque.push(self.opaque_at(
                    "unread_spec",
                    def.range,
                    "a spec of this multi-asset is not a literal AssetSpec".into(),
                ));
                continue;
            };
            let mut a = common.clone();
            a.key = base.key.clone();
            if base.group != "default" {
                a.group = base.group.clone();
            }
            for (k, v) in &base.node.extra {
                a.node.extra.entry(k.clone()).or_insert_with(|| v.clone());
            }
            if base.node.description.is_some() {
                a.node.description = base.node.description.clone();
            }
            if !base.owners.is_empty() {
                a.owners = base.owners.clone();
                a.node.policy.owner = base.node.policy.owner.clone();
            }
            if !base.tags.is_empty() {
                a.tags = base.tags.clone();
                a.node.tags = base.node.tags.clone();
            }
            for k in &base.kinds {
                if !a.kinds.contains(k) {
                    a.kinds.push(k.clone());
                }
            }
            if base.partitions.is_some() {
                a.partitions = base.partitions.clone();
                a.node.partitions = base.node.partitions.clone();
            }
            for d in &base.deps {
                if !a.deps.iter().any(|x| x.key == d.key) {
                    a.deps.push(d.clone());
                }
            }
            a.opaque.extend(base.opaque.clone());
            members.push(a);
        }
        if let Some((v, range)) = internal {
            match v {
                Value::Dict(m) => {
                    for a in &mut members {
                        let out = a
                            .node
                            .extra
                            .get("output")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .unwrap_or_else(|| a.key.join("/"));
                        if let Some(allowed) = m.get(&out) {
                            let allowed: Vec<Vec<String>> = match allowed {
                                Value::List(items) => items
                                    .iter()
                                    .filter_map(|x| self.value_keys(x, 0).ok())
                                    .flatten()
                                    .map(|x| x.0)
                                    .collect(),
                                _ => Vec::new(),
                            };
                            a.deps.retain(|d| allowed.contains(&d.key));
                        }
                    }
                }
                other => common.opaque.push(self.opaque_at(
                    "unread_internal_deps",
                    range,
                    format!(
                        "internal_asset_deps `{}` is not a literal dict",
                        render(&other)
                    ),
                )),
            }
        }
        if members.is_empty() {
            members.push(common.clone());
            if let Some(m) = members.last_mut() {
                m.key = vec![op_name.clone()];
            }
        }
        // Every asset of the multi-asset lists the outputs of the function they share.
        if members.len() > 1 {
            let names: Vec<String> = members.iter().map(output_name).collect();
            for a in &mut members {
                a.node.outputs = names.clone();
            }
        }
        let mut idxs = Vec::new();
        for a in members {
            idxs.push(self.finish_asset(a, &facts));
        }
        if let Some(e) = specs_checks
            && let Some(&first) = idxs.first()
        {
            let by = self.cat.assets[first].key.join("/");
            let checks = self.check_specs(e, &facts, None, None, Some(&by));
            self.cat.assets[first].checks = checks;
        }
        Obj::Assets(idxs)
    }

    fn asset_spec(&mut self, c: &'s ast::ExprCall) -> Obj {
        let definition = self.next_definition();
        let span = self.span(c.range());
        let mut a = AssetDef {
            key: Vec::new(),
            node: Node::new("", NodeKind::ExternalAsset, span),
            group: "default".into(),
            deps: Vec::new(),
            tags: BTreeMap::new(),
            kinds: Vec::new(),
            owners: Vec::new(),
            partitions: None,
            definition,
            external: true,
            checks: Vec::new(),
            opaque: Vec::new(),
        };
        let args = self.arguments(Some(c), &["key"]);
        for (k, e) in args {
            match k {
                "key" => {
                    let obj = self.obj(e);
                    match self.one_key(&obj) {
                        Ok(key) => a.key = key,
                        Err(why) => a.opaque.push(self.opaque_at(
                            "dynamic_key",
                            e.range(),
                            format!("the spec's key could not be read: {why}"),
                        )),
                    }
                }
                "deps" => self.order_deps(e, &mut a),
                _ => {
                    let v = self.core.ev.eval(e);
                    self.asset_option(&mut a, k, &v, e.range());
                }
            }
        }
        if a.key.is_empty() {
            a.key = vec![format!("<spec at line {}>", span.line)];
        }
        let idx = self.finish_asset(a, &BodyFacts::default());
        Obj::Spec(idx)
    }

    /// Checks from `AssetCheckSpec(...)` items; `callable` is the checking function, if any.
    fn check_specs(
        &mut self,
        e: &'s Expr,
        facts: &BodyFacts,
        callable: Option<&FunctionDef<'s>>,
        default_asset: Option<&[String]>,
        evaluated_by: Option<&str>,
    ) -> Vec<usize> {
        let items = match self.obj(e) {
            Obj::List(items) => items,
            other => vec![other],
        };
        let span = self.span(e.range());
        let mut out = Vec::new();
        for item in items {
            let Obj::Value(Value::Call(c)) = &item else {
                self.add_file_opaque(
                    "unread_check",
                    e.range(),
                    "a check spec is not a literal AssetCheckSpec(...)".into(),
                );
                continue;
            };
            if api(&c.func) != Some("AssetCheckSpec") {
                self.add_file_opaque(
                    "unread_check",
                    e.range(),
                    format!("`{}` is not an AssetCheckSpec", c.func),
                );
                continue;
            }
            let name = c
                .args
                .first()
                .or_else(|| c.kwargs.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let asset = match c.kwargs.get("asset") {
                Some(v) => self
                    .value_keys(v, 0)
                    .ok()
                    .and_then(|k| k.into_iter().next())
                    .map(|k| k.0),
                None => default_asset.map(<[String]>::to_vec),
            };
            let (Some(name), Some(asset)) = (name, asset) else {
                self.add_file_opaque(
                    "unread_check",
                    e.range(),
                    "a check spec's name or asset is not literal".into(),
                );
                continue;
            };
            let mut extra = BTreeMap::new();
            for (k, v) in &c.kwargs {
                if !matches!(k.as_str(), "name" | "asset" | "blocking" | "description") {
                    extra.insert(k.clone(), v.clone());
                }
            }
            if let Some(by) = evaluated_by {
                extra.insert("evaluated_by".into(), Value::Str(by.to_string()));
            }
            let severity = facts
                .severities
                .get(&Some(name.clone()))
                .cloned()
                .unwrap_or_else(|| "error".into());
            self.cat.checks.push(CheckDef {
                check: Check {
                    name,
                    target: asset.join("/"),
                    severity: Some(severity),
                    blocking: c
                        .kwargs
                        .get("blocking")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    description: c
                        .kwargs
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    callable: callable.map(|d| d.to_callable(self.ctx.src)),
                    extra,
                    span,
                },
                asset,
            });
            out.push(self.cat.checks.len() - 1);
        }
        out
    }

    fn asset_check(&mut self, def: FunctionDef<'s>, call: Option<&'s ast::ExprCall>) -> Obj {
        let span = self.span(def.range);
        let facts = self.facts(&def);
        let mut name = def.name.to_string();
        let mut asset = None;
        let mut description = def.docstring();
        let mut blocking = false;
        let mut extra = BTreeMap::new();
        for (k, e) in self.keywords(call) {
            match k {
                "asset" => {
                    let obj = self.obj(e);
                    match self.one_key(&obj) {
                        Ok(key) => asset = Some(key),
                        Err(why) => self.add_file_opaque(
                            "unread_check",
                            e.range(),
                            format!("the asset of check `{name}` could not be read: {why}"),
                        ),
                    }
                }
                "name" => {
                    if let Value::Str(s) = self.core.ev.eval(e) {
                        name = s;
                    }
                }
                "description" => {
                    if let Value::Str(s) = self.core.ev.eval(e) {
                        description = Some(s);
                    }
                }
                "blocking" => blocking = self.core.ev.eval(e).as_bool().unwrap_or(false),
                _ => {
                    extra.insert(k.to_string(), self.core.ev.eval(e));
                }
            }
        }
        if !facts.uses.is_empty() {
            extra.insert(
                "uses".into(),
                Value::List(facts.uses.iter().cloned().map(Value::Str).collect()),
            );
        }
        let Some(asset) = asset else {
            self.add_file_opaque(
                "unread_check",
                def.range,
                format!("the asset check `{name}` names no asset orchmig can read"),
            );
            return Obj::Unknown;
        };
        let severity = if facts.severities.values().any(|s| s == "warn") {
            "warn"
        } else {
            "error"
        };
        self.cat.checks.push(CheckDef {
            check: Check {
                name,
                target: asset.join("/"),
                severity: Some(severity.into()),
                blocking,
                description,
                callable: Some(def.to_callable(self.ctx.src)),
                extra,
                span,
            },
            asset,
        });
        Obj::Checks(vec![self.cat.checks.len() - 1])
    }

    fn multi_asset_check(&mut self, def: FunctionDef<'s>, call: Option<&'s ast::ExprCall>) -> Obj {
        let facts = self.facts(&def);
        let mut checks = Vec::new();
        let mut extra = BTreeMap::new();
        for (k, e) in self.keywords(call) {
            if k == "specs" {
                checks = self.check_specs(e, &facts, Some(&def), None, None);
            } else {
                extra.insert(k.to_string(), self.core.ev.eval(e));
            }
        }
        extra.insert("multi_asset_check".into(), Value::Str(def.name.to_string()));
        for &c in &checks {
            for (k, v) in &extra {
                self.cat.checks[c]
                    .check
                    .extra
                    .entry(k.clone())
                    .or_insert_with(|| v.clone());
            }
        }
        if checks.is_empty() {
            self.add_file_opaque(
                "unread_check",
                def.range,
                "this multi-asset check declares no spec orchmig can read".into(),
            );
        }
        Obj::Checks(checks)
    }

    fn op(&mut self, def: FunctionDef<'s>, call: Option<&'s ast::ExprCall>) -> Obj {
        let span = self.span(def.range);
        let mut name = def.name.to_string();
        let mut node = Node::new("", NodeKind::Op, span);
        node.callable = Some(def.to_callable(self.ctx.src));
        node.description = def.docstring();
        let mut outputs = vec![("result".to_string(), false)];
        for (k, e) in self.keywords(call) {
            let v = self.core.ev.eval(e);
            match k {
                "name" => {
                    if let Value::Str(s) = &v {
                        name = s.clone();
                    }
                }
                "description" => {
                    if let Value::Str(s) = &v {
                        node.description = Some(s.clone());
                    }
                }
                "retry_policy" => match options::retry_policy(&v) {
                    Ok(p) => node.policy = p,
                    Err(why) => {
                        self.add_file_opaque("unread_option", e.range(), why);
                        node.extra.insert(k.into(), v);
                    }
                },
                "tags" => match options::tag_map(&v) {
                    Ok(t) => {
                        if let Some(pool) = t.get("dagster/concurrency_key") {
                            node.policy.pool = Some(pool.clone());
                        }
                        node.tags = options::tag_strings(&t);
                    }
                    Err(_) => {
                        node.extra.insert(k.into(), v);
                    }
                },
                "pool" => match &v {
                    Value::Str(s) => node.policy.pool = Some(s.clone()),
                    _ => {
                        node.extra.insert(k.into(), v);
                    }
                },
                "out" => {
                    match &v {
                        Value::Call(c) => {
                            outputs = vec![("result".into(), api(&c.func) == Some("DynamicOut"))];
                            if let Some(Value::Str(io)) = c.kwargs.get("io_manager_key") {
                                node.io_manager = Some(io.clone());
                            }
                        }
                        Value::Dict(_) => {
                            outputs = self
                                .ordered_dict(e)
                                .unwrap_or_default()
                                .into_iter()
                                .map(|(n, o, _)| {
                                    let dynamic = matches!(&o, Value::Call(c) if api(&c.func) == Some("DynamicOut"));
                                    (n, dynamic)
                                })
                                .collect();
                        }
                        _ => {}
                    }
                    node.extra.insert(k.into(), v);
                }
                _ => {
                    node.extra.insert(k.into(), v);
                }
            }
        }
        if outputs.len() > 1 {
            node.outputs = outputs.iter().map(|o| o.0.clone()).collect();
        }
        let dynamic: Vec<Value> = outputs
            .iter()
            .filter(|o| o.1)
            .map(|o| Value::Str(o.0.clone()))
            .collect();
        if !dynamic.is_empty() {
            node.extra
                .insert("dynamic_outputs".into(), Value::List(dynamic));
        }
        let facts = self.facts(&def);
        if !facts.uses.is_empty() {
            node.extra.insert(
                "uses".into(),
                Value::List(facts.uses.iter().cloned().map(Value::Str).collect()),
            );
        }
        let mut resources = Vec::new();
        let mut inputs = Vec::new();
        for (p, role) in self.params(&def) {
            match role {
                Role::Input => inputs.push(p.to_string()),
                Role::Resource => resources.push(Value::Str(p.to_string())),
                _ => {}
            }
        }
        if !resources.is_empty() {
            node.extra
                .insert("resources".into(), Value::List(resources));
        }
        node.id = name.clone();
        self.cat.ops.push(OpDef {
            name,
            node,
            inputs,
            outputs,
        });
        Obj::Op(self.cat.ops.len() - 1)
    }

    /// Shared options of `@job`, `graph.to_job` and `define_asset_job`.
    fn job_option(&mut self, j: &mut JobDef<'s>, k: &str, e: &'s Expr) {
        let v = self.core.ev.eval(e);
        match k {
            "description" => match &v {
                Value::Str(s) => j.description = Some(s.clone()),
                _ => {
                    j.extra.insert(k.into(), v);
                }
            },
            "tags" | "run_tags" => match options::tag_map(&v) {
                Ok(t) => j.tags.extend(options::tag_strings(&t)),
                Err(why) => {
                    j.opaque
                        .push(self.opaque_at("unread_option", e.range(), why));
                    j.extra.insert(k.into(), v);
                }
            },
            "owners" => match options::strings(&v) {
                Ok(o) => j.owners = o,
                Err(_) => {
                    j.extra.insert(k.into(), v);
                }
            },
            "partitions_def" => match &v {
                Value::None => {}
                other => match partitions::from_value(other) {
                    Ok(p) => j.partitions = Some(p),
                    Err(why) => {
                        j.opaque
                            .push(self.opaque_at("unread_partitions", e.range(), why));
                        j.extra.insert(k.into(), v);
                    }
                },
            },
            "op_retry_policy" => match options::retry_policy(&v) {
                Ok(p) => j.defaults = p,
                Err(why) => {
                    j.opaque
                        .push(self.opaque_at("unread_option", e.range(), why));
                    j.extra.insert(k.into(), v);
                }
            },
            "resource_defs" => match &v {
                Value::Dict(m) => {
                    let span = self.span(e.range());
                    for (key, r) in m {
                        let mut r = options::resource(key, r, span);
                        r.class = r.class.map(|c| self.qualify_text(&c));
                        j.resources.push(r);
                    }
                }
                _ => {
                    j.extra.insert(k.into(), v);
                }
            },
            _ => {
                j.extra.insert(k.into(), v);
            }
        }
    }

    fn new_job(&self, name: String, kind: JobKind<'s>, range: TextRange) -> JobDef<'s> {
        JobDef {
            name,
            kind,
            description: None,
            tags: Vec::new(),
            owners: Vec::new(),
            partitions: None,
            defaults: Policy::default(),
            resources: Vec::new(),
            extra: BTreeMap::new(),
            opaque: Vec::new(),
            span: self.span(range),
        }
    }

    fn job(&mut self, def: FunctionDef<'s>, call: Option<&'s ast::ExprCall>) -> Obj {
        let mut j = self.new_job(def.name.to_string(), JobKind::Ops(def), def.range);
        j.description = def.docstring();
        for (k, e) in self.keywords(call) {
            if k == "name" {
                if let Value::Str(s) = self.core.ev.eval(e) {
                    j.name = s;
                }
                continue;
            }
            self.job_option(&mut j, k, e);
        }
        self.cat.jobs.push(j);
        Obj::Job(self.cat.jobs.len() - 1)
    }

    fn graph_to_job(&mut self, g: usize, c: &'s ast::ExprCall) -> Obj {
        let graph = self.cat.graphs[g].clone();
        let mut j = self.new_job(graph.name.clone(), JobKind::Ops(graph.def), c.range());
        j.description = graph.description.clone();
        j.extra
            .insert("graph".into(), Value::Str(graph.name.clone()));
        for (k, e) in self.arguments(Some(c), &["name"]) {
            if k == "name" {
                if let Value::Str(s) = self.core.ev.eval(e) {
                    j.name = s;
                }
                continue;
            }
            self.job_option(&mut j, k, e);
        }
        self.cat.jobs.push(j);
        Obj::Job(self.cat.jobs.len() - 1)
    }

    fn define_asset_job(&mut self, c: &'s ast::ExprCall) -> Obj {
        let mut j = self.new_job(String::new(), JobKind::Assets(Ok(None)), c.range());
        let mut named = false;
        for (k, e) in self.arguments(Some(c), &["name", "selection"]) {
            match k {
                "name" => match self.core.ev.eval(e) {
                    Value::Str(s) => {
                        j.name = s;
                        named = true;
                    }
                    other => j.opaque.push(self.opaque_at(
                        "dynamic_name",
                        e.range(),
                        format!("the job name `{}` is not known statically", render(&other)),
                    )),
                },
                "selection" => {
                    let obj = self.obj(e);
                    j.kind = JobKind::Assets(match obj {
                        Obj::Value(Value::None) => Ok(None),
                        other => self.selection_of(&other).map(Some).map_err(|why| {
                            format!(
                                "the selection `{}` could not be resolved: {why}",
                                self.ctx.src.slice(e.range())
                            )
                        }),
                    });
                }
                _ => self.job_option(&mut j, k, e),
            }
        }
        if !named {
            j.name = self.ctx.src.slice(c.range()).chars().take(40).collect();
        }
        self.cat.jobs.push(j);
        Obj::Job(self.cat.jobs.len() - 1)
    }

    fn job_target(&mut self, e: &'s Expr) -> Result<usize, String> {
        match self.obj(e) {
            Obj::Job(j) => Ok(j),
            Obj::Graph(g) => {
                let graph = self.cat.graphs[g].clone();
                let j = self.new_job(graph.name.clone(), JobKind::Ops(graph.def), e.range());
                self.cat.jobs.push(j);
                Ok(self.cat.jobs.len() - 1)
            }
            _ => Err(format!(
                "`{}` is not a job defined in this file",
                self.ctx.src.slice(e.range())
            )),
        }
    }

    fn new_schedule(&self, kind: &'static str, range: TextRange) -> ScheduleDef {
        ScheduleDef {
            name: None,
            cron: ScheduleCron::Given(None),
            timezone: None,
            job: None,
            job_name: None,
            kind,
            extra: BTreeMap::new(),
            opaque: Vec::new(),
            span: self.span(range),
        }
    }

    fn schedule_option(&mut self, s: &mut ScheduleDef, k: &'s str, e: &'s Expr) {
        match k {
            "name" => {
                if let Value::Str(n) = self.core.ev.eval(e) {
                    s.name = Some(n);
                }
            }
            "cron_schedule" => match self.core.ev.eval(e) {
                Value::Str(c) => {
                    if let ScheduleCron::FromPartitions(o, _) = s.cron {
                        s.cron = ScheduleCron::FromPartitions(o, Some(c));
                    } else {
                        s.cron = ScheduleCron::Given(Some(c));
                    }
                }
                Value::List(items) => {
                    let crons: Vec<String> = items
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect();
                    s.extra.insert(
                        "cron_schedules".into(),
                        Value::List(crons.iter().cloned().map(Value::Str).collect()),
                    );
                    s.cron = ScheduleCron::Given(crons.first().cloned());
                }
                other => s.opaque.push(self.opaque_at(
                    "dynamic_cron",
                    e.range(),
                    format!("the cron `{}` is not known statically", render(&other)),
                )),
            },
            "execution_timezone" => {
                if let Value::Str(tz) = self.core.ev.eval(e) {
                    s.timezone = Some(tz);
                }
            }
            "job" | "target" => match self.job_target(e) {
                Ok(j) => s.job = Some(j),
                Err(why) => s
                    .opaque
                    .push(self.opaque_at("unread_target", e.range(), why)),
            },
            "job_name" => {
                if let Value::Str(n) = self.core.ev.eval(e) {
                    s.job_name = Some(n);
                }
            }
            "minute_of_hour" | "hour_of_day" | "day_of_week" | "day_of_month" => {
                let v = self.core.ev.eval(e).as_int();
                if let ScheduleCron::FromPartitions(mut o, c) = s.cron.clone() {
                    match k {
                        "minute_of_hour" => o.minute_of_hour = v,
                        "hour_of_day" => o.hour_of_day = v,
                        "day_of_week" => o.day_of_week = v,
                        _ => o.day_of_month = v,
                    }
                    s.cron = ScheduleCron::FromPartitions(o, c);
                }
            }
            _ => {
                s.extra.insert(k.to_string(), self.core.ev.eval(e));
            }
        }
    }

    fn schedule_definition(&mut self, c: &'s ast::ExprCall) -> Obj {
        let mut s = self.new_schedule("schedule_definition", c.range());
        for (k, e) in self.arguments(Some(c), &["name"]) {
            self.schedule_option(&mut s, k, e);
        }
        self.cat.schedules.push(s);
        Obj::Schedule(self.cat.schedules.len() - 1)
    }

    fn partitioned_schedule(&mut self, c: &'s ast::ExprCall) -> Obj {
        let mut s = self.new_schedule("partitioned_job", c.range());
        s.cron = ScheduleCron::FromPartitions(ScheduleOverrides::default(), None);
        for (k, e) in self.arguments(Some(c), &["job", "description", "name"]) {
            self.schedule_option(&mut s, k, e);
        }
        self.cat.schedules.push(s);
        Obj::Schedule(self.cat.schedules.len() - 1)
    }

    fn schedule_fn(&mut self, def: FunctionDef<'s>, call: Option<&'s ast::ExprCall>) -> Obj {
        let mut s = self.new_schedule("schedule_function", def.range);
        s.name = Some(def.name.to_string());
        for (k, e) in self.arguments(call, &["cron_schedule"]) {
            self.schedule_option(&mut s, k, e);
        }
        s.opaque.push(self.opaque_at(
            "schedule_function",
            def.range,
            format!(
                "the @schedule function `{}` computes each tick's run requests (partition, config, tags) in code; its cron and job are kept, its body is not modelled",
                def.name
            ),
        ));
        self.cat.schedules.push(s);
        Obj::Schedule(self.cat.schedules.len() - 1)
    }

    fn sensor_fn(
        &mut self,
        def: FunctionDef<'s>,
        call: Option<&'s ast::ExprCall>,
        kind: &'static str,
    ) -> Obj {
        let span = self.span(def.range);
        let mut s = SensorDef {
            trigger: SensorTrigger {
                name: def.name.to_string(),
                kind: kind.to_string(),
                asset: None,
                interval: None,
                callable: Some(def.to_callable(self.ctx.src)),
                span,
            },
            jobs: Vec::new(),
            job_names: Vec::new(),
            selection: None,
            extra: BTreeMap::new(),
        };
        let positional: &[&'s str] = if kind == "asset_sensor" {
            &["asset_key"]
        } else {
            &["job_name"]
        };
        for (k, e) in self.arguments(call, positional) {
            match k {
                "name" => {
                    if let Value::Str(n) = self.core.ev.eval(e) {
                        s.trigger.name = n;
                    }
                }
                "minimum_interval_seconds" => s.trigger.interval = self.core.ev.eval(e).as_f64(),
                "asset_key" => {
                    let obj = self.obj(e);
                    match self.one_key(&obj) {
                        Ok(k) => s.trigger.asset = Some(k.join("/")),
                        Err(why) => self.add_file_opaque("unread_sensor", e.range(), why),
                    }
                }
                "job" | "request_job" => match self.job_target(e) {
                    Ok(j) => s.jobs.push(j),
                    Err(why) => self.add_file_opaque("unread_target", e.range(), why),
                },
                "jobs" | "request_jobs" | "monitored_jobs" => match self.obj(e) {
                    Obj::List(items) => {
                        for item in items {
                            match item {
                                Obj::Job(j) => s.jobs.push(j),
                                _ => self.add_file_opaque(
                                    "unread_target",
                                    e.range(),
                                    "a job of this sensor is not defined in this file".into(),
                                ),
                            }
                        }
                    }
                    _ => self.add_file_opaque(
                        "unread_target",
                        e.range(),
                        "the sensor's jobs are not a literal list".into(),
                    ),
                },
                "job_name" => {
                    if let Value::Str(n) = self.core.ev.eval(e) {
                        s.job_names.push(n);
                    }
                }
                "asset_selection" | "target" => {
                    let obj = self.obj(e);
                    match obj {
                        Obj::Job(j) => s.jobs.push(j),
                        other => match self.selection_of(&other) {
                            Ok(sel) => s.selection = Some(sel),
                            Err(why) => self.add_file_opaque("unread_target", e.range(), why),
                        },
                    }
                }
                _ => {
                    s.extra.insert(k.to_string(), self.core.ev.eval(e));
                }
            }
        }
        self.cat.sensors.push(s);
        Obj::Sensor(self.cat.sensors.len() - 1)
    }

    // ----- Definitions ---------------------------------------------------------------------

    fn definitions(&mut self, c: &'s ast::ExprCall) -> Obj {
        let mut d = DefsDef {
            span: self.span(c.range()),
            ..DefsDef::default()
        };
        let positional = [
            "assets",
            "schedules",
            "sensors",
            "jobs",
            "resources",
            "executor",
            "loggers",
            "asset_checks",
            "metadata",
        ];
        for (k, e) in self.arguments(Some(c), &positional) {
            match k {
                "resources" => match self.core.ev.eval(e) {
                    Value::Dict(m) => {
                        for (key, v) in m {
                            let span = self.span(e.range());
                            let mut r = options::resource(&key, &v, span);
                            r.class = r.class.map(|c| self.qualify_text(&c));
                            d.resources.push(r);
                        }
                    }
                    Value::None => {}
                    other => self.add_file_opaque(
                        "unread_resources",
                        e.range(),
                        format!("the resources `{}` are not a literal dict", render(&other)),
                    ),
                },
                "assets" | "asset_checks" | "jobs" | "schedules" | "sensors" => {
                    let obj = self.obj(e);
                    let mut items = Vec::new();
                    flatten(obj, &mut items);
                    for item in items {
                        self.register(&mut d, k, item, e.range());
                    }
                }
                _ => {
                    d.extra.insert(k.to_string(), self.core.ev.eval(e));
                }
            }
        }
        self.cat.defs.push(d);
        Obj::Defs(self.cat.defs.len() - 1)
    }

    fn register(&mut self, d: &mut DefsDef, list: &str, item: Obj, range: TextRange) {
        let item = match item {
            Obj::Value(Value::Expr(name)) if is_identifier(&name) => match self.lookup(&name) {
                Some(o) => o.clone(),
                None => Obj::Value(Value::Expr(name)),
            },
            other => other,
        };
        match item {
            Obj::Assets(idxs) => d.assets.extend(idxs),
            Obj::Spec(i) => d.assets.push(i),
            Obj::Checks(idxs) => d.checks.extend(idxs),
            Obj::Job(j) => d.jobs.push(j),
            Obj::Graph(g) => {
                let graph = self.cat.graphs[g].clone();
                let j = self.new_job(graph.name.clone(), JobKind::Ops(graph.def), range);
                self.cat.jobs.push(j);
                d.jobs.push(self.cat.jobs.len() - 1);
            }
            Obj::Schedule(s) => d.schedules.push(s),
            Obj::Sensor(s) => d.sensors.push(s),
            Obj::Loaded => d.loads_modules = true,
            Obj::Unknown => {}
            other => {
                let shown = match &other {
                    Obj::Value(v) => render(v),
                    _ => "this entry".into(),
                };
                self.add_file_opaque(
                    "unread_definition",
                    range,
                    format!(
                        "`{shown}` in Definitions({list}=...) is not a definition orchmig can read"
                    ),
                );
            }
        }
    }

    fn merge_definitions(&mut self, parts: &[Obj], range: TextRange) -> Obj {
        let mut merged = DefsDef {
            span: self.span(range),
            ..DefsDef::default()
        };
        for p in parts {
            match p {
                Obj::Defs(i) => {
                    let d = self.cat.defs[*i].clone();
                    merged.assets.extend(d.assets);
                    merged.loads_modules |= d.loads_modules;
                    merged.checks.extend(d.checks);
                    merged.jobs.extend(d.jobs);
                    merged.schedules.extend(d.schedules);
                    merged.sensors.extend(d.sensors);
                    merged.resources.extend(d.resources);
                    merged.extra.extend(d.extra);
                }
                _ => self.add_file_opaque(
                    "unread_definition",
                    range,
                    "Definitions.merge of something that is not a Definitions built in this file"
                        .into(),
                ),
            }
        }
        self.cat.defs.push(merged);
        Obj::Defs(self.cat.defs.len() - 1)
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
    const GAPS: Gaps = Gaps {
        for_else: true,
        async_for: true,
        async_with: true,
        try_star: true,
        starred_targets: true,
        module_return: true,
    };

    fn core(&self) -> &Core<'s, 'a, Obj> {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core<'s, 'a, Obj> {
        &mut self.core
    }

    fn value(v: Value) -> Obj {
        Obj::Value(v)
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

    fn unpack(&self, obj: &Obj, elts: &'s [Expr]) -> Vec<Obj> {
        match obj {
            Obj::List(items) if items.len() == elts.len() => items.clone(),
            _ => self.unpack_plain(obj, elts),
        }
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

    fn unknown_if(&mut self, i: &'s ast::StmtIf) {
        if block_defines(self, &i.body) || block_defines(self, crate::python::orelse(i)) {
            self.opaque(
                "conditional",
                &*i.test,
                "the condition is not known statically; both branches were read".into(),
            );
        }
        self.block(&i.body);
        self.block(crate::python::orelse(i));
    }

    fn while_loop(&mut self, w: &'s ast::StmtWhile, _stmt: &'s Stmt) {
        if block_defines(self, &w.body) {
            self.opaque(
                "dynamic_loop",
                w,
                "a `while` loop's iterations are not known statically; the definitions it builds are not read".into(),
            );
        }
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
                Stmt::For(f) if !f.is_async => &f.body,
                Stmt::If(i) => {
                    return decorated(r, &i.body) || decorated(r, crate::python::orelse(i));
                }
                Stmt::With(w) if !w.is_async => &w.body,
                Stmt::Try(t) if !t.is_star => &t.body,
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

/// The output name of one asset of a multi-asset: its `outs` key, else (a spec) its key as
/// Dagster names the output (`a/b` → `a__b`).
fn output_name(a: &AssetDef) -> String {
    a.node
        .extra
        .get("output")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| a.key.join("__"))
}
