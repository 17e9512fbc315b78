//! A flow's own code: the statements of a flow body that are not task or sub-flow calls but
//! read what the run computed (a task's result, a flow parameter) become generated steps
//! (tasks of flavour [`FLOW_CODE`]), so the values later calls get are the ones the flow
//! computed; side-effecting expression statements keep their place among the calls around them
//! through order edges; a sub-flow that calls no task becomes one step ([`SUB_FLOW_STEP`]).

use std::collections::{BTreeMap, HashSet};

use super::{Interpreter, Obj};
use crate::frontend::callable::statement_text;
use crate::frontend::interp::Reader;
use crate::frontend::prefect::Symbol;
use crate::ir::{
    Callable, CallableParam, EdgeKind, FLOW_CODE, GroupKind, Node, NodeKind, SUB_FLOW_STEP, Value,
};
use crate::python::ast::{self, Expr, Ranged, Stmt};

/// How deep the definitions of plain locals a step reads are followed (`a = …` reading `b = …`).
const MAX_DEFINITION_DEPTH: usize = 8;

/// Most definitions of plain locals carried into one generated step.
const MAX_DEFINITIONS: usize = 64;

/// What a name a flow statement reads stands for.
enum Read<'s> {
    /// The result of runs (node ids): a data edge.
    Runs(Vec<String>),
    /// A value the step gets as an argument: a flow parameter (as an expression) or a literal.
    Arg(Value),
    /// A plain local of the flow, defined by this statement (carried into the step's body).
    Defined(&'s Stmt),
    /// A local orchmig cannot carry into a step (bound by a `with`, a loop, a function object).
    Unknown,
    /// Not a local of the flow: a module-level name or a builtin.
    Outside,
}

/// The step a statement becomes.
struct Generated<'s> {
    params: Vec<String>,
    edges: Vec<(String, Vec<String>)>,
    args: BTreeMap<String, Value>,
    definitions: Vec<&'s Stmt>,
}

impl<'c, 's, 'a> Interpreter<'c, 's, 'a>
where
    'a: 's,
{
    /// Reads a simple statement of a flow body (not in a followed helper) whole: an expression
    /// statement, an assignment or a `return`, with the calls it makes and, where it only
    /// computes on the run's values, the generated step it becomes. False for anything else.
    pub(super) fn flow_statement(&mut self, stmt: &'s Stmt) -> bool {
        if self.build.is_none() || self.core.inline_depth > 0 {
            return false;
        }
        match stmt {
            Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::FunctionDef(_) => {
                self.define_locals(stmt);
                return false;
            }
            Stmt::Return(r) => {
                let (before, edges_before) = self.counts();
                let obj = match &r.value {
                    Some(v) => self.expr(v),
                    None => Obj::Value(Value::None),
                };
                self.core.returned = Some(obj);
                self.after_statement(before, edges_before, None);
                return true;
            }
            _ => {}
        }
        let (value, targets): (&'s Expr, Vec<&'s Expr>) = match stmt {
            Stmt::Expr(e) => (&e.value, Vec::new()),
            // `a, b = t1(x), t2(y)` binds element-wise: the core's rule (computing elements are
            // no step).
            Stmt::Assign(a)
                if matches!(
                    (a.targets.as_slice(), &*a.value),
                    ([Expr::Tuple(_)], Expr::Tuple(_))
                ) =>
            {
                let reads = self.reads_of(stmt);
                if !self.routes(&a.value, true)
                    && reads.iter().any(|n| {
                        matches!(self.read_of(n), Read::Runs(_) | Read::Arg(Value::Expr(_)))
                    })
                {
                    let text = self.src(stmt).to_string();
                    self.opaque(
                        "flow_code",
                        stmt,
                        format!(
                            "`{}` computes on the run's values in the flow: it binds several names at once; it is not a step, so what reads them gets the values it read",
                            short(&text)
                        ),
                    );
                }
                return false;
            }
            Stmt::Assign(a) => (&a.value, a.targets.iter().collect()),
            Stmt::AnnAssign(a) => match &a.value {
                Some(v) => (v, vec![&*a.target]),
                None => return false,
            },
            Stmt::AugAssign(a) => (&a.value, vec![&*a.target]),
            _ => return false,
        };
        let reads = self.reads_of(stmt);
        let (before, edges_before) = self.counts();
        let obj = self.expr(value);
        let made = self.node_count() > before;
        let names: Vec<&'s str> = targets
            .iter()
            .filter_map(|t| match t {
                Expr::Name(n) => Some(n.id.as_str()),
                _ => None,
            })
            .collect();
        if made {
            if !self.routes(value, true) {
                let text = self.src(value).to_string();
                self.opaque(
                    "flow_code",
                    stmt,
                    format!(
                        "`{}` computes on a run's result in the statement that starts the run; only the run is a step, so what reads this statement's result gets the run's value (assign the result first, then compute)",
                        short(&text)
                    ),
                );
            }
            self.bind_statement(stmt, obj);
            self.after_statement(before, edges_before, None);
            return true;
        }
        let reads_the_run = reads.iter().any(|name| {
            matches!(
                self.read_of(name),
                Read::Runs(_) | Read::Arg(Value::Expr(_))
            )
        });
        if !reads_the_run || self.routes(value, false) || self.framework_call(value) {
            self.bind_statement(stmt, obj);
            if names.len() == targets.len() && !matches!(stmt, Stmt::Expr(_)) {
                self.define_locals(stmt);
            }
            return true;
        }
        let why = if self.build.as_ref().is_some_and(|b| !b.dynamic.is_empty()) {
            Some("it runs in a loop over run-time values, which orchmig reads once; it is not a step, so what reads its result gets the values it read".to_string())
        } else if names.len() < targets.len() {
            Some("it binds something that is not a plain name; it is not a step, so what reads its result gets the values it read".to_string())
        } else {
            None
        };
        let generated = match why {
            Some(why) => Err(why),
            None => self.generated(stmt, &reads),
        };
        match generated {
            Ok(g) => {
                let effect = targets.is_empty();
                let id = self.flow_code_node(stmt, value, &names, g);
                for name in &names {
                    self.bind(
                        name,
                        Obj::Runs {
                            refs: vec![id.clone()],
                            list: false,
                        },
                    );
                }
                if let Some(b) = self.build.as_mut() {
                    for name in &names {
                        b.definitions.remove(*name);
                    }
                }
                self.after_statement(before, edges_before, effect.then_some(id));
            }
            Err(why) => {
                let text = self.src(stmt).to_string();
                self.opaque(
                    "flow_code",
                    stmt,
                    format!(
                        "`{}` computes on the run's values in the flow: {why}",
                        short(&text)
                    ),
                );
                self.bind_statement(stmt, obj);
            }
        }
        true
    }

    /// Binds what a statement the core would have run binds (its value already evaluated).
    fn bind_statement(&mut self, stmt: &'s Stmt, obj: Obj<'s>) {
        match stmt {
            Stmt::Assign(a) => {
                for t in &a.targets {
                    self.bind_target(t, obj.clone());
                }
            }
            Stmt::AnnAssign(a) => self.bind_target(&a.target, obj),
            Stmt::AugAssign(a) => {
                if let Expr::Name(n) = &*a.target {
                    let name = n.id.as_str();
                    let new = match self.augment(name, obj) {
                        Some(o) => o,
                        None => Obj::Value(self.core.eval_aug_assign(a)),
                    };
                    self.bind(name, new);
                }
            }
            _ => {}
        }
    }

    /// Remembers the statement that defines plain locals of the flow (an assignment to names,
    /// an import, a nested `def`), for a generated step that reads them.
    fn define_locals(&mut self, stmt: &'s Stmt) {
        let names: Vec<String> = match stmt {
            Stmt::Assign(a) => a.targets.iter().flat_map(target_names).collect(),
            Stmt::AnnAssign(a) => target_names(&a.target),
            Stmt::AugAssign(a) => target_names(&a.target),
            Stmt::FunctionDef(f) => vec![f.name.to_string()],
            Stmt::Import(i) => i
                .names
                .iter()
                .map(|a| match &a.asname {
                    Some(x) => x.to_string(),
                    None => a.name.split('.').next().unwrap_or("").to_string(),
                })
                .collect(),
            Stmt::ImportFrom(i) => i
                .names
                .iter()
                .map(|a| a.asname.as_ref().unwrap_or(&a.name).to_string())
                .collect(),
            _ => Vec::new(),
        };
        if let Some(b) = self.build.as_mut() {
            for n in names {
                b.definitions.insert(n, stmt);
            }
        }
    }

    /// The nodes and edges of the flow so far.
    fn counts(&self) -> (usize, usize) {
        self.build.as_ref().map_or((0, 0), |b| {
            let p = &self.pipelines[b.pipeline];
            (p.nodes.len(), p.edges.len())
        })
    }

    /// Keeps a side-effecting step (`effect`) in its place among the runs around it: it waits
    /// for the last runs the statement before it started, and the first runs the next statement
    /// starts wait for it. `before` and `edges_before` are the counts before this statement.
    fn after_statement(&mut self, before: usize, edges_before: usize, effect: Option<String>) {
        let Some(b) = self.build.as_ref() else { return };
        let p = &self.pipelines[b.pipeline];
        let made: Vec<String> = p.nodes[before.min(p.nodes.len())..]
            .iter()
            .map(|n| n.id.clone())
            .collect();
        if made.is_empty() {
            return;
        }
        // Edges among the runs this statement made: its first runs have none coming in.
        let inner: Vec<(String, String)> = p.edges[edges_before.min(p.edges.len())..]
            .iter()
            .map(|e| (e.from.clone(), e.to.clone()))
            .collect();
        let made_set: HashSet<&str> = made.iter().map(String::as_str).collect();
        // The runs with an edge in from (out to) another run of this statement: one pass.
        let mut fed: HashSet<&str> = HashSet::new();
        let mut feeding: HashSet<&str> = HashSet::new();
        for (f, t) in &inner {
            if made_set.contains(f.as_str()) && made_set.contains(t.as_str()) {
                fed.insert(t.as_str());
                feeding.insert(f.as_str());
            }
        }
        let firsts: Vec<String> = made
            .iter()
            .filter(|m| !fed.contains(m.as_str()))
            .cloned()
            .collect();
        let lasts: Vec<String> = made
            .iter()
            .filter(|m| !feeding.contains(m.as_str()))
            .cloned()
            .collect();
        let pending = self.build.as_mut().and_then(|b| b.effect.take());
        let span = self.span(self.core.at);
        if let Some(e) = pending {
            for m in &firsts {
                self.add_edge(&e, m, EdgeKind::Order, None, span);
            }
        }
        if let Some(id) = &effect {
            let previous = self
                .build
                .as_ref()
                .map(|b| b.last_made.clone())
                .unwrap_or_default();
            for m in previous {
                self.add_edge(&m, id, EdgeKind::Order, None, span);
            }
        }
        if let Some(b) = self.build.as_mut() {
            b.effect = effect;
            b.last_made = lasts;
        }
    }

    /// The names a statement reads (its value's, and an augmented target's), in order, once each.
    fn reads_of(&self, stmt: &'s Stmt) -> Vec<&'s str> {
        let mut out: Vec<&'s str> = Vec::new();
        let mut seen = HashSet::new();
        let mut add = |name: &'s str| {
            if seen.insert(name) {
                out.push(name);
            }
        };
        if let Stmt::AugAssign(a) = stmt
            && let Expr::Name(n) = &*a.target
        {
            add(n.id.as_str());
        }
        let value: Option<&'s Expr> = match stmt {
            Stmt::Expr(e) => Some(&e.value),
            Stmt::Assign(a) => Some(&a.value),
            Stmt::AnnAssign(a) => a.value.as_deref(),
            Stmt::AugAssign(a) => Some(&a.value),
            _ => None,
        };
        let mut names: Vec<&'s str> = Vec::new();
        match (stmt, value) {
            (_, Some(v)) => load_names(v, &mut names),
            (other, None) => {
                crate::python::visit::each_expr(std::slice::from_ref(other), &mut |e| {
                    if let Expr::Name(n) = e
                        && matches!(n.ctx, ast::ExprContext::Load)
                    {
                        names.push(n.id.as_str());
                    }
                })
            }
        }
        for n in names {
            add(n);
        }
        out
    }

    /// What a name stands for in the flow body now.
    fn read_of(&self, name: &str) -> Read<'s> {
        let local = self
            .core
            .scopes
            .iter()
            .skip(1)
            .rev()
            .find_map(|s| s.get(name));
        let defined = self
            .build
            .as_ref()
            .and_then(|b| b.definitions.get(name).copied());
        let is_param = self.build.as_ref().is_some_and(|b| {
            self.pipelines[b.pipeline]
                .params
                .iter()
                .any(|p| p.name == name)
        });
        match local {
            None => match defined {
                Some(s) => Read::Defined(s),
                None => Read::Outside,
            },
            Some(obj) => {
                let refs = obj.refs();
                if !refs.is_empty() {
                    return Read::Runs(refs);
                }
                match obj {
                    Obj::Value(Value::Expr(e)) if e == name && is_param => {
                        Read::Arg(Value::Expr(name.to_string()))
                    }
                    // Plain data is passed as it is now; a call (`get_run_logger()`,
                    // `timedelta(…)`) is made again by its definition.
                    Obj::Value(v) if v.is_literal() && !matches!(v, Value::Call(_)) => {
                        Read::Arg(v.clone())
                    }
                    Obj::Value(v @ Value::Call(_)) if defined.is_none() && v.is_literal() => {
                        Read::Arg(v.clone())
                    }
                    _ => match defined {
                        Some(s) => Read::Defined(s),
                        None => Read::Unknown,
                    },
                }
            }
        }
    }

    /// The parameters, edges, arguments and carried definitions of the step a statement becomes.
    fn generated(&self, stmt: &'s Stmt, reads: &[&'s str]) -> Result<Generated<'s>, String> {
        let mut g = Generated {
            params: Vec::new(),
            edges: Vec::new(),
            args: BTreeMap::new(),
            definitions: Vec::new(),
        };
        let mut seen: HashSet<&str> = HashSet::new();
        let mut todo: Vec<(&'s str, usize)> = reads.iter().rev().map(|n| (*n, 0)).collect();
        while let Some((name, depth)) = todo.pop() {
            if !seen.insert(name) {
                continue;
            }
            match self.read_of(name) {
                Read::Runs(refs) => {
                    g.params.push(name.to_string());
                    g.edges.push((name.to_string(), refs));
                }
                Read::Arg(v) => {
                    g.params.push(name.to_string());
                    g.args.insert(name.to_string(), v);
                }
                Read::Defined(def) => {
                    if std::ptr::eq(def, stmt) {
                        continue;
                    }
                    if depth >= MAX_DEFINITION_DEPTH || g.definitions.len() >= MAX_DEFINITIONS {
                        return Err(format!(
                            "the locals it reads (`{name}`) are defined too deep or too many to carry into a step"
                        ));
                    }
                    if !g.definitions.iter().any(|d| std::ptr::eq(*d, def)) {
                        g.definitions.push(def);
                        // A nested `def` reads its own names; other definitions are followed.
                        if !matches!(def, Stmt::FunctionDef(_)) {
                            for n in self.reads_of(def).into_iter().rev() {
                                todo.push((n, depth + 1));
                            }
                        }
                    }
                }
                Read::Unknown => {
                    return Err(format!(
                        "it reads `{name}`, a local of the flow that orchmig cannot carry into a step"
                    ));
                }
                Read::Outside => {}
            }
        }
        g.definitions.sort_by_key(|d| d.range().start());
        Ok(g)
    }

    /// Adds the generated step of a statement and returns its id.
    fn flow_code_node(
        &mut self,
        stmt: &'s Stmt,
        value: &'s Expr,
        names: &[&'s str],
        g: Generated<'s>,
    ) -> String {
        let span = self.span(stmt.range());
        let id = self.generated_id(stmt, value, names);
        let mut body: Vec<String> = g
            .definitions
            .iter()
            .map(|d| {
                statement_text(self.ctx.src, d.range())
                    .trim_end()
                    .to_string()
            })
            .collect();
        body.push(
            statement_text(self.ctx.src, stmt.range())
                .trim_end()
                .to_string(),
        );
        if let Some(first) = names.first() {
            body.push(format!("return {first}"));
        }
        let mut is_async = false;
        for s in g.definitions.iter().copied().chain(std::iter::once(stmt)) {
            crate::python::visit::each_expr(std::slice::from_ref(s), &mut |e| {
                is_async |= matches!(e, Expr::Await(_));
            });
        }
        let mut node = Node::new(id.clone(), NodeKind::Task, span);
        node.flavor = Some(FLOW_CODE.into());
        node.callable = Some(Callable {
            name: id.clone(),
            params: g
                .params
                .iter()
                .map(|p| CallableParam {
                    name: p.clone(),
                    annotation: None,
                    default: None,
                })
                .collect(),
            returns: None,
            decorators: Vec::new(),
            is_async,
            body: body.join("\n"),
            body_span: span,
            span,
        });
        node.args = g.args;
        self.place(&mut node);
        self.push_node(node);
        let edges_before = self.edge_count();
        for (param, refs) in g.edges {
            for r in refs {
                self.add_edge(&r, &id, EdgeKind::Data, Some(param.clone()), span);
            }
        }
        self.wait_for_control(&id, span);
        self.follow_raising(&id, true, edges_before);
        id
    }

    /// The id of a generated step: the name it assigns, else its callee's (`logger.info` →
    /// `logger_info`), with `_step` when that is a name its code or the module uses (so the
    /// function written for it shadows nothing), and `_2`, `_3`, … when a step has it already.
    fn generated_id(&self, stmt: &'s Stmt, value: &'s Expr, names: &[&'s str]) -> String {
        let base = match names.first() {
            Some(n) => n.to_string(),
            None => callee_name(value).unwrap_or_else(|| "flow_code".into()),
        };
        let mut used: Vec<&str> = Vec::new();
        crate::python::visit::each_expr(std::slice::from_ref(stmt), &mut |e| {
            if let Expr::Name(n) = e
                && matches!(n.ctx, ast::ExprContext::Load)
            {
                used.push(n.id.as_str());
            }
        });
        let clashes = |name: &str| {
            used.contains(&name)
                || crate::python::is_builtin(name)
                || self
                    .core
                    .scopes
                    .first()
                    .is_some_and(|m| m.contains_key(name))
                || self.ctx.imports.get(name).is_some()
                || self.pipelines.iter().any(|p| p.id == name)
        };
        let base = if clashes(&base) {
            format!("{base}_step")
        } else {
            base
        };
        let taken = |id: &str| {
            self.build
                .as_ref()
                .is_some_and(|b| b.taken.contains(id) || b.calls.contains_key(id))
        };
        if !taken(&base) {
            return base;
        }
        let mut k = 2usize;
        loop {
            let id = format!("{base}_{k}");
            if !taken(&id) && !clashes(&id) {
                return id;
            }
            k += 1;
        }
    }

    /// Whether an expression only routes runs' values (names, `.result()`, collections of them,
    /// Prefect's `wait`/`as_completed`, list plumbing) rather than computing on them. With
    /// `made`, a call of a local helper (which started runs) routes too.
    fn routes(&self, e: &'s Expr, made: bool) -> bool {
        let all = |es: &mut dyn Iterator<Item = &'s Expr>| {
            let mut ok = true;
            for x in es {
                ok &= self.routes(x, made);
            }
            ok
        };
        match e {
            Expr::Name(_) => true,
            e if e.is_literal_expr() => true,
            Expr::Await(a) => self.routes(&a.value, made),
            Expr::Starred(s) => self.routes(&s.value, made),
            Expr::List(l) => all(&mut l.elts.iter()),
            Expr::Tuple(t) => all(&mut t.elts.iter()),
            Expr::Set(s) => all(&mut s.elts.iter()),
            Expr::Dict(d) => all(&mut d
                .items
                .iter()
                .flat_map(|i| i.key.iter().chain(std::iter::once(&i.value)))),
            Expr::ListComp(c) => {
                self.routes(&c.elt, made) && self.generators_route(&c.generators, made)
            }
            Expr::SetComp(c) => {
                self.routes(&c.elt, made) && self.generators_route(&c.generators, made)
            }
            Expr::Generator(c) => {
                self.routes(&c.elt, made) && self.generators_route(&c.generators, made)
            }
            Expr::Attribute(a) if a.attr.as_str() == "state" => self.routes(&a.value, made),
            Expr::Subscript(s) => matches!(&*s.value, Expr::Name(n)
                if matches!(self.lookup(n.id.as_str()), Some(Obj::Keyed(_)))),
            Expr::Call(c) => self.routing_call(c, made),
            _ => false,
        }
    }

    /// Whether a comprehension's generators only route: their iterables route and they filter
    /// nothing (an `if` computes on the values).
    fn generators_route(&self, gens: &'s [ast::Comprehension], made: bool) -> bool {
        gens.iter()
            .all(|g| g.ifs.is_empty() && self.routes(&g.iter, made))
    }

    fn routing_call(&self, c: &'s ast::ExprCall, made: bool) -> bool {
        let args_route = || {
            c.arguments
                .args
                .iter()
                .chain(c.arguments.keywords.iter().map(|k| &k.value))
                .all(|a| self.routes(a, made))
        };
        // `t.with_options(...)(x)`: a run.
        if let Expr::Call(_) = &*c.func {
            return made;
        }
        if let Expr::Attribute(a) = &*c.func {
            match a.attr.as_str() {
                "result" | "wait" => return self.routes(&a.value, made),
                "submit" | "map" => return true,
                "fn" => return made,
                "values" => {
                    return matches!(&*a.value, Expr::Name(n)
                        if matches!(self.lookup(n.id.as_str()), Some(Obj::Keyed(_))));
                }
                "append" | "extend" | "add" | "insert" => return args_route(),
                _ => {}
            }
        }
        match self.symbol(&c.func) {
            Some(Symbol::Wait | Symbol::AsCompleted | Symbol::Unmapped | Symbol::AllowFailure) => {
                return args_route();
            }
            Some(Symbol::Quote) => return true,
            _ => {}
        }
        if self.ctx.imports.qualify(&c.func).as_deref() == Some("asyncio.gather") {
            return args_route();
        }
        match &*c.func {
            Expr::Name(n) => match self.lookup(n.id.as_str()) {
                Some(Obj::TaskFn(_) | Obj::FlowFn(_)) => true,
                Some(Obj::LocalFn(_)) => made,
                _ => false,
            },
            _ => false,
        }
    }

    /// A call of Prefect's own API (artifacts, pauses, run_deployment, the logger): flow
    /// plumbing the reader records elsewhere, not a generated step.
    fn framework_call(&self, e: &'s Expr) -> bool {
        match e {
            Expr::Await(a) => self.framework_call(&a.value),
            Expr::Call(c) => self.symbol(&c.func).is_some(),
            _ => false,
        }
    }

    /// After every flow is read: each call of a sub-flow that calls no task or sub-flow (only
    /// its own code) is one step that runs the sub-flow's function, not an empty group, and the
    /// flow's own pipeline is that one step.
    pub(super) fn sub_flow_steps(&mut self) {
        let task_less: HashSet<String> = self
            .pipelines
            .iter()
            .filter(|p| {
                p.nodes
                    .iter()
                    .all(|n| n.flavor.as_deref() == Some(FLOW_CODE))
            })
            .map(|p| p.id.clone())
            .collect();
        for p in &mut self.pipelines {
            let mut dropped: Vec<String> = Vec::new();
            for n in &mut p.nodes {
                if n.kind != NodeKind::SubPipeline {
                    continue;
                }
                let Some(child) = n.extra.get("pipeline").and_then(Value::as_str) else {
                    continue;
                };
                if child == p.id || !task_less.contains(child) || n.callable.is_none() {
                    continue;
                }
                n.kind = NodeKind::Task;
                n.flavor = Some(SUB_FLOW_STEP.into());
                if n.group.as_deref() == Some(n.id.as_str()) {
                    n.group = None;
                    dropped.push(n.id.clone());
                }
            }
            p.groups
                .retain(|g| !(g.kind == GroupKind::SubFlow && dropped.contains(&g.id)));
        }
        // Such a flow, run on its own, is that one step too: its whole body (so a port of it is
        // not an empty pipeline), its parameters the run's.
        for flow in self.flows.clone() {
            let Some(p) = self.pipelines.get_mut(flow.pipeline) else {
                continue;
            };
            // A flow that does nothing (`pass`, a docstring) has no step to run.
            let does_something = flow.def.body.iter().any(|st| match st {
                Stmt::Pass(_) => false,
                Stmt::Expr(e) => {
                    !(e.value.is_string_literal_expr() || e.value.is_ellipsis_literal_expr())
                }
                _ => true,
            });
            if !task_less.contains(&p.id) || !does_something {
                continue;
            }
            let mut node = Node::new(flow.def.name, NodeKind::Task, p.span);
            node.flavor = Some(FLOW_CODE.into());
            node.callable = Some(flow.def.to_callable(self.ctx.src));
            node.args = p
                .params
                .iter()
                .map(|x| (x.name.clone(), Value::Expr(x.name.clone())))
                .collect();
            // The body raises what it raises: the step's failure is the flow's.
            p.flow_raises = [(node.id.clone(), crate::ir::Raise::Itself)].into();
            p.unordered_raises.clear();
            p.nodes = vec![node];
            p.edges.clear();
        }
    }
}

/// The names an expression loads, in order (a walrus or comprehension target is not loaded).
fn load_names<'s>(e: &'s Expr, out: &mut Vec<&'s str>) {
    crate::python::visit::expr(e, &mut |x| {
        if let Expr::Name(n) = x
            && matches!(n.ctx, ast::ExprContext::Load)
        {
            out.push(n.id.as_str());
        }
    });
}

/// The plain names an assignment target binds.
fn target_names(t: &Expr) -> Vec<String> {
    match t {
        Expr::Name(n) => vec![n.id.to_string()],
        Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
            elts.iter().flat_map(target_names).collect()
        }
        Expr::Starred(s) => target_names(&s.value),
        _ => Vec::new(),
    }
}

/// The callee of an expression statement as an identifier (`logger.info(…)` → `logger_info`).
fn callee_name(e: &Expr) -> Option<String> {
    let mut e = e;
    while let Expr::Await(a) = e {
        e = &a.value;
    }
    let Expr::Call(c) = e else { return None };
    let mut parts = Vec::new();
    let mut f = &*c.func;
    loop {
        match f {
            Expr::Name(n) => {
                parts.push(n.id.as_str());
                break;
            }
            Expr::Attribute(a) => {
                parts.push(a.attr.as_str());
                f = &a.value;
            }
            _ => return None,
        }
        if parts.len() > 4 {
            return None;
        }
    }
    parts.reverse();
    let name = parts.join("_");
    crate::ir::is_node_id(&name).then_some(name)
}

/// A statement's text shortened for a message (its first line, at most 80 characters).
fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let mut out: String = line.chars().take(80).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}
