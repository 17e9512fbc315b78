//! The Prefect 3 writer: one `@flow` per pipeline, one `@task` per step, deployments via `serve`.
//!
//! Calls in a flow body. Every task is submitted (`task.submit(...)`, mapped tasks `task.map(...)`)
//! and its future is what later steps get, as an argument or in `wait_for=[...]`: Prefect records
//! a dependency from a future whatever the task returns, while a direct call's value is traced
//! by its identity only (None, booleans and small ints are never traced, so order edges and such
//! data edges would be lost). The flow resolves with `.result()` every future no later step
//! reads, so it waits for its last tasks and fails when one of them fails or could not run
//! (Prefect 3.9 completes a flow whose unresolved futures failed); a flow that another flow calls
//! returns its result step's value (`return x.result()`), not a future. Sub-flow calls (flows
//! have no `.submit()`) stay direct calls; Prefect resolves the futures passed to them. Async
//! tasks are submitted too (their flow stays async): awaiting each in turn would run calls the
//! source gathers one after another, and stop at the first failure.

mod body;
mod branch;
mod call;
mod check;
mod deployment;
mod failure;
mod flow;
mod flow_state;
mod pipeline;
mod render;
mod state;
mod step;
mod task;

use crate::emit::{Target, Writer};
use crate::ir::SourceFile;
use crate::report::{Ledger, Translations};

/// Writes a Prefect module.
pub struct PrefectWriter;

impl Writer for PrefectWriter {
    fn write(
        &self,
        file: &SourceFile,
        target: Target,
        table: &Translations,
    ) -> Result<(String, Vec<Ledger>), String> {
        let mut module = state::ModuleState::new(file, target, table);
        for p in &file.pipelines {
            pipeline::write_pipeline(&mut module, p);
        }
        render::render(module)
    }
}
