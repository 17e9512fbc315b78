//! A step's call in a flow: its arguments (inputs, `wait_for`, rendered templates, params,
//! the partition key), its name and its options.

use std::collections::{HashMap, HashSet};

use crate::emit::module::Imports;
use crate::emit::plan::{Plan, Source, Step};
use crate::emit::rewrite::rewrite;
use crate::emit::{shared, template};
use crate::ir::{Framework, NodeKind, Partitions, Pipeline, SourceFile, Value};
use crate::python::print::{self as python, Expr, identifier};
use crate::report::{Anchor, Fidelity, Ledger, Translations};

/// Whether another pipeline of the file calls this one as a sub-flow.
pub(super) fn called_as_sub_flow(file: &SourceFile, p: &Pipeline) -> bool {
    file.pipelines.iter().any(|q| {
        q.nodes.iter().any(|n| {
            n.kind == NodeKind::SubPipeline
                && n.extra.get("pipeline").and_then(Value::as_str) == Some(p.id.as_str())
        })
    })
}

/// The step whose value a flow returns: the last written step that no other step reads or waits for.
pub(super) fn result_step(plan: &Plan, folded: &[bool]) -> Option<usize> {
    let read = |i: usize| {
        plan.steps.iter().any(|s| {
            s.after.contains(&i)
                || s.extra_upstreams.contains(&i)
                || s.inputs.iter().any(|input| match &input.source {
                    Source::Step(j) => *j == i,
                    Source::Steps(js) => js.contains(&i),
                    _ => false,
                })
        })
    };
    (0..plan.steps.len())
        .rev()
        .find(|&i| !folded[i] && !read(i))
}

/// A step that runs an async task (not a sub-flow, not mapped).
pub(super) fn async_task(step: &Step) -> bool {
    step.node.kind != NodeKind::SubPipeline
        && step.node.mapping.is_none()
        && step.node.callable.as_ref().is_some_and(|c| c.is_async)
}

/// The keyword arguments of `with_options(...)` that turn the `base` options into `own`
/// (a retry count the base has and the call does not is reset to 0).
pub(super) fn overrides(base: &[Expr], own: &[Expr]) -> Vec<Expr> {
    let key = |e: &Expr| match e {
        Expr::Keyword(k, _) => Some(k.clone()),
        _ => None,
    };
    let mut out: Vec<Expr> = own.iter().filter(|e| !base.contains(e)).cloned().collect();
    for b in base {
        if let Some(k) = key(b)
            && k == "retries"
            && !own.iter().any(|e| key(e).as_deref() == Some("retries"))
        {
            out.push(Expr::kw("retries", Expr::raw("0")));
        }
    }
    out
}

/// A flow's retry boundary as `@flow` / `with_options` keyword arguments.
pub(super) fn flow_policy(p: &crate::ir::Policy) -> Vec<Expr> {
    let mut kw = Vec::new();
    if let Some(r) = p.retries {
        kw.push(Expr::kw("retries", Expr::raw(r.to_string())));
        if let Some(d) = p.retry_delay {
            kw.push(Expr::kw("retry_delay_seconds", shared::seconds(d)));
        }
    }
    if let Some(t) = p.timeout {
        kw.push(Expr::kw("timeout_seconds", shared::seconds(t)));
    }
    kw
}

/// The name a call needs in `with_options(name=…)` so that reading it back gives the node id:
/// none when a plain call of `func` gets that id (`func`, `func-2`, … in call order).
pub(super) fn call_name(
    calls: &mut HashMap<String, usize>,
    func: &str,
    id: &str,
) -> Option<String> {
    let next = |calls: &HashMap<String, usize>, base: &str| {
        let n = calls.get(base).copied().unwrap_or(0) + 1;
        if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        }
    };
    if next(calls, func) == id || !crate::ir::is_node_id(id) {
        *calls.entry(func.to_string()).or_insert(0) += 1;
        return None;
    }
    // `x-3` is the third call named `x` when two came before.
    let base = id
        .rsplit_once('-')
        .filter(|(b, n)| n.parse::<usize>().is_ok() && next(calls, b) == id)
        .map_or(id, |(b, _)| b)
        .to_string();
    *calls.entry(base.clone()).or_insert(0) += 1;
    Some(base)
}

/// Imports `unmapped` when a mapped call's arguments use it.
pub(super) fn imports_unmapped(imports: &mut Imports, args: &[Expr]) {
    if args.iter().any(|a| a.flat().contains("unmapped(")) {
        imports.name("prefect", "unmapped");
    }
}

/// The flow parameter that carries the partition key, if the pipeline is partitioned.
pub(super) fn partition_param(p: &Pipeline) -> Option<String> {
    match &p.partitions {
        Some(Partitions::Parameter { name }) => Some(name.clone()),
        Some(_) => Some("partition_key".into()),
        None => p
            .nodes
            .iter()
            .any(|n| n.partitions.is_some())
            .then(|| "partition_key".into()),
    }
}

/// Whether a step's body reads the partition key (it is then passed the flow's partition
/// parameter).
pub(super) fn needs_partition(step: &Step, from: Framework) -> bool {
    step.node
        .callable
        .as_ref()
        .is_some_and(|c| rewrite(&c.body, from, Framework::Prefect).partition_key)
}

/// The call arguments of a step inside the flow body.
pub(super) fn call_args(plan: &Plan, step: &Step, folded: &[bool], mapped: bool) -> Vec<Expr> {
    let mut args = Vec::new();
    let mut named_waits: Vec<usize> = Vec::new();
    for input in &step.inputs {
        // An external asset is not a step: its value is not passed (as in an Airflow port).
        let var = |i: usize| {
            if plan.steps[i].node.kind == NodeKind::ExternalAsset {
                Expr::raw("None")
            } else {
                Expr::raw(plan.steps[i].var.clone())
            }
        };
        let value = match &input.source {
            Source::Step(i) => var(*i),
            Source::Steps(list) => Expr::List(list.iter().map(|i| var(*i)).collect()),
            Source::Literal(v) => python::value(v),
            Source::Param(name) => Expr::raw(identifier(name)),
        };
        // A future cannot be indexed: a named output is read from the upstream's result, and the
        // upstream is waited for so that Prefect still records the dependency.
        let value = match (&input.output, &input.source) {
            (Some(_), Source::Step(i)) if !folded[*i] => {
                named_waits.push(*i);
                input.select(Expr::raw(format!("{}.result()", plan.steps[*i].var)))
            }
            _ => input.select(value),
        };
        let value = if mapped && !input.mapped {
            Expr::call("unmapped", vec![value])
        } else {
            value
        };
        if input.param.is_empty() {
            args.insert(0, value);
        } else {
            args.push(Expr::kw(&input.param, value));
        }
    }
    let mut waits: Vec<usize> = named_waits;
    for &a in step.after.iter().chain(&step.extra_upstreams) {
        collect_waits(plan, a, folded, &mut waits);
    }
    waits.sort_unstable();
    waits.dedup();
    if !waits.is_empty() {
        args.push(Expr::kw(
            "wait_for",
            Expr::List(
                waits
                    .iter()
                    .map(|&w| Expr::raw(plan.steps[w].var.clone()))
                    .collect(),
            ),
        ));
    }
    args
}

/// A step's upstream as `wait_for` sees it: folded steps are replaced by their own upstreams
/// (iteratively, each step once: chains and diamonds of folded steps come from input).
fn collect_waits(plan: &Plan, i: usize, folded: &[bool], out: &mut Vec<usize>) {
    let mut todo = vec![i];
    let mut seen: HashSet<usize> = HashSet::new();
    while let Some(i) = todo.pop() {
        if !seen.insert(i) {
            continue;
        }
        if !folded[i] {
            out.push(i);
            continue;
        }
        let s = &plan.steps[i];
        todo.extend(s.after.iter().chain(&s.extra_upstreams));
        for input in &s.inputs {
            match &input.source {
                Source::Step(j) => todo.push(*j),
                Source::Steps(js) => todo.extend(js),
                _ => {}
            }
        }
    }
}

/// A templated shell step's call passes the upstream values and flow parameters its command
/// reads (the upstreams it takes a value from are no longer only waited for).
pub(super) fn template_args(plan: &Plan, step: &Step, args: &mut Vec<Expr>) {
    let Some(r) = template::shell_command(plan, step, &|n| identifier(n)) else {
        return;
    };
    let ups = template::upstream_steps(plan, &r);
    let mut values: Vec<Expr> = ups
        .iter()
        .map(|(func, j)| Expr::kw(func, Expr::raw(plan.steps[*j].var.clone())))
        .collect();
    for name in template::params(&r) {
        values.push(Expr::kw(&identifier(&name), Expr::raw(identifier(&name))));
    }
    // Before `wait_for`, which stays the last argument.
    let at = args
        .iter()
        .position(|a| matches!(a, Expr::Keyword(k, _) if k == "wait_for"))
        .unwrap_or(args.len());
    args.splice(at..at, values);
    let taken: Vec<String> = ups
        .iter()
        .map(|(_, j)| plan.steps[*j].var.clone())
        .collect();
    args.retain_mut(|a| match a {
        Expr::Keyword(k, v) if k == "wait_for" => {
            if let Expr::List(items) = v.as_mut() {
                items.retain(|e| !taken.contains(&e.flat()));
                !items.is_empty()
            } else {
                true
            }
        }
        _ => true,
    });
}

/// An Airflow callable's `params` argument (the DAG's run parameters) gets them as a dict of the
/// flow's parameters.
pub(super) fn params_arg(
    flow: &str,
    p: &Pipeline,
    step: &Step,
    args: &mut Vec<Expr>,
    ledger: &mut Ledger,
    table: &Translations,
) {
    let takes = step
        .node
        .callable
        .as_ref()
        .is_some_and(|c| c.params.iter().any(|x| x.name == "params"));
    if p.framework != Some(Framework::Airflow)
        || p.params.is_empty()
        || !takes
        || args
            .iter()
            .any(|a| matches!(a, Expr::Keyword(k, _) if k == "params"))
    {
        return;
    }
    let dict = p
        .params
        .iter()
        .map(|x| (Expr::str(&x.name), Expr::raw(identifier(&x.name))))
        .collect();
    args.push(Expr::kw("params", Expr::Dict(dict)));
    let n = step.node;
    ledger.consume_as(
        table,
        "body.context",
        &n.id,
        n.span,
        Anchor::body(flow, step.func.as_str()).then("params="),
        Fidelity::Approximate,
        "Airflow's `params` is passed as a dict of the flow's parameters".into(),
    );
}
