//! How an asset takes what it reads: `ins` from upstream assets, `deps` for order, locals bound
//! from parameters, defaults, a rendered shell command, and the branches and conditions it tests.

use std::collections::BTreeSet;

use super::condition::prefect_condition;
use super::partition::partition_mapping;
use super::site::{AssetSite, asset_in};
use crate::emit::guards::Guard;
use crate::emit::module::Imports;
use crate::emit::plan::Source;
use crate::emit::{shared, template};
use crate::ir::{Framework, Partitions, Value};
use crate::python::print::{self as python, Expr};
use crate::report::{Anchor, Fidelity, Ledger, Scope, Translations};

/// What an asset's inputs make of it, gathered before its decorator and body are written.
#[derive(Default)]
pub(super) struct Wiring {
    /// `ins=`: parameter name → `dg.AssetIn(...)`.
    pub(super) ins: Vec<(Expr, Expr)>,
    /// The function's data parameters, in order.
    pub(super) data_params: Vec<String>,
    /// Locals bound at the top of the body.
    pub(super) prelude: Vec<String>,
    /// Order-only upstreams: function name and step.
    pub(super) deps: Vec<(String, usize)>,
    /// Whether a partition mapping of the source is written on an input or a dep.
    pub(super) mapped_inputs: bool,
}

/// A templated shell command reads the run config, the logical date and upstream values: the
/// rendered body, if the step runs one.
pub(super) fn shell(
    s: &AssetSite,
    w: &mut Wiring,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
) -> Option<String> {
    let (plan, step, facts, partitions) = (s.plan, s.step, s.facts, s.partitions);
    let n = step.node;
    let data_params = &mut w.data_params;
    let shell = template::shell_command(plan, step, &|n| format!("config.{n}"));
    let mut shell_body = None;
    if let Some(r) = &shell {
        template::record(
            r,
            n,
            ledger,
            table,
            (
                "the partition's start (the current time when unpartitioned)",
                "the run config",
            ),
            Anchor::at(Scope::Body(step.func.clone())),
        );
        for (func, j) in template::upstream_steps(plan, r) {
            if let Some(up) = facts.resolved[j]
                && plan.steps[up].func == func
                && !data_params.contains(&func)
            {
                data_params.push(func);
            }
        }
        // Every partitioning but static, dynamic and multi keys is a time window here.
        let time_window = !matches!(
            plan.pipeline.partitions.as_ref().or(n.partitions.as_ref()),
            Some(Partitions::Static { .. } | Partitions::Dynamic { .. } | Partitions::Multi { .. })
        );
        let date = if partitions.is_some() && time_window {
            "context.partition_time_window.start"
        } else {
            imports.name("datetime", "datetime");
            imports.name("datetime", "timezone");
            "datetime.now(timezone.utc)"
        };
        shell_body = Some(template::shell_body(r, date));
    }
    shell_body
}

/// The inputs of the step: `ins` and data parameters from upstream assets, locals from
/// literals and parameters.
pub(super) fn wire_inputs(s: &AssetSite, w: &mut Wiring, file_assets: &BTreeSet<&str>) {
    let (plan, step, facts, from) = (s.plan, s.step, s.facts, s.from);
    let n = step.node;
    let Wiring {
        ins,
        data_params,
        prelude,
        mapped_inputs,
        ..
    } = w;
    for input in &step.inputs {
        match &input.source {
            Source::Step(j) => match facts.resolved[*j] {
                Some(up) => {
                    let up_name = plan.steps[up].func.clone();
                    let param = if input.param.is_empty() {
                        up_name.clone()
                    } else {
                        input.param.clone()
                    };
                    let mapping = partition_mapping(n, &plan.steps[up].node.id);
                    *mapped_inputs |= mapping.is_some();
                    // One key of an upstream's returned dict (an Airflow `multiple_outputs`
                    // task): the whole value comes in once, the body's parameter is its key.
                    if input.output.is_some()
                        && mapping.is_none()
                        && crate::ir::multi_asset_output(plan.steps[up].node).is_none()
                    {
                        if !data_params.contains(&up_name) {
                            ins.push((Expr::str(&up_name), asset_in(plan, facts, up, from)));
                            data_params.push(up_name.clone());
                        }
                        prelude.push(format!(
                            "{param} = {}",
                            input.select(Expr::raw(up_name.clone())).flat()
                        ));
                        continue;
                    }
                    if let Some(m) = mapping {
                        let mut input = asset_in(plan, facts, up, from);
                        if let Expr::Call(_, args) = &mut input {
                            args.push(Expr::kw("partition_mapping", m));
                        }
                        ins.push((Expr::str(&param), input));
                    } else if param != up_name
                        || plan.steps[up].node.id.contains('/')
                        || crate::ir::multi_asset_output(plan.steps[up].node).is_some()
                    {
                        ins.push((Expr::str(&param), asset_in(plan, facts, up, from)));
                    }
                    data_params.push(param);
                }
                None => prelude.push(format!("{} = None", input.param)),
            },
            Source::Steps(list) => {
                // One input per upstream asset, gathered into the list the body expects.
                let mut parts = Vec::new();
                for (k, j) in list.iter().enumerate() {
                    if let Some(up) = facts.resolved[*j] {
                        let name = format!("{}_{k}", input.param);
                        ins.push((Expr::str(&name), asset_in(plan, facts, up, from)));
                        data_params.push(name.clone());
                        parts.push(name);
                    }
                }
                prelude.push(format!("{} = [{}]", input.param, parts.join(", ")));
            }
            // An asset of another job in this module, read by name (Dagster resolves it).
            Source::Literal(Value::None)
                if !input.mapped
                    && file_assets.contains(input.param.as_str())
                    && n.inlets
                        .iter()
                        .any(|a| a.name.as_deref() == Some(&input.param)) =>
            {
                data_params.push(input.param.clone());
            }
            Source::Literal(v) => {
                // Pipeline parameters the expression reads are bound first (a mapped one's too:
                // the asset's loop reads them).
                if let Value::Expr(e) = v {
                    for prm in &plan.pipeline.params {
                        let bound = prelude
                            .iter()
                            .any(|l| l.starts_with(&format!("{} = ", prm.name)));
                        if !bound && crate::emit::inline::mentions(e, &prm.name) {
                            prelude.push(format!("{} = {}", prm.name, s.param_value(&prm.name)));
                        }
                    }
                }
                if !input.mapped {
                    prelude.push(format!("{} = {}", input.param, python::value(v).flat()))
                }
            }
            Source::Param(name) => {
                let local = if input.param.is_empty() {
                    name
                } else {
                    &input.param
                };
                prelude.push(format!("{local} = {}", s.param_value(name)));
            }
        }
    }
}

/// Resource parameters, and parameters with defaults that nothing feeds, bound as locals.
pub(super) fn bind_unfed(
    s: &AssetSite,
    w: &mut Wiring,
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
) {
    let (plan, step, from, partitions) = (s.plan, s.step, s.from, s.partitions);
    let n = step.node;
    let (config, data_params, prelude) = (&s.config, &mut w.data_params, &mut w.prelude);
    // Resource parameters: Dagster binds them by key.
    if from == Framework::Dagster
        && let Some(c) = &n.callable
    {
        for prm in &c.params {
            if plan.pipeline.resources.iter().any(|r| r.key == prm.name)
                && !data_params.contains(&prm.name)
            {
                data_params.push(prm.name.clone());
            }
        }
    }
    // Parameters with defaults that nothing feeds (Airflow's `ds=None`, `params=None`, …) keep
    // their default as a local value; the logical date becomes the partition key.
    if let Some(c) = &n.callable {
        for prm in &c.params {
            let fed = step.inputs.iter().any(|i| i.param == prm.name);
            if fed || prm.name.starts_with('*') || prm.name == "context" {
                continue;
            }
            // Airflow's `params` reads the run config (bound whole only where the body needs it).
            if prm.name == "params" && config.is_some() {
                prelude.push("params = config.model_dump()".into());
                continue;
            }
            if let Some(default) = &prm.default {
                let value = match (prm.name.as_str(), partitions) {
                    ("ds" | "logical_date" | "partition_key", Some(_)) => {
                        "context.partition_key".to_string()
                    }
                    // Airflow's context arguments come from the Dagster run.
                    (name, _)
                        if from == Framework::Airflow
                            && default == "None"
                            && shared::AIRFLOW_CONTEXT_ARGS.iter().any(|(a, _)| *a == name) =>
                    {
                        shared::need(imports, helpers, "_airflow_context_dagster");
                        ledger.consume_as(
                            table,
                            "body.context",
                            &n.id,
                            c.body_span,
                            Anchor::body(&step.func, "_airflow_context("),
                            Fidelity::Approximate,
                            format!("`{name}` is built from the Dagster run by `_airflow_context` (the logical date is the partition's start, else the scheduled tick, else now)"),
                        );
                        format!(
                            "_airflow_context(context)[{}]",
                            crate::python::print::string(name)
                        )
                    }
                    _ => default.clone(),
                };
                prelude.push(format!("{} = {value}", prm.name));
            }
        }
    }
}

/// The order-only upstreams (`deps`): every asset an order edge stands for.
pub(super) fn order_deps(s: &AssetSite, w: &mut Wiring) {
    let (plan, step, facts) = (s.plan, s.step, s.facts);
    let (deps, data_params) = (&mut w.deps, &w.data_params);
    for &a in step.after.iter().chain(&step.extra_upstreams) {
        for &up in &facts.frontier[a] {
            if !deps.iter().any(|(f, _)| *f == plan.steps[up].func)
                && !data_params.contains(&plan.steps[up].func)
            {
                deps.push((plan.steps[up].func.clone(), up));
            }
        }
    }
}

/// A guarded step reads the results of the branches its guard tests (instead of only waiting
/// for them): its guard, unless it is `Always` or the step is for a failure.
pub(super) fn read_guard<'a>(
    s: &AssetSite<'a, '_>,
    w: &mut Wiring,
    failure_rule: bool,
) -> Option<&'a Guard> {
    let (plan, step, facts, from) = (s.plan, s.step, s.facts, s.from);
    let Wiring {
        ins,
        data_params,
        deps,
        ..
    } = w;
    let guard = facts
        .step_of
        .get(&std::ptr::from_ref(step.node))
        .map(|&k| &facts.guards[k])
        .filter(|g| **g != Guard::Always && !failure_rule);
    if let Some(g) = guard {
        for j in g.reads() {
            let name = plan.steps[j].func.clone();
            if !data_params.contains(&name) {
                ins.push((Expr::str(&name), asset_in(plan, facts, j, from)));
                data_params.push(name.clone());
            }
            deps.retain(|(f, _)| *f != name);
        }
    }
    guard
}

/// A Prefect call under an `if`: the asset tests the condition first, reading what it reads.
/// The test's text, when it can be written.
pub(super) fn condition_test(
    s: &AssetSite,
    w: &mut Wiring,
    failure_rule: bool,
    ledger: &mut Ledger,
    table: &Translations,
) -> Option<String> {
    let (plan, step, facts, from) = (s.plan, s.step, s.facts, s.from);
    let n = step.node;
    let Wiring {
        ins,
        data_params,
        deps,
        ..
    } = w;
    let mut condition_test: Option<String> = None;
    if let Some(cond) = n.condition.as_deref().filter(|c| {
        from == Framework::Prefect
            && !failure_rule
            && !c.starts_with("except ")
            && !n.condition_reads_states()
    }) {
        match prefect_condition(plan, step, facts, cond) {
            Some((reads, bound, test)) => {
                for (local, j) in reads {
                    if !data_params.contains(&local) {
                        ins.push((Expr::str(&local), asset_in(plan, facts, j, from)));
                        data_params.push(local);
                    }
                    deps.retain(|(f, _)| *f != plan.steps[j].func);
                }
                let binds: String = bound
                    .iter()
                    .map(|name| format!("    {name} = {}\n", s.param_value(name)))
                    .collect();
                condition_test = Some(format!("{binds}{test}"));
                ledger.consume_as(
                    table,
                    "node.condition",
                    &n.id,
                    n.span,
                    Anchor::body(&step.func, "return None"),
                    Fidelity::Approximate,
                    format!("`{cond}` is tested at the top of the asset, which reads what it reads: when it does not hold, the asset materialises None (Prefect made no call)"),
                );
            }
            None => {
                ledger.lose(
                    table,
                    "node.condition",
                    &n.id,
                    n.span,
                    format!("the step runs whether or not `{cond}` holds (it reads more than the flow's results and parameters): test the condition in the asset by hand"),
                );
            }
        }
    }
    condition_test
}
