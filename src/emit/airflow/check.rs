//! The checks of a pipeline as tasks: each check with a function (a multi-asset check once)
//! called after the steps it checks.

use std::collections::BTreeMap;

use super::body::{Body, Line};
use super::names::sdk;
use super::state::ModuleState;
use crate::emit::module::FunctionCtx;
use crate::emit::plan::{Plan, unique};
use crate::emit::rewrite::rewrite;
use crate::emit::shared;
use crate::ir::Framework;
use crate::python::print::{self as python, Expr};
use crate::report::Ledger;

/// Writes the checks of `plan`'s pipeline as task functions, called in `body`, and claims them.
pub(super) fn write_checks(m: &mut ModuleState, plan: &Plan, body: &mut Body, ledger: &mut Ledger) {
    let (table, target, from, p) = (m.table, m.target, m.from, plan.pipeline);
    let mut multi_checks = std::collections::BTreeSet::new();
    let mut check_fns: BTreeMap<String, String> = BTreeMap::new();
    for c in &p.checks {
        let function = shared::check_function(c, &mut multi_checks, &mut m.names.taken);
        if let (Some(cb), Some(fname)) = (&c.callable, function) {
            check_fns.insert(shared::check_task_name(c).to_string(), fname.clone());
            let rw = rewrite(&cb.body, from, Framework::Airflow);

            for n in &rw.needs {
                shared::need(&mut m.imports, &mut m.helpers, n);
            }
            let params: Vec<String> = cb
                .params
                .iter()
                .filter(|x| x.name != "context")
                .map(|x| x.name.clone())
                .collect();
            m.imports.name(sdk(target), "task");
            m.tasks.push(FunctionCtx {
                decorator: shared::runs_to_end(
                    "@task".into(),
                    &rw.body,
                    from,
                    Framework::Airflow,
                    &mut m.imports,
                    &mut m.helpers,
                ),
                name: fname.clone(),
                signature: shared::signature(&format!("def {fname}"), &params, ""),
                body: python::indent_body(&rw.body, 4).trim_end().to_string(),
                is_async: false,
            });
            let target_var = plan
                .steps
                .iter()
                .find(|s| s.node.id == c.target)
                .map(|s| s.var.clone());
            let args: Vec<Expr> = params
                .iter()
                .map(|_| Expr::raw(target_var.clone().unwrap_or_else(|| "None".into())))
                .collect();
            // A check that takes no value still runs after the assets it checks.
            let assigned: std::collections::HashSet<&str> = body
                .lines
                .iter()
                .filter_map(|l| match l {
                    Line::Assign { var, .. } => Some(var.as_str()),
                    _ => None,
                })
                .collect();
            let mut targets: Vec<String> = Vec::new();
            if params.is_empty() {
                for id in shared::checked_steps(p, c) {
                    if let Some(s) = plan.steps.iter().find(|s| s.node.id == id)
                        && assigned.contains(s.var.as_str())
                        && !targets.contains(&s.var)
                    {
                        targets.push(s.var.clone());
                    }
                }
            }
            let call = Expr::call(&fname, args);
            if targets.is_empty() {
                body.lines
                    .push(Line::Text(format!("    {}", call.format(4, 0))));
            } else {
                let var = unique(&mut m.names.taken, &format!("{fname}_out"));
                body.lines.push(Line::Text(format!(
                    "    {var} = {}",
                    call.format_lead(4, var.len() + 3, 0)
                )));
                let left = if targets.len() == 1 {
                    targets[0].clone()
                } else {
                    Expr::List(targets.iter().map(|t| Expr::raw(t.clone())).collect())
                        .format(4, 4 + var.len())
                };
                body.lines.push(Line::Text(format!("    {left} >> {var}")));
            }
        }
        let written = check_fns.get(shared::check_task_name(c)).cloned();
        shared::consume_check(ledger, table, c, written.as_deref());
    }
}
