//! The checks of a pipeline as tasks: each check with a function (a multi-asset check once),
//! submitted after the steps it checks.

use std::collections::{HashMap, HashSet};

use super::flow_state::FlowState;
use super::state::ModuleState;
use crate::emit::module::FunctionCtx;
use crate::emit::plan::Plan;
use crate::emit::rewrite::rewrite;
use crate::emit::shared;
use crate::ir::{Framework, NodeKind};
use crate::python::print::{self as python, Expr};
use crate::report::Ledger;

/// Writes the checks of `plan`'s pipeline as task functions, submitted in the flow, and claims
/// them.
pub(super) fn write_checks(
    m: &mut ModuleState,
    plan: &Plan,
    fl: &mut FlowState,
    ledger: &mut Ledger,
) {
    let (table, from, p) = (m.table, m.from, plan.pipeline);
    let mut multi_checks = std::collections::BTreeSet::new();
    let mut check_fns: HashMap<String, String> = HashMap::new();
    for c in &p.checks {
        let function = shared::check_function(c, &mut multi_checks, &mut m.names.taken);
        let target_var = plan
            .steps
            .iter()
            .find(|s| s.node.id == c.target && s.node.kind != NodeKind::ExternalAsset)
            .map(|s| s.var.clone());
        if let (Some(cb), Some(fname)) = (&c.callable, function) {
            check_fns.insert(shared::check_task_name(c).to_string(), fname.clone());
            let rw = rewrite(&cb.body, from, Framework::Prefect);

            for n in &rw.needs {
                shared::need(&mut m.imports, &mut m.helpers, n);
            }
            let params: Vec<String> = cb
                .params
                .iter()
                .filter(|x| x.name != "context")
                .map(|x| x.name.clone())
                .collect();
            m.imports.name("prefect", "task");
            m.tasks.push(FunctionCtx {
                decorator: shared::runs_to_end(
                    Expr::call(
                        "task",
                        vec![Expr::kw("name", Expr::str(shared::check_task_name(c)))],
                    )
                    .format(0, 0)
                    .replace("task(", "@task("),
                    &rw.body,
                    from,
                    Framework::Prefect,
                    &mut m.imports,
                    &mut m.helpers,
                ),
                name: fname.clone(),
                signature: format!("({})", params.join(", ")),
                body: python::indent_body(&rw.body, 4).trim_end().to_string(),
                is_async: false,
            });
            let mut args: Vec<Expr> = params
                .iter()
                .map(|_| Expr::raw(target_var.clone().unwrap_or_else(|| "None".into())))
                .collect();
            // A check that takes no value still runs after the assets it checks.
            if params.is_empty() {
                let written: HashSet<&str> = fl
                    .statements
                    .iter()
                    .filter_map(|(v, _)| v.as_deref())
                    .collect();
                let targets: Vec<Expr> = shared::checked_steps(p, c)
                    .into_iter()
                    .filter_map(|id| plan.steps.iter().find(|s| s.node.id == id))
                    .map(|s| s.var.as_str())
                    .filter(|v| written.contains(v))
                    .collect::<indexmap::IndexSet<_>>()
                    .into_iter()
                    .map(Expr::raw)
                    .collect();
                if !targets.is_empty() {
                    args.push(Expr::kw("wait_for", Expr::List(targets)));
                }
            }
            let mut var = format!("{fname}_out");
            while plan.steps.iter().any(|s| s.var == var) {
                var.push_str("_check");
            }
            fl.futures.insert(var.clone());
            let call = Expr::Method(Box::new(Expr::raw(fname.clone())), "submit".into(), args);
            fl.statements.push((Some(var), call));
        }
        let written = check_fns.get(shared::check_task_name(c)).cloned();
        shared::consume_check(ledger, table, c, written.as_deref());
    }
}
