//! The statement that creates a step in the dag body: a task call (mapped, overridden), a
//! classic operator, or a `TriggerDagRunOperator` for a sub-pipeline.

use super::asset::AssetConsts;
use super::input::{chain_call, input_expr};
use super::names::{airflow_key, task_label};
use super::operator::operator_call;
use crate::emit::module::Imports;
use crate::emit::plan::{Input, Plan, Source, Step};
use crate::emit::{Target, shared};
use crate::ir::Node;
use crate::ir::{Framework, NodeKind, Pipeline, SourceFile, Value};
use crate::python::print::{self as python, Expr};
use crate::report::{Ledger, Translations};

/// Whether an input reads an optional output of its upstream step (a Dagster
/// `Out(is_required=False)`), which the task receives as the upstream's whole dict.
fn reads_optional(plan: &Plan, input: &Input) -> bool {
    match (&input.output, &input.source) {
        (Some(o), Source::Step(i)) => plan.steps[*i].node.optional_outputs.contains(o),
        _ => false,
    }
}

/// The first statements of a task that reads optional outputs (from its inputs): for each,
/// skip the task when the upstream's dict lacks it (Airflow then skips what is below it), else
/// take its value.
pub(super) fn optional_skips(
    plan: &Plan,
    step: &Step,
    target: Target,
    imports: &mut Imports,
) -> Vec<String> {
    let mut out = Vec::new();
    for input in step
        .inputs
        .iter()
        .filter(|i| !i.param.is_empty() && reads_optional(plan, i))
    {
        let (Source::Step(u), Some(output)) = (&input.source, &input.output) else {
            continue;
        };
        let param = &input.param;
        let why = format!(
            "`{}` did not produce its output `{output}`",
            plan.steps[*u].node.id
        );
        // Wrapped as ruff wraps it in the task (at 8 columns), continuation lines relative to
        // the body, which the writer indents.
        let raise = Expr::call("AirflowSkipException", vec![Expr::str(&why)])
            .format_lead(8, "raise ".len(), 0)
            .replace("\n    ", "\n");
        out.push(format!(
            "if {} not in {param}:\n    raise {raise}",
            python::string(output),
        ));
        out.push(format!("{param} = {param}[{}]", python::string(output)));
    }
    if !out.is_empty() {
        let module = if target.version >= 3 {
            "airflow.sdk.exceptions"
        } else {
            "airflow.exceptions"
        };
        imports.name(module, "AirflowSkipException");
    }
    out
}

/// The statement that creates a step in the dag body; `None` for steps that are not written.
#[allow(clippy::too_many_arguments)]
pub(super) fn step_statement(
    dag: &str,
    file: &SourceFile,
    p: &Pipeline,
    plan: &Plan,
    step: &Step,
    overrides: &[Expr],
    target: Target,
    assets: &AssetConsts,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
) -> Option<Expr> {
    let n = step.node;
    let from = p.framework.unwrap_or(Framework::Airflow);
    let label = task_label(p, step);
    if n.kind == NodeKind::ExternalAsset {
        return None;
    }
    if n.kind == NodeKind::SubPipeline {
        return Some(trigger_dag_run(file, n, &label, imports));
    }
    if let Some(op) = &n.operator {
        let call = operator_call(
            dag, plan, step, op, &label, target, assets, imports, ledger, table,
        );
        return Some(call);
    }
    n.callable.as_ref()?;
    Some(task_call(p, plan, step, overrides, &label, from))
}

/// A sub-pipeline's call: a `TriggerDagRunOperator` of the called pipeline's DAG that waits for
/// its run.
fn trigger_dag_run(file: &SourceFile, n: &Node, label: &str, imports: &mut Imports) -> Expr {
    imports.name(
        "airflow.providers.standard.operators.trigger_dagrun",
        "TriggerDagRunOperator",
    );
    let callee = n
        .extra
        .get("pipeline")
        .and_then(Value::as_str)
        .unwrap_or(&n.id);
    // The called pipeline's DAG id, as its own DAG is written.
    let dag_id = file
        .pipelines
        .iter()
        .find(|q| q.id == callee)
        .map_or_else(|| callee.to_string(), |q| airflow_key(shared::run_name(q)));
    Expr::call(
        "TriggerDagRunOperator",
        vec![
            Expr::kw("task_id", Expr::str(label)),
            Expr::kw("trigger_dag_id", Expr::str(&dag_id)),
            Expr::kw("wait_for_completion", Expr::raw("True")),
        ],
    )
}

/// A task function's call: its inputs as arguments, `.override(...)` for a call's own id and
/// policy, `.partial(...).expand(...)` (or `expand_kwargs`) when mapped.
fn task_call(
    p: &Pipeline,
    plan: &Plan,
    step: &Step,
    overrides: &[Expr],
    label: &str,
    from: Framework,
) -> Expr {
    let n = step.node;
    // `task.override(task_id="…", retries=…)`: the call's own id and policy.
    let mut over_args = Vec::new();
    if label != step.func {
        over_args.push(Expr::kw("task_id", Expr::str(label)));
    }
    over_args.extend(overrides.iter().cloned());
    let mut callee = step.func.clone();
    if !over_args.is_empty() {
        callee = Expr::call(&format!("{}.override", step.func), over_args.clone()).flat();
    }
    let mut args = Vec::new();
    let mut mapped_args = Vec::new();
    if from == Framework::Dagster && shared::key_param(n) {
        args.push(Expr::kw(
            "partition_key",
            Expr::str("{{ params.partition_key }}"),
        ));
    }
    for input in &step.inputs {
        let value = match mapped_param(p, input).and_then(|prm| prm.default.as_ref()) {
            Some(default) => python::value(default),
            // An optional output: the whole dict, which the task tests first.
            None if reads_optional(plan, input) => input_expr(plan, &input.source),
            None => input.select(input_expr(plan, &input.source)),
        };
        let kw = if input.param.is_empty() {
            value
        } else {
            Expr::kw(&input.param, value)
        };
        if input.mapped {
            mapped_args.push(kw)
        } else {
            args.push(kw)
        }
    }
    if n.mapping.is_some() {
        let base = if args.is_empty() {
            Expr::raw(callee.clone())
        } else {
            Expr::call(&format!("{callee}.partial"), args)
        };
        let kwargs_list = n
            .mapping
            .as_ref()
            .filter(|m| m.kwargs)
            .and_then(|m| m.over.first())
            .and_then(|a| a.literal.clone())
            .or_else(|| zipped_rows(p, step));
        let (expand, mapped_args) = match kwargs_list {
            // `expand_kwargs` takes the list of argument dicts as written.
            Some(list) => ("expand_kwargs", vec![python::value(&list)]),
            None if n.mapping.as_ref().is_some_and(|m| m.kwargs) => ("expand_kwargs", mapped_args),
            None => ("expand", mapped_args),
        };
        chain_call(base, expand, mapped_args)
    } else if !over_args.is_empty() {
        // `task.override(task_id="…")(args)`: black may split either pair of brackets.
        let over = Expr::call(&format!("{}.override", step.func), over_args);
        Expr::CallOn(Box::new(over), args)
    } else {
        Expr::call(&callee, args)
    }
}

/// Prefect's `.map(a, b)` pairs its iterables element-wise, where Airflow's `expand(a=…, b=…)`
/// would run every combination: literal iterables of a Prefect mapping become the argument dicts
/// of `expand_kwargs`, one per element.
fn zipped_rows(p: &Pipeline, step: &Step) -> Option<Value> {
    if p.framework != Some(Framework::Prefect) {
        return None;
    }
    let columns: Vec<(&str, &Vec<Value>)> = step
        .inputs
        .iter()
        .filter(|i| i.mapped && !i.param.is_empty())
        .map(|i| match &i.source {
            Source::Literal(Value::List(items)) => Some((i.param.as_str(), items)),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let len = columns.first()?.1.len();
    if columns.len() < 2 || columns.iter().any(|(_, c)| c.len() != len) {
        return None;
    }
    let rows = (0..len)
        .map(|k| {
            Value::Dict(
                columns
                    .iter()
                    .map(|(name, c)| (name.to_string(), c[k].clone()))
                    .collect(),
            )
        })
        .collect();
    Some(Value::List(rows))
}

/// The pipeline parameter (with a default) a mapped input iterates over: Airflow cannot map over
/// a DAG param (`expand` takes a list or an upstream's value), so the port maps over its default.
pub(super) fn mapped_param<'p>(p: &'p Pipeline, input: &Input) -> Option<&'p crate::ir::Param> {
    let Source::Literal(Value::Expr(e)) = &input.source else {
        return None;
    };
    p.params
        .iter()
        .find(|x| input.mapped && x.name == e.trim() && x.default.is_some())
}
