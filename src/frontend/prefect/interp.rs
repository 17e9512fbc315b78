//! A static interpreter of Prefect modules: collects flows and tasks, reads each flow body into a
//! graph, and records deployments. What it cannot follow becomes an opaque entry.

use crate::python::ast::TextRange;
use crate::python::ast::{self, Expr, Ranged, Stmt};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use super::names::{self, Symbol, classify};
use super::options;
use super::scan;
use crate::frontend::FileContext;
use crate::frontend::callable::FunctionDef;
use crate::frontend::interp::{
    Core, Entered, Reader, Unread, decorator_parts, expr_calls_anything, sequence_items,
    value_reader,
};
use crate::ir::{
    Deployment, Diagnostic, Edge, EdgeKind, Framework, Group, GroupKind, MappedArg, Mapping, Node,
    NodeKind, Opaque, Param, Partitions, Pipeline, Policy, Severity, Span, Value,
};
use crate::python::literal::weight_within;

mod fail_fast;
mod flow_code;

/// Most iterations unrolled from one loop over a literal; longer loops are read once.
pub const MAX_UNROLL: usize = 100;
/// Most loop iterations unrolled in one module (nested loops multiply); past it loops are read once.
const MAX_TOTAL_UNROLL: usize = 10_000;

/// A `@task` function with its options (decorator, then `with_options` overrides).
#[derive(Clone)]
pub(super) struct TaskDef<'s> {
    def: FunctionDef<'s>,
    options: BTreeMap<String, Value>,
    /// The name given by `with_options(name=...)`: it names the calls made through it.
    call_name: Option<String>,
}

/// The task option under which `@materialize` keeps the assets it names.
const MATERIALIZES: &str = "materializes";

/// The assets `@materialize` names: a key string (a URI such as `s3://bucket/x`), or an
/// `Asset(key=…)`; anything else is kept as its source text.
fn asset_refs(v: &Value) -> Vec<crate::ir::AssetRef> {
    let Value::List(items) = v else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            let key = match item {
                Value::Str(s) => s.clone(),
                Value::Call(c) => match c.kwargs.get("key").or(c.args.first()) {
                    Some(Value::Str(s)) => s.clone(),
                    _ => format!("{item:?}"),
                },
                Value::Expr(text) => text.clone(),
                other => format!("{other:?}"),
            };
            crate::ir::AssetRef {
                uri: key.contains("://").then(|| key.clone()),
                name: Some(key),
            }
        })
        .collect()
}

/// A `@flow` function with its options; `pipeline` is the pipeline it defines.
#[derive(Clone)]
pub(super) struct FlowDef<'s> {
    def: FunctionDef<'s>,
    options: BTreeMap<String, Value>,
    pipeline: usize,
}

/// `Flow.from_source(...)`: a flow bound to a code location, waiting for `.deploy(...)`.
pub(super) struct Sourced {
    pipeline: Option<usize>,
    source: Value,
    entrypoint: Option<String>,
}

/// How a task is invoked.
#[derive(Clone, Copy, PartialEq)]
enum Invocation {
    Call,
    Submit,
    Map,
}

/// What an expression evaluates to, as far as building flows is concerned.
#[derive(Clone)]
pub(super) enum Obj<'s> {
    Value(Value),
    /// Results or futures of runs (node ids); `list` for collections of them.
    Runs {
        refs: Vec<String>,
        list: bool,
    },
    TaskFn(Rc<TaskDef<'s>>),
    FlowFn(Rc<FlowDef<'s>>),
    LocalFn(FunctionDef<'s>),
    Unmapped(Box<Obj<'s>>),
    AllowFailure(Box<Obj<'s>>),
    /// Deployments (pipeline index, deployment index).
    Deployments(Vec<(usize, usize)>),
    Sourced(Rc<Sourced>),
    /// A dict of runs filled by `d[key] = task.submit(…)`: key → the node ids stored there
    /// (`*` for keys not known statically).
    Keyed(Rc<BTreeMap<String, Vec<String>>>),
}

impl Obj<'_> {
    fn refs(&self) -> Vec<String> {
        match self {
            Obj::Runs { refs, .. } => refs.clone(),
            Obj::Unmapped(inner) | Obj::AllowFailure(inner) => inner.refs(),
            Obj::Keyed(map) => {
                let mut refs: Vec<String> = map.values().flatten().cloned().collect();
                dedup(&mut refs);
                refs
            }
            _ => Vec::new(),
        }
    }
}

/// The flow whose body is being read.
struct Build<'s> {
    pipeline: usize,
    calls: HashMap<String, usize>,
    edges: HashMap<(String, String), usize>,
    conditions: Vec<String>,
    /// Per enclosing condition, the locals it reads that hold one run (name → node id).
    condition_reads: Vec<BTreeMap<String, String>>,
    control: Vec<Vec<String>>,
    tags: Vec<Vec<String>>,
    dynamic: Vec<String>,
    /// Every node id made so far.
    taken: std::collections::HashSet<String>,
    /// The statement that last defined each plain local (an assignment, an import, a `def`),
    /// carried into a generated step that reads the local.
    definitions: HashMap<String, &'s Stmt>,
    /// The last runs the latest statement that made runs made (nothing downstream of them in it).
    last_made: Vec<String>,
    /// A side-effecting generated step the next runs made wait for.
    effect: Option<String>,
    /// Edges not kept past the edge budget, and where the first was made.
    cut: Option<(usize, Span)>,
    /// The calls that raise into the flow body, which later runs wait for.
    raising: super::raising::Raising,
}

/// Interprets one module.
pub(super) struct Interpreter<'c, 's, 'a> {
    ctx: &'c FileContext<'s, 'a>,
    core: Core<'s, 'a, Obj<'s>>,
    pipelines: Vec<Pipeline>,
    flows: Vec<Rc<FlowDef<'s>>>,
    build: Option<Build<'s>>,
    /// The runs each enclosing `try` body made, innermost last.
    try_runs: Vec<Vec<String>>,
    /// How many `try` bodies with handlers enclose the statement read (a failure there is caught).
    try_bodies: usize,
    /// The call an `await` was last seen on: an async task's call runs (and raises) in turn
    /// only when it is awaited at once, not gathered.
    awaited: Option<TextRange>,
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
            pipelines: Vec::new(),
            flows: Vec::new(),
            build: None,
            try_runs: Vec::new(),
            try_bodies: 0,
            awaited: None,
        }
    }

    /// Runs the module's top-level statements (collecting flows, tasks and deployments), then
    /// reads every flow body with the module's final bindings, as Python would at call time.
    pub fn run_module(&mut self) {
        let suite = self.ctx.suite;
        self.core.ev.names.clear();
        self.block(suite);
        self.core.returned = None;
        for i in 0..self.flows.len() {
            self.read_flow(i);
        }
        self.sub_flow_steps();
    }

    /// The pipelines and the diagnostics.
    pub fn finish(mut self) -> (Vec<Pipeline>, Vec<Diagnostic>) {
        for p in &mut self.pipelines {
            if p.schedule.is_none() {
                p.schedule = p.deployments.iter().find_map(|d| d.schedule.clone());
            }
        }
        self.core.hand_over_opaque(&mut self.pipelines);
        (self.pipelines, self.core.diagnostics)
    }

    /// Deployments found outside the module (in `prefect.yaml`), added to the pipeline they name.
    pub fn add_external_deployment(&mut self, function: &str, deployment: Deployment) -> bool {
        match self.pipelines.iter_mut().find(|p| p.id == function) {
            Some(p) => {
                p.deployments.push(deployment);
                true
            }
            None => false,
        }
    }

    fn span(&self, range: TextRange) -> Span {
        self.core.span(range)
    }

    fn src(&self, node: &impl Ranged) -> &'s str {
        self.core.text(node)
    }

    fn opaque_at(&mut self, kind: &str, range: TextRange, why: String) {
        let entry = self.core.opaque_entry(kind, range, why);
        self.record_opaque(entry);
    }

    fn lookup(&self, name: &str) -> Option<Obj<'s>> {
        self.core.lookup(name).cloned()
    }

    /// A call with no flow-building meaning: its arguments still run, and its result depends
    /// on the runs the callee and the arguments hold.
    fn unknown_call(&mut self, callee: &Obj<'s>, call: &'s ast::ExprCall) -> Obj<'s> {
        let mut refs = callee.refs();
        for obj in self.call_args(call) {
            refs.extend(obj.refs());
        }
        if refs.is_empty() {
            Obj::Value(self.core.ev.eval(&Expr::Call(call.clone())))
        } else {
            dedup(&mut refs);
            Obj::Runs { refs, list: false }
        }
    }

    /// True when a function body defines a task at its top level (a task factory).
    fn defines_task(&self, body: &[Stmt]) -> bool {
        body.iter().any(|st| match st {
            Stmt::FunctionDef(d) => d.decorator_list.iter().any(|deco| {
                let func = match &deco.expression {
                    Expr::Call(c) => &*c.func,
                    other => other,
                };
                self.symbol(func) == Some(Symbol::TaskDecorator)
            }),
            _ => false,
        })
    }

    fn symbol(&self, func: &Expr) -> Option<Symbol> {
        self.core
            .qualify_unshadowed(func)
            .and_then(|q| classify(&q))
    }

    /// True when a loop of `n` iterations may be unrolled (and counts them against the budget).
    fn may_unroll(&mut self, n: usize) -> bool {
        self.core.may_unroll(n, MAX_UNROLL, MAX_TOTAL_UNROLL)
    }

    fn eval_keywords(&self, keywords: &'s [ast::Keyword]) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for kw in keywords {
            match &kw.arg {
                Some(name) => {
                    out.insert(name.to_string(), self.core.ev.eval(&kw.value));
                }
                None => match self.core.ev.eval(&kw.value) {
                    Value::Dict(m) => out.extend(m),
                    other => {
                        out.insert("**".to_string(), other);
                    }
                },
            }
        }
        out
    }

    fn assign_stmt(&mut self, a: &'s ast::StmtAssign) {
        // `a, b = t1(x), t2(y)`: bind element-wise.
        if let ([Expr::Tuple(t)], Expr::Tuple(v)) = (a.targets.as_slice(), &*a.value)
            && t.elts.len() == v.elts.len()
        {
            let objs: Vec<Obj<'s>> = v.elts.iter().map(|e| self.expr(e)).collect();
            for (target, obj) in t.elts.iter().zip(objs) {
                self.bind_target(target, obj);
            }
            return;
        }
        let mut obj = self.expr(&a.value);
        // A module-level `nightly = etl.with_options(...)` is a flow of its own.
        if self.build.is_none()
            && self.core.scopes.len() == 1
            && let (Obj::FlowFn(f), [Expr::Name(target)]) = (&obj, a.targets.as_slice())
            && is_with_options(&a.value)
        {
            obj = Obj::FlowFn(self.variant_flow(f, target.id.as_str()));
        }
        for t in &a.targets {
            self.bind_target(t, obj.clone());
        }
    }

    /// Both branches of an `if` not known statically, each under its condition.
    fn both_branches(&mut self, i: &'s ast::StmtIf) {
        let test = self.expr(&i.test);
        let src = self.src(&*i.test).to_string();
        let before = self.core.scopes.last().cloned().unwrap_or_default();
        self.conditional(&i.body, src.clone(), test.refs());
        let after_body = self.core.scopes.last().cloned().unwrap_or_default();
        if let Some(scope) = self.core.scopes.last_mut() {
            *scope = before.clone();
        }
        if !crate::python::orelse(i).is_empty() {
            self.conditional(
                crate::python::orelse(i),
                format!("not ({src})"),
                test.refs(),
            );
        }
        self.merge_branches(&before, after_body);
    }

    /// After `if`/`else`, a name bound in either branch may hold either branch's runs.
    fn merge_branches(
        &mut self,
        before: &HashMap<String, Obj<'s>>,
        after_body: HashMap<String, Obj<'s>>,
    ) {
        let after_else = self.core.scopes.last().cloned().unwrap_or_default();
        let mut names: Vec<&String> = after_body.keys().chain(after_else.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            let pick =
                |m: &HashMap<String, Obj<'s>>| m.get(name).or_else(|| before.get(name)).cloned();
            let (a, b) = (pick(&after_body), pick(&after_else));
            let mut refs: Vec<String> = a.iter().chain(b.iter()).flat_map(Obj::refs).collect();
            let merged = if refs.is_empty() {
                match b.or(a) {
                    Some(o) => o,
                    None => continue,
                }
            } else {
                dedup(&mut refs);
                let list = [&a, &b]
                    .iter()
                    .any(|o| matches!(o, Some(Obj::Runs { list: true, .. })));
                Obj::Runs { refs, list }
            };
            self.bind(name, merged);
        }
    }

    /// Reads a block under a condition: nodes made inside record it, and wait for the
    /// runs the condition reads (a control dependency).
    fn conditional(&mut self, body: &'s [Stmt], condition: String, refs: Vec<String>) {
        let reads = self.run_locals(&condition);
        if let Some(b) = self.build.as_mut() {
            b.conditions.push(condition);
            b.condition_reads.push(reads);
            b.control.push(refs);
        }
        self.block(body);
        if let Some(b) = self.build.as_mut() {
            b.conditions.pop();
            b.condition_reads.pop();
            b.control.pop();
        }
        // A `return` inside a branch ends only that branch.
        if self.build.is_some() && self.core.inline_depth == 0 {
            self.core.returned = None;
        }
    }

    /// The elements of a statically known iterable (lists, dict keys, `.items()`, `range`,
    /// `enumerate` and `zip` over literals).
    fn literal_items(&self, iter: &'s Expr, it: &Obj<'s>) -> Option<Vec<Value>> {
        let Obj::Value(v) = it else { return None };
        if let Some(items) = sequence_items(v, false) {
            return Some(items);
        }
        self.core
            .dict_view_items(iter)
            .or_else(|| self.core.zipped_items(iter))
    }

    /// Reads a loop body once, its target bound to an element of the iterable; runs made
    /// inside are marked, and the loop is reported as opaque.
    fn dynamic_body(
        &mut self,
        body: &'s [Stmt],
        whole: &'s Stmt,
        iterable: Obj<'s>,
        target: Option<&'s Expr>,
        why: &str,
    ) {
        if let Some(t) = target {
            let elem = match &iterable {
                Obj::Runs { refs, .. } => Obj::Runs {
                    refs: refs.clone(),
                    list: false,
                },
                _ => Obj::Value(Value::Expr(self.src(t).to_string())),
            };
            self.bind_target(t, elem);
        }
        let before = self.node_count();
        let loop_src = self.src(whole).lines().next().unwrap_or("").to_string();
        if let Some(b) = self.build.as_mut() {
            b.dynamic.push(loop_src);
        }
        self.block(body);
        if let Some(b) = self.build.as_mut() {
            b.dynamic.pop();
        }
        if self.node_count() > before {
            self.opaque(
                "dynamic_loop",
                whole,
                format!("{why}; the runs it makes were read once (marked `dynamic_loop`)"),
            );
        }
    }

    fn node_count(&self) -> usize {
        self.build
            .as_ref()
            .map_or(0, |b| self.pipelines[b.pipeline].nodes.len())
    }

    fn decorate(&mut self, def: FunctionDef<'s>) {
        let mut obj = Obj::LocalFn(def);
        for deco in def.decorators.iter().rev() {
            let (func, call) = decorator_parts(deco);
            let options = call
                .map(|c| self.eval_keywords(&c.arguments.keywords))
                .unwrap_or_default();
            obj = match self.symbol(func) {
                Some(Symbol::TaskDecorator) => Obj::TaskFn(Rc::new(TaskDef {
                    def,
                    options,
                    call_name: None,
                })),
                // `@materialize(asset, …)`: a task whose runs materialise the assets it names.
                Some(Symbol::Materialize) => {
                    let mut options = options;
                    let assets = call
                        .map(|c| {
                            c.arguments
                                .args
                                .iter()
                                .map(|a| self.core.ev.eval(a))
                                .collect()
                        })
                        .unwrap_or_default();
                    options.insert(MATERIALIZES.into(), Value::List(assets));
                    Obj::TaskFn(Rc::new(TaskDef {
                        def,
                        options,
                        call_name: None,
                    }))
                }
                Some(Symbol::FlowDecorator) => {
                    if self.build.is_some() || self.core.scopes.len() > 1 {
                        self.opaque_at(
                            "nested_flow",
                            def.range,
                            format!(
                                "the flow `{}` is defined inside a function; only module-level flows are read",
                                def.name
                            ),
                        );
                        obj
                    } else {
                        Obj::FlowFn(self.new_flow(def, options, def.name, None))
                    }
                }
                _ => obj,
            };
        }
        self.bind(def.name, obj);
    }

    // ----- flows -------------------------------------------------------------------------

    fn new_flow(
        &mut self,
        def: FunctionDef<'s>,
        options: BTreeMap<String, Value>,
        id: &str,
        variant_of: Option<&str>,
    ) -> Rc<FlowDef<'s>> {
        let span = self.span(def.range);
        let mut p = Pipeline {
            id: id.to_string(),
            name: id.to_string(),
            framework: Some(Framework::Prefect),
            span,
            ..Pipeline::default()
        };
        for (k, v) in &options {
            if options::apply_policy(&mut p.run_policy, k, v) {
                continue;
            }
            match k.as_str() {
                "name" => match v.as_str() {
                    Some(s) => p.name = s.to_string(),
                    None => {
                        p.extra.insert(k.clone(), v.clone());
                    }
                },
                "description" => p.description = v.as_str().map(str::to_string),
                "tags" => {
                    p.tags = v.string_list();
                    self.core.diagnostic(
                        Severity::Warning,
                        "flow-tags",
                        span,
                        format!("the flow `{}` passes `tags=`, which `@flow` does not take", def.name),
                        "Prefect 3 raises a TypeError at import: tag runs with `with tags(...)` or set deployment `tags=`",
                    );
                }
                _ => {
                    p.extra.insert(k.clone(), v.clone());
                }
            }
        }
        options::expand_backoff(&mut p.run_policy);
        if p.description.is_none() {
            p.description = def.docstring();
        }
        if def.is_async {
            p.extra.insert("async".into(), Value::Bool(true));
        }
        if let Some(base) = variant_of {
            p.extra
                .insert("variant_of".into(), Value::Str(base.to_string()));
        }
        p.extra
            .extend(scan::runtime_uses(def.body, self.ctx.imports));
        let a = def.args;
        for arg in a.posonlyargs.iter().chain(&a.args).chain(&a.kwonlyargs) {
            let name = arg.parameter.name.to_string();
            let annotation = arg
                .parameter
                .annotation
                .as_ref()
                .map(|e| self.src(&**e).to_string());
            if p.partitions.is_none() && options::is_partition_param(&name, annotation.as_deref()) {
                p.partitions = Some(Partitions::Parameter { name: name.clone() });
            }
            p.params.push(Param {
                name,
                r#type: annotation,
                default: arg.default.as_ref().map(|d| self.core.ev.eval(d)),
                description: None,
            });
        }
        self.pipelines.push(p);
        let flow = Rc::new(FlowDef {
            def,
            options,
            pipeline: self.pipelines.len() - 1,
        });
        self.flows.push(flow.clone());
        flow
    }

    fn variant_flow(&mut self, base: &FlowDef<'s>, id: &str) -> Rc<FlowDef<'s>> {
        let base_id = self.pipelines[base.pipeline].id.clone();
        let mut options = base.options.clone();
        if !options.contains_key("name") {
            // `with_options` keeps the base flow's name unless it sets one.
            options.insert(
                "name".into(),
                Value::Str(self.pipelines[base.pipeline].name.clone()),
            );
        }
        self.new_flow(base.def, options, id, Some(&base_id))
    }

    /// Reads one flow body into its pipeline.
    fn read_flow(&mut self, i: usize) {
        let flow = self.flows[i].clone();
        self.build = Some(Build {
            pipeline: flow.pipeline,
            calls: HashMap::new(),
            edges: HashMap::new(),
            conditions: Vec::new(),
            condition_reads: Vec::new(),
            control: Vec::new(),
            tags: Vec::new(),
            dynamic: Vec::new(),
            taken: std::collections::HashSet::new(),
            definitions: HashMap::new(),
            last_made: Vec::new(),
            effect: None,
            cut: None,
            raising: super::raising::Raising::default(),
        });
        let saved_names = self.core.ev.names.clone();
        self.core.scopes.push(HashMap::new());
        let a = flow.def.args;
        for arg in a.posonlyargs.iter().chain(&a.args).chain(&a.kwonlyargs) {
            // Parameters are run-time values: conditions and loops over them stay dynamic.
            let name = arg.parameter.name.as_str();
            self.bind(name, Obj::Value(Value::Expr(name.to_string())));
        }
        self.block(flow.def.body);
        self.core.returned = None;
        self.core.scopes.pop();
        self.core.ev.names = saved_names;
        if let Some(b) = &self.build {
            let p = &mut self.pipelines[b.pipeline];
            p.unordered_raises = b.raising.unordered(p);
        }
        if let Some((count, span)) = self.build.take().and_then(|b| b.cut) {
            self.core
                .diagnostics
                .push(crate::frontend::edge_budget(span, count));
        }
    }

    // ----- expressions -------------------------------------------------------------------

    fn expression(&mut self, e: &'s Expr) -> Obj<'s> {
        match e {
            Expr::Name(n) => match self.lookup(n.id.as_str()) {
                Some(o) => o,
                None => Obj::Value(self.core.ev.eval(e)),
            },
            Expr::Call(call) => self.call(call),
            Expr::Await(a) => {
                if let Expr::Call(c) = &*a.value {
                    self.awaited = Some(c.range());
                }
                self.expr(&a.value)
            }
            Expr::Attribute(a) => match self.expr(&a.value) {
                Obj::Runs { refs, .. } => Obj::Runs { refs, list: false },
                Obj::TaskFn(t) if a.attr.as_str() == "fn" => Obj::LocalFn(t.def),
                Obj::FlowFn(f) if a.attr.as_str() == "fn" => Obj::LocalFn(f.def),
                _ => Obj::Value(self.core.ev.eval(e)),
            },
            Expr::Subscript(s) => {
                let base = self.expr(&s.value);
                if let Obj::Keyed(map) = &base {
                    // The runs stored under a known key; every run when the key is not known.
                    let key = key_text(&self.core.ev.eval(&s.slice));
                    let refs = match key.and_then(|k| map.get(&k)) {
                        Some(refs) if !map.contains_key("*") => refs.clone(),
                        _ => base.refs(),
                    };
                    return Obj::Runs { refs, list: false };
                }
                let index = self.expr(&s.slice);
                let mut refs = base.refs();
                refs.extend(index.refs());
                if refs.is_empty() {
                    Obj::Value(self.core.ev.eval(e))
                } else {
                    dedup(&mut refs);
                    Obj::Runs { refs, list: false }
                }
            }
            Expr::List(ast::ExprList { elts, .. })
            | Expr::Tuple(ast::ExprTuple { elts, .. })
            | Expr::Set(ast::ExprSet { elts, .. }) => {
                let objs: Vec<Obj<'s>> = elts.iter().map(|x| self.expr(x)).collect();
                self.collection(e, objs)
            }
            Expr::Dict(d) => {
                let mut objs: Vec<Obj<'s>> = d.items.iter().map(|x| self.expr(&x.value)).collect();
                for k in d.items.iter().filter_map(|i| i.key.as_ref()) {
                    objs.push(self.expr(k));
                }
                self.collection(e, objs)
            }
            Expr::Starred(s) => self.expr(&s.value),
            Expr::Named(n) => {
                let obj = self.expr(&n.value);
                self.bind_target(&n.target, obj.clone());
                obj
            }
            Expr::ListComp(c) => self.comprehension(e, &[&*c.elt], &c.generators),
            Expr::SetComp(c) => self.comprehension(e, &[&*c.elt], &c.generators),
            Expr::Generator(c) => self.comprehension(e, &[&*c.elt], &c.generators),
            Expr::DictComp(c) => match c.key.as_deref() {
                Some(key) => self.comprehension(e, &[key, &*c.value], &c.generators),
                None => self.comprehension(e, &[&*c.value], &c.generators),
            },
            Expr::Lambda(_) => Obj::Value(self.core.ev.eval(e)),
            e if e.is_literal_expr() => Obj::Value(self.core.ev.eval(e)),
            other => {
                let mut refs = Vec::new();
                for child in direct_children(other) {
                    refs.extend(self.expr(child).refs());
                }
                if refs.is_empty() {
                    Obj::Value(self.core.ev.eval(e))
                } else {
                    dedup(&mut refs);
                    Obj::Runs { refs, list: false }
                }
            }
        }
    }

    fn collection(&self, e: &'s Expr, objs: Vec<Obj<'s>>) -> Obj<'s> {
        let deployments: Vec<(usize, usize)> = objs
            .iter()
            .flat_map(|o| match o {
                Obj::Deployments(d) => d.clone(),
                _ => Vec::new(),
            })
            .collect();
        if !deployments.is_empty() {
            return Obj::Deployments(deployments);
        }
        let mut refs: Vec<String> = objs.iter().flat_map(Obj::refs).collect();
        if refs.is_empty() {
            Obj::Value(self.core.ev.eval(e))
        } else {
            dedup(&mut refs);
            Obj::Runs { refs, list: true }
        }
    }

    /// `[t(x) for x in LITERAL]` makes one run per element; over anything else the element is
    /// read once.
    fn comprehension(
        &mut self,
        whole: &'s Expr,
        elts: &[&'s Expr],
        gens: &'s [ast::Comprehension],
    ) -> Obj<'s> {
        let Some((g, rest)) = gens.split_first() else {
            return Obj::Value(self.core.ev.eval(whole));
        };
        let saved_names = self.core.ev.names.clone();
        self.core.scopes.push(HashMap::new());
        let it = self.expr(&g.iter);
        let makes_runs = elts.iter().any(|x| expr_calls_anything(x));
        let mut refs = it.refs();
        let items = self.literal_items(&g.iter, &it);
        match items {
            Some(items) if rest.is_empty() && makes_runs && self.may_unroll(items.len()) => {
                for item in items {
                    self.bind_target(&g.target, Obj::Value(item));
                    if g.ifs
                        .iter()
                        .any(|cond| self.core.ev.eval(cond) == Value::Bool(false))
                    {
                        continue;
                    }
                    for x in elts {
                        refs.extend(self.expr(x).refs());
                    }
                }
            }
            _ => {
                let elem = match &it {
                    Obj::Runs { refs, .. } => Obj::Runs {
                        refs: refs.clone(),
                        list: false,
                    },
                    _ => Obj::Value(Value::Expr(self.src(&g.target).to_string())),
                };
                self.bind_target(&g.target, elem);
                let before = self.node_count();
                if let Some(b) = self.build.as_mut() {
                    b.dynamic
                        .push(self.ctx.src.slice(whole.range()).to_string());
                }
                for cond in &g.ifs {
                    refs.extend(self.expr(cond).refs());
                }
                for inner in rest {
                    refs.extend(self.expr(&inner.iter).refs());
                }
                for x in elts {
                    refs.extend(self.expr(x).refs());
                }
                if let Some(b) = self.build.as_mut() {
                    b.dynamic.pop();
                }
                if self.node_count() > before {
                    self.opaque(
                        "dynamic_loop",
                        whole,
                        "the comprehension iterates over a value known only at run time; the runs it makes were read once (marked `dynamic_loop`)".into(),
                    );
                }
            }
        }
        self.core.scopes.pop();
        self.core.ev.names = saved_names;
        if refs.is_empty() {
            Obj::Value(self.core.ev.eval(whole))
        } else {
            dedup(&mut refs);
            Obj::Runs { refs, list: true }
        }
    }

    fn call(&mut self, call: &'s ast::ExprCall) -> Obj<'s> {
        if let Expr::Attribute(attr) = &*call.func
            && let Some(obj) = self.method_call(call, attr)
        {
            return obj;
        }
        match self.symbol(&call.func) {
            Some(Symbol::Unmapped) => {
                let inner = call
                    .arguments
                    .args
                    .first()
                    .map_or(Obj::Value(Value::None), |a| self.expr(a));
                return Obj::Unmapped(Box::new(inner));
            }
            Some(Symbol::AllowFailure) => {
                let inner = call
                    .arguments
                    .args
                    .first()
                    .map_or(Obj::Value(Value::None), |a| self.expr(a));
                return Obj::AllowFailure(Box::new(inner));
            }
            Some(Symbol::Quote) => {
                return call
                    .arguments
                    .args
                    .first()
                    .map_or(Obj::Value(Value::None), |a| self.expr(a));
            }
            Some(Symbol::Wait | Symbol::AsCompleted) => {
                let mut refs: Vec<String> = call
                    .arguments
                    .args
                    .iter()
                    .flat_map(|a| self.expr(a).refs())
                    .collect();
                dedup(&mut refs);
                return Obj::Runs { refs, list: true };
            }
            Some(Symbol::Serve | Symbol::Deploy) => {
                let method = if self.symbol(&call.func) == Some(Symbol::Serve) {
                    "serve"
                } else {
                    "deploy"
                };
                self.serve_many(call, method);
                return Obj::Value(Value::None);
            }
            Some(Symbol::TaskDecorator | Symbol::FlowDecorator) => {
                return self.functional_decorator(call);
            }
            Some(Symbol::DeploymentClass) => {
                return self.build_from_flow(call, "Deployment");
            }
            Some(Symbol::RunDeployment) if self.build.is_some() => {
                self.opaque(
                    "run_deployment",
                    call,
                    "starts a run of another deployment; it is not a run of this flow's graph"
                        .into(),
                );
            }
            _ => {}
        }
        let callee = self.expr(&call.func);
        match callee {
            Obj::TaskFn(t) => self.task_node(&t, call, Invocation::Call),
            Obj::FlowFn(f) => self.subflow_node(&f, call),
            Obj::LocalFn(def) => self.inline(def, call),
            other => {
                if self.build.is_some() && matches!(&*call.func, Expr::Subscript(_) | Expr::Call(_))
                {
                    let name = self.src(&*call.func).to_string();
                    self.opaque(
                        "dynamic_call",
                        call,
                        format!(
                            "`{name}` is chosen at run time; if it is a task or a flow, its run is not in the graph"
                        ),
                    );
                } else if self.build.is_some() && self.is_external(&call.func) {
                    let name = self.src(&*call.func).to_string();
                    self.opaque(
                        "external_call",
                        call,
                        format!(
                            "`{name}` is imported from a module orchmig does not read; runs it may start are not in the graph"
                        ),
                    );
                }
                self.unknown_call(&other, call)
            }
        }
    }

    fn is_external(&self, func: &Expr) -> bool {
        let mut head = func;
        while let Expr::Attribute(a) = head {
            head = &a.value;
        }
        let Expr::Name(n) = head else { return false };
        if self.lookup(n.id.as_str()).is_some() {
            return false;
        }
        self.ctx
            .imports
            .qualify(func)
            .is_some_and(|q| names::is_external_function(self.ctx.imports, n.id.as_str(), &q))
    }

    /// `task(fn, retries=2)` / `flow(fn)` / `task(retries=2)(fn)` without decorator syntax.
    fn functional_decorator(&mut self, call: &'s ast::ExprCall) -> Obj<'s> {
        let options = self.eval_keywords(&call.arguments.keywords);
        let is_flow = self.symbol(&call.func) == Some(Symbol::FlowDecorator);
        let def = match call.arguments.args.first().map(|a| self.expr(a)) {
            Some(Obj::LocalFn(def)) => def,
            _ => return Obj::Value(Value::None),
        };
        if is_flow {
            if self.build.is_some() || self.core.scopes.len() > 1 {
                return Obj::Value(Value::None);
            }
            Obj::FlowFn(self.new_flow(def, options, def.name, None))
        } else {
            Obj::TaskFn(Rc::new(TaskDef {
                def,
                options,
                call_name: None,
            }))
        }
    }

    /// Methods with flow-building meaning: with_options, submit, map, result, deployments.
    fn method_call(
        &mut self,
        call: &'s ast::ExprCall,
        attr: &'s ast::ExprAttribute,
    ) -> Option<Obj<'s>> {
        let method = attr.attr.as_str();
        match method {
            "with_options" | "submit" | "map" | "result" | "wait" | "serve" | "deploy"
            | "to_deployment" | "from_source" | "apply" | "build_from_flow" => {}
            "append" | "extend" | "add" | "insert" => return self.list_add(call, attr),
            "values" => {
                return match self.expr(&attr.value) {
                    keyed @ Obj::Keyed(_) => Some(Obj::Runs {
                        refs: keyed.refs(),
                        list: true,
                    }),
                    _ => None,
                };
            }
            _ => return None,
        }
        if method == "build_from_flow" {
            return Some(self.build_from_flow(call, "build_from_flow"));
        }
        if method == "from_source"
            && matches!(
                self.symbol(&attr.value),
                Some(Symbol::FlowDecorator | Symbol::FlowClass)
            )
        {
            return Some(self.sourced_flow(call));
        }
        let base = self.expr(&attr.value);
        Some(match (method, base) {
            ("with_options", Obj::TaskFn(t)) => {
                let mut t = (*t).clone();
                let keywords = self.eval_keywords(&call.arguments.keywords);
                if let Some(name) = keywords.get("name").and_then(Value::as_str)
                    && names::is_node_id(name)
                {
                    t.call_name = Some(name.to_string());
                }
                t.options.extend(keywords);
                Obj::TaskFn(Rc::new(t))
            }
            ("with_options", Obj::FlowFn(f)) => {
                let mut f = (*f).clone();
                f.options
                    .extend(self.eval_keywords(&call.arguments.keywords));
                Obj::FlowFn(Rc::new(f))
            }
            ("submit", Obj::TaskFn(t)) => self.task_node(&t, call, Invocation::Submit),
            ("map", Obj::TaskFn(t)) => self.task_node(&t, call, Invocation::Map),
            ("result", Obj::Runs { refs, list }) => {
                // The `.result()` of a state a call returned (`return_state=True`) follows a
                // test of that state, which orchmig does not follow past an early return.
                let futures: Vec<String> = refs
                    .iter()
                    .filter(|r| !self.returns_state_of(r))
                    .cloned()
                    .collect();
                self.flow_raises(&futures, crate::ir::Raise::Result);
                Obj::Runs { refs, list }
            }
            ("wait", Obj::Runs { .. }) => Obj::Value(Value::None),
            ("serve" | "deploy" | "to_deployment", Obj::FlowFn(f)) => {
                let d = self.deployment(f.pipeline, &f.options, call, method, None);
                Obj::Deployments(vec![d])
            }
            ("deploy", Obj::Sourced(s)) => match s.pipeline {
                Some(p) => {
                    let options = self.flow_options(p);
                    let d = self.deployment(p, &options, call, "deploy", Some(&s));
                    Obj::Deployments(vec![d])
                }
                None => {
                    let ep = s.entrypoint.clone().unwrap_or_default();
                    self.opaque(
                        "external_deployment",
                        call,
                        format!("deploys `{ep}`, a flow that is not defined in this file"),
                    );
                    Obj::Value(Value::None)
                }
            },
            ("from_source", Obj::FlowFn(_)) => self.sourced_flow(call),
            ("apply", Obj::Deployments(ds)) => {
                for (p, d) in &ds {
                    if let Some(dep) = self.pipelines[*p].deployments.get_mut(*d) {
                        dep.extra.insert("applied".into(), Value::Bool(true));
                    }
                }
                Obj::Deployments(ds)
            }
            (_, other) => self.unknown_call(&other, call),
        })
    }

    /// `results.append(t(x))`: the list now holds that run's result.
    fn list_add(
        &mut self,
        call: &'s ast::ExprCall,
        attr: &'s ast::ExprAttribute,
    ) -> Option<Obj<'s>> {
        let Expr::Name(n) = &*attr.value else {
            return None;
        };
        let current = self.lookup(n.id.as_str());
        let mut added: Vec<String> = Vec::new();
        let mut deployments = Vec::new();
        for a in &call.arguments.args {
            match self.expr(a) {
                Obj::Deployments(d) => deployments.extend(d),
                o => added.extend(o.refs()),
            }
        }
        if !deployments.is_empty() {
            let mut all = match current {
                Some(Obj::Deployments(d)) => d,
                _ => Vec::new(),
            };
            all.extend(deployments);
            self.bind(n.id.as_str(), Obj::Deployments(all));
        } else if !added.is_empty() {
            let mut refs = current.map(|o| o.refs()).unwrap_or_default();
            refs.extend(added);
            dedup(&mut refs);
            self.bind(n.id.as_str(), Obj::Runs { refs, list: true });
        }
        Some(Obj::Value(Value::None))
    }

    // ----- runs --------------------------------------------------------------------------

    /// The id of the next call of a task or sub-flow: its name, then `name-2`, `name-3`, …
    fn next_id(&mut self, base: &str) -> Option<String> {
        let b = self.build.as_mut()?;
        let n = b.calls.entry(base.to_string()).or_insert(0);
        *n += 1;
        Some(if *n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        })
    }

    /// Order edges into step `id` from the runs its enclosing conditions read (a call under
    /// `if x:` waits for the run whose result `x` holds).
    fn wait_for_control(&mut self, id: &str, span: Span) {
        let control: Vec<String> = self
            .build
            .as_ref()
            .map(|b| b.control.iter().flatten().cloned().collect())
            .unwrap_or_default();
        for r in control {
            self.add_edge(&r, id, EdgeKind::Order, None, span);
        }
    }

    fn add_edge(
        &mut self,
        from: &str,
        to: &str,
        kind: EdgeKind,
        param: Option<String>,
        span: Span,
    ) {
        let Some(b) = self.build.as_mut() else { return };
        if from == to {
            return;
        }
        let p = &mut self.pipelines[b.pipeline];
        let key = (from.to_string(), to.to_string());
        if let Some(&i) = b.edges.get(&key) {
            let edge = &mut p.edges[i];
            if kind == EdgeKind::Data && edge.kind == EdgeKind::Order {
                edge.kind = EdgeKind::Data;
                edge.param = param;
            }
            return;
        }
        // Past the pipeline's edge budget nothing more is kept (a list of thousands of runs
        // read by thousands of statements): counted, and reported once the flow is read.
        if p.edges.len() >= crate::ir::edge_budget(p.nodes.len()) {
            let (count, _) = b.cut.get_or_insert((0, span));
            *count += 1;
            return;
        }
        b.edges.insert(key, p.edges.len());
        p.edges.push(Edge {
            from: from.to_string(),
            to: to.to_string(),
            kind,
            param,
            output: None,
            span,
        });
    }

    /// Evaluates a call's arguments in order; returns (parameter, expression, object) triples and
    /// the `wait_for` upstreams, `return_state` and the other run keywords.
    #[allow(clippy::type_complexity)]
    fn run_args(
        &mut self,
        def: &FunctionDef<'s>,
        call: &'s ast::ExprCall,
    ) -> (
        Vec<(String, &'s Expr, Obj<'s>)>,
        Vec<Obj<'s>>,
        BTreeMap<String, Value>,
    ) {
        let names = def.positional_names();
        let mut args = Vec::new();
        let mut wait_for = Vec::new();
        let mut run_kw = BTreeMap::new();
        for (i, a) in call.arguments.args.iter().enumerate() {
            let obj = self.expr(a);
            let param = names.get(i).map_or_else(String::new, |s| s.to_string());
            args.push((param, a, obj));
        }
        for kw in &call.arguments.keywords {
            let name = kw.arg.as_deref().unwrap_or("**");
            match name {
                "wait_for" => match &kw.value {
                    Expr::List(ast::ExprList { elts, .. })
                    | Expr::Tuple(ast::ExprTuple { elts, .. }) => {
                        for e in elts {
                            let obj = self.expr(e);
                            wait_for.push(obj);
                        }
                    }
                    other => wait_for.push(self.expr(other)),
                },
                "return_state" | "deferred" => {
                    run_kw.insert(name.to_string(), self.core.ev.eval(&kw.value));
                }
                _ => {
                    let obj = self.expr(&kw.value);
                    args.push((name.to_string(), &kw.value, obj));
                }
            }
        }
        (args, wait_for, run_kw)
    }

    /// Wires a new node's data, order and control edges.
    fn wire(
        &mut self,
        id: &str,
        args: &[(String, &'s Expr, Obj<'s>)],
        wait_for: &[Obj<'s>],
        span: Span,
    ) -> Vec<String> {
        let mut allow_failure = Vec::new();
        // Literal arguments (no run feeds them) are kept on the node for the writers.
        let literals: Vec<(String, Value)> = args
            .iter()
            .filter(|(param, _, obj)| !param.is_empty() && param != "**" && obj.refs().is_empty())
            .filter_map(|(param, _, obj)| match obj {
                Obj::Value(v) => Some((param.clone(), v.clone())),
                Obj::Unmapped(inner) => match &**inner {
                    Obj::Value(v) => Some((param.clone(), v.clone())),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if let Some(b) = self.build.as_ref() {
            let pipeline = b.pipeline;
            if let Some(node) = self.pipelines[pipeline]
                .nodes
                .iter_mut()
                .rev()
                .find(|n| n.id == id)
            {
                node.args.extend(literals);
            }
        }
        for (param, _, obj) in args {
            let param = (!param.is_empty()).then(|| param.clone());
            for r in obj.refs() {
                self.add_edge(&r, id, EdgeKind::Data, param.clone(), span);
            }
            collect_allow_failure(obj, &mut allow_failure);
        }
        for w in wait_for {
            for r in w.refs() {
                self.add_edge(&r, id, EdgeKind::Order, None, span);
            }
            collect_allow_failure(w, &mut allow_failure);
        }
        self.wait_for_control(id, span);
        allow_failure
    }

    /// The locals a condition's text reads that hold the result (or future) of exactly one run.
    fn run_locals(&self, condition: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for name in crate::python::parse::referenced_names(condition).unwrap_or_default() {
            if let Some(Obj::Runs { refs, list: false }) = self.lookup(&name)
                && let [id] = refs.as_slice()
            {
                out.insert(name, id.clone());
            }
        }
        out
    }

    /// Marks a node with the enclosing conditions, tags and dynamic loops.
    fn place(&self, node: &mut Node) {
        let Some(b) = &self.build else { return };
        // In an `except` handler of a `try` whose body made runs: it runs when one failed.
        let in_handler = b
            .conditions
            .iter()
            .zip(&b.control)
            .any(|(c, refs)| c.starts_with("except ") && !refs.is_empty());
        if in_handler && node.trigger_rule.is_none() {
            node.trigger_rule = Some("one_failed".into());
        }
        for reads in &b.condition_reads {
            node.condition_reads
                .extend(reads.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if !b.conditions.is_empty() {
            node.condition = Some(
                b.conditions
                    .iter()
                    .map(|c| {
                        if b.conditions.len() > 1 {
                            format!("({c})")
                        } else {
                            c.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" and "),
            );
            // A call that tests runs' states waits for them however they end.
            if node.condition_reads_states() && node.trigger_rule.is_none() {
                node.trigger_rule = Some("all_done".into());
            }
        }
        for t in b.tags.iter().flatten() {
            if !node.tags.contains(t) {
                node.tags.push(t.clone());
            }
        }
        if let Some(d) = b.dynamic.last() {
            node.extra
                .insert("dynamic_loop".into(), Value::Str(d.clone()));
        }
    }

    fn task_node(&mut self, t: &TaskDef<'s>, call: &'s ast::ExprCall, how: Invocation) -> Obj<'s> {
        let (args, wait_for, run_kw) = self.run_args(&t.def, call);
        // A call through `with_options(name=...)` is named like that (as Airflow's
        // `override(task_id=...)`); other calls are named after the function.
        let base = t.call_name.as_deref().unwrap_or(t.def.name);
        let Some(id) = self.next_id(base) else {
            return Obj::Value(Value::None);
        };
        let span = self.span(call.range());
        let mut node = Node::new(id.clone(), NodeKind::Task, span);
        node.callable = Some(t.def.to_callable(self.ctx.src));
        node.description = t.def.docstring();
        for (k, v) in &t.options {
            if options::apply_policy(&mut node.policy, k, v) {
                continue;
            }
            match k.as_str() {
                "name" if v.as_str().is_some() => node.name = v.as_str().map(str::to_string),
                "description" if v.as_str().is_some() => {
                    node.description = v.as_str().map(str::to_string)
                }
                "tags" => node.tags = v.string_list(),
                MATERIALIZES => node.outlets = asset_refs(v),
                _ => {
                    node.extra.insert(k.clone(), v.clone());
                }
            }
        }
        options::expand_backoff(&mut node.policy);
        node.extra
            .extend(scan::runtime_uses(t.def.body, self.ctx.imports));
        match how {
            Invocation::Call => {}
            Invocation::Submit => {
                node.extra
                    .insert("invocation".into(), Value::Str("submit".into()));
            }
            Invocation::Map => {
                node.extra
                    .insert("invocation".into(), Value::Str("map".into()));
                let m = self.mapping(&args);
                if m.over.is_empty() {
                    self.core.diagnostic(
                        Severity::Warning,
                        "map-without-iterable",
                        span,
                        "`.map()` has nothing to map over (every argument is unmapped): Prefect raises at run time".into(),
                        "pass the iterable to map over, or call the task without .map()",
                    );
                }
                node.mapping = Some(m);
            }
        }
        let in_turn = !t.def.is_async || self.awaited == Some(call.range());
        let raises = how == Invocation::Call && in_turn && !Self::returns_state(&run_kw);
        node.extra.extend(run_kw);
        self.place(&mut node);
        self.push_node(node);
        let edges_before = self.edge_count();
        let allow_failure = self.wire(&id, &args, &wait_for, span);
        self.mark_allow_failure(&id, allow_failure);
        self.follow_raising(&id, raises, edges_before);
        Obj::Runs {
            refs: vec![id],
            list: how == Invocation::Map,
        }
    }

    fn mapping(&self, args: &[(String, &'s Expr, Obj<'s>)]) -> Mapping {
        let mut m = Mapping {
            over: Vec::new(),
            partial: BTreeMap::new(),
            kwargs: false,
        };
        for (param, e, obj) in args {
            match obj {
                Obj::Unmapped(inner) => {
                    let value = match (e, &**inner) {
                        (Expr::Call(c), Obj::Value(_)) => c
                            .arguments
                            .args
                            .first()
                            .map_or(Value::None, |x| self.core.ev.eval(x)),
                        (Expr::Call(c), _) => c
                            .arguments
                            .args
                            .first()
                            .map_or(Value::None, |x| Value::Expr(self.src(x).to_string())),
                        _ => self.core.ev.eval(e),
                    };
                    m.partial.insert(param.clone(), value);
                }
                other => {
                    let refs = other.refs();
                    m.over.push(MappedArg {
                        param: param.clone(),
                        literal: refs.is_empty().then(|| self.core.ev.eval(e)),
                        from_node: refs.first().cloned(),
                    });
                }
            }
        }
        m
    }

    fn mark_allow_failure(&mut self, id: &str, upstreams: Vec<String>) {
        if upstreams.is_empty() {
            return;
        }
        let Some(b) = &self.build else { return };
        if let Some(n) = self.pipelines[b.pipeline]
            .nodes
            .iter_mut()
            .rev()
            .find(|n| n.id == id)
        {
            n.trigger_rule = Some("all_done".into());
            n.extra.insert(
                "allow_failure".into(),
                Value::List(upstreams.into_iter().map(Value::Str).collect()),
            );
        }
    }

    /// How many edges the flow being read has so far.
    fn edge_count(&self) -> usize {
        self.build
            .as_ref()
            .map_or(0, |b| self.pipelines[b.pipeline].edges.len())
    }

    fn push_node(&mut self, node: Node) {
        if let Some(b) = self.build.as_mut() {
            b.taken.insert(node.id.clone());
            self.pipelines[b.pipeline].nodes.push(node);
        }
    }

    fn flow_options(&self, pipeline: usize) -> BTreeMap<String, Value> {
        self.flows
            .iter()
            .find(|f| f.pipeline == pipeline)
            .map(|f| f.options.clone())
            .unwrap_or_default()
    }

    fn subflow_node(&mut self, f: &FlowDef<'s>, call: &'s ast::ExprCall) -> Obj<'s> {
        let (args, wait_for, run_kw) = self.run_args(&f.def, call);
        let Some(id) = self.next_id(f.def.name) else {
            return Obj::Value(Value::None);
        };
        let span = self.span(call.range());
        let child = &self.pipelines[f.pipeline];
        let (child_id, child_name, child_description) = (
            child.id.clone(),
            child.name.clone(),
            child.description.clone(),
        );
        let mut policy = Policy::default();
        let mut display = None;
        for (k, v) in &f.options {
            if options::apply_policy(&mut policy, k, v) {
                continue;
            }
            if k == "name" {
                display = v.as_str().map(str::to_string);
            }
        }
        options::expand_backoff(&mut policy);
        let mut node = Node::new(id.clone(), NodeKind::SubPipeline, span);
        node.name = display.or_else(|| (child_name != child_id).then_some(child_name));
        node.callable = Some(f.def.to_callable(self.ctx.src));
        node.description = child_description.clone();
        node.policy = policy.clone();
        node.group = Some(id.clone());
        node.extra.insert("pipeline".into(), Value::Str(child_id));
        let raises = !Self::returns_state(&run_kw);
        node.extra.extend(run_kw);
        self.place(&mut node);
        let group_span = self.span(f.def.range);
        if let Some(b) = &self.build {
            self.pipelines[b.pipeline].groups.push(Group {
                id: id.clone(),
                kind: GroupKind::SubFlow,
                parent: None,
                policy,
                description: child_description,
                span: group_span,
            });
        }
        self.push_node(node);
        let edges_before = self.edge_count();
        let allow_failure = self.wire(&id, &args, &wait_for, span);
        self.mark_allow_failure(&id, allow_failure);
        self.follow_raising(&id, raises, edges_before);
        Obj::Runs {
            refs: vec![id],
            list: false,
        }
    }

    /// Runs a local helper's body with its parameters bound to the call's arguments.
    fn inline(&mut self, def: FunctionDef<'s>, call: &'s ast::ExprCall) -> Obj<'s> {
        if self.build.is_none() {
            // A task factory (`def make(name): @task(...) def t(): …; return t`) is followed
            // outside flows too, so `clean = make("clean")` is a task; other helpers are not.
            if self.defines_task(def.body) {
                return match self.follow(&def, call).0 {
                    task @ Obj::TaskFn(_) => task,
                    _ => Obj::Value(Value::None),
                };
            }
            for a in &call.arguments.args {
                self.expr(a);
            }
            return Obj::Value(Value::None);
        }
        let (ret, args) = self.follow(&def, call);
        let mut arg_refs: Vec<String> = args.iter().flat_map(Obj::refs).collect();
        // A plain helper's result depends on what it was given.
        match ret {
            Obj::Value(v) if !arg_refs.is_empty() && !v.is_literal() => {
                dedup(&mut arg_refs);
                Obj::Runs {
                    refs: arg_refs,
                    list: false,
                }
            }
            other => other,
        }
    }

    // ----- deployments -------------------------------------------------------------------

    /// Records a deployment of a pipeline from a `serve` / `deploy` / `to_deployment` call.
    fn deployment(
        &mut self,
        pipeline: usize,
        flow_options: &BTreeMap<String, Value>,
        call: &'s ast::ExprCall,
        method: &str,
        sourced: Option<&Sourced>,
    ) -> (usize, usize) {
        let mut kwargs = self.eval_keywords(&call.arguments.keywords);
        if let Some(first) = call.arguments.args.first()
            && !kwargs.contains_key("name")
        {
            kwargs.insert("name".into(), self.core.ev.eval(first));
        }
        let span = self.span(call.range());
        let default_name = flow_options
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| options::default_flow_name(&self.pipelines[pipeline].id));
        let d = self.deployment_from_kwargs(kwargs, method, &default_name, span, call);
        let mut d = d;
        if let Some(s) = sourced {
            d.extra.insert("source".into(), s.source.clone());
            if let Some(ep) = &s.entrypoint {
                d.extra.insert("entrypoint".into(), Value::Str(ep.clone()));
            }
        }
        self.pipelines[pipeline].deployments.push(d);
        (pipeline, self.pipelines[pipeline].deployments.len() - 1)
    }

    fn deployment_from_kwargs(
        &mut self,
        mut kwargs: BTreeMap<String, Value>,
        method: &str,
        default_name: &str,
        span: Span,
        call: &'s ast::ExprCall,
    ) -> Deployment {
        let name = match kwargs.remove("name") {
            Some(Value::Str(s)) => s,
            Some(Value::None) | None => default_name.to_string(),
            Some(other) => {
                let shown = match &other {
                    Value::Expr(e) => e.clone(),
                    v => format!("{v:?}"),
                };
                self.opaque(
                    "dynamic_name",
                    call,
                    format!("the deployment name `{shown}` is not known statically"),
                );
                shown
            }
        };
        let (schedules, unread) = options::deployment_schedules(&kwargs);
        for key in &unread {
            let shown = kwargs
                .get(key)
                .map(|v| format!("{v:?}"))
                .unwrap_or_default();
            self.opaque(
                "schedule",
                call,
                format!("the `{key}=` schedule is not known statically: {shown}"),
            );
        }
        for key in ["cron", "interval", "rrule", "schedule", "schedules"] {
            kwargs.remove(key);
        }
        let work_pool = kwargs
            .remove("work_pool_name")
            .and_then(|v| v.as_str().map(str::to_string));
        let parameters = match kwargs.remove("parameters") {
            Some(Value::Dict(m)) => m,
            Some(Value::None) | None => BTreeMap::new(),
            Some(other) => {
                kwargs.insert("parameters".into(), other);
                BTreeMap::new()
            }
        };
        let tags = kwargs
            .remove("tags")
            .map(|v| v.string_list())
            .unwrap_or_default();
        kwargs.remove("flow");
        Deployment {
            name,
            work_pool,
            schedule: schedules.first().cloned(),
            schedules: if schedules.len() > 1 {
                schedules
            } else {
                Vec::new()
            },
            parameters,
            tags,
            method: method.into(),
            extra: kwargs,
            span,
        }
    }

    /// `serve(d1, d2, ...)` / `deploy(d1, d2, work_pool_name=...)` over `to_deployment` results.
    fn serve_many(&mut self, call: &'s ast::ExprCall, via: &str) {
        let kwargs = self.eval_keywords(&call.arguments.keywords);
        let mut all = Vec::new();
        for a in &call.arguments.args {
            match self.expr(a) {
                Obj::Deployments(d) => all.extend(d),
                _ => self.opaque(
                    "deployment",
                    a,
                    format!(
                        "`{via}(...)` is given something that is not a `to_deployment(...)` result"
                    ),
                ),
            }
        }
        for (p, d) in all {
            let Some(dep) = self.pipelines[p].deployments.get_mut(d) else {
                continue;
            };
            dep.extra.insert("via".into(), Value::Str(via.into()));
            if dep.work_pool.is_none()
                && let Some(pool) = kwargs.get("work_pool_name").and_then(Value::as_str)
            {
                dep.work_pool = Some(pool.to_string());
            }
            for (k, v) in &kwargs {
                if k != "work_pool_name" {
                    dep.extra.entry(format!("{via}.{k}")).or_insert(v.clone());
                }
            }
        }
    }

    /// `flow.from_source(source=..., entrypoint="file.py:fn")`.
    fn sourced_flow(&mut self, call: &'s ast::ExprCall) -> Obj<'s> {
        let kwargs = self.eval_keywords(&call.arguments.keywords);
        let positional: Vec<Value> = call
            .arguments
            .args
            .iter()
            .map(|a| self.core.ev.eval(a))
            .collect();
        let source = kwargs
            .get("source")
            .cloned()
            .or_else(|| positional.first().cloned())
            .unwrap_or(Value::None);
        let entrypoint = kwargs
            .get("entrypoint")
            .or_else(|| positional.get(1))
            .and_then(Value::as_str)
            .map(str::to_string);
        let pipeline = (|| {
            let ep = entrypoint.as_deref()?;
            let (file, function) = ep.rsplit_once(':')?;
            let here = std::path::Path::new(self.ctx.src.path).file_name()?;
            if std::path::Path::new(file).file_name()? != here {
                return None;
            }
            self.pipelines.iter().position(|p| p.id == function)
        })();
        Obj::Sourced(Rc::new(Sourced {
            pipeline,
            source,
            entrypoint,
        }))
    }

    /// Prefect 2's `Deployment.build_from_flow(flow=..., name=..., schedule=...)` (and the
    /// `Deployment(...)` constructor): read as a deployment, reported as removed in Prefect 3.
    fn build_from_flow(&mut self, call: &'s ast::ExprCall, spelling: &str) -> Obj<'s> {
        let flow_expr = call
            .arguments
            .keywords
            .iter()
            .find(|k| k.arg.as_deref() == Some("flow"))
            .map(|k| &k.value)
            .or_else(|| call.arguments.args.first());
        let span = self.span(call.range());
        self.core.diagnostic(
            Severity::Warning,
            "removed-api",
            span,
            format!("`{spelling}` deployments were removed in Prefect 3"),
            "port them to `flow.serve(...)`, `flow.deploy(...)` or prefect.yaml",
        );
        let flow = flow_expr.map(|e| self.expr(e));
        let Some(Obj::FlowFn(f)) = flow else {
            self.opaque(
                "deployment",
                call,
                "the deployed flow is not a flow defined in this file".into(),
            );
            return Obj::Value(Value::None);
        };
        let mut kwargs = self.eval_keywords(&call.arguments.keywords);
        if !kwargs.contains_key("name")
            && let Some(second) = call.arguments.args.get(1)
        {
            kwargs.insert("name".into(), self.core.ev.eval(second));
        }
        let default_name = f
            .options
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| options::default_flow_name(f.def.name));
        let d = self.deployment_from_kwargs(kwargs, "build_from_flow", &default_name, span, call);
        self.pipelines[f.pipeline].deployments.push(d);
        Obj::Deployments(vec![(
            f.pipeline,
            self.pipelines[f.pipeline].deployments.len() - 1,
        )])
    }
}

impl<'c, 's, 'a> Reader<'s, 'a> for Interpreter<'c, 's, 'a>
where
    'a: 's,
{
    type Obj = Obj<'s>;
    type Mark = usize;
    const MAX_UNROLL: usize = MAX_UNROLL;
    const MAX_TOTAL_UNROLL: usize = MAX_TOTAL_UNROLL;

    value_reader!('s, 'a, Obj<'s>);

    fn weight_within(obj: &Obj<'s>, budget: usize) -> Option<usize> {
        match obj {
            Obj::Value(v) => weight_within(v, budget),
            Obj::Runs { refs, .. } => Some(refs.len()).filter(|&n| n <= budget),
            Obj::Deployments(d) => Some(d.len()).filter(|&n| n <= budget),
            Obj::Unmapped(o) | Obj::AllowFailure(o) => Self::weight_within(o, budget),
            Obj::Keyed(m) => {
                Some(m.values().map(Vec::len).sum::<usize>() + m.len()).filter(|&n| n <= budget)
            }
            _ => Some(1),
        }
    }

    /// `runs[key] = task.submit(…)`: the dict remembers which runs went under which key.
    fn bind_other(&mut self, target: &'s Expr, obj: Obj<'s>) {
        let Expr::Subscript(sub) = target else {
            return;
        };
        let Expr::Name(n) = &*sub.value else {
            return;
        };
        let mut map = match self.lookup(n.id.as_str()) {
            Some(Obj::Keyed(m)) => (*m).clone(),
            Some(Obj::Value(Value::Dict(d))) if d.is_empty() => BTreeMap::new(),
            _ => return,
        };
        let refs = obj.refs();
        if refs.is_empty() && map.is_empty() {
            return;
        }
        let key = key_text(&self.core.ev.eval(&sub.slice)).unwrap_or_else(|| "*".into());
        map.entry(key).or_default().extend(refs);
        self.bind(n.id.as_str(), Obj::Keyed(Rc::new(map)));
    }

    fn expr(&mut self, e: &'s Expr) -> Obj<'s> {
        self.expression(e)
    }

    /// A flow body's simple statements: the calls they make, and the generated step of code
    /// that computes on the run's values (`flow_code.rs`).
    fn own_stmt(&mut self, stmt: &'s Stmt) -> bool {
        self.flow_statement(stmt)
    }

    fn record_opaque(&mut self, entry: Opaque) {
        match &self.build {
            Some(b) => self.pipelines[b.pipeline].opaque.push(entry),
            None => self.core.file_opaque.push(entry),
        }
    }

    /// A list of runs unpacks one run each, like any known sequence; one run's result (a tuple
    /// it returns) gives every element that run.
    fn unpack(&self, obj: &Obj<'s>, elts: &'s [Expr]) -> Vec<Obj<'s>> {
        let Obj::Runs { refs, list } = obj else {
            return self.unpack_sequence(obj, elts);
        };
        let fits = if elts.iter().any(|e| matches!(e, Expr::Starred(_))) {
            refs.len() + 1 >= elts.len()
        } else {
            refs.len() == elts.len()
        };
        if *list && fits {
            return self.unpack_sequence(obj, elts);
        }
        elts.iter()
            .map(|_| Obj::Runs {
                refs: refs.clone(),
                list: false,
            })
            .collect()
    }

    fn sequence(&self, obj: &Obj<'s>) -> Option<Vec<Obj<'s>>> {
        match obj {
            Obj::Runs { refs, list: true } => Some(
                refs.iter()
                    .map(|r| Obj::Runs {
                        refs: vec![r.clone()],
                        list: false,
                    })
                    .collect(),
            ),
            _ => self.plain_sequence(obj),
        }
    }

    fn collect(&self, items: Vec<Obj<'s>>) -> Obj<'s> {
        let refs: Vec<String> = items.iter().flat_map(Obj::refs).collect();
        if refs.is_empty() {
            Obj::Value(Value::List(items.iter().filter_map(Self::plain).collect()))
        } else {
            Obj::Runs { refs, list: true }
        }
    }

    fn assign(&mut self, a: &'s ast::StmtAssign) {
        self.assign_stmt(a);
    }

    fn augment(&mut self, name: &str, added: Obj<'s>) -> Option<Obj<'s>> {
        let old = self.lookup(name);
        let mut refs = old.as_ref().map(Obj::refs).unwrap_or_default();
        refs.extend(added.refs());
        if refs.is_empty() {
            return None;
        }
        dedup(&mut refs);
        Some(Obj::Runs { refs, list: true })
    }

    fn augment_other(&mut self, a: &'s ast::StmtAugAssign) {
        self.expr(&a.value);
    }

    fn define_function(&mut self, def: FunctionDef<'s>) {
        self.decorate(def);
    }

    /// Deployments live under the main guard; flow calls in it are not part of any flow graph.
    fn main_guard(&mut self, body: &'s [Stmt]) {
        if self.build.is_none() {
            self.block(body);
        }
    }

    fn unknown_if(&mut self, i: &'s ast::StmtIf) {
        self.both_branches(i);
    }

    /// A `try` in a flow: the runs its body makes are what its handlers wait on.
    fn try_stmt(&mut self, t: &'s ast::StmtTry) {
        let count = |me: &Self| {
            me.build
                .as_ref()
                .map_or(0, |b| me.pipelines[b.pipeline].nodes.len())
        };
        let before = count(self);
        let catches = !t.handlers.is_empty();
        self.try_bodies += usize::from(catches);
        self.block(&t.body);
        self.try_bodies -= usize::from(catches);
        let body_runs: Vec<String> = match &self.build {
            Some(b) => self.pipelines[b.pipeline].nodes[before..]
                .iter()
                .map(|n| n.id.clone())
                .collect(),
            None => Vec::new(),
        };
        self.try_runs.push(body_runs);
        for h in &t.handlers {
            self.except_handler(h);
        }
        self.try_runs.pop();
        self.block(&t.orelse);
        self.block(&t.finalbody);
    }

    /// An `except` handler's calls run only when its `try` body raised: they wait for the
    /// body's runs and run when one of them failed (`one_failed`); with no run in the body,
    /// what raises is not a step, and the handler is kept under its condition only.
    fn except_handler(&mut self, h: &'s ast::ExceptHandler) {
        let ast::ExceptHandler::ExceptHandler(h) = h;
        let what = h
            .type_
            .as_ref()
            .map_or("an exception".to_string(), |t| self.src(&**t).to_string());
        let body_runs = self.try_runs.last().cloned().unwrap_or_default();
        self.conditional(&h.body, format!("except {what}"), body_runs);
    }

    fn match_stmt(&mut self, m: &'s ast::StmtMatch) {
        if self.build.is_none() {
            return;
        }
        let subject = self.expr(&m.subject);
        let src = self.src(&*m.subject).to_string();
        for case in &m.cases {
            let cond = format!("match {src}: case {}", self.src(&case.pattern));
            self.conditional(&case.body, cond, subject.refs());
        }
    }

    fn while_loop(&mut self, w: &'s ast::StmtWhile, stmt: &'s Stmt) {
        let test = self.expr(&w.test);
        self.dynamic_body(
            &w.body,
            stmt,
            test,
            None,
            "a `while` loop runs a number of times known only at run time",
        );
        self.block(&w.orelse);
    }

    fn loop_items(
        &mut self,
        iter: &'s Expr,
        iterable: &Obj<'s>,
        _spent: bool,
    ) -> Option<Vec<Obj<'s>>> {
        self.literal_items(iter, iterable)
            .map(|items| items.into_iter().map(Obj::Value).collect())
    }

    fn unread_loop(&mut self, lp: Unread<'s, Obj<'s>>) {
        let why = format!(
            "the loop iterates over `{}`, known only at run time",
            self.src(&*lp.lp.iter)
        );
        self.dynamic_body(&lp.lp.body, lp.stmt, lp.iterable, Some(&lp.lp.target), &why);
    }

    fn context_mark(&self) -> usize {
        self.build.as_ref().map_or(0, |b| b.tags.len())
    }

    fn restore_context(&mut self, mark: usize) {
        if let Some(b) = self.build.as_mut() {
            b.tags.truncate(mark);
        }
    }

    /// `with tags(...)`: runs made inside carry the tags.
    fn enter(
        &mut self,
        item: &'s ast::WithItem,
        _sole: bool,
        _body: &'s [Stmt],
    ) -> Entered<Obj<'s>> {
        if let Expr::Call(c) = &item.context_expr
            && self.symbol(&c.func) == Some(Symbol::Tags)
        {
            let tags: Vec<String> = c
                .arguments
                .args
                .iter()
                .flat_map(|a| self.core.ev.eval(a).string_list())
                .collect();
            if let Some(b) = self.build.as_mut() {
                b.tags.push(tags);
            }
            return Entered::Skip;
        }
        Entered::Bind(self.expr(&item.context_expr))
    }
}

fn collect_allow_failure(obj: &Obj, out: &mut Vec<String>) {
    if let Obj::AllowFailure(inner) = obj {
        out.extend(inner.refs());
    }
}

/// A dict key as text: a string, or an integer written as Python writes it.
fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn dedup(refs: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    refs.retain(|r| seen.insert(r.clone()));
}

fn is_with_options(e: &Expr) -> bool {
    matches!(e, Expr::Call(c) if matches!(&*c.func, Expr::Attribute(a) if a.attr.as_str() == "with_options"))
}

/// The sub-expressions evaluated by an operator-like expression.
fn direct_children(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::BoolOp(b) => b.values.iter().collect(),
        Expr::BinOp(b) => vec![&*b.left, &*b.right],
        Expr::UnaryOp(u) => vec![&*u.operand],
        Expr::If(i) => vec![&*i.test, &*i.body, &*i.orelse],
        Expr::Compare(c) => std::iter::once(&*c.left)
            .chain(c.comparators.iter())
            .collect(),
        Expr::FString(j) => j
            .value
            .elements()
            .filter_map(|el| el.as_interpolation().map(|i| &*i.expression))
            .collect(),
        Expr::Yield(y) => y.value.iter().map(|v| &**v).collect(),
        Expr::YieldFrom(y) => vec![&*y.value],
        Expr::Slice(s) => [&s.lower, &s.upper, &s.step]
            .into_iter()
            .flatten()
            .map(|v| &**v)
            .collect(),
        _ => Vec::new(),
    }
}
