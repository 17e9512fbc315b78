//! The steps of a pipeline written as assets: each by its role (asset, check, external spec,
//! folded, failure hook).

use indexmap::IndexSet;

use super::asset::{asset, asset_spec};
use super::check::write_quality_check;
use super::facts::{Role, StepFacts, failure_hooks};
use super::hook::write_failure_hook;
use super::partition::node_partitions;
use super::state::ModuleState;
use crate::emit::multi_asset::members as multi_members;
use crate::emit::plan::Plan;
use crate::emit::shared;
use crate::ir::Framework;
use crate::report::{Anchor, Fidelity, Ledger, Scope};

/// Writes the steps of `plan` by their roles: the asset functions its job selects, and the
/// failure hooks of the job.
pub(super) fn write_steps(
    m: &mut ModuleState,
    plan: &Plan,
    partitions: Option<&str>,
    ledger: &mut Ledger,
) -> (IndexSet<String>, Vec<String>) {
    let (table, from, p) = (m.table, m.from, plan.pipeline);
    // Which steps are written as what.
    // A function an earlier pipeline wrote as an asset stays that asset here.
    let facts = StepFacts::new(plan);
    let roles: Vec<Role> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if !s.defines && m.asset_names.contains(&s.func) {
                Role::Asset
            } else {
                facts.roles[i]
            }
        })
        .collect();
    let mut selection: IndexSet<String> = IndexSet::new();
    // Steps meant for a failure, written as failure hooks of the job (never as assets
    // that would run after every success).
    let hooked = failure_hooks(p, plan, &roles);
    let mut hooks: Vec<String> = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        if hooked.contains(&i) {
            if let Some(hook) = write_failure_hook(m, plan, step, &facts, ledger) {
                hooks.push(hook);
            }
            continue;
        }
        match roles[i] {
            Role::Folded => {
                // Folded: its dependencies pass through to its neighbours; no code.
            }
            Role::Spec => {
                if step.defines && !m.asset_names.contains(&step.func) {
                    m.definitions.push(asset_spec(step));
                    m.asset_names.insert(step.func.clone());
                }
                ledger.consume_as(
                    table,
                    crate::report::node_construct(step.node),
                    &step.node.id,
                    step.node.span,
                    Anchor::statement(&format!("{} = ", step.func), "dg.AssetSpec("),
                    Fidelity::Exact,
                    "an external asset: `dg.AssetSpec`".into(),
                );
            }
            Role::Check(_) if !step.defines && m.checks.contains(&step.func) => {
                // Written by an earlier pipeline (a variant of this flow).
                let at = Anchor::at(Scope::Head(step.func.clone()));
                shared::consume_reused(ledger, table, step.node, &step.func, &at);
            }
            Role::Check(target_step) => write_quality_check(m, plan, step, target_step, ledger),
            Role::Asset => {
                if step.defines {
                    // A Dagster source's assets keep their own partitions.
                    let own = if from == Framework::Dagster {
                        node_partitions(step.node, &p.id, &mut m.parts_defs)
                    } else {
                        partitions.map(str::to_string)
                    };
                    if let Some(name) = &own {
                        m.asset_parts.insert(step.func.clone(), name.clone());
                    }
                    let a = asset(
                        plan,
                        step,
                        &multi_members(m.file, step.node),
                        &facts,
                        from,
                        own.as_deref(),
                        &m.file_assets,
                        &mut m.imports,
                        &mut m.helpers,
                        ledger,
                        table,
                    );
                    m.assets.push(a);
                    m.asset_names.insert(step.func.clone());
                } else {
                    let at = Anchor::at(Scope::Head(step.func.clone()));
                    shared::consume_reused(ledger, table, step.node, &step.func, &at);
                }
                selection.insert(step.func.clone());
            }
        }
    }
    (selection, hooks)
}
