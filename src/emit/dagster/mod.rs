//! The Dagster 1.x writer: steps become software-defined assets (quality steps become asset
//! checks, no-op steps are folded), pipelines become asset jobs with schedules, and everything is
//! registered in one `Definitions`.

mod asset;
mod body;
mod check;
mod condition;
mod config;
mod definitions;
mod facts;
mod hook;
mod inputs;
mod job;
mod keys;
mod op;
mod options;
mod partition;
mod pipeline;
mod schedule;
mod sensor;
mod site;
mod state;
mod steps;

use crate::emit::{Target, Writer};
use crate::ir::SourceFile;
use crate::report::{Ledger, Translations};

/// Writes a Dagster module.
pub struct DagsterWriter;

impl Writer for DagsterWriter {
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
        definitions::render(module)
    }
}
