//! Software-defined assets: `@dg.asset` functions of steps and `dg.AssetSpec`s of external assets.

use super::body::asset_body;
use super::config::{config_class_name, reads_params};
use super::facts::{StepFacts, asset_key};
use super::inputs::{
    Wiring, bind_unfed, condition_test, order_deps, read_guard, shell, wire_inputs,
};
use super::options::{dagster_kwargs, describe_kwargs, policy_kwargs, wiring_kwargs};
use super::site::AssetSite;
use crate::emit::guards::Guard;
use crate::emit::module::{FunctionCtx, Imports};
use crate::emit::plan::{Plan, Source, Step};
use crate::emit::shared;
use crate::ir::{Framework, Node, NodeKind};
use crate::python::print::{self as python, Expr};
use crate::report::{Anchor, Ledger, Scope, Translations};

/// The asset function of a step (`members`: the assets of its multi-asset, if it is one).
#[allow(clippy::too_many_arguments)]
pub(super) fn asset(
    plan: &Plan,
    step: &Step,
    members: &[&Node],
    facts: &StepFacts,
    from: Framework,
    partitions: Option<&str>,
    file_assets: &std::collections::BTreeSet<&str>,
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
) -> FunctionCtx {
    let n = step.node;
    let at = Anchor::at(Scope::Head(step.func.clone()));
    shared::consume_node(ledger, table, n, &at);
    // A branch is kept in the tests of the assets below it, when they could be written.
    if matches!(n.kind, NodeKind::Branch | NodeKind::ShortCircuit) {
        let kind = crate::report::node_id(n.kind);
        if facts.guarded {
            ledger.consume(table, kind, &n.id, n.span, at.clone());
        } else {
            ledger.lose(
                table,
                kind,
                &n.id,
                n.span,
                "the pipeline's branches are past the guard budget: every asset below it does its work; port the condition by hand".into(),
            );
        }
    }
    let multi = members.len() > 1;
    let mut kw = key_kwargs(step, facts, from, multi);
    let s = AssetSite {
        plan,
        step,
        facts,
        from,
        partitions,
        config: reads_params(plan, step).then(|| config_class_name(plan.pipeline)),
    };
    let mut w = Wiring::default();
    let shell_body = shell(&s, &mut w, imports, ledger, table);
    let param_names: Vec<String> = match &s.config {
        Some(_) if from == Framework::Airflow => plan
            .pipeline
            .params
            .iter()
            .map(|x| x.name.clone())
            .collect(),
        _ => Vec::new(),
    };
    wire_inputs(&s, &mut w, file_assets);
    bind_unfed(&s, &mut w, imports, helpers, ledger, table);
    order_deps(&s, &mut w);
    // (A failure step becomes a failure hook, which runs only when a step failed.)
    let failure_rule = matches!(n.trigger_rule.as_deref(), Some("one_failed" | "all_failed"));
    let guard = read_guard(&s, &mut w, failure_rule);
    let condition_test = condition_test(&s, &mut w, failure_rule, ledger, table);
    wiring_kwargs(&s, &mut w, &mut kw, &at, ledger, table);
    let Wiring {
        data_params,
        prelude,
        ..
    } = w;
    describe_kwargs(&s, &mut kw, &at, ledger, table);
    policy_kwargs(&s, &mut kw, &at, ledger, table);
    dagster_kwargs(&s, &mut kw, &at, imports, ledger, table);
    let deco = if multi {
        crate::emit::multi_asset::decorator(kw, members, ledger, table, &at)
    } else {
        python::decorator("dg.asset", kw)
    };
    let (body, uses_context) = asset_body(
        step,
        from,
        &prelude,
        (shell_body.as_deref(), &param_names),
        imports,
        helpers,
        ledger,
        table,
    );
    let body = match &condition_test {
        Some(test) => format!("{test}{body}"),
        None => body,
    };
    // The guard decides whether the work runs; the asset materialises None when it does not.
    let body = match guard {
        Some(g) => {
            let tests = g.early_returns(&|j| plan.steps[j].func.clone(), 4);
            if tests.contains("_chosen(") {
                shared::need(imports, helpers, "_chosen");
            }
            format!("{tests}{body}")
        }
        None => body,
    };
    FunctionCtx {
        decorator: deco,
        name: step.func.clone(),
        signature: signature(
            &s,
            &data_params,
            &prelude,
            uses_context,
            guard.is_some() || condition_test.is_some(),
        ),
        body,
        is_async: n.callable.as_ref().is_some_and(|c| c.is_async),
    }
}

/// `key_prefix=` and `name=` when the asset key is not the function's name (a multi-asset's
/// keys are its outs' or specs').
fn key_kwargs(step: &Step, facts: &StepFacts, from: Framework, multi: bool) -> Vec<Expr> {
    let n = step.node;
    let mut kw: Vec<Expr> = Vec::new();
    if multi {
        // The keys are the outs' or specs' (below).
    } else if from == Framework::Dagster && n.id.contains('/') {
        // Keep the asset key path: `key_prefix` plus the last component as the name.
        let parts: Vec<&str> = n.id.split('/').collect();
        let (last, prefix) = parts.split_last().unwrap_or((&"", &[]));
        kw.push(Expr::kw(
            "key_prefix",
            Expr::List(prefix.iter().map(|x| Expr::str(x)).collect()),
        ));
        if *last != step.func {
            kw.push(Expr::kw("name", Expr::str(last)));
        }
    } else if asset_key(facts, step) != step.func {
        kw.push(Expr::kw("name", Expr::str(&asset_key(facts, step))));
    }
    kw
}

/// The asset function's signature: the context, the run config, the data parameters (with
/// their annotations where they hold) and the return annotation.
fn signature(
    s: &AssetSite,
    data_params: &[String],
    prelude: &[String],
    uses_context: bool,
    tested: bool,
) -> String {
    let (plan, step, facts, from, config) = (s.plan, s.step, s.facts, s.from, &s.config);
    let n = step.node;
    // Inputs from a guarded upstream may be None.
    let maybe_none: Vec<String> = step
        .inputs
        .iter()
        .filter_map(|i| match i.source {
            Source::Step(j) => facts.resolved[j]
                .filter(|&up| facts.guards[up] != Guard::Always)
                .map(|up| {
                    if i.param.is_empty() {
                        plan.steps[up].func.clone()
                    } else {
                        i.param.clone()
                    }
                }),
            _ => None,
        })
        .collect();
    let mut params: Vec<String> = Vec::new();
    if uses_context
        || prelude
            .iter()
            .any(|l| l.contains("context.") || l.contains("(context)"))
    {
        params.push("context: dg.AssetExecutionContext".into());
    }
    // A mapped input holds the list of elements.
    let mapped: Vec<&str> = step
        .inputs
        .iter()
        .filter(|i| i.mapped)
        .map(|i| i.param.as_str())
        .collect();
    params.extend(data_params.iter().map(|p| {
        n.callable
            .as_ref()
            .and_then(|c| c.params.iter().find(|x| &x.name == p))
            .and_then(|x| x.annotation.clone())
            .map(|a| {
                if mapped.contains(&p.as_str()) {
                    format!("list[{a}]")
                } else {
                    a
                }
            })
            .filter(|a| !a.contains("Context"))
            .filter(|_| !maybe_none.contains(p))
            .map_or_else(|| p.clone(), |a| format!("{p}: {a}"))
    }));
    // Airflow params: the pipeline's run config class.
    if let Some(class) = &config {
        params.insert(
            usize::from(params.first().is_some_and(|p| p.starts_with("context"))),
            format!("config: {class}"),
        );
    }
    // A Dagster run-config parameter stays one (`config: ScoringConfig`).
    if from == Framework::Dagster
        && let Some(cfg) = n.callable.as_ref().and_then(|c| {
            c.params
                .iter()
                .find(|x| x.name == "config" && x.annotation.is_some())
        })
    {
        params.insert(
            usize::from(params.first().is_some_and(|p| p.starts_with("context"))),
            format!("config: {}", cfg.annotation.as_deref().unwrap_or("")),
        );
    }
    // A mapped asset returns the list of results, whatever one call returns; a guarded one may
    // return None.
    let returns = n
        .callable
        .as_ref()
        .filter(|_| n.mapping.is_none() && !tested)
        .and_then(|c| c.returns.clone())
        .filter(|r| {
            from == Framework::Dagster
                || !["PokeReturnValue", "Output"].iter().any(|t| r.contains(t))
        })
        .map(|r| format!(" -> {r}"))
        .unwrap_or_default();
    let prefix = format!("def {}", step.func);
    shared::signature(&prefix, &params, &returns)
}

/// `name = dg.AssetSpec(key, ...)` for an external asset.
pub(super) fn asset_spec(step: &Step) -> String {
    let n = step.node;
    let key = if n.id.contains('/') {
        Expr::call(
            "dg.AssetKey",
            vec![Expr::List(n.id.split('/').map(Expr::str).collect())],
        )
    } else {
        Expr::str(&n.id)
    };
    let mut args = vec![key];
    if let Some(g) = n
        .group
        .as_ref()
        .filter(|g| !g.is_empty() && *g != "default")
    {
        args.push(Expr::kw("group_name", Expr::str(g)));
    }
    if let Some(d) = &n.description {
        args.push(Expr::kw(
            "description",
            Expr::str(d.lines().next().unwrap_or("")),
        ));
    }
    let var = &step.func;
    format!(
        "{var} = {}",
        Expr::call("dg.AssetSpec", args).format_lead(0, var.len() + 3, 0)
    )
}
