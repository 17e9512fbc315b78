//! A Prefect flow's calls under conditions in Airflow: short-circuit gate tasks, `except`
//! handlers as `one_failed`, and tests of runs' states as the trigger rules they amount to.

use super::body::{Body, Line};
use super::names::{sdk, task_label};
use super::state::ModuleState;
use crate::emit::guards::Conditions;
use crate::emit::module::FunctionCtx;
use crate::emit::plan::{Plan, unique};
use crate::emit::shared;
use crate::ir::{Framework, Pipeline};
use crate::python::print::{self as python, Expr};
use crate::report::{Anchor, Fidelity, Ledger, Translations};

/// A Prefect flow's calls under conditions: short-circuit gates, except handlers (none for
/// another source).
pub(super) fn prefect_conditions(m: &ModuleState, p: &Pipeline) -> Conditions {
    let (file, from) = (m.file, m.from);
    if from == Framework::Prefect {
        let module: std::collections::HashSet<String> = file
            .support
            .iter()
            .flat_map(|i| i.binds.iter().cloned())
            .collect();
        crate::emit::guards::prefect_conditions(p, &module)
    } else {
        crate::emit::guards::Conditions::default()
    }
}

/// The trigger rules the conditions give their steps (`none_failed` below a gate, a state
/// test's rule), claimed where they are written.
pub(super) fn apply_rules(
    conditions: &Conditions,
    plan: &mut Plan,
    dag_name: &str,
    ledger: &mut Ledger,
    table: &Translations,
) {
    let p = plan.pipeline;
    for &k in &conditions.tolerant {
        if let Some(step) = plan.steps.iter_mut().find(|s| s.node.id == p.nodes[k].id) {
            step.trigger_rule = Some("none_failed".into());
        }
    }
    for &(k, rule) in &conditions.rules {
        let n = &p.nodes[k];
        if let Some(step) = plan.steps.iter_mut().find(|s| s.node.id == n.id) {
            step.trigger_rule = Some(rule.into());
            // In the task's decorator, or in the call's override(…) for a reused task.
            let at = if step.defines {
                Anchor::head(&step.func, "trigger_rule=")
            } else {
                Anchor::body(dag_name, "trigger_rule=").then(python::string(rule))
            };
            let note = format!(
                "trigger_rule=\"{rule}\": the flow's `{}` tests the states of every run the step waits for",
                n.condition.as_deref().unwrap_or("")
            );
            ledger.consume_as(
                table,
                "node.condition",
                &n.id,
                n.span,
                at.clone(),
                Fidelity::Approximate,
                note,
            );
            // The tested runs' `return_state=True`: their state is what the rule reads.
            for id in n.condition_reads.values() {
                if let Some(t) = p.nodes.iter().find(|x| &x.id == id)
                    && t.extra.contains_key("return_state")
                {
                    ledger.consume_as(
                        table,
                        "extra",
                        &format!("{id}.return_state"),
                        t.span,
                        at.clone(),
                        Fidelity::Exact,
                        format!("the run's state, which the trigger rule of {} reads", n.id),
                    );
                }
            }
            if n.trigger_rule.is_some() {
                ledger.consume_as(
                    table,
                    "trigger_rule",
                    &n.id,
                    n.span,
                    at,
                    Fidelity::Approximate,
                    format!("written as {rule}, which the state test amounts to"),
                );
            }
        }
    }
}

/// Each gate evaluates its condition in a short-circuit task upstream of the steps it
/// guards; handlers wait for their try body with one_failed; the other conditions are lost.
pub(super) fn write_gates(
    m: &mut ModuleState,
    plan: &Plan,
    conditions: &Conditions,
    dag_name: &str,
    body: &mut Body,
    ledger: &mut Ledger,
) {
    let (table, target, p) = (m.table, m.target, plan.pipeline);
    let var_of = |i: usize| {
        plan.steps
            .iter()
            .find(|s| s.node.id == p.nodes[i].id)
            .map(|s| s.var.clone())
    };
    for gate in &conditions.gates {
        let guarded: Vec<String> = gate.nodes.iter().filter_map(|&i| var_of(i)).collect();
        let first = plan
            .steps
            .iter()
            .find(|s| s.node.id == p.nodes[gate.nodes[0]].id)
            .map_or("step", |s| s.func.as_str());
        let fname = unique(&mut m.names.taken, &format!("{first}_condition"));
        let mut params: Vec<String> = gate.reads.iter().map(|(n, _)| n.clone()).collect();
        params.extend(gate.params.iter().cloned());
        m.imports.name(sdk(target), "task");
        m.tasks.push(FunctionCtx {
            decorator: "@task.short_circuit(ignore_downstream_trigger_rules=False)".into(),
            name: fname.clone(),
            signature: shared::signature(&format!("def {fname}"), &params, " -> bool"),
            body: if gate.condition.starts_with("not ") {
                format!("    return {}", gate.condition)
            } else {
                format!("    return bool({})", gate.condition)
            },
            is_async: false,
        });
        let mut args: Vec<Expr> = gate
            .reads
            .iter()
            .filter_map(|(n, j)| var_of(*j).map(|v| Expr::kw(n, Expr::raw(v))))
            .collect();
        args.extend(
            gate.params
                .iter()
                .map(|n| Expr::kw(n, Expr::raw(n.clone()))),
        );
        let gate_var = format!("{fname}_out");
        body.lines.push(Line::Text(format!(
            "    {gate_var} = {}",
            Expr::call(&fname, args).format_lead(4, gate_var.len() + 3, 0)
        )));
        let right = if guarded.len() == 1 {
            guarded[0].clone()
        } else {
            Expr::List(guarded.iter().map(|v| Expr::raw(v.clone())).collect())
                .format(4, 4 + gate_var.len())
        };
        body.lines
            .push(Line::Text(format!("    {gate_var} >> {right}")));
        for &i in &gate.nodes {
            let n = &p.nodes[i];
            let at = Anchor::body(dag_name, format!("{fname}("));
            ledger.consume(table, "node.condition", &n.id, n.span, at);
        }
    }
    for &i in &conditions.handlers {
        let n = &p.nodes[i];
        let label = plan
            .steps
            .iter()
            .find(|s| s.node.id == n.id)
            .map(|s| task_label(p, s))
            .unwrap_or_else(|| n.id.clone());
        let at = Anchor::body(dag_name, format!("task_id={}", python::string(&label)))
            .then("trigger_rule=");
        ledger.consume_as(
                    table,
                    "node.condition",
                    &n.id,
                    n.span,
                    at,
                    Fidelity::Approximate,
                    format!(
                        "trigger_rule one_failed after the try body's tasks: it runs when any of them fails, whatever the exception (the flow caught `{}`)",
                        n.condition.as_deref().unwrap_or("except").trim_start_matches("except ")
                    ),
                );
    }
    for (i, why) in &conditions.lost {
        let n = &p.nodes[*i];
        ledger.lose(table, "node.condition", &n.id, n.span, why.clone());
    }
}
