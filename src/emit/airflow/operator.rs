//! Classic operators and sensors in the dag body: the operator with its arguments kept, its
//! policy, trigger rule, sensor options and assets; a mapped one as `.partial(...).expand(...)`.

use super::asset::AssetConsts;
use super::input::{chain_call, input_expr};
use super::policy::policy_kwargs;
use crate::emit::module::Imports;
use crate::emit::plan::{Plan, Step};
use crate::emit::{Target, shared};
use crate::ir::{Framework, Operator, Value};
use crate::python::print::{self as python, Expr};
use crate::report::{self, Anchor, Fidelity, Ledger, Translations};

/// The operator call of a step (`label`: its task id).
#[allow(clippy::too_many_arguments)]
pub(super) fn operator_call(
    dag: &str,
    plan: &Plan,
    step: &Step,
    op: &Operator,
    label: &str,
    target: Target,
    assets: &AssetConsts,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
) -> Expr {
    let n = step.node;
    let from = plan.pipeline.framework.unwrap_or(Framework::Airflow);
    let info = report::operator_info(&op.class);
    let module = info.map(|i| i.import.clone()).or_else(|| {
        op.import_path
            .as_ref()
            .and_then(|p| p.rsplit_once('.').map(|(m, _)| m.to_string()))
    });
    if let Some(m) = module {
        imports.name(&m, &op.class);
    }
    let mut kwargs = vec![Expr::kw("task_id", Expr::str(label))];
    let mut mapped_kw = Vec::new();
    for (k, v) in &op.args {
        if n.mapping
            .as_ref()
            .is_some_and(|m| m.over.iter().any(|a| &a.param == k))
        {
            continue;
        }
        if matches!(v, Value::Duration(_)) {
            imports.name("datetime", "timedelta");
        }
        kwargs.push(Expr::kw(k, python::value(v)));
        ledger.consume_as(
            table,
            "extra",
            &format!("{}.{k}", n.id),
            n.span,
            Anchor::body(dag, format!("task_id={}", python::string(label))).then(format!("{k}=")),
            Fidelity::Exact,
            "operator argument kept".into(),
        );
    }
    if let Some(c) = &n.callable {
        kwargs.push(Expr::kw("python_callable", Expr::raw(step.func.clone())));
        let _ = c;
    }
    let at = Anchor::body(dag, format!("task_id={}", python::string(label)));
    kwargs.extend(policy_kwargs(
        from, &n.policy, &n.id, n.span, ledger, table, imports, &at,
    ));
    if let Some(tr) = &step.trigger_rule {
        kwargs.push(Expr::kw("trigger_rule", Expr::str(tr)));
        if n.trigger_rule.is_some() {
            ledger.consume(
                table,
                "trigger_rule",
                &n.id,
                n.span,
                at.clone().then("trigger_rule="),
            );
        }
    }
    if let Some(s) = &n.sensor {
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
    kwargs.extend(assets.kwargs(n, imports, target));
    assets.consume(n, ledger, table, &at);
    match &n.mapping {
        Some(m) => {
            for a in &m.over {
                let value = step
                    .inputs
                    .iter()
                    .find(|i| i.param == a.param)
                    .map(|i| i.select(input_expr(plan, &i.source)))
                    .or_else(|| a.literal.as_ref().map(python::value));
                if let Some(v) = value {
                    mapped_kw.push(Expr::kw(&a.param, v));
                }
            }
            let partial = Expr::call(&format!("{}.partial", op.class), kwargs);
            chain_call(partial, "expand", mapped_kw)
        }
        None => Expr::call(&op.class, kwargs),
    }
}
