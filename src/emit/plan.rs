//! A pipeline prepared for writing: steps in dependency order with their inputs resolved.

use std::collections::{BTreeMap, HashMap};

use crate::ir::{EdgeKind, Framework, Node, Pipeline, Value};

use crate::python::print::identifier;

/// Where a step input comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The output of another step (its index in `Plan::steps`).
    Step(usize),
    /// A literal value.
    Literal(Value),
    /// A pipeline parameter of that name.
    Param(String),
    /// A list of several steps' outputs (`rollup([a, b, c])`).
    Steps(Vec<usize>),
}

/// One argument of a step's call.
#[derive(Debug, Clone)]
pub struct Input {
    /// The callee's parameter name (empty for the first positional).
    pub param: String,
    /// Where the value comes from.
    pub source: Source,
    /// Mapped over (one call per element).
    pub mapped: bool,
    /// The named output of the upstream step it reads, when that step has several.
    pub output: Option<String>,
}

impl Input {
    /// Wraps the expression of its upstream's value in the key of the named output it reads
    /// (`split_out["domestic"]`), when it reads one.
    pub fn select(&self, value: crate::python::print::Expr) -> crate::python::print::Expr {
        match (&self.output, &self.source) {
            (Some(name), Source::Step(_)) => crate::python::print::Expr::raw(format!(
                "{}[{}]",
                value.flat(),
                crate::python::print::Expr::str(name).flat()
            )),
            _ => value,
        }
    }
}

/// One step to write.
#[derive(Debug, Clone)]
pub struct Step<'p> {
    /// The IR node.
    pub node: &'p Node,
    /// The Python function name for it (unique in the module).
    pub func: String,
    /// Variable holding its result in the pipeline body.
    pub var: String,
    /// Call inputs.
    pub inputs: Vec<Input>,
    /// Steps it must wait for without taking their value.
    pub after: Vec<usize>,
    /// Data upstreams whose edge param names no parameter of the callable.
    pub extra_upstreams: Vec<usize>,
    /// True for the first step of a callable: it defines the function, later calls reuse it.
    pub defines: bool,
    /// The trigger rule to write: the node's own, or one a writer's lowering sets (an Airflow
    /// port's `none_failed` below a gate).
    pub trigger_rule: Option<String>,
    /// Parameters bound in the body instead of passed by the caller, with the statement that
    /// binds each (`logger = get_run_logger()`: a run logger cannot travel as an argument).
    pub body_locals: Vec<(String, String)>,
    /// Statements a writer runs first in the body, before anything else (an Airflow port's
    /// skip when an optional output the step reads was not produced).
    pub body_prelude: Vec<String>,
}

/// The steps of a pipeline in dependency order.
#[derive(Debug, Clone)]
pub struct Plan<'p> {
    /// The pipeline.
    pub pipeline: &'p Pipeline,
    /// Steps, upstream first.
    pub steps: Vec<Step<'p>>,
}

impl Plan<'_> {
    /// Moves run-logger arguments (`load(rows, get_run_logger())` in a Prefect flow) into the
    /// step's body for another target, where the body's rewriting gives it the target's logger:
    /// a logger is no value an Airflow DAG or a Dagster asset can be passed.
    pub fn bind_run_loggers(&mut self, to: Framework) {
        if to == Framework::Prefect {
            return;
        }
        for s in &mut self.steps {
            let Some(c) = &s.node.callable else { continue };
            s.inputs.retain(|i| {
                let logger = matches!(&i.source, Source::Literal(Value::Call(call))
                    if call.func == "get_run_logger" || call.func.ends_with(".get_run_logger"))
                    && c.params.iter().any(|p| p.name == i.param);
                if logger {
                    s.body_locals
                        .push((i.param.clone(), format!("{} = get_run_logger()", i.param)));
                }
                !logger
            });
        }
    }
}

impl<'p> Plan<'p> {
    /// Orders the nodes (source order on cycles) and resolves inputs; `taken` holds function
    /// names already used in the module and is updated.
    pub fn new(p: &'p Pipeline, names: &mut Names) -> Plan<'p> {
        Plan::in_order(p, names, source_order_topo(p))
    }

    /// The plan of `p` with its steps in `order` (a topological order of its nodes' indexes).
    pub fn in_order(p: &'p Pipeline, names: &mut Names, order: Vec<usize>) -> Plan<'p> {
        let mut index_of: HashMap<&str, usize> = HashMap::new();
        let mut steps: Vec<Step<'p>> = Vec::new();
        for &i in &order {
            let node = &p.nodes[i];
            if index_of.contains_key(node.id.as_str()) {
                continue;
            }
            // One function per callable: a task called at several places is defined once (a step
            // without one, an external asset, is the same step wherever its definition is read).
            let key = match &node.callable {
                Some(c) => Some((c.name.clone(), c.span.start)),
                None if node.kind == crate::ir::NodeKind::ExternalAsset => {
                    Some((format!("#{}", node.id), node.span.start))
                }
                None => None,
            };
            let (func, defines) = match key.as_ref().and_then(|k| names.by_callable.get(k)) {
                Some(f) => (f.clone(), false),
                None => {
                    let base = node
                        .callable
                        .as_ref()
                        .map_or_else(|| identifier(&node.id), |c| identifier(&c.name));
                    let f = unique(&mut names.taken, &base);
                    if let Some(k) = key {
                        names.by_callable.insert(k, f.clone());
                    }
                    (f, true)
                }
            };
            let var = format!("{}_out", identifier(&node.id));
            index_of.insert(node.id.as_str(), steps.len());
            steps.push(Step {
                node,
                func,
                var,
                inputs: Vec::new(),
                after: Vec::new(),
                extra_upstreams: Vec::new(),
                defines,
                trigger_rule: node.trigger_rule.clone(),
                body_locals: Vec::new(),
                body_prelude: Vec::new(),
            });
        }
        // Inputs from edges.
        let params_of = |n: &Node| -> Vec<String> {
            n.callable
                .as_ref()
                .map(|c| c.params.iter().map(|p| p.name.clone()).collect())
                .unwrap_or_default()
        };
        let mut resolved: Vec<(usize, Input)> = Vec::new();
        let mut after: Vec<(usize, usize)> = Vec::new();
        let mut extra: Vec<(usize, usize)> = Vec::new();
        for e in &p.edges {
            let (Some(&from), Some(&to)) =
                (index_of.get(e.from.as_str()), index_of.get(e.to.as_str()))
            else {
                continue;
            };
            let node = steps[to].node;
            let mapped = node.mapping.as_ref().is_some_and(|m| {
                m.over
                    .iter()
                    .any(|a| a.from_node.as_deref() == Some(e.from.as_str()))
            });
            let params = params_of(node);
            match (e.kind, &e.param) {
                (EdgeKind::Data, Some(param)) if params.contains(param) => {
                    resolved.push((
                        to,
                        Input {
                            param: param.clone(),
                            source: Source::Step(from),
                            mapped,
                            output: e.output.clone(),
                        },
                    ));
                }
                (EdgeKind::Data, None) if mapped => {
                    let param = node
                        .mapping
                        .as_ref()
                        .and_then(|m| m.over.first())
                        .map(|a| a.param.clone())
                        .unwrap_or_default();
                    resolved.push((
                        to,
                        Input {
                            param,
                            source: Source::Step(from),
                            mapped,
                            output: e.output.clone(),
                        },
                    ));
                }
                (EdgeKind::Data, _) => extra.push((to, from)),
                (EdgeKind::Order, _) => after.push((to, from)),
            }
        }
        for (to, input) in resolved {
            match steps[to].inputs.iter_mut().find(|i| i.param == input.param) {
                // Several upstreams feed one parameter: the call passed them as a list.
                Some(existing) => match (&mut existing.source, input.source) {
                    (Source::Step(a), Source::Step(b)) if *a != b => {
                        existing.source = Source::Steps(vec![*a, b])
                    }
                    (Source::Steps(list), Source::Step(b)) if !list.contains(&b) => list.push(b),
                    _ => {}
                },
                None => steps[to].inputs.push(input),
            }
        }
        for (to, from) in after {
            if !steps[to].after.contains(&from) {
                steps[to].after.push(from);
            }
        }
        for (to, from) in extra {
            if !steps[to].extra_upstreams.contains(&from)
                && !steps[to]
                    .inputs
                    .iter()
                    .any(|i| i.source == Source::Step(from))
            {
                steps[to].extra_upstreams.push(from);
            }
        }
        // Literal mapped arguments and partial arguments.
        let param_names: Vec<String> = p.params.iter().map(|x| x.name.clone()).collect();
        for s in &mut steps {
            if let Some(m) = &s.node.mapping {
                // `expand_kwargs` over a literal list of dicts: one mapped argument per key.
                if m.kwargs
                    && let Some(Value::List(rows)) = m.over.first().and_then(|a| a.literal.as_ref())
                {
                    let mut columns: BTreeMap<String, Vec<Value>> = BTreeMap::new();
                    for row in rows {
                        if let Value::Dict(d) = row {
                            for (k, v) in d {
                                columns.entry(k.clone()).or_default().push(v.clone());
                            }
                        }
                    }
                    if columns.values().all(|c| c.len() == rows.len()) {
                        for (k, col) in columns {
                            s.inputs.push(Input {
                                param: k,
                                source: Source::Literal(Value::List(col)),
                                mapped: true,
                                output: None,
                            });
                        }
                    }
                }
                for a in m.over.iter().filter(|a| !(m.kwargs && a.param.is_empty())) {
                    if let Some(lit) = &a.literal
                        && !s.inputs.iter().any(|i| i.param == a.param)
                    {
                        s.inputs.push(Input {
                            param: a.param.clone(),
                            source: Source::Literal(lit.clone()),
                            mapped: true,
                            output: None,
                        });
                    }
                }
                for (k, v) in &m.partial {
                    if !s.inputs.iter().any(|i| &i.param == k) {
                        // `unmapped(day)`: a pipeline parameter, as for call arguments below.
                        let source = match v {
                            Value::Expr(e) if param_names.contains(e) => Source::Param(e.clone()),
                            other => Source::Literal(other.clone()),
                        };
                        s.inputs.push(Input {
                            param: k.clone(),
                            source,
                            mapped: false,
                            output: None,
                        });
                    }
                }
            }
            // Literal arguments of the call site.
            for (k, v) in &s.node.args {
                if !s.inputs.iter().any(|i| &i.param == k) {
                    // A pipeline parameter passed through by name is that parameter, not a literal.
                    let source = match v {
                        Value::Expr(e) if param_names.contains(e) => Source::Param(e.clone()),
                        other => Source::Literal(other.clone()),
                    };
                    s.inputs.push(Input {
                        param: k.clone(),
                        source,
                        mapped: false,
                        output: None,
                    });
                }
            }
            // A classic operator's `op_kwargs` / `op_args` are its callable's arguments (a
            // templated one is Airflow's to render, so it is not passed as a literal).
            if let Some(op) = &s.node.operator {
                let params = params_of(s.node);
                let mut given: Vec<(String, Value)> = Vec::new();
                if let Some(Value::Dict(kw)) = op.args.get("op_kwargs") {
                    given.extend(kw.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                if let Some(Value::List(items)) = op.args.get("op_args") {
                    given.extend(params.iter().cloned().zip(items.iter().cloned()));
                }
                for (k, v) in given {
                    if params.contains(&k)
                        && !v.is_templated()
                        && !matches!(v, Value::Expr(_))
                        && !s.inputs.iter().any(|i| i.param == k)
                    {
                        s.inputs.push(Input {
                            param: k,
                            source: Source::Literal(v),
                            mapped: false,
                            output: None,
                        });
                    }
                }
            }
            // Callable parameters named like a pipeline parameter take it.
            for prm in params_of(s.node) {
                if param_names.contains(&prm) && !s.inputs.iter().any(|i| i.param == prm) {
                    s.inputs.push(Input {
                        param: prm.clone(),
                        source: Source::Param(prm.clone()),
                        mapped: false,
                        output: None,
                    });
                }
            }
            // A required parameter nothing feeds gets None, so the call stays valid in every target.
            if let Some(c) = &s.node.callable {
                for prm in &c.params {
                    // Dagster binds resources by key: they are not inputs.
                    let special = prm.name.starts_with('*')
                        || matches!(prm.name.as_str(), "context" | "self" | "config")
                        || p.resources.iter().any(|r| r.key == prm.name);
                    let mapped =
                        s.node.mapping.as_ref().is_some_and(|m| {
                            m.kwargs || m.over.iter().any(|a| a.param == prm.name)
                        });
                    if prm.default.is_none()
                        && !special
                        && !mapped
                        && !s.inputs.iter().any(|i| i.param == prm.name)
                    {
                        s.inputs.push(Input {
                            param: prm.name.clone(),
                            source: Source::Literal(Value::None),
                            mapped: false,
                            output: None,
                        });
                    }
                }
            }
            let order: BTreeMap<String, usize> = params_of(s.node)
                .into_iter()
                .enumerate()
                .map(|(i, n)| (n, i))
                .collect();
            s.inputs
                .sort_by_key(|i| order.get(&i.param).copied().unwrap_or(usize::MAX));
        }
        Plan { pipeline: p, steps }
    }
}

/// The function names of one generated module: taken names, and the function of each callable
/// (a function shared by several pipelines of a file is defined once).
#[derive(Debug, Default)]
pub struct Names {
    /// Base name → times used.
    pub taken: HashMap<String, usize>,
    /// (callable name, source offset) → function name.
    pub by_callable: HashMap<(String, u32), String>,
}

/// Module-level names every generated module may bind whatever its target: the standard
/// modules and names the writers import, and the helpers of templates/common. A step, job or
/// schedule named like one of them would shadow it (`def dg(): …` breaks `dg.asset`).
const RESERVED_ANY: &[&str] = &[
    "datetime",
    "timedelta",
    "timezone",
    "functools",
    "itertools",
    "logging",
    "os",
    "subprocess",
    "pendulum",
    "SimpleNamespace",
    "json",
    "time",
    "defs",
    "_check_result",
    "_poke_result",
    "_partition_window",
    "_Output",
    "_output",
    "_dynamic_output",
    "_collect",
    "_runs_to_end",
    "_MultiPartitionKey",
    "_multi_partition_key",
    "_run_bash",
    "_Settings",
    "_concurrency",
    "_rate_limit",
    "_Unlimited",
    "_airflow_context",
    "_AirflowContext",
    "_dagster_context",
    "_DagsterContext",
    "_chosen",
];

/// The module-level names a target's writer imports (see `RESERVED_ANY` for the common ones).
fn reserved_for(framework: Framework) -> &'static [&'static str] {
    match framework {
        Framework::Airflow => &[
            "DAG",
            "dag",
            "task",
            "task_group",
            "TaskGroup",
            "Asset",
            "Param",
            "chain",
            "get_current_context",
            "BashOperator",
            "PythonOperator",
            "EmptyOperator",
            "TriggerDagRunOperator",
        ],
        Framework::Dagster => &["dg", "get_dagster_logger"],
        Framework::Prefect => &[
            "flow",
            "task",
            "serve",
            "unmapped",
            "get_run_logger",
            "flow_run",
            "Cron",
            "Interval",
            "RRule",
        ],
    }
}

impl Names {
    /// The names of a module written for `target` from `file`: the target's imports, the common
    /// helpers and every name the file's carried-over support code binds are taken from the start.
    pub fn for_module(target: Framework, file: &crate::ir::SourceFile) -> Names {
        let mut names = Names::default();
        // A module-level function that is itself a step's callable is written as that step.
        let callables: std::collections::HashSet<&str> = file
            .pipelines
            .iter()
            .flat_map(|p| &p.nodes)
            .filter_map(|n| n.callable.as_ref().map(|c| c.name.as_str()))
            .collect();
        let support = file
            .support
            .iter()
            .filter(|s| s.framework.is_none())
            .flat_map(|s| s.binds.iter().map(String::as_str))
            .filter(|b| !callables.contains(b));
        for name in RESERVED_ANY
            .iter()
            .chain(reserved_for(target))
            .copied()
            .chain(support)
        {
            names.taken.insert(name.to_string(), 1);
        }
        names
    }
}

/// A function name not taken yet in the module (`name`, `name_2`, …); the name returned is
/// taken from then on, so `a`, `a`, `a_2` give `a`, `a_2`, `a_2_2`.
pub fn unique(taken: &mut HashMap<String, usize>, base: &str) -> String {
    let n = taken.entry(base.to_string()).or_insert(0);
    *n += 1;
    if *n == 1 {
        return base.to_string();
    }
    let mut k = *n;
    loop {
        let candidate = format!("{base}_{k}");
        if !taken.contains_key(&candidate) {
            taken.insert(candidate.clone(), 1);
            taken.insert(base.to_string(), k);
            return candidate;
        }
        k += 1;
    }
}

/// A topological order that keeps source order wherever dependencies allow (Kahn's algorithm
/// with the smallest ready node first); on a cycle, the remaining nodes follow in source order.
/// The nodes of `p` upstream first, each step that maps over another step's result, and
/// everything below it, after the rest: a Prefect flow resolves a mapped iterable in its body,
/// so when the step that makes it failed the flow raises there and submits nothing after it,
/// while the source runs every step that does not depend on it.
pub fn maps_last(p: &Pipeline) -> Vec<usize> {
    let order = source_order_topo(p);
    let index = p.node_index();
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); p.nodes.len()];
    for e in &p.edges {
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
            down[a].push(b);
        }
    }
    let mut late = vec![false; p.nodes.len()];
    let mut todo: Vec<usize> = (0..p.nodes.len())
        .filter(|&i| {
            p.nodes[i]
                .mapping
                .as_ref()
                .is_some_and(|m| m.over.iter().any(|a| a.from_node.is_some()))
        })
        .collect();
    for &i in &todo {
        late[i] = true;
    }
    while let Some(i) = todo.pop() {
        for &d in &down[i] {
            if !late[d] {
                late[d] = true;
                todo.push(d);
            }
        }
    }
    let (early, after): (Vec<usize>, Vec<usize>) = order.into_iter().partition(|&i| !late[i]);
    early.into_iter().chain(after).collect()
}

fn source_order_topo(p: &Pipeline) -> Vec<usize> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let index = p.node_index();
    let mut indegree = vec![0usize; p.nodes.len()];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); p.nodes.len()];
    for e in &p.edges {
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str()))
            && a != b
        {
            down[a].push(b);
            indegree[b] += 1;
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..p.nodes.len())
        .filter(|&i| indegree[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(p.nodes.len());
    let mut done = vec![false; p.nodes.len()];
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        done[i] = true;
        for &d in &down[i] {
            indegree[d] -= 1;
            if indegree[d] == 0 {
                ready.push(Reverse(d));
            }
        }
    }
    order.extend((0..p.nodes.len()).filter(|&i| !done[i]));
    order
}

#[cfg(test)]
mod tests {
    use super::maps_last;
    use crate::frontend::read_source;

    #[test]
    fn a_map_over_a_step_result_and_what_it_feeds_come_after_the_other_steps() {
        let src = "from airflow.sdk import dag, task\n@dag(schedule=None)\ndef d():\n    @task\n    def ids(): return [1]\n    @task\n    def each(i): return i\n    @task\n    def total(xs): return sum(xs)\n    @task\n    def other(): return 0\n    @task\n    def later(x): return x\n    total(each.expand(i=ids()))\n    later(other())\nd()\n";
        let p = &read_source("d.py", src).pipelines[0];
        let order: Vec<&str> = maps_last(p)
            .into_iter()
            .map(|i| p.nodes[i].id.as_str())
            .collect();
        assert_eq!(order, ["ids", "other", "later", "each", "total"]);
    }
}
