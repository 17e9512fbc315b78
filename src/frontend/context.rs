//! What a reader gets for one file (the parsed module, its imports and constants) and what it
//! returns.

use crate::ir::{Diagnostic, Pipeline};
use crate::python::ast::Stmt;
use crate::python::imports::ImportMap;
use crate::python::literal::Evaluator;
use crate::python::source::SourceText;

/// What a reader gets: the parsed file with its imports and module constants.
pub struct FileContext<'s, 'a> {
    /// The source text.
    pub src: &'s SourceText<'a>,
    /// The module's statements.
    pub suite: &'s [Stmt],
    /// Resolved imports.
    pub imports: &'s ImportMap,
}

/// What a reader returns for one file.
#[derive(Default)]
pub struct Reading {
    /// Pipelines in source order.
    pub pipelines: Vec<Pipeline>,
    /// Problems found.
    pub diagnostics: Vec<Diagnostic>,
    /// The API generation inferred from the imports (`airflow@2`, `airflow@3`, …).
    pub source_version: Option<String>,
}

impl<'s, 'a> FileContext<'s, 'a> {
    /// An evaluator with the module's constants bound.
    pub fn evaluator(&self) -> Evaluator<'s, 'a> {
        let mut ev = Evaluator::new(self.src, self.imports);
        ev.bind_module_constants(self.suite);
        ev
    }
}
