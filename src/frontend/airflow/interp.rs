//! A static interpreter of Airflow modules: follows what builds DAGs, records what it cannot.

use crate::python::ast::{self, Expr, Operator, Ranged, Stmt};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use super::builder::{DagBuilder, GroupSpec};
use super::names::{self, Symbol, classify};
use super::options;
use crate::frontend::FileContext;
use crate::frontend::callable::FunctionDef;
use crate::frontend::interp::{
    Core, Entered, Reader, Unread, decorator_parts, sequence_items, value_reader,
};
use crate::ir::{
    Diagnostic, EdgeKind, MappedArg, Mapping, Node, NodeKind, Opaque, Operator as IrOperator,
    Pipeline, SensorSpec, Severity, Span, Value,
};
use crate::python::imports::last_part;
use crate::python::literal::weight_within;

/// Most iterations unrolled from one loop.
const MAX_UNROLL: usize = 10_000;
/// Most loop iterations unrolled in one file, nested loops included (two nested loops of 10,000
/// made 10^8 tasks and never finished).
const MAX_TOTAL_UNROLL: usize = 20_000;

/// A task or group of one DAG.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Ref {
    Task(usize, String),
    Group(usize, String),
    /// An operator made outside any DAG (index into `Interpreter::unbound`): it joins the DAG
    /// of the first task it is wired to with `>>`, as Airflow adopts it.
    Unbound(usize),
}

/// An operator call made outside any DAG, kept until `>>` adopts it.
pub(super) struct Unbound<'s> {
    class: String,
    call: &'s ast::ExprCall,
    fixed: Rc<[&'s ast::Keyword]>,
    /// What it became once adopted.
    placed: Option<Vec<Ref>>,
}

/// `functools.partial(SomeOperator, k=v, …)`: an operator class with keywords fixed.
pub(super) struct OperatorFactory<'s> {
    class: String,
    fixed: Rc<[&'s ast::Keyword]>,
}

/// A decorated TaskFlow function, with options from the decorator and `.override()`.
#[derive(Clone)]
pub(super) struct TaskFn<'s> {
    def: FunctionDef<'s>,
    flavor: Option<String>,
    options: Vec<(String, Value)>,
    /// Where `.partial()` fixed arguments.
    partial: Vec<(String, &'s Expr)>,
    /// Tasks referenced by `.override(...)` options (XComArgs in `env=`, …).
    option_refs: Vec<(String, Ref)>,
}

/// A classic operator's `.partial(...)` waiting for `.expand(...)`.
#[derive(Clone)]
pub(super) struct OperatorPartial<'s> {
    class: String,
    call: &'s ast::ExprCall,
}

/// What an expression evaluates to, as far as building DAGs is concerned.
#[derive(Clone)]
pub(super) enum Obj<'s> {
    Tasks { refs: Vec<Ref>, list: bool },
    TaskFn(Rc<TaskFn<'s>>),
    GroupFn(Rc<(FunctionDef<'s>, Vec<(String, Value)>)>),
    DagFn(Rc<(FunctionDef<'s>, &'s [ast::Keyword], Vec<&'s Expr>)>),
    LocalFn(FunctionDef<'s>),
    OperatorPartial(Rc<OperatorPartial<'s>>),
    OperatorFactory(Rc<OperatorFactory<'s>>),
    Dag(usize),
    Label,
    Value(Value),
}

impl Obj<'_> {
    /// One task or group.
    fn task(r: Ref) -> Self {
        Obj::Tasks {
            refs: vec![r],
            list: false,
        }
    }

    fn refs(&self) -> Vec<Ref> {
        match self {
            Obj::Tasks { refs, .. } => refs.clone(),
            _ => Vec::new(),
        }
    }
}

/// Interprets one module.
pub(super) struct Interpreter<'c, 's, 'a> {
    ctx: &'c FileContext<'s, 'a>,
    core: Core<'s, 'a, Obj<'s>>,
    dags: Vec<DagBuilder>,
    dag_stack: Vec<usize>,
    group_stack: Vec<(usize, String)>,
    module_dags: HashMap<String, usize>,
    /// Whether the unroll budget's warning was given (once a file).
    unroll_warned: bool,
    /// The last number given to each id not known statically (`id`, `id-2`, …).
    dynamic_ids: HashMap<String, usize>,
    unbound: Vec<Unbound<'s>>,
}

impl<'c, 's, 'a> Interpreter<'c, 's, 'a>
where
    'a: 's,
{
    /// An interpreter over a parsed module.
    pub fn new(ctx: &'c FileContext<'s, 'a>) -> Self {
        Interpreter {
            ctx,
            core: Core::new(ctx),
            dags: Vec::new(),
            dag_stack: Vec::new(),
            group_stack: Vec::new(),
            module_dags: HashMap::new(),
            unroll_warned: false,
            dynamic_ids: HashMap::new(),
            unbound: Vec::new(),
        }
    }

    /// Runs the module's top-level statements.
    pub fn run_module(&mut self) {
        let suite = self.ctx.suite;
        self.core.ev.names.clear();
        if let Some(Stmt::Expr(e)) = suite.first()
            && let Value::Str(doc) = self.core.ev.eval(&e.value)
        {
            self.core.ev.names.insert("__doc__".into(), Value::Str(doc));
        }
        self.block(suite);
    }

    /// The registered pipelines and the diagnostics.
    pub fn finish(mut self) -> (Vec<Pipeline>, Vec<Diagnostic>) {
        for &i in self.module_dags.values() {
            self.dags[i].registered = true;
        }
        let mut out = Vec::new();
        for b in self.dags {
            if let Some((span, cut)) = b.edges_cut {
                self.core
                    .diagnostics
                    .push(super::super::edge_budget(span, cut));
            }
            if b.registered {
                out.push(b.pipeline);
            }
        }
        self.core.hand_over_opaque(&mut out);
        (out, self.core.diagnostics)
    }

    fn span(&self, range: crate::python::ast::TextRange) -> Span {
        self.core.span(range)
    }

    fn lookup(&self, name: &str) -> Option<Obj<'s>> {
        self.core.lookup(name).cloned()
    }

    /// A call with no DAG-building meaning: its arguments still run (they may create tasks).
    fn unknown_call(&mut self, call: &'s ast::ExprCall) -> Obj<'s> {
        self.call_args(call);
        Obj::Value(self.core.ev.eval(&Expr::Call(call.clone())))
    }

    /// `for k, v in CONST.items():` over a static dict.
    fn dict_items(&self, iter: &'s Expr) -> Option<Vec<Obj<'s>>> {
        self.core
            .dict_view_items(iter)
            .map(|items| items.into_iter().map(Obj::Value).collect())
    }

    /// `with teardown_task:` on a sole item reads the body itself.
    fn enter_teardown(&mut self, obj: &Obj<'s>, body: &'s [Stmt]) -> bool {
        let Obj::Tasks { refs, .. } = obj else {
            return false;
        };
        let teardowns: Vec<Ref> = refs
            .iter()
            .filter(|r| self.role_of(r).as_deref() == Some("teardown"))
            .cloned()
            .collect();
        if teardowns.is_empty() {
            return false;
        }
        self.teardown_context(&teardowns, body);
        true
    }

    fn decorate(&mut self, def: FunctionDef<'s>) {
        let mut obj = Obj::LocalFn(def);
        for deco in def.decorators.iter().rev() {
            let (func, call) = decorator_parts(deco);
            let options = call
                .map(|c| self.eval_keywords(&c.arguments.keywords))
                .unwrap_or_default();
            let symbol = self
                .qualified_symbol(func)
                .or_else(|| self.dag_task_decorator(func));
            obj = match symbol {
                Some(Symbol::TaskDecorator(flavor)) => Obj::TaskFn(Rc::new(TaskFn {
                    def,
                    flavor,
                    options,
                    partial: Vec::new(),
                    option_refs: Vec::new(),
                })),
                Some(Symbol::SetupTeardown(kind)) => match obj {
                    Obj::TaskFn(f) => {
                        let mut f = (*f).clone();
                        f.options.push(("__role".into(), Value::Str(kind.into())));
                        Obj::TaskFn(Rc::new(f))
                    }
                    _ => Obj::TaskFn(Rc::new(TaskFn {
                        def,
                        flavor: None,
                        options: vec![("__role".into(), Value::Str(kind.into()))],
                        partial: Vec::new(),
                        option_refs: Vec::new(),
                    })),
                },
                Some(Symbol::TaskGroupDecorator) => Obj::GroupFn(Rc::new((def, options))),
                Some(sym @ (Symbol::AssetDecorator | Symbol::AssetMulti)) => {
                    let keywords: &'s [ast::Keyword] = call.map_or(&[], |c| &c.arguments.keywords);
                    self.asset_dag(def, keywords, sym == Symbol::AssetMulti)
                }
                Some(Symbol::DagDecorator) => {
                    let (kws, args): (&'s [ast::Keyword], Vec<&'s Expr>) = match call {
                        Some(c) => (&c.arguments.keywords, c.arguments.args.iter().collect()),
                        None => (&[], Vec::new()),
                    };
                    Obj::DagFn(Rc::new((def, kws, args)))
                }
                _ => obj,
            };
        }
        self.bind(def.name, obj);
    }

    /// `zip(A, B, …)` over lists of tasks (or groups): one tuple per position, each element one
    /// task, so `for g, t in zip(groups, loads): g >> t` wires each pair. `None` when any list
    /// is not a list of tasks.
    fn zipped_tasks(&mut self, iter: &'s Expr) -> Option<Vec<Obj<'s>>> {
        let Expr::Call(c) = iter else { return None };
        let Expr::Name(n) = &*c.func else { return None };
        if n.id.as_str() != "zip" || c.arguments.args.is_empty() || !c.arguments.keywords.is_empty()
        {
            return None;
        }
        let mut lists = Vec::new();
        for a in &c.arguments.args {
            let obj = self.expr(a);
            let Obj::Tasks { refs, .. } = obj else {
                return None;
            };
            lists.push(refs);
        }
        let n = lists.iter().map(Vec::len).min()?;
        Some(
            (0..n)
                .map(|i| Obj::Tasks {
                    refs: lists.iter().map(|l| l[i].clone()).collect(),
                    list: true,
                })
                .collect(),
        )
    }

    /// `@dag.task` and `@dag.task.<flavor>` on a name bound to a DAG: the `@task` decorator.
    fn dag_task_decorator(&self, func: &Expr) -> Option<Symbol> {
        let Expr::Attribute(a) = func else {
            return None;
        };
        let (owner, flavor) = match &*a.value {
            Expr::Attribute(inner) if inner.attr.as_str() == "task" => {
                (&*inner.value, Some(a.attr.to_string()))
            }
            _ if a.attr.as_str() == "task" => (&*a.value, None),
            _ => return None,
        };
        match owner {
            Expr::Name(n) if matches!(self.lookup(n.id.as_str()), Some(Obj::Dag(_))) => {
                Some(Symbol::TaskDecorator(flavor))
            }
            _ => None,
        }
    }

    // ----- expressions -------------------------------------------------------------------

    fn qualified_symbol(&self, func: &Expr) -> Option<Symbol> {
        // A local binding shadows the import.
        self.core
            .qualify_unshadowed(func)
            .and_then(|q| classify(&q))
    }

    fn expression(&mut self, e: &'s Expr) -> Obj<'s> {
        match e {
            Expr::Name(n) => match self.lookup(n.id.as_str()) {
                Some(o) => o,
                None => Obj::Value(self.core.ev.eval(e)),
            },
            Expr::Call(call) => self.call(call),
            Expr::BinOp(b) if matches!(b.op, Operator::RShift | Operator::LShift) => {
                let left = self.expr(&b.left);
                let right = self.expr(&b.right);
                for side in [&*b.left, &*b.right] {
                    self.check_defined(side);
                }
                self.unread_operand(&left, &right, b);
                self.shift(left, right, b.op == Operator::RShift, self.span(b.range))
            }
            Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) => {
                let objs: Vec<Obj<'s>> = elts.iter().map(|x| self.expr(x)).collect();
                if objs.iter().any(|o| matches!(o, Obj::Tasks { .. })) {
                    Obj::Tasks {
                        refs: objs.iter().flat_map(Obj::refs).collect(),
                        list: true,
                    }
                } else {
                    Obj::Value(self.core.ev.eval(e))
                }
            }
            Expr::Attribute(a) => match self.expr(&a.value) {
                Obj::Tasks { refs, .. } if a.attr.as_str() == "output" => {
                    Obj::Tasks { refs, list: false }
                }
                Obj::Tasks { refs, list: false }
                    if matches!(a.attr.as_str(), "task_group" | "parent_group") =>
                {
                    match refs.as_slice() {
                        [r] => self
                            .enclosing_group(r, a.attr.as_str())
                            .map_or(Obj::Value(Value::None), Obj::task),
                        _ => Obj::Value(Value::None),
                    }
                }
                Obj::TaskFn(f) if a.attr.as_str() == "function" => Obj::LocalFn(f.def),
                _ => Obj::Value(self.core.ev.eval(e)),
            },
            Expr::Subscript(s) => match self.expr(&s.value) {
                Obj::Tasks { refs, list: false } => Obj::Tasks { refs, list: false },
                // `tasks[0]` of a list of tasks or groups: that element.
                Obj::Tasks { refs, list: true } => match self.core.ev.eval(&s.slice) {
                    Value::Int(i) => {
                        let at = if i < 0 { refs.len() as i64 + i } else { i };
                        usize::try_from(at)
                            .ok()
                            .and_then(|k| refs.get(k).cloned())
                            .map_or(Obj::Value(Value::None), Obj::task)
                    }
                    _ => Obj::Tasks { refs, list: true },
                },
                _ => Obj::Value(self.core.ev.eval(e)),
            },
            Expr::Starred(s) => self.expr(&s.value),
            Expr::ListComp(c) => self
                .list_comp(c)
                .unwrap_or_else(|| Obj::Value(self.core.ev.eval(e))),
            _ => Obj::Value(self.core.ev.eval(e)),
        }
    }

    /// `[make(x) for x in STATIC]` builds one task per element.
    fn list_comp(&mut self, c: &'s ast::ExprListComp) -> Option<Obj<'s>> {
        let [generator] = c.generators.as_slice() else {
            return None;
        };
        if !expr_calls_anything(&c.elt) {
            return None;
        }
        let items = match self.expr(&generator.iter) {
            Obj::Value(Value::List(items)) => items.into_iter().map(Obj::Value).collect::<Vec<_>>(),
            Obj::Value(Value::Str(text)) => text
                .chars()
                .map(|c| Obj::Value(Value::Str(c.to_string())))
                .collect(),
            Obj::Tasks { refs, .. } => refs
                .into_iter()
                .map(|r| Obj::Tasks {
                    refs: vec![r],
                    list: false,
                })
                .collect(),
            _ => return None,
        };
        let mut refs = Vec::new();
        for item in items {
            self.bind_target(&generator.target, item);
            if !generator
                .ifs
                .iter()
                .all(|cond| self.core.ev.eval(cond) == Value::Bool(true))
            {
                continue;
            }
            refs.extend(self.expr(&c.elt).refs());
        }
        Some(Obj::Tasks { refs, list: true })
    }

    fn shift(&mut self, left: Obj<'s>, right: Obj<'s>, downstream: bool, span: Span) -> Obj<'s> {
        match (&left, &right) {
            (Obj::Tasks { refs: l, .. }, Obj::Tasks { refs: r, .. }) => {
                let (up, down) = if downstream { (l, r) } else { (r, l) };
                self.connect(up, down, span);
                right
            }
            (Obj::Tasks { .. }, Obj::Label) => left,
            _ => right,
        }
    }

    /// Never silent: `a >> x` where `x` is a value orchmig could not read as tasks (built by a
    /// call into code it does not follow, say) drops a dependency; say so at the `>>`.
    fn unread_operand(&mut self, left: &Obj<'s>, right: &Obj<'s>, at: &'s ast::ExprBinOp) {
        if self.current_dag().is_none() {
            return;
        }
        let opaque = |o: &Obj<'s>| matches!(o, Obj::Value(Value::Expr(_) | Value::Call(_)));
        let side = match (left, right) {
            (Obj::Tasks { .. }, r) if opaque(r) => &at.right,
            (l, Obj::Tasks { .. }) if opaque(l) => &at.left,
            _ => return,
        };
        let unread = self.ctx.src.slice(side.range()).to_string();
        self.opaque(
            "unread_operand",
            at,
            format!(
                "`{unread}` is wired with `>>` but orchmig cannot tell which tasks it is (code it does not read builds it): the dependencies through it are missing"
            ),
        );
    }

    /// Reports a dependency on a name that nothing defines (a NameError when Airflow imports the file).
    fn check_defined(&mut self, e: &'s Expr) {
        let names: Vec<&'s Expr> = match e {
            Expr::List(l) => l.elts.iter().collect(),
            Expr::Tuple(t) => t.elts.iter().collect(),
            other => vec![other],
        };
        for n in names {
            let Expr::Name(name) = n else { continue };
            let id = name.id.as_str();
            let known = self.lookup(id).is_some()
                || self.core.ev.names.contains_key(id)
                || self.ctx.imports.get(id).is_some()
                || !self.ctx.imports.star_modules.is_empty();
            if !known && self.current_dag().is_some() {
                let span = self.span(name.range);
                self.core.diagnostic(
                    Severity::Error,
                    "dangling-reference",
                    span,
                    format!("`{id}` is used in a dependency but is not defined"),
                    "define the task before wiring it (Airflow fails to import this file with a NameError)",
                );
            }
        }
    }

    /// Order edges from every upstream ref to every downstream ref, expanding groups.
    fn connect(&mut self, up: &[Ref], down: &[Ref], span: Span) {
        let (up, down) = (&self.adopt(up, down), &self.adopt(down, up));
        for u in up {
            for d in down {
                self.connect_one(u, d, EdgeKind::Order, None, span);
            }
        }
    }

    fn connect_one(
        &mut self,
        up: &Ref,
        down: &Ref,
        kind: EdgeKind,
        param: Option<String>,
        span: Span,
    ) {
        let (Some(ud), Some(dd)) = (ref_dag(up), ref_dag(down)) else {
            return;
        };
        if ud != dd {
            return;
        }
        let b = &mut self.dags[ud];
        let ups = match up {
            Ref::Task(_, id) => vec![id.clone()],
            Ref::Group(_, g) => b.leaves(g),
            Ref::Unbound(_) => Vec::new(),
        };
        let downs = match down {
            Ref::Task(_, id) => vec![id.clone()],
            Ref::Group(_, g) => b.roots(g),
            Ref::Unbound(_) => Vec::new(),
        };
        for u in &ups {
            for d in &downs {
                b.add_edge(u, d, kind, param.clone(), span);
            }
        }
    }

    /// `refs` with each operator made outside a DAG placed in the DAG of `other` (the first of
    /// its refs that has one), once: Airflow adopts a DAG-less operator wired to a DAG's task.
    fn adopt(&mut self, refs: &[Ref], other: &[Ref]) -> Vec<Ref> {
        let dag = other.iter().find_map(ref_dag);
        let mut out = Vec::new();
        for r in refs {
            let Ref::Unbound(i) = r else {
                out.push(r.clone());
                continue;
            };
            if let Some(placed) = &self.unbound[*i].placed {
                out.extend(placed.iter().cloned());
                continue;
            }
            let Some(dag) = dag else {
                out.push(r.clone());
                continue;
            };
            let (class, call, fixed) = {
                let u = &self.unbound[*i];
                (u.class.clone(), u.call, u.fixed.clone())
            };
            // Placed once: an operator whose own arguments wire it again (a cycle through
            // `>>` in its keywords) is not placed a second time while it is being placed.
            self.unbound[*i].placed = Some(Vec::new());
            // Made in the DAG, outside any of its task groups.
            let groups = std::mem::take(&mut self.group_stack);
            self.dag_stack.push(dag);
            let placed = self.operator_task(&class, call, &fixed, None, None).refs();
            self.dag_stack.pop();
            self.group_stack = groups;
            self.unbound[*i].placed = Some(placed.clone());
            out.extend(placed);
        }
        out
    }

    /// Every task reference inside an expression, evaluating calls (which may create tasks).
    fn deep_refs(&mut self, e: &'s Expr) -> Vec<Ref> {
        match e {
            Expr::List(ast::ExprList { elts, .. })
            | Expr::Tuple(ast::ExprTuple { elts, .. })
            | Expr::Set(ast::ExprSet { elts, .. }) => {
                elts.iter().flat_map(|x| self.deep_refs(x)).collect()
            }
            Expr::Dict(d) => d
                .items
                .iter()
                .flat_map(|x| self.deep_refs(&x.value))
                .collect(),
            Expr::FString(_) => Vec::new(),
            e if e.is_literal_expr() => Vec::new(),
            other => self.expr(other).refs(),
        }
    }

    fn eval_keywords(&self, keywords: &'s [ast::Keyword]) -> Vec<(String, Value)> {
        keywords
            .iter()
            .map(|kw| match &kw.arg {
                Some(name) => (name.to_string(), self.core.ev.eval(&kw.value)),
                None => ("**".to_string(), self.core.ev.eval(&kw.value)),
            })
            .collect()
    }

    fn call(&mut self, call: &'s ast::ExprCall) -> Obj<'s> {
        if let Expr::Attribute(attr) = &*call.func
            && let Some(obj) = self.method_call(call, attr)
        {
            return obj;
        }
        match self.qualified_symbol(&call.func) {
            Some(Symbol::DagClass) => return Obj::Dag(self.new_dag_from_call(call, None)),
            Some(Symbol::Chain) => return self.chain(call, false),
            Some(Symbol::ChainLinear) => return self.chain(call, true),
            Some(Symbol::CrossDownstream) => {
                let span = self.span(call.range());
                let objs: Vec<Obj<'s>> = call.arguments.args.iter().map(|a| self.expr(a)).collect();
                if let [a, b] = objs.as_slice() {
                    self.connect(&a.refs(), &b.refs(), span);
                }
                return Obj::Value(Value::None);
            }
            Some(Symbol::Label) => return Obj::Label,
            Some(Symbol::XComArg) => {
                return call
                    .arguments
                    .args
                    .first()
                    .map_or(Obj::Value(Value::None), |a| {
                        let refs = self.expr(a).refs();
                        Obj::Tasks { refs, list: false }
                    });
            }
            Some(Symbol::TaskGroupClass) => {
                // A TaskGroup made without `with` only names a group; tasks join it via task_group=.
                return match self.new_group_from_call(call) {
                    Some(obj) => {
                        self.group_stack.pop();
                        obj
                    }
                    None => Obj::Value(Value::None),
                };
            }
            _ => {}
        }
        if let Some(factory) = self.operator_factory(call) {
            return factory;
        }
        let callee = match &*call.func {
            Expr::Name(_) | Expr::Attribute(_) => self.expr(&call.func),
            other => self.expr(other),
        };
        match callee {
            Obj::OperatorFactory(f) => {
                let fixed = f.fixed.clone();
                self.operator_task(&f.class, call, &fixed, None, None)
            }
            Obj::TaskFn(f) => self.taskflow_task(&f, call, None),
            Obj::GroupFn(g) => self.call_group_fn(&g.0, &g.1, call),
            Obj::DagFn(d) => self.call_dag_fn(&d.0, d.1, &d.2, call),
            Obj::LocalFn(def) => self.inline(def, call),
            _ => {
                if call
                    .arguments
                    .keywords
                    .iter()
                    .any(|k| k.arg.as_deref() == Some("task_id"))
                {
                    let class = self
                        .ctx
                        .imports
                        .qualify(&call.func)
                        .unwrap_or_else(|| self.ctx.src.slice(call.func.range()).to_string());
                    return self.operator_task(&class, call, &[], None, None);
                }
                if self.current_dag().is_some()
                    && call
                        .arguments
                        .keywords
                        .iter()
                        .any(|k| k.arg.as_deref() == Some("group_id"))
                {
                    let class = self.ctx.src.slice(call.func.range()).to_string();
                    self.opaque(
                        "task_group_class",
                        call,
                        format!("`{class}(group_id=…)` builds a task group with code orchmig does not read (a TaskGroup subclass, or a helper from another module): its tasks and their dependencies are missing"),
                    );
                }
                // Unknown call: its arguments still run (they may create tasks).
                self.unknown_call(call)
            }
        }
    }

    /// Methods with DAG-building meaning: expand, partial, override, set_upstream, …
    fn method_call(
        &mut self,
        call: &'s ast::ExprCall,
        attr: &'s ast::ExprAttribute,
    ) -> Option<Obj<'s>> {
        let method = attr.attr.as_str();
        match method {
            "partial" => {
                if let Some(q) = self.ctx.imports.qualify(&attr.value)
                    && self.lookup(q.split('.').next().unwrap_or("")).is_none()
                    && looks_like_class(last_part(&q))
                {
                    return Some(Obj::OperatorPartial(Rc::new(OperatorPartial {
                        class: q,
                        call,
                    })));
                }
                match self.expr(&attr.value) {
                    Obj::TaskFn(f) => {
                        let mut f = (*f).clone();
                        for kw in &call.arguments.keywords {
                            if let Some(name) = &kw.arg {
                                f.partial.push((name.to_string(), &kw.value));
                            }
                        }
                        Some(Obj::TaskFn(Rc::new(f)))
                    }
                    _ => None,
                }
            }
            "override" => match self.expr(&attr.value) {
                Obj::TaskFn(f) => {
                    let mut f = (*f).clone();
                    f.options
                        .extend(self.eval_keywords(&call.arguments.keywords));
                    for kw in &call.arguments.keywords {
                        let name = kw.arg.as_deref().unwrap_or("**").to_string();
                        for r in self.deep_refs(&kw.value) {
                            f.option_refs.push((name.clone(), r));
                        }
                    }
                    Some(Obj::TaskFn(Rc::new(f)))
                }
                // `group_fn.override(group_id=…)`: the same group function, renamed.
                Obj::GroupFn(g) => {
                    let (def, mut options) = (g.0, g.1.clone());
                    options.extend(self.eval_keywords(&call.arguments.keywords));
                    Some(Obj::GroupFn(Rc::new((def, options))))
                }
                _ => None,
            },
            "append" | "extend" => {
                let Expr::Name(n) = &*attr.value else {
                    return None;
                };
                let current = self.lookup(n.id.as_str());
                let is_list = matches!(
                    &current,
                    Some(Obj::Tasks { list: true, .. }) | Some(Obj::Value(Value::List(_)))
                );
                if !is_list {
                    return None;
                }
                let added: Vec<Ref> = call
                    .arguments
                    .args
                    .iter()
                    .flat_map(|a| self.expr(a).refs())
                    .collect();
                if added.is_empty() {
                    return None;
                }
                let mut refs = current.map(|o| o.refs()).unwrap_or_default();
                refs.extend(added);
                self.bind(n.id.as_str(), Obj::Tasks { refs, list: true });
                Some(Obj::Value(Value::None))
            }
            "expand" | "expand_kwargs" => {
                let kwargs = method == "expand_kwargs";
                match self.expr(&attr.value) {
                    Obj::TaskFn(f) => Some(self.taskflow_task(&f, call, Some(kwargs))),
                    Obj::OperatorPartial(p) => {
                        let class = p.class.clone();
                        Some(self.operator_task(&class, p.call, &[], Some(call), Some(kwargs)))
                    }
                    Obj::GroupFn(g) => Some(self.call_group_fn(&g.0, &g.1, call)),
                    _ => None,
                }
            }
            "set_upstream" | "set_downstream" => {
                let base = self.expr(&attr.value);
                let span = self.span(call.range());
                let other: Vec<Ref> = call
                    .arguments
                    .args
                    .iter()
                    .flat_map(|a| self.expr(a).refs())
                    .collect();
                if method == "set_downstream" {
                    self.connect(&base.refs(), &other, span);
                } else {
                    self.connect(&other, &base.refs(), span);
                }
                Some(Obj::Value(Value::None))
            }
            "as_setup" | "as_teardown" => {
                let base = self.expr(&attr.value);
                let span = self.span(call.range());
                let role = if method == "as_setup" {
                    "setup"
                } else {
                    "teardown"
                };
                self.mark_role(&base.refs(), role);
                for k in &call.arguments.keywords {
                    let refs = self.expr(&k.value).refs();
                    if k.arg.as_deref() == Some("setups") {
                        self.mark_role(&refs, "setup");
                        self.connect(&refs, &base.refs(), span);
                    }
                }
                Some(base)
            }
            "update_relative" | "map" => {
                let base = self.expr(&attr.value);
                match base {
                    Obj::Tasks { .. } => Some(base),
                    _ => None,
                }
            }
            // `a.zip(b, c)`, `a.concat(b)`: an XComArg over every task's result, so a reader
            // of it runs after each of them (the arguments' tasks are made here too).
            "zip" | "concat" => {
                let Obj::Tasks { mut refs, .. } = self.expr(&attr.value) else {
                    return None;
                };
                for a in &call.arguments.args {
                    refs.extend(self.expr(a).refs());
                }
                Some(Obj::Tasks { refs, list: false })
            }
            _ => None,
        }
    }

    /// `task.task_group` (the group a task is in) or `group.parent_group` (the group a group
    /// is in); `None` at the DAG's root.
    fn enclosing_group(&self, r: &Ref, attr: &str) -> Option<Ref> {
        let p = &self.dags[ref_dag(r)?].pipeline;
        let group = match (r, attr) {
            (Ref::Task(_, id), "task_group") => p.nodes.iter().find(|n| &n.id == id)?.group.clone(),
            (Ref::Group(_, g), "parent_group") => {
                p.groups.iter().find(|x| &x.id == g)?.parent.clone()
            }
            _ => None,
        }?;
        Some(Ref::Group(ref_dag(r)?, group))
    }

    fn mark_role(&mut self, refs: &[Ref], role: &str) {
        for r in refs {
            if let Ref::Task(d, id) = r
                && let Some(n) = self.dags[*d].node_mut(id)
            {
                n.extra.insert("role".into(), Value::Str(role.into()));
            }
        }
    }

    fn role_of(&self, r: &Ref) -> Option<String> {
        let Ref::Task(d, id) = r else { return None };
        let node = self.dags[*d].pipeline.nodes.iter().find(|n| &n.id == id)?;
        node.extra
            .get("role")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// `with teardown_task:` — tasks made inside run after the teardown's setups and before it.
    fn teardown_context(&mut self, teardowns: &[Ref], body: &'s [Stmt]) {
        let dag = teardowns.iter().find_map(ref_dag);
        let before = dag.map_or(0, |d| self.dags[d].pipeline.nodes.len());
        self.block(body);
        let Some(d) = dag else { return };
        let new: Vec<String> = self.dags[d].pipeline.nodes[before..]
            .iter()
            .map(|n| n.id.clone())
            .collect();
        if new.is_empty() {
            return;
        }
        let set: std::collections::HashSet<&str> = new.iter().map(String::as_str).collect();
        let edges = &self.dags[d].pipeline.edges;
        let role = |id: &str| self.role_of(&Ref::Task(d, id.to_string()));
        // Setups and teardowns made inside keep their own wiring, as Airflow does.
        let roots: Vec<String> = new
            .iter()
            .filter(|n| role(n).as_deref() != Some("setup"))
            .filter(|n| {
                !edges
                    .iter()
                    .any(|e| &e.to == *n && set.contains(e.from.as_str()))
            })
            .cloned()
            .collect();
        let leaves: Vec<String> = new
            .iter()
            .filter(|n| role(n).as_deref() != Some("teardown"))
            .filter(|n| {
                !edges
                    .iter()
                    .any(|e| &e.from == *n && set.contains(e.to.as_str()))
            })
            .cloned()
            .collect();
        for t in teardowns {
            let Ref::Task(_, tid) = t else { continue };
            let setups: Vec<String> = self.dags[d]
                .pipeline
                .edges
                .iter()
                .filter(|e| &e.to == tid)
                .map(|e| e.from.clone())
                .filter(|f| self.role_of(&Ref::Task(d, f.clone())).as_deref() == Some("setup"))
                .collect();
            let span = self.dags[d]
                .pipeline
                .nodes
                .iter()
                .find(|n| &n.id == tid)
                .map(|n| n.span)
                .unwrap_or_default();
            for s in &setups {
                for r in &roots {
                    self.dags[d].add_edge(s, r, EdgeKind::Order, None, span);
                }
            }
            for l in &leaves {
                self.dags[d].add_edge(l, tid, EdgeKind::Order, None, span);
            }
        }
    }

    fn chain(&mut self, call: &'s ast::ExprCall, linear: bool) -> Obj<'s> {
        let span = self.span(call.range());
        let mut elements: Vec<Obj<'s>> = Vec::new();
        for a in &call.arguments.args {
            match a {
                Expr::Starred(s) => match self.expr(&s.value) {
                    Obj::Tasks { refs, list: true } => {
                        elements.extend(refs.into_iter().map(|r| Obj::Tasks {
                            refs: vec![r],
                            list: false,
                        }))
                    }
                    other => elements.push(other),
                },
                other => elements.push(self.expr(other)),
            }
        }
        for pair in elements.windows(2) {
            let (Obj::Tasks { refs: a, list: la }, Obj::Tasks { refs: b, list: lb }) =
                (&pair[0], &pair[1])
            else {
                continue;
            };
            if !linear && *la && *lb {
                if a.len() == b.len() {
                    for (x, y) in a.iter().zip(b) {
                        self.connect_one(x, y, EdgeKind::Order, None, span);
                    }
                } else {
                    self.core.diagnostic(Severity::Error, "chain-length", span, format!(
                        "chain() got lists of different lengths ({} and {})", a.len(), b.len()),
                        "Airflow raises an error here; give both lists the same length or use chain_linear()");
                }
            } else {
                self.connect(a, b, span);
            }
        }
        Obj::Value(Value::None)
    }

    // ----- DAGs --------------------------------------------------------------------------

    fn new_dag_from_call(&mut self, call: &'s ast::ExprCall, fallback_id: Option<&str>) -> usize {
        let positional: Vec<&'s Expr> = call.arguments.args.iter().collect();
        self.new_dag(
            &call.arguments.keywords,
            &positional,
            fallback_id,
            None,
            self.span(call.range()),
        )
    }

    fn new_dag(
        &mut self,
        keywords: &'s [ast::Keyword],
        positional: &[&'s Expr],
        fallback_id: Option<&str>,
        doc: Option<String>,
        span: Span,
    ) -> usize {
        let mut kwargs: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in self.eval_keywords(keywords) {
            if k == "**" {
                if let Value::Dict(m) = v {
                    kwargs.extend(m);
                } else {
                    kwargs.insert("**".into(), v);
                }
            } else {
                kwargs.insert(k, v);
            }
        }
        let dag_id = kwargs
            .remove("dag_id")
            .or_else(|| positional.first().map(|e| self.core.ev.eval(e)))
            .or_else(|| fallback_id.map(|s| Value::Str(s.to_string())));
        let id = match dag_id {
            Some(Value::Str(s)) => s,
            Some(other) => {
                let shown = match other {
                    Value::Expr(e) => e,
                    v => format!("{v:?}"),
                };
                self.core.diagnostic(
                    Severity::Warning,
                    "dynamic-id",
                    span,
                    format!("the DAG id `{shown}` is not known statically"),
                    "use a literal or a module constant for dag_id",
                );
                shown
            }
            None => {
                self.core.diagnostic(
                    Severity::Error,
                    "missing-id",
                    span,
                    "a DAG without a dag_id".into(),
                    "pass dag_id as the first argument",
                );
                "<unnamed>".into()
            }
        };
        let mut p = Pipeline {
            id: id.clone(),
            name: id,
            framework: Some(crate::ir::Framework::Airflow),
            span,
            ..Pipeline::default()
        };
        let default_args = kwargs.remove("default_args").unwrap_or(Value::None);
        p.defaults = options::policy_from_default_args(&default_args);
        p.owner = p.defaults.owner.clone();
        if let Some(v) = kwargs
            .remove("dag_display_name")
            .and_then(|v| v.as_str().map(str::to_string))
        {
            p.name = v;
        }
        p.description = kwargs
            .remove("description")
            .and_then(|v| v.as_str().map(str::to_string));
        if let Some(doc_md) = kwargs
            .remove("doc_md")
            .and_then(|v| v.as_str().map(str::to_string))
            .or(doc)
        {
            if p.description.is_none() {
                p.description = Some(doc_md);
            } else {
                p.extra.insert("doc_md".into(), Value::Str(doc_md));
            }
        }
        p.tags = kwargs
            .remove("tags")
            .map(|v| v.string_list())
            .unwrap_or_default();
        let start = kwargs
            .remove("start_date")
            .or_else(|| p.defaults.extra.remove("start_date").clone());
        p.start_date = match start {
            Some(Value::DateTime(d)) => Some(d),
            Some(Value::None) | None => None,
            Some(other) => {
                p.extra.insert("start_date".into(), other);
                None
            }
        };
        p.end_date = match kwargs
            .remove("end_date")
            .or_else(|| p.defaults.extra.remove("end_date"))
        {
            Some(Value::DateTime(d)) => Some(d),
            Some(Value::None) | None => None,
            Some(other) => {
                p.extra.insert("end_date".into(), other);
                None
            }
        };
        let tz = p.start_date.as_ref().and_then(|d| d.tz.clone());
        let schedule = kwargs
            .remove("schedule")
            .map(|v| ("schedule", v))
            .or_else(|| {
                kwargs
                    .remove("schedule_interval")
                    .map(|v| ("schedule_interval", v))
            })
            .or_else(|| kwargs.remove("timetable").map(|v| ("timetable", v)));
        if let Some((key, v)) = schedule {
            let mut s = options::schedule(&v, tz);
            if let (crate::ir::ScheduleKind::Timetable, Some(expr)) =
                (s.kind, self.schedule_expr(keywords, key))
            {
                let mut names = Vec::new();
                self.collect_assets(expr, &mut names);
                if !names.is_empty() {
                    s = options::asset_schedule(names, s.timezone);
                    s.value = Some(self.ctx.src.slice(expr.range()).to_string());
                }
            }
            if key != "schedule" {
                p.extra
                    .insert(format!("{key}_spelling"), Value::Str(key.into()));
            }
            p.schedule = Some(s);
        }
        p.catchup = kwargs.remove("catchup").and_then(|v| v.as_bool());
        if let Some(params) = kwargs.remove("params") {
            p.params = options::params(&params);
        }
        if let Some(t) = kwargs.remove("dagrun_timeout") {
            match t.as_seconds() {
                Some(s) => p.run_policy.timeout = Some(s),
                None => {
                    p.extra.insert("dagrun_timeout".into(), t);
                }
            }
        }
        p.extra.extend(kwargs);
        self.dags.push(DagBuilder::new(p));
        self.dags.len() - 1
    }

    fn schedule_expr(&self, keywords: &'s [ast::Keyword], key: &str) -> Option<&'s Expr> {
        keywords
            .iter()
            .find(|k| k.arg.as_deref() == Some(key))
            .map(|k| &k.value)
    }

    /// Asset names in an asset condition (`a & (b | c)`, `AssetAll(...)`, lists).
    fn collect_assets(&self, e: &'s Expr, out: &mut Vec<String>) {
        match e {
            Expr::BinOp(b) => {
                self.collect_assets(&b.left, out);
                self.collect_assets(&b.right, out);
            }
            Expr::List(l) => l.elts.iter().for_each(|x| self.collect_assets(x, out)),
            Expr::Tuple(t) => t.elts.iter().for_each(|x| self.collect_assets(x, out)),
            Expr::Call(c)
                if matches!(
                    self.ctx.imports.qualify(&c.func).as_deref().map(last_part),
                    Some("AssetAll" | "AssetAny" | "DatasetAll" | "DatasetAny")
                ) =>
            {
                c.arguments
                    .args
                    .iter()
                    .for_each(|x| self.collect_assets(x, out));
            }
            other => {
                if let Some(name) = options::asset(&self.core.ev.eval(other)).and_then(|a| a.name) {
                    out.push(name);
                }
            }
        }
    }

    /// `@asset` / `@asset.multi`: a DAG named after the asset with one task named after the function.
    fn asset_dag(
        &mut self,
        def: FunctionDef<'s>,
        keywords: &'s [ast::Keyword],
        multi: bool,
    ) -> Obj<'s> {
        let opts: BTreeMap<String, Value> = self.eval_keywords(keywords).into_iter().collect();
        let name = opts
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(def.name)
            .to_string();
        let uri = opts.get("uri").and_then(Value::as_str).map(str::to_string);
        let span = self.span(def.range);
        let fallback = if multi {
            def.name.to_string()
        } else {
            name.clone()
        };
        let dag_id = opts
            .get("dag_id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or(fallback);
        let d = self.new_dag(&[], &[], Some(&dag_id), def.docstring(), span);
        let b = &mut self.dags[d];
        b.registered = true;
        b.pipeline.catchup = Some(false);
        if let Some(v) = opts.get("schedule") {
            b.pipeline.schedule = Some(options::schedule(v, None));
        }
        b.pipeline.tags = opts.get("tags").map(Value::string_list).unwrap_or_default();
        let mut node = Node::new(def.name, NodeKind::Task, span);
        node.callable = Some(def.to_callable(self.ctx.src));
        node.flavor = Some(if multi { "asset_multi" } else { "asset" }.into());
        node.outlets = if multi {
            opts.get("outlets").map(options::assets).unwrap_or_default()
        } else {
            vec![crate::ir::AssetRef {
                name: Some(name.clone()),
                uri: uri.clone().or(Some(name.clone())),
            }]
        };
        node.inlets = def
            .args
            .args
            .iter()
            .filter(|a| {
                a.default.is_none() && !matches!(a.parameter.name.as_str(), "self" | "context")
            })
            .map(|a| crate::ir::AssetRef {
                name: Some(a.parameter.name.to_string()),
                uri: None,
            })
            .collect();
        b.add_node(node);
        let mut kwargs = BTreeMap::new();
        kwargs.insert("name".to_string(), Value::Str(name.clone()));
        kwargs.insert("uri".to_string(), Value::Str(uri.unwrap_or(name)));
        Obj::Value(Value::Call(crate::ir::CallValue {
            func: "airflow.sdk.Asset".into(),
            args: Vec::new(),
            kwargs,
        }))
    }

    fn call_dag_fn(
        &mut self,
        def: &FunctionDef<'s>,
        keywords: &'s [ast::Keyword],
        positional: &[&'s Expr],
        call: &'s ast::ExprCall,
    ) -> Obj<'s> {
        let span = self.span(def.range);
        let i = self.new_dag(keywords, positional, Some(def.name), def.docstring(), span);
        self.dags[i].registered = true;
        // Function parameters become DAG params.
        let params = def.to_callable(self.ctx.src).params;
        for p in params.iter().filter(|p| !p.name.starts_with('*')) {
            if !self.dags[i]
                .pipeline
                .params
                .iter()
                .any(|x| x.name == p.name)
            {
                self.dags[i].pipeline.params.push(crate::ir::Param {
                    name: p.name.clone(),
                    r#type: p.annotation.clone(),
                    default: p.default.clone().map(Value::Expr),
                    description: None,
                });
            }
        }
        self.dag_stack.push(i);
        let saved_groups = std::mem::take(&mut self.group_stack);
        self.follow(def, call);
        self.group_stack = saved_groups;
        self.dag_stack.pop();
        Obj::Dag(i)
    }

    fn inline(&mut self, def: FunctionDef<'s>, call: &'s ast::ExprCall) -> Obj<'s> {
        if !function_may_build(def.body) {
            return self.unknown_call(call);
        }
        self.follow(&def, call).0
    }

    // ----- groups ------------------------------------------------------------------------

    fn current_dag(&self) -> Option<usize> {
        self.dag_stack.last().copied()
    }

    fn current_group(&self, dag: usize) -> Option<String> {
        self.group_stack
            .iter()
            .rev()
            .find(|(d, _)| *d == dag)
            .map(|(_, g)| g.clone())
    }

    fn new_group_from_call(&mut self, call: &'s ast::ExprCall) -> Option<Obj<'s>> {
        let kwargs: BTreeMap<String, Value> = self
            .eval_keywords(&call.arguments.keywords)
            .into_iter()
            .collect();
        let dag = match call
            .arguments
            .keywords
            .iter()
            .find(|k| k.arg.as_deref() == Some("dag"))
        {
            Some(k) => match self.expr(&k.value) {
                Obj::Dag(i) => Some(i),
                _ => self.current_dag(),
            },
            None => self.current_dag(),
        }?;
        let group_id = kwargs
            .get("group_id")
            .cloned()
            .or_else(|| call.arguments.args.first().map(|a| self.core.ev.eval(a)))
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| self.ctx.src.slice(call.range()).to_string());
        let parent = match call
            .arguments
            .keywords
            .iter()
            .find(|k| k.arg.as_deref() == Some("parent_group"))
        {
            Some(k) => match self.expr(&k.value).refs().first() {
                Some(Ref::Group(_, g)) => Some(g.clone()),
                _ => None,
            },
            None => self.current_group(dag),
        };
        Some(self.push_group(
            dag,
            parent,
            &group_id,
            &kwargs,
            false,
            None,
            self.span(call.range()),
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn push_group(
        &mut self,
        dag: usize,
        parent: Option<String>,
        group_id: &str,
        kwargs: &BTreeMap<String, Value>,
        suffix: bool,
        doc: Option<String>,
        span: Span,
    ) -> Obj<'s> {
        let prefix = kwargs
            .get("prefix_group_id")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let policy = kwargs
            .get("default_args")
            .map(options::policy_from_default_args)
            .unwrap_or_default();
        let description = kwargs
            .get("tooltip")
            .and_then(|v| v.as_str().map(str::to_string))
            .or(doc);
        let suffix_on_collision = suffix
            || kwargs
                .get("add_suffix_on_collision")
                .and_then(Value::as_bool)
                .unwrap_or(false);
        let id = self.dags[dag].add_group(GroupSpec {
            parent: parent.as_deref(),
            group_id,
            prefix_group_id: prefix,
            suffix_on_collision,
            policy,
            description,
            span,
        });
        self.group_stack.push((dag, id.clone()));
        Obj::Tasks {
            refs: vec![Ref::Group(dag, id)],
            list: false,
        }
    }

    fn call_group_fn(
        &mut self,
        def: &FunctionDef<'s>,
        options: &[(String, Value)],
        call: &'s ast::ExprCall,
    ) -> Obj<'s> {
        let Some(dag) = self.current_dag() else {
            return Obj::Value(Value::None);
        };
        let kwargs: BTreeMap<String, Value> = options.iter().cloned().collect();
        let group_id = kwargs
            .get("group_id")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| def.name.to_string());
        let parent = self.current_group(dag);
        let group = self.push_group(
            dag,
            parent,
            &group_id,
            &kwargs,
            true,
            def.docstring(),
            self.span(def.range),
        );
        let is_expand =
            matches!(&*call.func, Expr::Attribute(a) if a.attr.as_str().starts_with("expand"));
        if is_expand {
            self.opaque(
                "mapped_group",
                call,
                "a mapped task group: its tasks are read once, not per element".into(),
            );
        }
        let ret = self.follow(def, call).0;
        self.group_stack.pop();
        match ret {
            Obj::Value(Value::None) => group,
            Obj::Tasks { .. } => ret,
            _ => group,
        }
    }

    // ----- tasks -------------------------------------------------------------------------

    fn taskflow_task(
        &mut self,
        f: &TaskFn<'s>,
        call: &'s ast::ExprCall,
        expand: Option<bool>,
    ) -> Obj<'s> {
        // Python evaluates the arguments (creating upstream tasks) before the call creates this one.
        let names = f.def.positional_names();
        let mut inputs: Vec<(Option<String>, Ref)> = Vec::new();
        let mut mapping = expand.map(|kwargs| Mapping {
            over: Vec::new(),
            partial: BTreeMap::new(),
            kwargs,
        });
        for (name, e) in &f.partial {
            for r in self.deep_refs(e) {
                inputs.push((Some(name.clone()), r));
            }
            if let Some(m) = mapping.as_mut() {
                m.partial.insert(name.clone(), self.core.ev.eval(e));
            }
        }
        let mut literals: BTreeMap<String, Value> = BTreeMap::new();
        for (i, a) in call.arguments.args.iter().enumerate() {
            let refs = self.deep_refs(a);
            let param = match &mapping {
                Some(_) => None,
                None => names.get(i).map(|s| s.to_string()),
            };
            if let (Some(p), true) = (&param, refs.is_empty()) {
                literals.insert(p.clone(), self.core.ev.eval(a));
            }
            if let Some(m) = mapping.as_mut() {
                m.over.push(self.mapped_arg("", a, &refs));
            }
            inputs.extend(refs.into_iter().map(|r| (param.clone(), r)));
        }
        for kw in &call.arguments.keywords {
            let name = kw.arg.as_deref().unwrap_or("**").to_string();
            let refs = self.deep_refs(&kw.value);
            if let Some(m) = mapping.as_mut() {
                m.over.push(self.mapped_arg(&name, &kw.value, &refs));
            } else if refs.is_empty() && name != "**" {
                literals.insert(name.clone(), self.core.ev.eval(&kw.value));
            }
            inputs.extend(refs.into_iter().map(|r| (Some(name.clone()), r)));
        }
        let Some(dag) = self.current_dag() else {
            return Obj::Value(Value::None);
        };
        let mut opts: BTreeMap<String, Value> = f.options.iter().cloned().collect();
        let task_id = match opts.remove("task_id") {
            Some(Value::Str(s)) => s,
            _ => f.def.name.to_string(),
        };
        opts.remove("task_group");
        let group = self.current_group(dag);
        let id = self.dags[dag].unique_task_id(group.as_deref(), &task_id);
        let span = self.span(call.range());
        let mut node = Node::new(id.clone(), names::flavor_kind(f.flavor.as_deref()), span);
        node.flavor = f.flavor.clone();
        node.group = group;
        node.callable = Some(f.def.to_callable(self.ctx.src));
        node.description = f.def.docstring();
        if let Some(Value::Str(role)) = opts.remove("__role") {
            node.extra.insert("role".into(), Value::Str(role));
        }
        self.apply_task_options(&mut node, opts);
        node.mapping = mapping;
        node.args = literals;
        self.dags[dag].add_node(node);
        let me = Ref::Task(dag, id);
        for (name, r) in &f.option_refs {
            self.connect_one(r, &me, EdgeKind::Data, Some(name.clone()), span);
        }
        for (param, r) in inputs {
            self.connect_one(&r, &me, EdgeKind::Data, param, span);
        }
        Obj::Tasks {
            refs: vec![me],
            list: false,
        }
    }

    fn mapped_arg(&self, param: &str, e: &'s Expr, refs: &[Ref]) -> MappedArg {
        match refs.first() {
            Some(Ref::Task(_, id)) => MappedArg {
                param: param.into(),
                literal: None,
                from_node: Some(id.clone()),
            },
            _ => MappedArg {
                param: param.into(),
                literal: Some(self.core.ev.eval(e)),
                from_node: None,
            },
        }
    }

    /// Applies decorator / operator keyword options to a node; unmodelled ones go to `extra`.
    fn apply_task_options(&mut self, node: &mut Node, opts: BTreeMap<String, Value>) {
        let mut sensor = SensorSpec::default();
        let mut is_sensor_opt = false;
        for (k, v) in opts {
            if k == "trigger_rule" {
                node.trigger_rule = options::trigger_rule(&v);
                if node.trigger_rule.is_none() {
                    node.extra.insert(k, v);
                }
                continue;
            }
            if options::apply_policy(&mut node.policy, &k, &v) {
                continue;
            }
            if node.kind == NodeKind::Sensor && options::apply_sensor(&mut sensor, &k, &v) {
                is_sensor_opt = true;
                continue;
            }
            match k.as_str() {
                "outlets" => node.outlets = options::assets(&v),
                "inlets" => node.inlets = options::assets(&v),
                "doc_md" | "doc" => {
                    node.description = v.as_str().map(str::to_string).or(node.description.take())
                }
                "task_display_name" => node.name = v.as_str().map(str::to_string),
                _ => {
                    node.extra.insert(k, v);
                }
            }
        }
        if node.kind == NodeKind::Sensor || is_sensor_opt {
            node.sensor = Some(sensor);
        }
    }

    /// `functools.partial(Operator, k=v, …)`: an operator class with keywords fixed (a later
    /// call's keywords come after them, as Python merges them).
    fn operator_factory(&mut self, call: &'s ast::ExprCall) -> Option<Obj<'s>> {
        if self.ctx.imports.qualify(&call.func).as_deref() != Some("functools.partial") {
            return None;
        }
        let class = self.ctx.imports.qualify(call.arguments.args.first()?)?;
        let short = last_part(&class);
        if !(short.ends_with("Operator") || short.ends_with("Sensor")) {
            return None;
        }
        let fixed: Rc<[&'s ast::Keyword]> = call.arguments.keywords.iter().collect();
        Some(Obj::OperatorFactory(Rc::new(OperatorFactory {
            class,
            fixed,
        })))
    }

    /// A classic operator's task, from its call (after the keywords `fixed` by a factory); an
    /// operator made outside any DAG waits, unbound, for `>>` to adopt it.
    fn operator_task(
        &mut self,
        class: &str,
        call: &'s ast::ExprCall,
        fixed: &[&'s ast::Keyword],
        expand_call: Option<&'s ast::ExprCall>,
        expand_kwargs: Option<bool>,
    ) -> Obj<'s> {
        let keywords: Vec<&'s ast::Keyword> = fixed
            .iter()
            .copied()
            .chain(&call.arguments.keywords)
            .collect();
        let dag = match keywords.iter().find(|k| k.arg.as_deref() == Some("dag")) {
            Some(k) => match self.expr(&k.value) {
                Obj::Dag(i) => Some(i),
                _ => self.current_dag(),
            },
            None => self.current_dag(),
        };
        let Some(dag) = dag else {
            if expand_call.is_none() {
                self.unbound.push(Unbound {
                    class: class.to_string(),
                    call,
                    fixed: fixed.into(),
                    placed: None,
                });
                return Obj::task(Ref::Unbound(self.unbound.len() - 1));
            }
            for k in &call.arguments.keywords {
                self.expr(&k.value);
            }
            return Obj::Value(Value::None);
        };
        let span = self.span(expand_call.map_or(call.range(), |c| c.range()));
        let group = match keywords
            .iter()
            .find(|k| k.arg.as_deref() == Some("task_group"))
        {
            Some(k) => match self.expr(&k.value).refs().first() {
                Some(Ref::Group(_, g)) => Some(g.clone()),
                _ => self.current_group(dag),
            },
            None => self.current_group(dag),
        };
        let raw_id = keywords
            .iter()
            .find(|k| k.arg.as_deref() == Some("task_id"))
            .map(|k| (&k.value, self.core.ev.eval(&k.value)));
        let (task_id, dynamic) = match raw_id {
            Some((_, Value::Str(s))) => (s, false),
            Some((e, _)) => {
                let shown = self.ctx.src.slice(e.range()).to_string();
                self.opaque(
                    "dynamic_task_id",
                    e,
                    format!("the task id `{shown}` is not known statically"),
                );
                (shown, true)
            }
            None => ("<no task_id>".into(), false),
        };
        let mut id = self.dags[dag].child_id(group.as_deref(), &task_id);
        // An id not known statically (built in a loop, say) is not a duplicate: number it.
        if dynamic && self.dags[dag].has_id(&id) {
            let base = id.clone();
            let k = self.dynamic_ids.entry(base.clone()).or_insert(1);
            while self.dags[dag].has_id(&id) {
                *k += 1;
                id = format!("{base}-{k}");
            }
        }
        let short = last_part(class).to_string();
        let mut node = Node::new(id.clone(), names::operator_kind(&short), span);
        node.group = group;
        let mut op = IrOperator {
            class: short.clone(),
            import_path: class.contains('.').then(|| class.to_string()),
            args: BTreeMap::new(),
            templated: Vec::new(),
        };
        let mut opts: BTreeMap<String, Value> = BTreeMap::new();
        let me = Ref::Task(dag, id.clone());
        let mut pending_edges: Vec<(Ref, String)> = Vec::new();
        let mut callable_def = None;
        for kw in keywords {
            let Some(name) = kw.arg.as_deref() else {
                self.opaque(
                    "kwargs_spread",
                    &kw.value,
                    "`**kwargs` passed to an operator: its keys are not known statically".into(),
                );
                continue;
            };
            if matches!(name, "task_id" | "dag" | "task_group") {
                continue;
            }
            if name == "python_callable" {
                match self.expr(&kw.value) {
                    Obj::LocalFn(def) => {
                        node.callable = Some(def.to_callable(self.ctx.src));
                        callable_def = Some(def);
                    }
                    Obj::TaskFn(f) => {
                        node.callable = Some(f.def.to_callable(self.ctx.src));
                        callable_def = Some(f.def);
                    }
                    _ => {
                        op.args.insert(name.into(), self.core.ev.eval(&kw.value));
                    }
                }
                continue;
            }
            let refs = self.deep_refs(&kw.value);
            let value = self.core.ev.eval(&kw.value);
            for r in refs {
                pending_edges.push((r, name.to_string()));
            }
            if value.is_templated() {
                op.templated.push(name.to_string());
            }
            if is_task_option(name) {
                opts.insert(name.into(), value);
            } else {
                op.args.insert(name.into(), value);
            }
        }
        let mut mapping = None;
        if let Some(ec) = expand_call {
            let mut m = Mapping {
                over: Vec::new(),
                partial: BTreeMap::new(),
                kwargs: expand_kwargs.unwrap_or(false),
            };
            for a in &ec.arguments.args {
                let refs = self.deep_refs(a);
                m.over.push(self.mapped_arg("", a, &refs));
                pending_edges.extend(refs.into_iter().map(|r| (r, String::new())));
            }
            for kw in &ec.arguments.keywords {
                let name = kw.arg.as_deref().unwrap_or("**").to_string();
                let refs = self.deep_refs(&kw.value);
                m.over.push(self.mapped_arg(&name, &kw.value, &refs));
                pending_edges.extend(refs.into_iter().map(|r| (r, name.clone())));
            }
            mapping = Some(m);
        }
        node.mapping = mapping;
        self.apply_task_options(&mut node, opts);
        if let Some(def) = &callable_def {
            node.pulls = crate::frontend::xcom::operator_pulls(&self.core.ev, def, &op.args);
        }
        node.operator = Some(op);
        if self.dags[dag].has_id(&id) {
            self.core.diagnostic(Severity::Error, "duplicate-id", span, format!("task id `{id}` is used twice in DAG `{}`", self.dags[dag].pipeline.id), "Airflow refuses the DAG (DuplicateTaskIdFound); give each operator a unique task_id");
        }
        self.dags[dag].add_node(node);
        for (r, param) in pending_edges {
            let param = (!param.is_empty()).then_some(param);
            self.connect_one(&r, &me, EdgeKind::Data, param, span);
        }
        Obj::Tasks {
            refs: vec![me],
            list: false,
        }
    }
}

impl<'c, 's, 'a> Reader<'s, 'a> for Interpreter<'c, 's, 'a>
where
    'a: 's,
{
    type Obj = Obj<'s>;
    type Mark = (usize, usize);
    const MAX_UNROLL: usize = MAX_UNROLL;
    const MAX_TOTAL_UNROLL: usize = MAX_TOTAL_UNROLL;

    value_reader!('s, 'a, Obj<'s>);

    fn weight_within(obj: &Obj<'s>, budget: usize) -> Option<usize> {
        match obj {
            Obj::Value(v) => weight_within(v, budget),
            Obj::Tasks { refs, .. } => Some(refs.len()).filter(|&n| n <= budget),
            _ => Some(1),
        }
    }

    fn expr(&mut self, e: &'s Expr) -> Obj<'s> {
        self.expression(e)
    }

    fn record_opaque(&mut self, entry: Opaque) {
        match self.dag_stack.last() {
            Some(&d) => self.dags[d].pipeline.opaque.push(entry),
            None => self.core.file_opaque.push(entry),
        }
    }

    fn on_bind(&mut self, name: &str, obj: &Obj<'s>) {
        if self.core.at_module_level() {
            match obj {
                Obj::Dag(i) => {
                    self.module_dags.insert(name.to_string(), *i);
                }
                _ => {
                    self.module_dags.remove(name);
                }
            }
        }
    }

    /// Tasks unpack one by one, like the list of them they are.
    fn sequence(&self, obj: &Obj<'s>) -> Option<Vec<Obj<'s>>> {
        match obj {
            Obj::Tasks { refs, .. } => Some(refs.iter().cloned().map(Obj::task).collect()),
            _ => self.plain_sequence(obj),
        }
    }

    fn collect(&self, items: Vec<Obj<'s>>) -> Obj<'s> {
        if items.iter().any(|o| matches!(o, Obj::Tasks { .. })) {
            Obj::Tasks {
                refs: items.iter().flat_map(Obj::refs).collect(),
                list: true,
            }
        } else {
            Obj::Value(Value::List(items.iter().filter_map(Self::plain).collect()))
        }
    }

    fn bind_other(&mut self, target: &'s Expr, obj: Obj<'s>) {
        // `globals()[name] = DAG(...)` registers the DAG as a module global.
        if let Expr::Subscript(s) = target
            && let (Obj::Dag(i), Expr::Call(c)) = (&obj, &*s.value)
            && matches!(&*c.func, Expr::Name(n) if n.id.as_str() == "globals")
        {
            self.dags[*i].registered = true;
        }
    }

    fn augment(&mut self, name: &str, added: Obj<'s>) -> Option<Obj<'s>> {
        match (self.lookup(name), added) {
            (Some(Obj::Tasks { refs: mut old, .. }), Obj::Tasks { refs, .. }) => {
                old.extend(refs);
                Some(Obj::Tasks {
                    refs: old,
                    list: true,
                })
            }
            (Some(Obj::Value(Value::List(v))), Obj::Tasks { refs, .. }) if v.is_empty() => {
                Some(Obj::Tasks { refs, list: true })
            }
            _ => None,
        }
    }

    fn define_function(&mut self, def: FunctionDef<'s>) {
        self.decorate(def);
    }

    fn builds_in(&self, _body: &'s [Stmt]) -> bool {
        self.dag_stack.last().is_some()
    }

    fn loop_iterable(&mut self, iter: &'s Expr, spent: bool) -> Obj<'s> {
        if spent {
            Obj::Value(Value::None)
        } else {
            self.expr(iter)
        }
    }

    fn loop_items(
        &mut self,
        iter: &'s Expr,
        iterable: &Obj<'s>,
        spent: bool,
    ) -> Option<Vec<Obj<'s>>> {
        if spent {
            return None;
        }
        if let Some(items) = self.zipped_tasks(iter) {
            return Some(items);
        }
        let items = match iterable {
            Obj::Tasks { .. } => self.sequence(iterable),
            Obj::Value(v) => {
                sequence_items(v, true).map(|i| i.into_iter().map(Obj::Value).collect())
            }
            _ => None,
        };
        items.or_else(|| self.dict_items(iter))
    }

    fn unread_loop(&mut self, lp: Unread<'s, Obj<'s>>) {
        let Unread {
            stmt,
            lp,
            over_budget,
            ..
        } = lp;
        if over_budget && !self.unroll_warned {
            self.unroll_warned = true;
            let span = self.span(stmt.range());
            self.core.diagnostic(
                Severity::Warning,
                "unroll-budget",
                span,
                format!(
                    "loops in this file unroll past {MAX_TOTAL_UNROLL} iterations here; the tasks of this loop and of later ones over the budget are not read (each is an opaque entry)"
                ),
                "build such a DAG from a smaller literal, or with dynamic task mapping (.expand)",
            );
        }
        if self.dag_stack.last().is_some() || body_builds_tasks(&lp.body) {
            let shown = self.core.text(&*lp.iter);
            self.opaque(
                "dynamic_loop",
                stmt,
                if over_budget {
                    format!(
                        "the loop over `{shown}` would unroll past {MAX_TOTAL_UNROLL} iterations in this file; tasks it creates are not read"
                    )
                } else {
                    format!(
                        "the loop iterates over `{shown}`, which is not a static list; tasks it creates are not read"
                    )
                },
            );
        }
    }

    fn context_mark(&self) -> (usize, usize) {
        (self.dag_stack.len(), self.group_stack.len())
    }

    fn restore_context(&mut self, (dags, groups): (usize, usize)) {
        self.group_stack.truncate(groups);
        self.dag_stack.truncate(dags);
    }

    fn enter(&mut self, item: &'s ast::WithItem, sole: bool, body: &'s [Stmt]) -> Entered<Obj<'s>> {
        let obj = match &item.context_expr {
            Expr::Call(call) => match self.qualified_symbol(&call.func) {
                Some(Symbol::DagClass) => {
                    let i = self.new_dag_from_call(call, None);
                    self.dags[i].registered = true;
                    self.dag_stack.push(i);
                    Obj::Dag(i)
                }
                Some(Symbol::TaskGroupClass) => self
                    .new_group_from_call(call)
                    .unwrap_or(Obj::Value(Value::None)),
                _ => self.expr(&item.context_expr),
            },
            other => self.expr(other),
        };
        if let Obj::Dag(i) = obj
            && !self.dag_stack.contains(&i)
        {
            self.dags[i].registered = true;
            self.dag_stack.push(i);
        }
        if sole && self.enter_teardown(&obj, body) {
            return Entered::BodyRead;
        }
        Entered::Bind(obj)
    }
}

fn ref_dag(r: &Ref) -> Option<usize> {
    match r {
        Ref::Task(d, _) | Ref::Group(d, _) => Some(*d),
        Ref::Unbound(_) => None,
    }
}

/// BaseOperator keywords the IR models as policy, sensor or node fields.
fn is_task_option(name: &str) -> bool {
    matches!(
        name,
        "retries"
            | "retry_delay"
            | "retry_exponential_backoff"
            | "max_retry_delay"
            | "execution_timeout"
            | "sla"
            | "pool"
            | "pool_slots"
            | "priority_weight"
            | "queue"
            | "owner"
            | "trigger_rule"
            | "mode"
            | "poke_interval"
            | "timeout"
            | "deferrable"
            | "outlets"
            | "inlets"
            | "doc_md"
            | "doc"
            | "task_display_name"
    )
}

fn looks_like_class(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// True when an expression contains a call (so evaluating it may create tasks).
fn expr_calls_anything(e: &Expr) -> bool {
    match e {
        Expr::Call(_) => true,
        Expr::BinOp(b) => expr_calls_anything(&b.left) || expr_calls_anything(&b.right),
        _ => false,
    }
}

/// True when a function body may create tasks, DAGs or dependencies (worth inlining).
fn function_may_build(body: &[Stmt]) -> bool {
    body.iter().any(|s| {
        matches!(
            s,
            Stmt::Expr(_)
                | Stmt::Assign(_)
                | Stmt::If(_)
                | Stmt::Return(_)
                | Stmt::AugAssign(_)
                | Stmt::FunctionDef(_)
                | Stmt::With(_)
                | Stmt::For(_)
                | Stmt::Try(_)
        )
    })
}

/// True when a loop body looks like it builds tasks (calls with `task_id=` or `>>`).
fn body_builds_tasks(body: &[Stmt]) -> bool {
    fn walk(e: &Expr) -> bool {
        match e {
            Expr::Call(c) => {
                c.arguments
                    .keywords
                    .iter()
                    .any(|k| k.arg.as_deref() == Some("task_id"))
                    || c.arguments.args.iter().any(walk)
                    || walk(&c.func)
            }
            Expr::BinOp(b) => {
                matches!(b.op, Operator::RShift | Operator::LShift)
                    || walk(&b.left)
                    || walk(&b.right)
            }
            _ => false,
        }
    }
    body.iter().any(|s| match s {
        Stmt::Expr(e) => walk(&e.value),
        Stmt::Assign(a) => walk(&a.value),
        Stmt::For(f) => body_builds_tasks(&f.body),
        Stmt::With(w) => body_builds_tasks(&w.body),
        Stmt::If(i) => body_builds_tasks(&i.body) || body_builds_tasks(crate::python::orelse(i)),
        _ => false,
    })
}
