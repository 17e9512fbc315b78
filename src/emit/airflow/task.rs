//! `@task` functions: a step's function with its decorator options.

use super::asset::AssetConsts;
use super::names::sdk;
use super::policy::policy_kwargs;
use crate::emit::module::{FunctionCtx, Imports};
use crate::emit::plan::Step;
use crate::emit::{Target, shared};
use crate::ir::{Framework, NodeKind, Pipeline};
use crate::python::print::{self as python, Expr};
use crate::report::{Anchor, Ledger, Scope, Translations};

/// The `@task` function of a step: its flavour, policy, trigger rule, sensor options, assets
/// and the options a source set, with its body.
#[allow(clippy::too_many_arguments)]
pub(super) fn task_def(
    step: &Step,
    from: Framework,
    target: Target,
    assets: &AssetConsts,
    module: (Option<&Pipeline>, &[String]),
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
) -> FunctionCtx {
    imports.name(sdk(target), "task");
    let node = step.node;
    let flavor = match (node.kind, node.flavor.as_deref()) {
        (
            _,
            Some(
                f @ ("bash"
                | "sensor"
                | "branch"
                | "short_circuit"
                | "virtualenv"
                | "external_python"
                | "branch_virtualenv"
                | "branch_external_python"),
            ),
        ) if from == Framework::Airflow => Some(f.to_string()),
        (NodeKind::Sensor, _) if from == Framework::Airflow => Some("sensor".into()),
        _ => None,
    };
    let at = Anchor::at(Scope::Head(step.func.clone()));
    let mut kwargs = policy_kwargs(
        from,
        &node.policy,
        &node.id,
        node.span,
        ledger,
        table,
        imports,
        &at,
    );
    if let Some(s) = &node.sensor
        && flavor.as_deref() == Some("sensor")
    {
        if let Some(m) = &s.mode {
            kwargs.push(Expr::kw("mode", Expr::str(m)));
        }
        if let Some(i) = s.poke_interval {
            kwargs.push(Expr::kw("poke_interval", shared::seconds(i)));
        }
        if let Some(t) = s.timeout {
            kwargs.push(Expr::kw("timeout", shared::seconds(t)));
        }
    }
    if let Some(p) = module.0
        && node.policy.backoff.is_some()
        && shared::traps(p, target).contains(&"trap.backoff_curve")
    {
        let at = at.clone().then("retry_exponential_backoff");
        ledger.consume(table, "trap.backoff_curve", &p.id, p.span, at);
    }
    if let Some(tr) = &step.trigger_rule {
        kwargs.push(Expr::kw("trigger_rule", Expr::str(tr)));
        if node.trigger_rule.is_some() {
            ledger.consume(
                table,
                "trigger_rule",
                &node.id,
                node.span,
                at.clone().then("trigger_rule="),
            );
        }
    }
    kwargs.extend(assets.kwargs(node, imports, target));
    assets.consume(node, ledger, table, &at);
    // Several named outputs: the body returns a dict, pushed as one XCom per key.
    if (crate::emit::outputs::returns_by_name(node) || !node.optional_outputs.is_empty())
        && from != Framework::Airflow
    {
        kwargs.push(Expr::kw("multiple_outputs", Expr::raw("True")));
    }
    if from == Framework::Airflow {
        kwargs.extend(shared::passthrough(
            ledger,
            table,
            &node.id,
            &node.extra,
            TASK_OPTIONS,
            node.span,
            imports,
            &at,
        ));
    }
    let head = match &flavor {
        Some(f) => format!("task.{f}"),
        None => "task".into(),
    };
    let decorator = python::decorator(&head, kwargs);
    let (signature, body, is_async) = shared::body_for(
        step,
        from,
        Framework::Airflow,
        imports,
        helpers,
        ledger,
        table,
        None,
        module,
    );
    let decorator =
        shared::runs_to_end(decorator, &body, from, Framework::Airflow, imports, helpers);
    FunctionCtx {
        decorator,
        name: step.func.clone(),
        signature,
        body,
        is_async,
    }
}

/// `@task` / operator options kept as written in an Airflow → Airflow port.
const TASK_OPTIONS: &[&str] = &[
    "multiple_outputs",
    "requirements",
    "system_site_packages",
    "python_version",
    "depends_on_past",
    "do_xcom_push",
    "email_on_failure",
    "email_on_retry",
    "max_active_tis_per_dag",
    "wait_for_downstream",
    "doc_md",
];
