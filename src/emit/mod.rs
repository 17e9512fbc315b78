//! Writers: IR → Python for a target framework, driven by templates/<target>/, recording every
//! decision in the port's ledger.

mod airflow;
mod dagster;
mod module;
pub mod plan;
mod prefect;
pub mod python;
mod resources;
pub mod rewrite;
mod shared;
pub mod target;
mod templates;

pub use target::Target;

use crate::ir::{Framework, SourceFile};
use crate::report::{Ledger, Translations};

/// A writer for one target framework.
pub trait Writer {
    /// The module text for a source file's pipelines, and one ledger per pipeline.
    fn write(
        &self,
        file: &SourceFile,
        target: Target,
        table: &Translations,
    ) -> Result<(String, Vec<Ledger>), String>;
}

/// Ports one source file to a target: the module text and its ledgers.
pub fn port_file(
    file: &SourceFile,
    target: Target,
    table: &Translations,
) -> Result<(String, Vec<Ledger>), String> {
    match target.framework {
        Framework::Prefect => prefect::PrefectWriter.write(file, target, table),
        Framework::Airflow => airflow::AirflowWriter.write(file, target, table),
        Framework::Dagster => dagster::DagsterWriter.write(file, target, table),
    }
}
