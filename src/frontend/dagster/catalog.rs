//! Everything a Dagster module defines, as read statement by statement, before pipelines are
//! formed: assets, checks, ops, graphs, jobs, schedules, sensors and `Definitions`.

use std::collections::BTreeMap;

use super::partitions::{PartitionsDef, ScheduleOverrides};
use super::selection::Selection;
use crate::frontend::callable::FunctionDef;
use crate::ir::{Check, EdgeKind, Node, Opaque, Policy, Resource, SensorTrigger, Span, Value};

/// One asset key: a software-defined asset (one output of it) or an `AssetSpec`.
#[derive(Debug, Clone)]
pub struct AssetDef {
    /// The key path.
    pub key: Vec<String>,
    /// The IR node, filled in except for its id, inlets and edges.
    pub node: Node,
    /// The asset group (`default` when not given).
    pub group: String,
    /// Upstream dependencies as declared.
    pub deps: Vec<Dep>,
    /// Tags, for selections.
    pub tags: BTreeMap<String, String>,
    /// Kinds, for selections.
    pub kinds: Vec<String>,
    /// Owners, for selections.
    pub owners: Vec<String>,
    /// The partitions definition.
    pub partitions: Option<PartitionsDef>,
    /// The decorator call or spec it comes from (outputs of one multi-asset share it).
    pub definition: usize,
    /// An `AssetSpec` / `SourceAsset` declared here but materialised elsewhere.
    pub external: bool,
    /// Checks declared with it (`check_specs=`), as catalog indexes.
    pub checks: Vec<usize>,
    /// What could not be read about it.
    pub opaque: Vec<Opaque>,
}

impl AssetDef {
    /// An asset with no key, group `default` and nothing declared yet around `node`;
    /// `external` for specs materialised elsewhere.
    pub fn new(node: Node, definition: usize, external: bool) -> AssetDef {
        AssetDef {
            key: Vec::new(),
            node,
            group: "default".into(),
            deps: Vec::new(),
            tags: BTreeMap::new(),
            kinds: Vec::new(),
            owners: Vec::new(),
            partitions: None,
            definition,
            external,
            checks: Vec::new(),
            opaque: Vec::new(),
        }
    }
}

/// An upstream dependency of an asset.
#[derive(Debug, Clone)]
pub struct Dep {
    /// Upstream key path.
    pub key: Vec<String>,
    /// Data (a parameter or `ins` entry) or order (`deps=`).
    pub kind: EdgeKind,
    /// The parameter fed, for data deps.
    pub param: Option<String>,
    /// A partition mapping, as written.
    pub mapping: Option<Value>,
    /// Where it is declared.
    pub span: Span,
}

/// An asset check and the key it guards.
#[derive(Debug, Clone)]
pub struct CheckDef {
    /// The IR check (its `target` is the guarded key joined by `/`).
    pub check: Check,
    /// The guarded key.
    pub asset: Vec<String>,
}

/// An op definition.
#[derive(Clone)]
pub struct OpDef {
    /// The op's name (`name=` or the function name).
    pub name: String,
    /// The node every invocation starts from.
    pub node: Node,
    /// Input names, in positional order (context, config and resources left out).
    pub inputs: Vec<String>,
    /// Outputs in order, with whether each is a `DynamicOut`.
    pub outputs: Vec<(String, bool)>,
}

/// A graph definition (`@graph`).
#[derive(Clone)]
pub struct GraphDef<'s> {
    /// The graph's name.
    pub name: String,
    /// The composing function.
    pub def: FunctionDef<'s>,
    /// Description or docstring.
    pub description: Option<String>,
    /// Other options (`tags`, `config`, `ins`, `out`), kept for the report.
    pub extra: BTreeMap<String, Value>,
}

/// What a job runs.
#[derive(Clone)]
pub enum JobKind<'s> {
    /// An asset job (`define_asset_job`): its selection, `None` for every asset, or why it
    /// could not be read.
    Assets(Result<Option<Selection>, String>),
    /// An op job (`@job`, `graph.to_job`): the composing function.
    Ops(FunctionDef<'s>),
}

/// A job definition.
#[derive(Clone)]
pub struct JobDef<'s> {
    /// Job name.
    pub name: String,
    /// What it runs.
    pub kind: JobKind<'s>,
    /// Description.
    pub description: Option<String>,
    /// Run tags as `key=value`.
    pub tags: Vec<String>,
    /// Owners.
    pub owners: Vec<String>,
    /// Explicit `partitions_def=`, read.
    pub partitions: Option<PartitionsDef>,
    /// `op_retry_policy=`.
    pub defaults: Policy,
    /// `resource_defs=`.
    pub resources: Vec<Resource>,
    /// Other options.
    pub extra: BTreeMap<String, Value>,
    /// What could not be read about it.
    pub opaque: Vec<Opaque>,
    /// Where it is defined.
    pub span: Span,
}

/// How a schedule gets its cron.
#[derive(Debug, Clone)]
pub enum ScheduleCron {
    /// Written out (`ScheduleDefinition`, `@schedule`).
    Given(Option<String>),
    /// Derived from the job's partitions (`build_schedule_from_partitioned_job`), unless given.
    FromPartitions(ScheduleOverrides, Option<String>),
}

/// A schedule definition.
#[derive(Debug, Clone)]
pub struct ScheduleDef {
    /// Name, when known before the job is (`<job>_schedule` otherwise).
    pub name: Option<String>,
    /// The cron.
    pub cron: ScheduleCron,
    /// `execution_timezone`.
    pub timezone: Option<String>,
    /// The job object it targets.
    pub job: Option<usize>,
    /// The job name it targets (`job_name=`).
    pub job_name: Option<String>,
    /// `schedule_definition`, `schedule_function` or `partitioned_job`.
    pub kind: &'static str,
    /// Other options (default_status, tags, run_config, …).
    pub extra: BTreeMap<String, Value>,
    /// What could not be read about it (a schedule function's body, …).
    pub opaque: Vec<Opaque>,
    /// Where it is defined.
    pub span: Span,
}

/// A sensor definition.
#[derive(Debug, Clone)]
pub struct SensorDef {
    /// The IR trigger.
    pub trigger: SensorTrigger,
    /// Job objects it targets.
    pub jobs: Vec<usize>,
    /// Job names it targets.
    pub job_names: Vec<String>,
    /// The assets it targets (`asset_selection=` / `target=`).
    pub selection: Option<Selection>,
    /// Other options (`default_status`, `description`, `tags`, …).
    pub extra: BTreeMap<String, Value>,
}

/// A `Definitions(...)` object, its lists flattened to catalog indexes.
#[derive(Debug, Clone, Default)]
pub struct DefsDef {
    /// Assets and specs.
    pub assets: Vec<usize>,
    /// A `load_assets_from_modules` / `load_assets_from_current_module` was listed.
    pub loads_modules: bool,
    /// Asset checks.
    pub checks: Vec<usize>,
    /// Jobs.
    pub jobs: Vec<usize>,
    /// Schedules.
    pub schedules: Vec<usize>,
    /// Sensors.
    pub sensors: Vec<usize>,
    /// Resources by key.
    pub resources: Vec<Resource>,
    /// Other arguments (`executor`, `loggers`, `metadata`).
    pub extra: BTreeMap<String, Value>,
    /// Where it is built.
    pub span: Span,
}

/// Everything the module defines.
#[derive(Default)]
pub struct Catalog<'s> {
    /// Asset keys, in source order.
    pub assets: Vec<AssetDef>,
    /// Asset checks.
    pub checks: Vec<CheckDef>,
    /// Ops.
    pub ops: Vec<OpDef>,
    /// Graphs.
    pub graphs: Vec<GraphDef<'s>>,
    /// Jobs.
    pub jobs: Vec<JobDef<'s>>,
    /// Schedules.
    pub schedules: Vec<ScheduleDef>,
    /// Sensors.
    pub sensors: Vec<SensorDef>,
    /// `Definitions` objects.
    pub defs: Vec<DefsDef>,
    /// Number of asset-producing definitions seen (for [`AssetDef::definition`]).
    pub definitions: usize,
}
