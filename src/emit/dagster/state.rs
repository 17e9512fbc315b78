//! What the Dagster writer gathers for the whole module while it writes each pipeline.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexSet;

use super::partition::PartitionsConst;
use crate::emit::Target;
use crate::emit::module::{FunctionCtx, Imports};
use crate::emit::plan::Names;
use crate::ir::{Framework, NodeKind, SourceFile};
use crate::python::print::Expr;
use crate::report::{Ledger, Translations};

/// The module being written: its inputs and everything written so far, by kind.
pub(super) struct ModuleState<'f> {
    /// The source file.
    pub(super) file: &'f SourceFile,
    /// The target of the port.
    pub(super) target: Target,
    /// The translation table.
    pub(super) table: &'f Translations,
    /// The source's framework.
    pub(super) from: Framework,
    /// Asset keys of the whole module: an asset may read one that another job materialises.
    pub(super) file_assets: BTreeSet<&'f str>,
    /// The module's imports.
    pub(super) imports: Imports,
    /// The helpers the module needs.
    pub(super) helpers: Vec<&'static str>,
    /// The functions written (assets, ops, checks, hooks), in order.
    pub(super) assets: Vec<FunctionCtx>,
    /// The asset check functions, for `Definitions`.
    pub(super) checks: Vec<String>,
    /// The asset functions written. (Ordered sets: a pipeline of 100,000 steps looks names up
    /// 100,000 times.)
    pub(super) asset_names: IndexSet<String>,
    /// Module-level definitions (config classes, asset specs, partitions definitions).
    pub(super) definitions: Vec<String>,
    /// Job, graph, schedule and sensor statements.
    pub(super) jobs: Vec<String>,
    /// The jobs, for `Definitions`.
    pub(super) job_names: Vec<String>,
    /// The schedules, for `Definitions`.
    pub(super) schedules: Vec<String>,
    /// The sensors, for `Definitions`.
    pub(super) sensors: Vec<String>,
    /// The resources of `Definitions`, by key.
    pub(super) resources: BTreeMap<String, Expr>,
    /// One ledger per pipeline written.
    pub(super) ledgers: Vec<Ledger>,
    /// The module's names.
    pub(super) names: Names,
    /// The module-level partitions definitions.
    pub(super) parts_defs: Vec<PartitionsConst>,
    /// Asset function → the name of its partitions definition.
    pub(super) asset_parts: BTreeMap<String, String>,
    /// (function, step id) → asset function: the same step of several pipelines (flow
    /// variants, a sub-flow's job) is one asset.
    pub(super) by_step: BTreeMap<(String, String), String>,
}

impl<'f> ModuleState<'f> {
    /// Nothing written yet for `file`.
    pub(super) fn new(file: &'f SourceFile, target: Target, table: &'f Translations) -> Self {
        let mut imports = Imports::default();
        imports.module("dagster as dg");
        let names = Names::for_module(Framework::Dagster, file);
        let from = file.framework.unwrap_or(Framework::Airflow);
        // Asset keys of the whole module: an asset may read one that another job materialises.
        let file_assets: BTreeSet<&str> = file
            .pipelines
            .iter()
            .flat_map(|p| &p.nodes)
            .filter(|n| matches!(n.kind, NodeKind::Asset | NodeKind::ExternalAsset))
            .map(|n| n.id.as_str())
            .collect();
        ModuleState {
            file,
            target,
            table,
            from,
            file_assets,
            imports,
            helpers: Vec::new(),
            assets: Vec::new(),
            checks: Vec::new(),
            asset_names: IndexSet::new(),
            definitions: Vec::new(),
            jobs: Vec::new(),
            job_names: Vec::new(),
            schedules: Vec::new(),
            sensors: Vec::new(),
            resources: BTreeMap::new(),
            ledgers: Vec::new(),
            names,
            parts_defs: Vec::new(),
            asset_parts: BTreeMap::new(),
            by_step: BTreeMap::new(),
        }
    }
}
