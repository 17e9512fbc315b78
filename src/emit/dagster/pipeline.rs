//! One pipeline of the module: its op job as written, or its assets, checks, resources and
//! asset job, with the pipeline's own claim in its ledger.

use std::collections::HashSet;

use super::check::write_checks;
use super::config::write_config;
use super::job::write_asset_job;
use super::op::{op_composition, write_op_job};
use super::partition::partitions_def;
use super::state::ModuleState;
use super::steps::write_steps;
use crate::emit::multi_asset::members as multi_members;
use crate::emit::plan::{Plan, unique};
use crate::emit::shared;
use crate::ir::Pipeline;
use crate::python::print::{self as python, identifier};
use crate::report::{Anchor, Ledger};

/// Writes pipeline `p` into the module and adds its ledger.
pub(super) fn write_pipeline<'f>(m: &mut ModuleState<'f>, p: &'f Pipeline) {
    let (table, from) = (m.table, m.from);
    let mut ledger = shared::ledger_for(m.file, p, m.target);
    let mut plan = Plan::new(p, &mut m.names);
    plan.bind_run_loggers(m.target.framework);
    share_step_functions(m, &mut plan);
    let partitions = partitions_def(p, from, &mut m.parts_defs, &mut ledger, table);
    if let Some((texts, job_fn)) = op_composition(p, from) {
        // An op job of the source stays an op job: ops, graphs and the job as written.
        write_op_job(m, &plan, partitions.as_deref(), texts, job_fn, &mut ledger);
    } else {
        write_assets(m, &plan, partitions.as_deref(), &mut ledger);
    }
    ledger.finish(table);
    m.ledgers.push(ledger);
}

/// Every step is its own asset: a function called at several places in one pipeline gets one
/// asset function per call (a function shared with an earlier pipeline is reused).
fn share_step_functions(m: &mut ModuleState, plan: &mut Plan) {
    let mut seen: HashSet<String> = HashSet::new();
    for s in &mut plan.steps {
        // The assets of one multi-asset are one function.
        if seen.contains(&s.func) && multi_members(m.file, s.node).len() > 1 {
            s.defines = false;
            continue;
        }
        if seen.contains(&s.func) {
            let key = (s.func.clone(), s.node.id.clone());
            if let Some(f) = m.by_step.get(&key) {
                s.func = f.clone();
                s.defines = false;
            } else {
                s.func = unique(&mut m.names.taken, &identifier(&s.node.id));
                s.defines = true;
                m.by_step.insert(key, s.func.clone());
            }
        }
        seen.insert(s.func.clone());
    }
}

/// The pipeline as assets: its steps, run config, checks, resources and asset job; the
/// pipeline's claim goes to its job, else to `Definitions`.
fn write_assets(m: &mut ModuleState, plan: &Plan, partitions: Option<&str>, ledger: &mut Ledger) {
    let (table, from, p) = (m.table, m.from, plan.pipeline);
    let (selection, hooks) = write_steps(m, plan, partitions, ledger);
    write_config(m, plan, ledger);
    write_checks(m, plan, ledger);
    for r in &p.resources {
        let call = crate::emit::resources::resource_call(r, crate::ir::Framework::Dagster);
        m.resources.insert(r.key.clone(), call);
        let at = Anchor::statement("defs = ", "resources=").then(python::string(&r.key));
        ledger.consume(table, "resource", &r.key, r.span, at);
    }
    // A pipeline that was a job (or any non-Dagster pipeline) becomes an asset job.
    let is_job = from != crate::ir::Framework::Dagster || p.extra.contains_key("job_kind");
    if is_job && !selection.is_empty() {
        write_asset_job(m, plan, partitions, &selection, &hooks, ledger);
    }
    if selection.is_empty() && !ledger.has("pipeline", &p.id) {
        // Nothing of it is written (every step a folded no-op): no claim at `defs`.
        ledger.lose(
            table,
            "pipeline",
            &p.id,
            p.span,
            "no step of it is written (each was a no-op folded into its neighbours), so no asset, op or job is: the port has nothing of this pipeline".into(),
        );
    } else if !ledger.has("pipeline", &p.id) {
        // Assets without a job: the pipeline is the assets in `Definitions`.
        let at = Anchor::statement("defs = ", "dg.Definitions(");
        ledger.consume(table, "pipeline", &p.id, p.span, at.clone());
        shared::consume_notes(ledger, table, "pipeline", &p.extra, p.span, &at);
    }
}
