//! What the Prefect writer gathers for the whole module while it writes each flow.

use std::collections::HashMap;

use crate::emit::Target;
use crate::emit::module::{FunctionCtx, Imports, PipelineCtx};
use crate::emit::plan::{Names, unique};
use crate::ir::{Framework, SourceFile};
use crate::python::print::{Expr, identifier};
use crate::report::{Ledger, Translations};

/// The module being written: its inputs and everything written so far.
pub(super) struct ModuleState<'f> {
    /// The source file.
    pub(super) file: &'f SourceFile,
    /// The target of the port.
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
    /// The flow functions, one per pipeline.
    pub(super) flows: Vec<PipelineCtx>,
    /// The flows served, with their deployments' keyword arguments.
    pub(super) served: Vec<(String, Vec<Expr>)>,
    /// One ledger per pipeline written.
    pub(super) ledgers: Vec<Ledger>,
    /// The module's names.
    pub(super) names: Names,
    /// Each pipeline's flow function name, by pipeline id.
    pub(super) flow_names: HashMap<String, String>,
    /// The decorator policy of each task function, to see what a later call overrides.
    pub(super) decorated: HashMap<String, Vec<Expr>>,
    /// The settings classes of the module's support code.
    pub(super) config: Vec<String>,
}

impl<'f> ModuleState<'f> {
    /// Nothing written yet for `file`; its flows' names taken.
    pub(super) fn new(file: &'f SourceFile, target: Target, table: &'f Translations) -> Self {
        let mut imports = Imports::default();
        imports.name("prefect", "flow");
        let mut names = Names::for_module(Framework::Prefect, file);
        let flow_names: HashMap<String, String> = file
            .pipelines
            .iter()
            .map(|p| (p.id.clone(), unique(&mut names.taken, &identifier(&p.id))))
            .collect();
        // A flow parameter shadows a module-level function of its name inside the flow: no
        // task or helper takes a parameter's name (`region.submit()` on the parameter's value).
        for p in &file.pipelines {
            for x in &p.params {
                names.taken.entry(identifier(&x.name)).or_insert(1);
            }
        }
        let from = file.framework.unwrap_or(Framework::Airflow);
        ModuleState {
            file,
            target,
            table,
            from,
            imports,
            helpers: Vec::new(),
            tasks: Vec::new(),
            flows: Vec::new(),
            served: Vec::new(),
            ledgers: Vec::new(),
            names,
            flow_names,
            decorated: HashMap::new(),
            config: crate::emit::resources::config_classes(&file.support),
        }
    }
}
