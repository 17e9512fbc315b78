//! A step of a flow: its task function (or reuse of one), and its call in the flow body —
//! submitted or mapped, a sub-flow called directly, under the `if`s of its guard.

use super::branch::{consume_scope_option, if_headers, result_local};
use super::call::{
    call_args, call_name, flow_policy, imports_unmapped, needs_partition, overrides, params_arg,
    template_args,
};
use super::failure::{FailureRule, failure_rule};
use super::flow_state::FlowState;
use super::state::ModuleState;
use super::task::{any, task};
use crate::emit::plan::{Plan, Step};
use crate::emit::shared;
use crate::ir::{Framework, NodeKind, Value};
use crate::python::print::Expr;
use crate::report::{self, Anchor, Fidelity, Ledger, Scope};

/// Writes step `i` of `plan`: its task function when it defines one, its call in the flow.
pub(super) fn write_step(
    m: &mut ModuleState,
    plan: &Plan,
    i: usize,
    fl: &mut FlowState,
    ledger: &mut Ledger,
) {
    let (table, from, p) = (m.table, m.from, plan.pipeline);
    let step = &plan.steps[i];
    if fl.folded[i] {
        // An external asset is not a step: nothing in Prefect produces it.
        if step.node.kind == NodeKind::ExternalAsset {
            ledger.lose(
                            table,
                            "node.external_asset",
                            &step.node.id,
                            step.node.span,
                            "not a step: the flow neither produces nor waits for it; its data must be there before the flow runs".into(),
                        );
        }
        return;
    }
    let n = step.node;
    let mut guard_of: Option<crate::emit::guards::Guard> = fl
        .node_index
        .get(n.id.as_str())
        .map(|&k| fl.guards[k].clone())
        .filter(|g| *g != crate::emit::guards::Guard::Always)
        .filter(|g| g.reads().iter().all(|r| fl.choices.contains_key(r)));
    // The partition key is the flow's partition parameter.
    if let (Some(pk), Some(parts)) = (&fl.partition_param, &n.partitions) {
        let at = Anchor::head(&fl.flow_name, format!("{pk}:"));
        ledger.consume(table, report::partitions_id(parts), &n.id, n.span, at);
    }
    if step.node.kind == NodeKind::SubPipeline
        && sub_flow_call(m, plan, step, fl, &guard_of, ledger)
    {
        return;
    }
    define_or_reuse(m, plan, step, fl, ledger);
    let mapped = step.node.mapping.is_some();
    if mapped {
        let at = Anchor::body(&fl.flow_name, step.func.as_str()).then(".map(");
        ledger.consume(table, "mapping", &n.id, n.span, at);
    }
    let args = call_args(plan, step, &fl.folded, mapped);
    let mut args = args;
    apply_failure_rule(m, plan, step, fl, &mut args, &mut guard_of, ledger);
    let guard = guard_of.as_ref().map(|g| if_headers(g, &fl.choices));
    if guard.is_some() {
        fl.maybe_none.insert(step.var.clone());
    }
    claim_optional_reader(m, step, fl, &guard_of, ledger);
    template_args(plan, step, &mut args);
    params_arg(&fl.flow_name, p, step, &mut args, ledger, table);
    if let Some(pk) = &fl.partition_param
        && needs_partition(step, from)
        && !args
            .iter()
            .any(|a| matches!(a, Expr::Keyword(k, _) if k == "partition_key"))
    {
        args.push(Expr::kw("partition_key", Expr::raw(pk.clone())));
    }
    submit(m, plan, step, fl, args, mapped, &guard);
    record_decision(m, plan, step, fl, guard, ledger);
}

/// A sub-flow's call: the child flow called directly (with `with_options(...)` for the call's
/// own retry boundary); false when the callee is not a flow of this module.
fn sub_flow_call(
    m: &mut ModuleState,
    plan: &Plan,
    step: &Step,
    fl: &mut FlowState,
    guard_of: &Option<crate::emit::guards::Guard>,
    ledger: &mut Ledger,
) -> bool {
    let table = m.table;
    let callee = step
        .node
        .extra
        .get("pipeline")
        .and_then(Value::as_str)
        .unwrap_or(&step.node.id);
    if let (Some(fname), Some(child)) = (
        m.flow_names.get(callee),
        m.file.pipelines.iter().find(|x| x.id == callee),
    ) {
        *fl.calls.entry(fname.clone()).or_insert(0) += 1;
        let args = call_args(plan, step, &fl.folded, false);
        // `child.with_options(retries=…)(…)`: the call's own retry boundary.
        let options = overrides(
            &flow_policy(&child.run_policy),
            &flow_policy(&step.node.policy.over(&child.run_policy)),
        );
        let at = Anchor::body(&fl.flow_name, format!("{fname}("));
        shared::consume_node(ledger, table, step.node, &at);
        let call = if options.is_empty() {
            Expr::call(fname, args)
        } else {
            Expr::CallOn(
                Box::new(Expr::call(&format!("{fname}.with_options"), options)),
                args,
            )
        };
        fl.statements.push((Some(step.var.clone()), call));
        fl.stmt_guards
            .push(guard_of.as_ref().map(|g| if_headers(g, &fl.choices)));
        return true;
    }
    false
}

/// The task function of a step that defines one (its policy remembered for later calls), or
/// the claim of a reused one.
fn define_or_reuse(
    m: &mut ModuleState,
    plan: &Plan,
    step: &Step,
    fl: &mut FlowState,
    ledger: &mut Ledger,
) {
    let (table, from, p) = (m.table, m.from, plan.pipeline);
    let n = step.node;
    if step.defines {
        let t = task(
            p,
            step,
            from,
            &mut m.imports,
            &mut m.helpers,
            ledger,
            table,
            fl.partition_param.as_deref(),
            &m.config,
            plan,
        );
        let mut scratch = Ledger::new(&m.file.path, &p.id, "prefect");
        m.decorated.insert(
            step.func.clone(),
            shared::prefect_policy(p, step.node, &mut scratch, table, &any()),
        );
        m.tasks.push(t);
        shared::consume_node(
            ledger,
            table,
            n,
            &Anchor::at(Scope::Head(step.func.clone())),
        );
    } else {
        let at = Anchor::body(&fl.flow_name, step.func.as_str());
        shared::consume_reused(ledger, table, n, &step.func, &at);
    }
}

/// An Airflow rule that runs after failures: the step waits with allow_failure, and the flow
/// tests its upstream runs' states (never inverted: a step meant for a failure is not called
/// after a success).
fn apply_failure_rule(
    m: &mut ModuleState,
    plan: &Plan,
    step: &Step,
    fl: &mut FlowState,
    args: &mut [Expr],
    guard_of: &mut Option<crate::emit::guards::Guard>,
    ledger: &mut Ledger,
) {
    let (table, from, p) = (m.table, m.from, plan.pipeline);
    let n = step.node;
    if from == Framework::Airflow {
        let rule = n
            .trigger_rule
            .clone()
            .or_else(|| p.effective_policy(n).trigger_rule);
        if let Some(FailureRule {
            wait,
            condition,
            how,
        }) = failure_rule(rule.as_deref(), args, &fl.maybe_none, &mut m.imports)
        {
            if let Some(waited) = wait {
                fl.statements.push((None, waited));
                fl.stmt_guards.push(None);
            }
            if let Some(cond) = condition {
                *guard_of = Some(match guard_of.take() {
                    Some(g) => crate::emit::guards::Guard::all(vec![g, cond]),
                    None => cond,
                });
            }
            if n.trigger_rule.is_some() || p.defaults.trigger_rule.is_some() {
                let at = Anchor::body(&fl.flow_name, step.func.as_str());
                let subject = if n.trigger_rule.is_some() {
                    n.id.as_str()
                } else {
                    "defaults"
                };
                ledger.consume_as(
                    table,
                    "trigger_rule",
                    subject,
                    n.span,
                    at,
                    Fidelity::Approximate,
                    how,
                );
            }
        }
    }
}

/// A step that reads an optional output of a Dagster op: claimed at the `if` that tests it,
/// or lost when its call is not guarded.
fn claim_optional_reader(
    m: &ModuleState,
    step: &Step,
    fl: &FlowState,
    guard_of: &Option<crate::emit::guards::Guard>,
    ledger: &mut Ledger,
) {
    let table = m.table;
    let n = step.node;
    if fl.optional_readers.contains(n.id.as_str()) {
        let tests: Vec<String> = guard_of
            .iter()
            .flat_map(|g| g.conjuncts())
            .filter(|c| {
                matches!(
                    c,
                    crate::emit::guards::Guard::Atom(crate::emit::guards::Atom::Produced { .. })
                )
            })
            .map(|c| c.python(&|k| fl.choices.get(&k).cloned().unwrap_or_default()))
            .collect();
        match tests.first() {
                        Some(test) => ledger.consume(
                            table,
                            "node.optional_output",
                            &n.id,
                            n.span,
                            Anchor::body(&fl.flow_name, format!("if {test}")),
                        ),
                        None => ledger.lose(
                            table,
                            "node.optional_output",
                            &n.id,
                            n.span,
                            "the step is called whether or not the optional outputs it reads were produced: guard the call by hand".into(),
                        ),
                    };
    }
}

/// The step's call in the flow: what it changes of its function (its name, its policy) in
/// `with_options(...)`, submitted or mapped.
fn submit(
    m: &mut ModuleState,
    plan: &Plan,
    step: &Step,
    fl: &mut FlowState,
    args: Vec<Expr>,
    mapped: bool,
    guard: &Option<Vec<String>>,
) {
    let (table, p) = (m.table, plan.pipeline);
    // What this call changes of its function: its name (the node id, when a plain
    // call would not get it) and its policy.
    let mut options = Vec::new();
    if let Some(name) = call_name(&mut fl.calls, &step.func, &step.node.id) {
        options.push(Expr::kw("name", Expr::str(&name)));
    }
    let mut scratch = Ledger::new(&m.file.path, &p.id, "prefect");
    let own = shared::prefect_policy(p, step.node, &mut scratch, table, &any());
    if let Some(base) = m.decorated.get(&step.func) {
        options.extend(overrides(base, &own));
    }
    if mapped {
        imports_unmapped(&mut m.imports, &args);
    }
    fl.futures.insert(step.var.clone());
    let callee = if options.is_empty() {
        Expr::raw(step.func.clone())
    } else {
        Expr::call(&format!("{}.with_options", step.func), options)
    };
    let how = if mapped { "map" } else { "submit" };
    let call = Expr::Method(Box::new(callee), how.into(), args);
    fl.statements.push((Some(step.var.clone()), call));
    fl.stmt_guards.push(guard.clone());
}

/// A branching step's result decides, in the flow, which steps below it run; when every step
/// it decides is a folded no-op, nothing reads it. An op's result with optional outputs decides
/// which readers run.
fn record_decision(
    m: &ModuleState,
    plan: &Plan,
    step: &Step,
    fl: &mut FlowState,
    guard: Option<Vec<String>>,
    ledger: &mut Ledger,
) {
    let table = m.table;
    let n = step.node;
    if matches!(n.kind, NodeKind::Branch | NodeKind::ShortCircuit) && fl.too_deep {
        ledger.lose(
                        table,
                        report::node_id(n.kind),
                        &n.id,
                        n.span,
                        "the branch is not kept: its pipeline nests branches and joins past what orchmig writes as ifs, so every step below it runs; port the branching by hand".into(),
                    );
    } else if matches!(n.kind, NodeKind::Branch | NodeKind::ShortCircuit)
        && let Some(&k) = fl.node_index.get(n.id.as_str())
        && !fl.decides.contains(&k)
    {
        ledger.consume_as(
            table,
            report::node_id(n.kind),
            &n.id,
            n.span,
            Anchor::body(&fl.flow_name, step.var.as_str()),
            Fidelity::Exact,
            "every step it decides is a no-op, folded away: nothing written depends on its result"
                .into(),
        );
        let at = Anchor::body(&fl.flow_name, step.var.as_str());
        consume_scope_option(
            ledger,
            table,
            n,
            at,
            "nothing written below it: what it skips is folded away",
        );
    } else if !n.optional_outputs.is_empty()
        && let Some(&k) = fl.node_index.get(n.id.as_str())
        && fl.decides.contains(&k)
    {
        // The op's result (a dict of the outputs it produced) decides, in the
        // flow, which readers run.
        let (local, value) = result_local(plan, step, "_outputs", &fl.choices, &fl.futures);
        fl.statements.push((Some(local.clone()), Expr::raw(value)));
        fl.stmt_guards.push(guard);
        fl.choices.insert(k, local);
    } else if matches!(n.kind, NodeKind::Branch | NodeKind::ShortCircuit)
        && let Some(&k) = fl.node_index.get(n.id.as_str())
    {
        let (choice, value) = result_local(plan, step, "_choice", &fl.choices, &fl.futures);
        let at = Anchor::body(&fl.flow_name, format!("{choice} = "));
        ledger.consume(table, report::node_id(n.kind), &n.id, n.span, at.clone());
        consume_scope_option(
            ledger,
            table,
            n,
            at,
            "the ifs below it follow it: only its direct downstream, or everything below",
        );
        fl.statements.push((Some(choice.clone()), Expr::raw(value)));
        fl.stmt_guards.push(guard);
        fl.choices.insert(k, choice);
    }
}
