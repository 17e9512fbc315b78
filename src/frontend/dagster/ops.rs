//! Op jobs: the body of a `@job` / `@graph` read as Dagster composes it, into nodes named as
//! Dagster names invocations (`op`, `op_2`, aliases, `graph.op` inside sub-graphs), data edges,
//! dynamic mapping (`.map`) and fan-in (`.collect`).

use crate::python::ast::TextRange;
use crate::python::ast::{self, Expr, Ranged, Stmt};
use std::collections::{BTreeMap, HashMap, HashSet};

use super::module::{ModuleReader, Obj};
use crate::frontend::callable::FunctionDef;
use crate::ir::{
    Edge, EdgeKind, Group, GroupKind, MappedArg, Mapping, Node, Opaque, Policy, Span, Value,
};

/// Deepest graph nesting followed.
const MAX_NESTING: usize = 16;
/// Calls of functions defined in a job body that one job's reading follows (a helper calling
/// itself several times would otherwise multiply without end).
const MAX_FOLLOWS: usize = 256;
/// Most iterations unrolled from one loop in a job body.
const MAX_UNROLL: usize = 1_000;

/// The ops of one job, flattened through its graphs.
#[derive(Debug, Default)]
pub struct OpGraph {
    /// One node per op invocation, ids as Dagster's step keys.
    pub nodes: Vec<Node>,
    /// Data edges.
    pub edges: Vec<Edge>,
    /// One sub-flow group per graph invocation.
    pub groups: Vec<Group>,
    /// What could not be read.
    pub opaque: Vec<Opaque>,
}

/// An op output flowing through the body.
#[derive(Debug, Clone)]
struct Output {
    node: String,
    /// The op output's name, when the op has several.
    output: Option<String>,
    dynamic: bool,
    mapped: bool,
    collected: bool,
}

#[derive(Debug, Clone)]
enum Val<'s> {
    Out(Output),
    /// Several outputs (a multi-output op, a tuple), by name when known.
    Outs(Vec<(Option<String>, Val<'s>)>),
    Op {
        op: usize,
        alias: Option<String>,
        policy: Option<Box<Policy>>,
    },
    Graph {
        graph: usize,
        alias: Option<String>,
    },
    Lambda(&'s ast::ExprLambda),
    /// A function defined in the job body (a helper `.map()` applies, say).
    Local(&'s ast::StmtFunctionDef),
    Nothing,
}

struct Scope<'s> {
    prefix: String,
    group: Option<String>,
    vars: HashMap<String, Val<'s>>,
    returned: Option<Val<'s>>,
}

/// Reads op job bodies against the module's definitions.
pub struct OpReader<'r, 'c, 's, 'a> {
    m: &'r ModuleReader<'c, 's, 'a>,
    out: OpGraph,
    taken: HashMap<String, usize>,
    edge_set: HashSet<(String, String)>,
    depth: usize,
    follows: usize,
    loop_names: HashMap<String, Value>,
}

impl<'r, 'c, 's, 'a> OpReader<'r, 'c, 's, 'a>
where
    'a: 's,
{
    /// A reader over a module's catalog.
    pub fn new(m: &'r ModuleReader<'c, 's, 'a>) -> Self {
        OpReader {
            m,
            out: OpGraph::default(),
            taken: HashMap::new(),
            edge_set: HashSet::new(),
            depth: 0,
            follows: 0,
            loop_names: HashMap::new(),
        }
    }

    /// The op graph of a job's composing function.
    pub fn read(mut self, def: &FunctionDef<'s>) -> OpGraph {
        let mut scope = Scope {
            prefix: String::new(),
            group: None,
            vars: HashMap::new(),
            returned: None,
        };
        self.block(def.body, &mut scope);
        self.out
    }

    fn span(&self, range: TextRange) -> Span {
        self.m.span_of(range)
    }

    fn opaque(&mut self, kind: &str, range: TextRange, why: String) {
        let o = self.m.opaque_at(kind, range, why);
        self.out.opaque.push(o);
    }

    fn block(&mut self, stmts: &'s [Stmt], scope: &mut Scope<'s>) {
        for s in stmts {
            if scope.returned.is_some() {
                return;
            }
            self.stmt(s, scope);
        }
    }

    fn stmt(&mut self, s: &'s Stmt, scope: &mut Scope<'s>) {
        match s {
            Stmt::Expr(e) => {
                self.expr(&e.value, scope);
            }
            Stmt::Assign(a) => {
                let v = self.expr(&a.value, scope);
                for t in &a.targets {
                    self.bind(t, v.clone(), scope);
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(value) = &a.value {
                    let v = self.expr(value, scope);
                    self.bind(&a.target, v, scope);
                }
            }
            Stmt::Return(r) => {
                scope.returned = Some(match &r.value {
                    Some(v) => self.expr(v, scope),
                    None => Val::Nothing,
                });
            }
            Stmt::For(f) if !f.is_async => match self.m.ev_eval_with(&f.iter, &self.loop_names) {
                Value::List(items) if items.len() <= MAX_UNROLL => {
                    for item in items {
                        if let Expr::Name(n) = &*f.target {
                            self.loop_names.insert(n.id.to_string(), item.clone());
                            scope.vars.remove(n.id.as_str());
                        }
                        self.block(&f.body, scope);
                    }
                }
                _ => self.opaque(
                    "dynamic_loop",
                    f.range,
                    format!(
                        "the loop iterates over `{}`, which is not a static list; the ops it invokes are not read",
                        self.m.source(f.iter.range())
                    ),
                ),
            },
            Stmt::If(i) => {
                self.opaque(
                    "conditional",
                    i.test.range(),
                    "Dagster composes a job once, so a condition in its body is fixed at definition time; both branches were read".into(),
                );
                self.block(&i.body, scope);
                self.block(crate::python::orelse(i), scope);
            }
            Stmt::Pass(_) => {}
            Stmt::FunctionDef(d) if d.decorator_list.is_empty() && !d.is_async => {
                scope.vars.insert(d.name.to_string(), Val::Local(d));
            }
            Stmt::FunctionDef(_) => self.opaque(
                "local_function",
                s.range(),
                "a decorated or async function defined inside a job body is not followed".into(),
            ),
            other => self.opaque(
                "unread_statement",
                other.range(),
                "this statement in a job body is not read".into(),
            ),
        }
    }

    fn bind(&mut self, target: &'s Expr, v: Val<'s>, scope: &mut Scope<'s>) {
        match target {
            Expr::Name(n) => {
                scope.vars.insert(n.id.to_string(), v);
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                let parts: Vec<Val<'s>> = match v {
                    Val::Outs(items) if items.len() == elts.len() => {
                        items.into_iter().map(|x| x.1).collect()
                    }
                    _ => elts.iter().map(|_| Val::Nothing).collect(),
                };
                for (e, p) in elts.iter().zip(parts) {
                    self.bind(e, p, scope);
                }
            }
            _ => {}
        }
    }

    fn lookup(&self, name: &str, scope: &Scope<'s>) -> Val<'s> {
        if let Some(v) = scope.vars.get(name) {
            return v.clone();
        }
        match self.m.env_get(name) {
            Some(Obj::Op(op)) => Val::Op {
                op: *op,
                alias: None,
                policy: None,
            },
            Some(Obj::Graph(g)) => Val::Graph {
                graph: *g,
                alias: None,
            },
            _ => Val::Nothing,
        }
    }

    fn expr(&mut self, e: &'s Expr, scope: &mut Scope<'s>) -> Val<'s> {
        match e {
            Expr::Name(n) => self.lookup(n.id.as_str(), scope),
            Expr::Call(c) => self.call(c, scope),
            Expr::Attribute(a) => match self.expr(&a.value, scope) {
                Val::Outs(items) => items
                    .into_iter()
                    .find(|(n, _)| n.as_deref() == Some(a.attr.as_str()))
                    .map_or(Val::Nothing, |x| x.1),
                _ => Val::Nothing,
            },
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                Val::Outs(elts.iter().map(|x| (None, self.expr(x, scope))).collect())
            }
            Expr::Dict(d) => {
                let mut items = Vec::new();
                for item in &d.items {
                    let (k, v) = (&item.key, &item.value);
                    let name = k.as_ref().and_then(|k| {
                        self.m
                            .ev_eval_with(k, &self.loop_names)
                            .as_str()
                            .map(str::to_string)
                    });
                    items.push((name, self.expr(v, scope)));
                }
                Val::Outs(items)
            }
            Expr::Lambda(l) => Val::Lambda(l),
            _ => Val::Nothing,
        }
    }

    fn call(&mut self, c: &'s ast::ExprCall, scope: &mut Scope<'s>) -> Val<'s> {
        if let Expr::Attribute(a) = &*c.func {
            let base = self.expr(&a.value, scope);
            let method = a.attr.as_str();
            match (&base, method) {
                (Val::Op { op, policy, .. }, "alias") => {
                    return Val::Op {
                        op: *op,
                        alias: self.str_arg(c),
                        policy: policy.clone(),
                    };
                }
                (Val::Graph { graph, .. }, "alias") => {
                    return Val::Graph {
                        graph: *graph,
                        alias: self.str_arg(c),
                    };
                }
                (Val::Op { op, alias, .. }, "with_retry_policy") => {
                    let policy = c
                        .arguments
                        .args
                        .first()
                        .map(|x| self.m.ev_eval_with(x, &self.loop_names))
                        .and_then(|v| super::options::retry_policy(&v).ok())
                        .map(Box::new);
                    return Val::Op {
                        op: *op,
                        alias: alias.clone(),
                        policy,
                    };
                }
                (Val::Op { .. } | Val::Graph { .. }, "tag" | "with_hooks") => return base,
                // `outs.append(x)` / `outs.extend(xs)` on a list bound in the body.
                (Val::Outs(_), "append" | "extend") => {
                    if let Expr::Name(n) = &*a.value {
                        let added: Vec<Val<'s>> = c
                            .arguments
                            .args
                            .iter()
                            .map(|x| self.expr(x, scope))
                            .collect();
                        if let Some(Val::Outs(items)) = scope.vars.get_mut(n.id.as_str()) {
                            for v in added {
                                match (method, v) {
                                    ("extend", Val::Outs(more)) => items.extend(more),
                                    (_, v) => items.push((None, v)),
                                }
                            }
                        }
                    }
                    return Val::Nothing;
                }
                (Val::Out(o), "map") if o.dynamic || o.mapped => {
                    let element = Val::Out(Output {
                        node: o.node.clone(),
                        output: o.output.clone(),
                        dynamic: false,
                        mapped: true,
                        collected: false,
                    });
                    let Some(f) = c.arguments.args.first() else {
                        return Val::Nothing;
                    };
                    let f = self.expr(f, scope);
                    return self.apply(f, vec![element], c.range(), scope);
                }
                (Val::Out(o), "collect") => {
                    return Val::Out(Output {
                        node: o.node.clone(),
                        output: o.output.clone(),
                        dynamic: false,
                        mapped: false,
                        collected: true,
                    });
                }
                _ => {}
            }
        }
        let f = self.expr(&c.func, scope);
        if let Val::Local(_) = f {
            let args = c
                .arguments
                .args
                .iter()
                .map(|a| self.expr(a, scope))
                .collect();
            return self.apply(f, args, c.range(), scope);
        }
        if !matches!(f, Val::Op { .. } | Val::Graph { .. } | Val::Lambda(_)) {
            let args: Vec<Val<'s>> = c
                .arguments
                .args
                .iter()
                .map(|a| self.expr(a, scope))
                .collect();
            if args.iter().any(|a| matches!(a, Val::Out(_) | Val::Outs(_))) {
                self.opaque(
                    "unknown_call",
                    c.range(),
                    format!(
                        "`{}` is not an op or graph of this file; the outputs passed to it are not followed",
                        self.m.source(c.func.range())
                    ),
                );
            }
            return Val::Nothing;
        }
        let mut args: Vec<Val<'s>> = Vec::new();
        for a in &c.arguments.args {
            args.push(self.expr(a, scope));
        }
        let mut kwargs: Vec<(String, Val<'s>)> = Vec::new();
        for kw in &c.arguments.keywords {
            if let Some(name) = kw.arg.as_deref() {
                let v = self.expr(&kw.value, scope);
                kwargs.push((name.to_string(), v));
            }
        }
        self.invoke(f, args, kwargs, c.range(), scope)
    }

    fn str_arg(&self, c: &'s ast::ExprCall) -> Option<String> {
        c.arguments
            .args
            .first()
            .map(|a| self.m.ev_eval_with(a, &self.loop_names))
            .and_then(|v| v.as_str().map(str::to_string))
    }

    fn apply(
        &mut self,
        f: Val<'s>,
        args: Vec<Val<'s>>,
        range: TextRange,
        scope: &mut Scope<'s>,
    ) -> Val<'s> {
        match f {
            Val::Lambda(l) => {
                let params: Vec<String> = l
                    .parameters
                    .iter()
                    .flat_map(|p| p.posonlyargs.iter().chain(&p.args))
                    .map(|p| p.parameter.name.to_string())
                    .collect();
                let saved: Vec<(String, Option<Val<'s>>)> = params
                    .iter()
                    .map(|p| (p.clone(), scope.vars.get(p).cloned()))
                    .collect();
                for (p, a) in params.iter().zip(args) {
                    scope.vars.insert(p.clone(), a);
                }
                let v = self.expr(&l.body, scope);
                for (p, old) in saved {
                    match old {
                        Some(o) => {
                            scope.vars.insert(p, o);
                        }
                        None => {
                            scope.vars.remove(&p);
                        }
                    }
                }
                v
            }
            Val::Local(d) => self.follow(d, args, range, scope),
            other => self.invoke(other, args, Vec::new(), range, scope),
        }
    }

    /// Runs a function defined in the body with `args` bound to its parameters, in a scope of
    /// its own that sees the body's names; its return value is what it gives back.
    fn follow(
        &mut self,
        d: &'s ast::StmtFunctionDef,
        args: Vec<Val<'s>>,
        range: TextRange,
        scope: &mut Scope<'s>,
    ) -> Val<'s> {
        self.follows += 1;
        if self.follows == MAX_FOLLOWS + 1 {
            self.opaque(
                "local_function_budget",
                range,
                format!("functions defined in the job body are called more than {MAX_FOLLOWS} times; the calls past that are not read"),
            );
        }
        if self.follows > MAX_FOLLOWS {
            return Val::Nothing;
        }
        if self.depth >= MAX_NESTING {
            self.opaque(
                "deep_local_function",
                range,
                "functions defined in the job body call each other too deeply to follow".into(),
            );
            return Val::Nothing;
        }
        let mut inner = Scope {
            prefix: scope.prefix.clone(),
            group: scope.group.clone(),
            vars: scope.vars.clone(),
            returned: None,
        };
        let params = d
            .parameters
            .posonlyargs
            .iter()
            .chain(&d.parameters.args)
            .map(|p| p.parameter.name.to_string());
        for (p, a) in params.zip(args) {
            inner.vars.insert(p, a);
        }
        self.depth += 1;
        self.block(&d.body, &mut inner);
        self.depth -= 1;
        inner.returned.unwrap_or(Val::Nothing)
    }

    /// The invocation name Dagster gives: the name, then `name_2`, `name_3`, … in a scope.
    fn unique(&mut self, prefix: &str, base: &str) -> String {
        let key = format!("{prefix}{base}");
        let n = self.taken.entry(key).or_insert(0);
        *n += 1;
        if *n == 1 {
            format!("{prefix}{base}")
        } else {
            format!("{prefix}{base}_{n}")
        }
    }

    fn connect(&mut self, v: &Val<'s>, to: &str, param: Option<&str>, span: Span, node: &mut Node) {
        match v {
            Val::Out(o) => {
                if self.edge_set.insert((o.node.clone(), to.to_string())) {
                    self.out.edges.push(Edge {
                        from: o.node.clone(),
                        to: to.to_string(),
                        kind: EdgeKind::Data,
                        param: param.map(str::to_string),
                        output: o.output.clone(),
                        span,
                    });
                }
                if o.mapped {
                    let m = node.mapping.get_or_insert_with(|| Mapping {
                        over: Vec::new(),
                        partial: BTreeMap::new(),
                        kwargs: false,
                    });
                    m.over.push(MappedArg {
                        param: param.unwrap_or("").to_string(),
                        literal: None,
                        from_node: Some(o.node.clone()),
                    });
                }
                if o.collected {
                    let list = node
                        .extra
                        .entry("collects".into())
                        .or_insert_with(|| Value::List(Vec::new()));
                    if let Value::List(items) = list {
                        items.push(Value::Str(param.unwrap_or("").to_string()));
                    }
                }
            }
            Val::Outs(items) => {
                for (_, item) in items {
                    self.connect(item, to, param, span, node);
                }
            }
            _ => {}
        }
    }

    fn invoke(
        &mut self,
        f: Val<'s>,
        args: Vec<Val<'s>>,
        kwargs: Vec<(String, Val<'s>)>,
        range: TextRange,
        scope: &mut Scope<'s>,
    ) -> Val<'s> {
        let span = self.span(range);
        match f {
            Val::Op { op, alias, policy } => {
                let def = &self.m.cat.ops[op];
                let base = alias.unwrap_or_else(|| def.name.clone());
                let id = self.unique(&scope.prefix, &base);
                let mut node = def.node.clone();
                node.id = id.clone();
                node.name = (id != def.name).then(|| def.name.clone());
                node.group = scope.group.clone();
                node.span = span;
                if let Some(p) = policy {
                    node.policy = p.over(&node.policy);
                }
                let inputs = def.inputs.clone();
                let outputs = def.outputs.clone();
                for (i, a) in args.iter().enumerate() {
                    let param = inputs.get(i).map(String::as_str);
                    self.connect(a, &id, param, span, &mut node);
                }
                for (name, a) in &kwargs {
                    self.connect(a, &id, Some(name), span, &mut node);
                }
                let mapped = node.mapping.is_some();
                self.out.nodes.push(node);
                let out = |output: Option<String>, dynamic: bool| {
                    Val::Out(Output {
                        node: id.clone(),
                        output,
                        dynamic,
                        mapped,
                        collected: false,
                    })
                };
                match outputs.as_slice() {
                    [(_, dynamic)] => out(None, *dynamic),
                    many => Val::Outs(
                        many.iter()
                            .map(|(name, dynamic)| {
                                (Some(name.clone()), out(Some(name.clone()), *dynamic))
                            })
                            .collect(),
                    ),
                }
            }
            Val::Graph { graph, alias } => {
                if self.depth >= MAX_NESTING {
                    self.opaque(
                        "deep_graph",
                        range,
                        "graphs nest too deeply to be followed".into(),
                    );
                    return Val::Nothing;
                }
                let g = &self.m.cat.graphs[graph];
                let base = alias.unwrap_or_else(|| g.name.clone());
                let handle = self.unique(&scope.prefix, &base);
                self.out.groups.push(Group {
                    id: handle.clone(),
                    kind: GroupKind::SubFlow,
                    parent: scope.group.clone(),
                    policy: Policy::default(),
                    description: g.description.clone(),
                    span,
                });
                if !g.extra.is_empty() {
                    let names: Vec<&str> = g.extra.keys().map(String::as_str).collect();
                    let why = format!(
                        "the options {} of graph `{}` are not modelled",
                        names.join(", "),
                        g.name
                    );
                    self.opaque("graph_options", range, why);
                }
                let def = g.def;
                let mut inner = Scope {
                    prefix: format!("{handle}."),
                    group: Some(handle),
                    vars: HashMap::new(),
                    returned: None,
                };
                for (p, a) in def.positional_names().into_iter().zip(args) {
                    inner.vars.insert(p.to_string(), a);
                }
                for (name, a) in kwargs {
                    inner.vars.insert(name, a);
                }
                self.depth += 1;
                self.block(def.body, &mut inner);
                self.depth -= 1;
                inner.returned.unwrap_or(Val::Nothing)
            }
            _ => Val::Nothing,
        }
    }
}
