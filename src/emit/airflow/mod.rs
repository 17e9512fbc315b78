//! The Airflow 3 writer (and the Airflow 2 profile): module-level `@task` functions wired in
//! one `@dag` function per pipeline; classic operators are kept as operators.

mod asset;
mod body;
mod check;
mod condition;
mod dag;
mod group;
mod input;
mod names;
mod operator;
mod pipeline;
mod policy;
mod render;
mod schedule;
mod state;
mod statement;
mod step;
mod task;

use crate::emit::{Target, Writer};
use crate::ir::SourceFile;
use crate::report::{Ledger, Translations};

/// Writes an Airflow module.
pub struct AirflowWriter;

impl Writer for AirflowWriter {
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
