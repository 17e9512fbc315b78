//! The interface every writer implements: one source file's pipelines in, one module out.

use super::target::Target;
use crate::ir::SourceFile;
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
