//! What the Airflow writer gathers for the whole module while it writes each pipeline.

use std::collections::BTreeMap;

use super::asset::AssetConsts;
use super::names::sdk;
use crate::emit::Target;
use crate::emit::module::{FunctionCtx, Imports, PipelineCtx};
use crate::emit::plan::Names;
use crate::ir::{Framework, SourceFile};
use crate::python::print::Expr;
use crate::report::{Ledger, Translations};

/// The module being written: its inputs and everything written so far.
pub(super) struct ModuleState<'f> {
    /// The source file.
    pub(super) file: &'f SourceFile,
    /// The target of the port (Airflow 3, or the Airflow 2 profile).
    pub(super) target: Target,
    /// The translation table.
    pub(super) table: &'f Translations,
    /// The source's framework.
    pub(super) from: Framework,
    /// The module's imports.
    pub(super) imports: Imports,
    /// The helpers the module needs.
    pub(super) helpers: Vec<&'static str>,
    /// The module-level task functions, in order.
    pub(super) tasks: Vec<FunctionCtx>,
    /// The `@dag` functions, one per pipeline.
    pub(super) dags: Vec<PipelineCtx>,
    /// One ledger per pipeline written.
    pub(super) ledgers: Vec<Ledger>,
    /// The module's names.
    pub(super) names: Names,
    /// The decorator policy of each task function, to see what a later call overrides.
    pub(super) decorated: BTreeMap<String, Vec<Expr>>,
    /// The decorator trigger rule of each task function.
    pub(super) decorated_rule: BTreeMap<String, Option<String>>,
    /// The settings classes of the module's support code.
    pub(super) config: Vec<String>,
    /// The module's assets as constants.
    pub(super) assets: AssetConsts,
}

impl<'f> ModuleState<'f> {
    /// Nothing written yet for `file`.
    pub(super) fn new(file: &'f SourceFile, target: Target, table: &'f Translations) -> Self {
        let mut imports = Imports::default();
        imports.name(sdk(target), "dag");
        ModuleState {
            file,
            target,
            table,
            from: file.framework.unwrap_or(Framework::Airflow),
            imports,
            helpers: Vec::new(),
            tasks: Vec::new(),
            dags: Vec::new(),
            ledgers: Vec::new(),
            names: Names::for_module(Framework::Airflow, file),
            decorated: BTreeMap::new(),
            decorated_rule: BTreeMap::new(),
            config: crate::emit::resources::config_classes(&file.support),
            assets: AssetConsts::new(file),
        }
    }
}
