//! `@task` functions: a step's function with its policy, cache, tags and the options a
//! source set.

use crate::emit::module::{FunctionCtx, Imports};
use crate::emit::plan::{Plan, Step};
use crate::emit::{shared, template};
use crate::ir::{Framework, Pipeline};
use crate::python::print::{self as python, Expr, identifier};
use crate::report::{Anchor, Ledger, Scope, Translations};

/// The `@task` function of a step: its decorator options and its body.
#[allow(clippy::too_many_arguments)]
pub(super) fn task(
    step_pipeline: &Pipeline,
    step: &Step,
    from: Framework,
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
    partition: Option<&str>,
    config: &[String],
    plan: &Plan,
) -> FunctionCtx {
    imports.name("prefect", "task");
    let node = step.node;
    let shell = template::shell_command(plan, step, &|n| identifier(n));
    if let Some(r) = &shell {
        template::record(
            r,
            node,
            ledger,
            table,
            ("the flow run's scheduled start", "flow parameters"),
            Anchor::at(Scope::Body(step.func.clone())),
        );
    }
    let mut kwargs = Vec::new();
    // The task's display name from a Prefect decorator; an id that a call-site
    // `with_options(name=…)` cannot carry (`group.task`) becomes the name instead.
    let display = node
        .name
        .as_ref()
        .filter(|n| from == Framework::Prefect && **n != node.id);
    if let Some(n) = display {
        kwargs.push(Expr::kw("name", Expr::str(n)));
    } else if identifier(&node.id) != step.func && !crate::ir::is_node_id(&node.id)
        || node.id.contains('.')
    {
        kwargs.push(Expr::kw("name", Expr::str(&node.id)));
    }
    let at = Anchor::at(Scope::Head(step.func.clone()));
    kwargs.extend(shared::prefect_policy(
        step_pipeline,
        node,
        ledger,
        table,
        &at,
    ));
    if !node.tags.is_empty() {
        kwargs.push(Expr::kw(
            "tags",
            Expr::List(node.tags.iter().map(|t| Expr::str(t)).collect()),
        ));
    }
    if from == Framework::Prefect {
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
    let decorator = python::decorator("task", kwargs);
    let (signature, body, is_async) = shared::body_for(
        step,
        from,
        Framework::Prefect,
        imports,
        helpers,
        ledger,
        table,
        partition,
        (Some(step_pipeline), config),
    );
    let decorator =
        shared::runs_to_end(decorator, &body, from, Framework::Prefect, imports, helpers);
    // A templated shell command is rendered from the task's arguments and the flow run.
    let (signature, body) = match &shell {
        Some(r) => {
            let mut params: Vec<String> = template::upstream_steps(plan, r)
                .into_iter()
                .map(|(f, _)| f)
                .collect();
            params.extend(template::params(r).iter().map(|n| identifier(n)));
            if r.needs.contains(&template::Needed::LogicalDate) {
                imports.name("prefect.runtime", "flow_run");
            }
            let body = template::shell_body(r, "flow_run.scheduled_start_time");
            (
                shared::signature(&format!("def {}", step.func), &params, ""),
                python::indent_body(&body, 4).trim_end().to_string(),
            )
        }
        None => (signature, body),
    };
    FunctionCtx {
        decorator,
        name: step.func.clone(),
        signature,
        body,
        is_async,
    }
}

/// An anchor for a scratch ledger, whose entries are never reported.
pub(super) fn any() -> Anchor {
    Anchor::at(Scope::Head(String::new()))
}

/// `@task` options passed through unchanged in a Prefect → Prefect port.
const TASK_OPTIONS: &[&str] = &[
    "log_prints",
    "persist_result",
    "task_run_name",
    "cache_expiration",
    "retry_jitter_factor",
    "cache_result_in_memory",
    "refresh_cache",
    "description",
    "version",
];
