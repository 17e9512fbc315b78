//! Asset checks: quality steps, the source's checks and multi-asset checks, and the
//! `check_specs` of assets that evaluate their own checks.

use std::collections::BTreeMap;

use super::facts::{StepFacts, asset_key};
use super::keys::key_name;
use super::state::ModuleState;
use crate::emit::module::{FunctionCtx, Imports};
use crate::emit::multi_asset::members as multi_members;
use crate::emit::plan::{Plan, Source, Step, unique};
use crate::emit::rewrite::rewrite;
use crate::emit::shared;
use crate::ir::{Framework, Pipeline, Value};
use crate::python::print::{self as python, Expr, identifier};
use crate::report::{Anchor, Fidelity, Ledger, Scope, Translations};

/// The step whose body yields a check's result (`check_specs=` on its asset), if any.
fn evaluated_by(c: &crate::ir::Check) -> Option<&str> {
    c.extra.get("evaluated_by").and_then(Value::as_str)
}

/// `dg.AssetCheckSpec(...)` of each check the asset of `step` evaluates itself (the source's
/// `check_specs=`; the body yields their `AssetCheckResult`s).
pub(super) fn check_specs(p: &Pipeline, step: &Step, facts: &StepFacts) -> Vec<Expr> {
    p.checks
        .iter()
        .filter(|c| c.callable.is_none() && evaluated_by(c) == Some(step.node.id.as_str()))
        .map(|c| {
            let asset = if c.target.contains('/') {
                Expr::List(c.target.split('/').map(Expr::str).collect())
            } else if c.target == step.node.id {
                Expr::str(&asset_key(facts, step))
            } else {
                Expr::str(&c.target)
            };
            check_spec(c, asset, true)
        })
        .collect()
}

/// A quality step's check function: its signature and a body that runs the step's code on the
/// asset and passes when it does not raise.
#[allow(clippy::too_many_arguments)]
fn check_body(
    plan: &Plan,
    step: &Step,
    target: usize,
    from: Framework,
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
) -> (String, String) {
    let (_, inner, _) = shared::body_for(
        step,
        from,
        Framework::Dagster,
        imports,
        helpers,
        ledger,
        table,
        None,
        (None, &[]),
    );
    let param = step
        .inputs
        .iter()
        .find(|i| i.source == Source::Step(target))
        .map_or_else(|| plan.steps[target].func.clone(), |i| i.param.clone());
    let asset_name = plan.steps[target].func.clone();
    // The step raised on failure; as a check it passes when it does not raise.
    let nested: String = inner
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("    {l}\n")
            }
        })
        .collect();
    let body = format!(
        "    def _check({param}):\n{nested}\n    _check({asset_name})\n    return dg.AssetCheckResult(passed=True)"
    );
    (format!("({asset_name})"), body)
}

/// `dg.AssetCheckSpec(name, asset=…, blocking, description)` of one check, with its other literal
/// options when `with_options` (an asset's `check_specs`; a `@multi_asset_check` keeps only these).
fn check_spec(c: &crate::ir::Check, asset: Expr, with_options: bool) -> Expr {
    let mut args = vec![Expr::str(&c.name), Expr::kw("asset", asset)];
    if c.blocking {
        args.push(Expr::kw("blocking", Expr::raw("True")));
    }
    if let Some(d) = &c.description {
        args.push(Expr::kw("description", Expr::str(d)));
    }
    if with_options {
        for (k, v) in &c.extra {
            if k != "evaluated_by" && v.is_literal() {
                args.push(Expr::kw(k, crate::emit::partitions::dagster_value(v)));
            }
        }
    }
    Expr::call("dg.AssetCheckSpec", args)
}

/// Writes a quality step as an asset check on the asset of `target_step`.
pub(super) fn write_quality_check(
    m: &mut ModuleState,
    plan: &Plan,
    step: &Step,
    target_step: usize,
    ledger: &mut Ledger,
) {
    let (table, from) = (m.table, m.from);
    let fname = step.func.clone();
    let asset_fn = plan.steps[target_step].func.clone();
    let (sig, body) = check_body(
        plan,
        step,
        target_step,
        from,
        &mut m.imports,
        &mut m.helpers,
        ledger,
        table,
    );
    let deco = Expr::call(
        "dg.asset_check",
        vec![
            Expr::kw("asset", Expr::raw(asset_fn)),
            Expr::kw("name", Expr::str(&key_name(&step.node.id))),
        ],
    );
    m.assets.push(FunctionCtx {
        decorator: format!("@{}", deco.format_lead(0, 1, 0)),
        name: fname.clone(),
        signature: sig,
        body,
        is_async: false,
    });
    let at = Anchor::at(Scope::Head(fname.clone()));
    m.checks.push(fname);
    ledger.consume_as(
        table,
        crate::report::node_construct(step.node),
        &step.node.id,
        step.node.span,
        at.clone(),
        Fidelity::Redesign,
        format!(
            "a quality step: re-modelled as an asset check on `{}`",
            plan.steps[target_step].node.id
        ),
    );
    shared::consume_node(ledger, table, step.node, &at);
}

/// Writes the checks of a pipeline: a `@multi_asset_check` once for its checks, an
/// `@dg.asset_check` for each check with a function, and claims for the checks an asset
/// evaluates itself.
pub(super) fn write_checks(m: &mut ModuleState, plan: &Plan, ledger: &mut Ledger) {
    let (table, from, p) = (m.table, m.from, plan.pipeline);
    let mut multi_checks = std::collections::BTreeSet::new();
    let mut multi_fns: BTreeMap<String, String> = BTreeMap::new();
    for c in &p.checks {
        // The checks of one `@multi_asset_check` are one function, written once.
        if let Some(f) = c.extra.get("multi_asset_check").and_then(Value::as_str)
            && let Some(cb) = &c.callable
        {
            if multi_checks.insert(f.to_string()) {
                let specs: Vec<Expr> = p
                    .checks
                    .iter()
                    .filter(|x| x.extra.get("multi_asset_check").and_then(Value::as_str) == Some(f))
                    .map(|c| check_spec(c, crate::emit::multi_asset::key_expr(&c.target), false))
                    .collect();
                let fname = unique(&mut m.names.taken, &identifier(f));
                let rw = rewrite(&cb.body, from, Framework::Dagster);
                m.assets.push(FunctionCtx {
                    decorator: python::decorator(
                        "dg.multi_asset_check",
                        vec![Expr::kw("specs", Expr::List(specs))],
                    ),
                    name: fname.clone(),
                    signature: shared::signature(&format!("def {fname}"), &[], ""),
                    body: python::indent_body(&rw.body, 4).trim_end().to_string(),
                    is_async: false,
                });
                multi_fns.insert(f.to_string(), fname.clone());
                m.checks.push(fname);
            }
            if let Some(fname) = multi_fns.get(f) {
                let at = Anchor::head(fname, "dg.multi_asset_check(");
                ledger.consume_as(
                    table,
                    "extra",
                    &format!("{}.multi_asset_check", c.name),
                    c.span,
                    at.clone(),
                    Fidelity::Exact,
                    "written back as one `@dg.multi_asset_check`".into(),
                );
                ledger.consume(table, "check", &c.name, c.span, at.clone());
                if c.blocking {
                    let at = at.then("blocking=True");
                    ledger.consume(table, "check.blocking", &c.name, c.span, at);
                }
            }
            continue;
        }
        if let (Some(cb), Some(t)) = (
            &c.callable,
            plan.steps.iter().find(|s| s.node.id == c.target),
        ) {
            write_check(m, c, cb, t, ledger);
        } else if from == Framework::Dagster
            && let Some(by) = evaluated_by(c)
            && plan
                .steps
                .iter()
                .any(|s| s.node.id == by && m.asset_names.contains(&s.func))
            && let Some(s) = plan.steps.iter().find(|s| s.node.id == by)
        {
            let at = Anchor::head(&s.func, "check_specs=");
            ledger.consume_as(
                table,
                "check",
                &c.name,
                c.span,
                at.clone(),
                Fidelity::Exact,
                format!(
                    "an `AssetCheckSpec` in the `check_specs` of `{by}`, which yields its result"
                ),
            );
            if c.blocking {
                let at = at.then("blocking=True");
                ledger.consume(table, "check.blocking", &c.name, c.span, at);
            }
        }
    }
}

/// Writes check `c`, which has a function, as an `@dg.asset_check` on the asset of step `t`.
fn write_check(
    m: &mut ModuleState,
    c: &crate::ir::Check,
    cb: &crate::ir::Callable,
    t: &Step,
    ledger: &mut Ledger,
) {
    let (table, from) = (m.table, m.from);
    let fname = unique(&mut m.names.taken, &identifier(&c.name));
    let rw = rewrite(&cb.body, from, Framework::Dagster);
    let params: Vec<String> = cb
        .params
        .iter()
        .map(|x| match &x.annotation {
            Some(a) if from == Framework::Dagster => format!("{}: {a}", x.name),
            _ => x.name.clone(),
        })
        .collect();
    // One asset of a multi-asset is named by its key, not by the function.
    let asset = if multi_members(m.file, t.node).len() > 1 {
        crate::emit::multi_asset::key_expr(&t.node.id)
    } else {
        Expr::raw(t.func.clone())
    };
    let mut kw = vec![Expr::kw("asset", asset)];
    if key_name(&c.name) != fname {
        kw.push(Expr::kw("name", Expr::str(&key_name(&c.name))));
    }
    if c.blocking {
        kw.push(Expr::kw("blocking", Expr::raw("True")));
    }
    if let Some(d) = &c.description {
        kw.push(Expr::kw("description", Expr::str(d)));
    }
    // A check the source partitioned evaluates its asset's partition, not all of them.
    if c.extra.contains_key("partitions_def")
        && let Some(parts) = m.asset_parts.get(&t.func)
    {
        kw.push(Expr::kw("partitions_def", Expr::raw(parts.clone())));
        ledger.consume_as(
            table,
            "extra",
            &format!("{}.partitions_def", c.name),
            c.span,
            Anchor::head(&fname, "partitions_def="),
            Fidelity::Exact,
            "the check keeps its asset's partitions".into(),
        );
    }
    let at = Anchor::head(&fname, "@dg.asset_check(");
    ledger.consume(table, "check", &c.name, c.span, at.clone());
    if c.blocking {
        let at = at.then("blocking=True");
        ledger.consume(table, "check.blocking", &c.name, c.span, at);
    }
    m.assets.push(FunctionCtx {
        decorator: python::decorator("dg.asset_check", kw),
        name: fname.clone(),
        signature: shared::signature(&format!("def {fname}"), &params, ""),
        body: python::indent_body(&rw.body, 4).trim_end().to_string(),
        is_async: false,
    });
    m.checks.push(fname);
}
