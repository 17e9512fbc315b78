//! One pipeline of the module: its flow function (steps, checks, result), the claims of its
//! sub-flows and partitions, and its deployment.

use super::body::flow_body;
use super::call::{async_task, called_as_sub_flow, result_step};
use super::check::write_checks;
use super::deployment::deployment;
use super::flow::{flow_decorator, flow_signature};
use super::flow_state::FlowState;
use super::state::ModuleState;
use super::step::write_step;
use crate::emit::module::PipelineCtx;
use crate::emit::plan::Plan;
use crate::emit::shared;
use crate::ir::{Framework, Pipeline};
use crate::report::{self, Anchor, Scope};

/// Writes pipeline `p` as a flow (with its deployment) and adds its ledger.
pub(super) fn write_pipeline<'f>(m: &mut ModuleState<'f>, p: &'f Pipeline) {
    let (table, target, from) = (m.table, m.target, m.from);
    let mut ledger = shared::ledger_for(m.file, p, target);
    // Another framework runs what does not depend on a failed step that a map reads;
    // the flow raises at the `.map()`, so every other step is submitted before it.
    let plan = if from == Framework::Prefect {
        Plan::new(p, &mut m.names)
    } else {
        Plan::in_order(p, &mut m.names, crate::emit::plan::maps_last(p))
    };
    let mut fl = FlowState::new(m, &plan);
    // A flow that runs async tasks stays async (its tasks are submitted like the others:
    // awaiting each in turn would run gathered calls one after another).
    let is_async = plan.steps.iter().any(|s| async_task(s));
    for i in 0..plan.steps.len() {
        write_step(m, &plan, i, &mut fl, &mut ledger);
    }
    write_checks(m, &plan, &mut fl, &mut ledger);
    let FlowState {
        flow_name,
        partition_param,
        statements,
        futures,
        folded,
        stmt_guards,
        ..
    } = fl;
    // A flow that another flow calls returns its result (the last step nothing reads).
    let result = called_as_sub_flow(m.file, p)
        .then(|| result_step(&plan, &folded))
        .flatten()
        .map(|i| plan.steps[i].var.clone());
    let statements = flow_body(statements, &stmt_guards, &futures, result.as_deref());
    let name = flow_name.clone();
    // A sub-flow of the source is its own flow here.
    for g in p
        .groups
        .iter()
        .filter(|g| g.kind == crate::ir::GroupKind::SubFlow)
    {
        if let Some(f) = m.flow_names.get(&g.id) {
            let at = Anchor::at(Scope::Head(f.clone()));
            ledger.consume(table, "group.sub_flow", &g.id, g.span, at);
        }
    }
    if let (Some(pk), Some(parts)) = (&partition_param, &p.partitions) {
        let at = Anchor::head(&name, format!("{pk}:"));
        ledger.consume(table, report::partitions_id(parts), &p.id, p.span, at);
    }
    m.flows.push(PipelineCtx {
        decorator: flow_decorator(p, &name, &mut ledger, table, &mut m.imports),
        name: name.clone(),
        signature: flow_signature(p, &name, partition_param.as_deref(), &mut ledger, table),
        statements,
        is_async,
    });
    m.served.extend(deployment(
        p,
        &name,
        target,
        &mut m.imports,
        &mut ledger,
        table,
    ));
    ledger.finish(table);
    m.ledgers.push(ledger);
}
