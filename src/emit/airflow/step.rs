//! The steps of a pipeline: each step's task function (or reuse of one), its call or operator
//! in the dag body, and the claims of the node where it is written.

use std::collections::HashSet;

use super::body::Body;
use super::names::{group_chain, sdk, task_label};
use super::policy::policy_kwargs;
use super::state::ModuleState;
use super::statement::{mapped_param, optional_skips, step_statement};
use super::task::task_def;
use crate::emit::plan::{Plan, Step};
use crate::emit::shared;
use crate::ir::{NodeKind, Pipeline};
use crate::python::print::{self as python, Expr};
use crate::report::{self, Anchor, Fidelity, Ledger, Scope};

/// Writes every step of `plan`: task functions into the module, statements into `body`.
pub(super) fn write_steps(
    m: &mut ModuleState,
    plan: &mut Plan,
    dag_name: &str,
    body: &mut Body,
    ledger: &mut Ledger,
) {
    let (target, p) = (m.target, plan.pipeline);
    // A task that reads an optional output of a Dagster op skips when it is missing.
    let optional_readers = crate::ir::optional::readers(p);
    let preludes: Vec<Vec<String>> = plan
        .steps
        .iter()
        .map(|s| optional_skips(plan, s, target, &mut m.imports))
        .collect();
    for (s, prelude) in plan.steps.iter_mut().zip(preludes) {
        s.body_prelude = prelude;
    }
    for step in &plan.steps {
        write_step(m, plan, step, dag_name, &optional_readers, body, ledger);
    }
}

/// Writes one step: its task function (when it defines one), its statement in `body`.
fn write_step(
    m: &mut ModuleState,
    plan: &Plan,
    step: &Step,
    dag_name: &str,
    optional_readers: &HashSet<&str>,
    body: &mut Body,
    ledger: &mut Ledger,
) {
    let (table, target, from, p) = (m.table, m.target, m.from, plan.pipeline);
    let label = task_label(p, step);
    claim_optional_reader(m, step, optional_readers, ledger);
    let node_at = node_anchor(step, dag_name, &label);
    claim_node(m, p, step, dag_name, &node_at, ledger);
    if step.node.callable.is_some() && step.node.operator.is_none() {
        if step.defines {
            m.tasks.push(task_def(
                step,
                from,
                target,
                &m.assets,
                (Some(p), &m.config),
                &mut m.imports,
                &mut m.helpers,
                ledger,
                table,
            ));
        } else {
            shared::consume_reused(ledger, table, step.node, &step.func, &node_at);
        }
    }
    let overrides = overrides(m, p, step, &node_at, ledger);
    let stmt = step_statement(
        dag_name,
        m.file,
        p,
        plan,
        step,
        &overrides,
        target,
        &m.assets,
        &mut m.imports,
        ledger,
        table,
    );
    if stmt.is_some() && !group_chain(p, step.node.group.as_deref()).is_empty() {
        m.imports.name(sdk(target), "TaskGroup");
    }
    body.push(p, step, stmt);
}

/// A task that reads an optional output of a Dagster op skips when it is missing: claimed at
/// its skip, or lost when its function is another call's.
fn claim_optional_reader(
    m: &ModuleState,
    step: &Step,
    optional_readers: &HashSet<&str>,
    ledger: &mut Ledger,
) {
    let table = m.table;
    if optional_readers.contains(step.node.id.as_str()) {
        if step.defines && !step.body_prelude.is_empty() {
            ledger.consume(
                table,
                "node.optional_output",
                &step.node.id,
                step.node.span,
                Anchor::body(&step.func, "AirflowSkipException("),
            );
        } else {
            ledger.lose(
                            table,
                            "node.optional_output",
                            &step.node.id,
                            step.node.span,
                            "the task runs whether or not the optional outputs it reads were produced (its function is another call's): skip it by hand".into(),
                        );
        }
    }
}

/// Where the step is: its task function, or its call or operator in the dag body.
fn node_anchor(step: &Step, dag_name: &str, label: &str) -> Anchor {
    if step.node.operator.is_some() || step.node.kind == NodeKind::SubPipeline {
        Anchor::body(dag_name, format!("task_id={}", python::string(label)))
    } else if step.defines {
        Anchor::at(Scope::Head(step.func.clone()))
    } else if label != step.func {
        Anchor::body(dag_name, format!("task_id={}", python::string(label)))
    } else {
        Anchor::body(dag_name, format!("{}(", step.func))
    }
}

/// Claims the node at `node_at` (with its mapping), and the framework API uses of a
/// `python_callable`, which stays as it was.
fn claim_node(
    m: &ModuleState,
    p: &Pipeline,
    step: &Step,
    dag_name: &str,
    node_at: &Anchor,
    ledger: &mut Ledger,
) {
    let table = m.table;
    if step.node.kind != NodeKind::ExternalAsset
        && (step.node.callable.is_some()
            || step.node.operator.is_some()
            || step.node.kind == NodeKind::SubPipeline)
    {
        if step.defines || step.node.operator.is_some() {
            shared::consume_node(ledger, table, step.node, node_at);
        }
        if step.node.mapping.is_some() {
            let at = Anchor::body(
                dag_name,
                format!(
                    "{}.",
                    if step.node.operator.is_some() {
                        step.node.operator.as_ref().map_or("", |o| o.class.as_str())
                    } else {
                        step.func.as_str()
                    }
                ),
            )
            .then(".expand");
            match step.inputs.iter().find_map(|i| mapped_param(p, i)) {
                            Some(prm) => ledger.consume_as(
                                table,
                                "mapping",
                                &step.node.id,
                                step.node.span,
                                at,
                                Fidelity::Approximate,
                                format!("mapped over the default of the `{}` parameter: Airflow cannot map over a DAG param, so a run's own value is not used", prm.name),
                            ),
                            None => ledger.consume(table, "mapping", &step.node.id, step.node.span, at),
                        };
        }
    }
    if let (Some(c), Some(_)) = (&step.node.callable, &step.node.operator) {
        // A python_callable stays the operator's callable, unchanged.
        for api in report::body_apis(&c.body) {
            let needle = shared::use_needles(api)
                .iter()
                .find(|w| c.body.contains(**w))
                .copied()
                .unwrap_or(api);
            ledger.consume_as(
                table,
                api,
                &step.node.id,
                c.body_span,
                Anchor::body(&step.func, needle),
                Fidelity::Exact,
                "kept in the python_callable".into(),
            );
        }
    }
}

/// What a reused task changes of its function's policy (`override(retries=…)`), and its own
/// trigger rule; a task function's own policy is remembered for its later calls.
fn overrides(
    m: &mut ModuleState,
    p: &Pipeline,
    step: &Step,
    node_at: &Anchor,
    ledger: &mut Ledger,
) -> Vec<Expr> {
    let (table, from) = (m.table, m.from);
    let mut scratch = Ledger::new(&m.file.path, &p.id, "airflow");
    let own = policy_kwargs(
        from,
        &step.node.policy,
        &step.node.id,
        step.node.span,
        &mut scratch,
        table,
        &mut m.imports,
        &Anchor::at(Scope::Head(String::new())),
    );
    let overrides: Vec<Expr> = if step.defines {
        m.decorated.insert(step.func.clone(), own);
        m.decorated_rule
            .insert(step.func.clone(), step.trigger_rule.clone());
        Vec::new()
    } else {
        let base = m.decorated.get(&step.func).cloned().unwrap_or_default();
        let mut o: Vec<Expr> = own.iter().filter(|e| !base.contains(e)).cloned().collect();
        if base
            .iter()
            .any(|e| matches!(e, Expr::Keyword(k, _) if k == "retries"))
            && !own
                .iter()
                .any(|e| matches!(e, Expr::Keyword(k, _) if k == "retries"))
        {
            o.push(Expr::kw("retries", Expr::raw("0")));
        }
        // A policy the call overrides is written in `override(…)`, not in the head.
        for e in &o {
            let Expr::Keyword(k, _) = e else { continue };
            let field = match k.as_str() {
                "retries" => "policy.retries",
                "retry_delay" => "policy.retry_delay",
                "execution_timeout" => "policy.timeout",
                "pool" => "policy.pool",
                "owner" => "policy.owner",
                _ => continue,
            };
            let at = node_at.clone().then(format!("{k}="));
            ledger.repoint(field, &step.node.id, at);
        }
        // A call's own trigger rule (an except handler's one_failed).
        let base_rule = m.decorated_rule.get(&step.func).cloned().flatten();
        if step.trigger_rule != base_rule {
            let rule = step.trigger_rule.as_deref().unwrap_or("all_success");
            o.push(Expr::kw("trigger_rule", Expr::str(rule)));
            if step.node.trigger_rule.is_some() {
                let at = node_at.clone().then("trigger_rule=");
                ledger.consume(table, "trigger_rule", &step.node.id, step.node.span, at);
            }
        }
        o
    };
    overrides
}
