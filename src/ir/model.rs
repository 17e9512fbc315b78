//! The neutral pipeline model every reader produces and every pass consumes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::value::{DateTime, Value};

/// Version of the serialised IR; bump on a breaking change of the JSON contract.
pub const IR_VERSION: u32 = 1;

/// The orchestrators orchmig reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Framework {
    /// Apache Airflow (DAGs of tasks).
    Airflow,
    /// Dagster (software-defined assets, ops and jobs).
    Dagster,
    /// Prefect (flows, tasks, sub-flows).
    Prefect,
}

impl Framework {
    /// All frameworks, in a fixed order.
    pub const ALL: [Framework; 3] = [Framework::Airflow, Framework::Dagster, Framework::Prefect];

    /// The lowercase id used on the command line and in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Framework::Airflow => "airflow",
            Framework::Dagster => "dagster",
            Framework::Prefect => "prefect",
        }
    }
}

impl std::fmt::Display for Framework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A position in a source file: 1-based lines and columns plus byte offsets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First line (1-based).
    pub line: u32,
    /// First column (1-based, in characters).
    pub col: u32,
    /// Last line (1-based).
    pub end_line: u32,
    /// Byte offset of the start.
    pub start: u32,
    /// Byte offset of the end (exclusive).
    pub end: u32,
}

/// Everything read from one input path: the whole `orchmig ir` document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Estate {
    /// The IR version ([`IR_VERSION`]).
    pub ir_version: u32,
    /// One entry per file read, sorted by path.
    pub files: Vec<SourceFile>,
}

/// One Python file and the pipelines found in it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceFile {
    /// The path as given or found while walking.
    pub path: String,
    /// The framework detected from the imports, if any.
    pub framework: Option<Framework>,
    /// The framework API generation inferred from the imports (e.g. `airflow@2`, `airflow@3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// Pipelines defined in the file, in source order.
    pub pipelines: Vec<Pipeline>,
    /// Module-level code the pipelines' bodies may rely on (imports, constants, helpers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub support: Vec<SupportItem>,
    /// Problems found while reading the file.
    pub diagnostics: Vec<Diagnostic>,
}

/// A module-level statement that is not a pipeline construct, kept so ported bodies still run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportItem {
    /// Its source text (imports are one name per item).
    pub text: String,
    /// Names it binds.
    pub binds: Vec<String>,
    /// The framework an import comes from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<Framework>,
    /// Whether it is an import.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub import: bool,
}

/// How severe a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The file (or a pipeline in it) could not be read.
    Error,
    /// Read, but something is suspicious.
    Warning,
}

/// A problem with an input, with its position and a hint for the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable short code (e.g. `syntax`, `cycle`).
    pub code: String,
    /// 1-based line, when the problem has one.
    pub line: Option<u32>,
    /// The span, when the problem has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// What is wrong.
    pub message: String,
    /// What the user can do about it.
    pub help: Option<String>,
}

/// A pipeline: an Airflow DAG, a Dagster job or asset group, a Prefect flow.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Pipeline {
    /// The id the framework uses (dag_id, job name, flow function name).
    pub id: String,
    /// Display name (Prefect `name=`, Airflow `dag_display_name`), else the id.
    pub name: String,
    /// The framework it was read from.
    pub framework: Option<Framework>,
    /// Where it is defined.
    pub span: Span,
    /// Description or doc_md.
    pub description: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Owner (Airflow `owner` default arg, Dagster owners).
    pub owner: Option<String>,
    /// When it runs, if scheduled.
    pub schedule: Option<Schedule>,
    /// First logical date.
    pub start_date: Option<DateTime>,
    /// Last logical date.
    pub end_date: Option<DateTime>,
    /// Whether missed intervals are run (Airflow catchup); `None` when not stated.
    pub catchup: Option<bool>,
    /// The partition axis, if any.
    pub partitions: Option<Partitions>,
    /// Policy applied to every node unless overridden (default_args, job retry policy).
    pub defaults: Policy,
    /// Pipeline-level run policy (Prefect flow retries and timeout, Airflow dagrun_timeout).
    #[serde(default, skip_serializing_if = "Policy::is_empty")]
    pub run_policy: Policy,
    /// The steps.
    pub nodes: Vec<Node>,
    /// Dependencies between steps.
    pub edges: Vec<Edge>,
    /// Task groups, sub-flows and asset groups.
    pub groups: Vec<Group>,
    /// Data quality checks.
    pub checks: Vec<Check>,
    /// Triggers that start runs from outside events (Dagster sensors, asset sensors).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensors: Vec<SensorTrigger>,
    /// Resources and IO managers by key.
    pub resources: Vec<Resource>,
    /// Deployments (Prefect serve/deploy).
    pub deployments: Vec<Deployment>,
    /// Run parameters.
    pub params: Vec<Param>,
    /// Pipeline-level arguments the reader saw but no IR field models.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
    /// Constructs the reader saw but could not model.
    pub opaque: Vec<Opaque>,
    /// Prefect calls whose failure stops the flow but that a later run does not wait for (it is
    /// under another `if`, fed by a submitted task, or the later run has a trigger rule): the
    /// edges cannot say that the run never happens when the call fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unordered_raises: Vec<String>,
    /// Prefect: the runs whose failure reaches the flow body, and how; the flow run fails when
    /// one of them does, and stays COMPLETED when only other runs failed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flow_raises: BTreeMap<String, Raise>,
}

/// How a Prefect run's failure reaches its flow body (and fails the flow run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Raise {
    /// A direct call outside a `try`: its own failure raises; when an upstream failed,
    /// Prefect leaves it not run and the flow goes on.
    Itself,
    /// A future the body resolves (`.result()`): its failure, or its not running because an
    /// upstream failed, raises.
    Result,
}

/// One schedule of a pipeline's deployments, with the run parameters its runs take.
#[derive(Debug, Clone)]
pub struct DeploymentSchedule<'p> {
    /// The deployment that declares it.
    pub deployment: &'p Deployment,
    /// Its place among the deployment's schedules (0 for the first).
    pub index: usize,
    /// The schedule.
    pub schedule: &'p Schedule,
    /// The deployment's parameters, overridden by the schedule's own.
    pub parameters: BTreeMap<String, Value>,
    /// Whether it is the pipeline's own schedule (`Pipeline::schedule`).
    pub main: bool,
}

impl DeploymentSchedule<'_> {
    /// The report subject: `deployment#2` for its second schedule.
    pub fn subject(&self) -> String {
        format!("{}#{}", self.deployment.name, self.index + 1)
    }
}

impl Pipeline {
    /// The flow parameter that is its partition key (a Prefect `day`), if any.
    pub fn partition_parameter(&self) -> Option<&str> {
        match &self.partitions {
            Some(Partitions::Parameter { name }) => Some(name.as_str()),
            _ => None,
        }
    }

    /// Every schedule its deployments declare, in source order; the first equal to the
    /// pipeline's own schedule is `main`.
    pub fn deployment_schedules(&self) -> Vec<DeploymentSchedule<'_>> {
        let mut out = Vec::new();
        let mut main_seen = false;
        for d in &self.deployments {
            let all: Vec<&Schedule> = if d.schedules.is_empty() {
                d.schedule.iter().collect()
            } else {
                d.schedules.iter().collect()
            };
            for (index, s) in all.into_iter().enumerate() {
                let main = !main_seen && self.schedule.as_ref() == Some(s);
                main_seen |= main;
                let mut parameters = d.parameters.clone();
                parameters.extend(s.parameters.iter().map(|(k, v)| (k.clone(), v.clone())));
                out.push(DeploymentSchedule {
                    deployment: d,
                    index,
                    schedule: s,
                    parameters,
                    main,
                });
            }
        }
        out
    }

    /// The partition definition of a pipeline: its own, else that of its first partitioned node.
    pub fn partition_definition(&self) -> Option<&Partitions> {
        self.partitions
            .as_ref()
            .or_else(|| self.nodes.iter().find_map(|n| n.partitions.as_ref()))
    }

    /// Each node's index by id (readers keep ids unique; of duplicates, the last).
    pub fn node_index(&self) -> std::collections::HashMap<&str, usize> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i))
            .collect()
    }

    /// The policy a node runs with: its own settings over its groups' over the pipeline defaults.
    pub fn effective_policy(&self, node: &Node) -> Policy {
        let mut policy = node.policy.clone();
        let mut group = node.group.clone();
        let mut hops = 0;
        while let Some(g) = group {
            let Some(def) = self.groups.iter().find(|x| x.id == g) else {
                break;
            };
            policy = policy.over(&def.policy);
            group = def.parent.clone();
            hops += 1;
            if hops > self.groups.len() {
                break;
            }
        }
        policy.over(&self.defaults)
    }

    /// Number of nodes with a mapping.
    pub fn mapped_count(&self) -> usize {
        self.nodes.iter().filter(|n| n.mapping.is_some()).count()
    }
}

/// When a pipeline runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// What kind of trigger.
    pub kind: ScheduleKind,
    /// The cron expression, preset name, interval in seconds, or asset names joined by `,`.
    pub value: Option<String>,
    /// IANA time zone, when given.
    pub timezone: Option<String>,
    /// Asset names for asset-triggered schedules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<String>,
    /// The run parameters this schedule's runs take (a Prefect `Cron(..., parameters={...})`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Value>,
}

/// The kinds of schedule the IR knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// A five-field cron expression.
    Cron,
    /// A named preset (`@daily`); `value` holds the preset, `cron` equivalents via [`Schedule::cron`].
    Preset,
    /// A fixed interval; `value` is seconds.
    Interval,
    /// Runs when upstream assets are updated.
    Asset,
    /// Runs once.
    Once,
    /// Runs continuously.
    Continuous,
    /// Only on demand.
    Manual,
    /// A custom timetable the IR cannot express; `value` is its source.
    Timetable,
}

impl Schedule {
    /// The cron expression this schedule fires on, presets expanded; `None` if not cron-like.
    pub fn cron(&self) -> Option<String> {
        match self.kind {
            ScheduleKind::Cron => self.value.clone(),
            ScheduleKind::Preset => self
                .value
                .as_deref()
                .and_then(preset_cron)
                .map(str::to_string),
            _ => None,
        }
    }
}

/// The cron expression of a schedule preset (`@daily` → `0 0 * * *`).
pub fn preset_cron(preset: &str) -> Option<&'static str> {
    Some(match preset {
        "@hourly" => "0 * * * *",
        "@daily" | "@midnight" => "0 0 * * *",
        "@weekly" => "0 0 * * 0",
        "@monthly" => "0 0 1 * *",
        "@quarterly" => "0 0 1 */3 *",
        "@yearly" | "@annually" => "0 0 1 1 *",
        _ => return None,
    })
}

/// The partition axis of a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Partitions {
    /// Time windows.
    Time {
        /// `hourly`, `daily`, `weekly`, `monthly` or `cron`.
        granularity: String,
        /// First partition start (ISO-ish text as written).
        start: Option<String>,
        /// End, if bounded.
        end: Option<String>,
        /// Time zone.
        timezone: Option<String>,
        /// Key format (strftime).
        fmt: Option<String>,
        /// Cron of the windows, for `cron` granularity.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cron: Option<String>,
    },
    /// A fixed list of keys.
    Static {
        /// The keys.
        keys: Vec<String>,
    },
    /// Keys added at run time under a name.
    Dynamic {
        /// The partition set's name.
        name: Option<String>,
    },
    /// Several axes crossed.
    Multi {
        /// Axis name → axis.
        dimensions: Vec<(String, Partitions)>,
    },
    /// A parameter that selects the partition (Prefect `partition_key`-style parameter).
    Parameter {
        /// The parameter name.
        name: String,
    },
}

/// How failures are retried and bounded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Retries after the first attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Delay before a retry, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_delay: Option<f64>,
    /// Explicit per-attempt delays (Prefect `retry_delay_seconds=[…]`), seconds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retry_delays: Vec<f64>,
    /// How the delay grows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
    /// Upper bound on the retry delay, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retry_delay: Option<f64>,
    /// Jitter factor or kind as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<String>,
    /// Attempt timeout, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    /// Service-level deadline, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<f64>,
    /// Concurrency pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// Slots taken in the pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_slots: Option<i64>,
    /// Priority weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Worker queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Trigger rule default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_rule: Option<String>,
    /// Arguments given in the policy source (e.g. `default_args`) that no field above models.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
}

impl Policy {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Policy::default()
    }

    /// This policy with unset fields taken from `base`.
    pub fn over(&self, base: &Policy) -> Policy {
        let mut extra = base.extra.clone();
        extra.extend(self.extra.clone());
        Policy {
            retries: self.retries.or(base.retries),
            retry_delay: self.retry_delay.or(base.retry_delay),
            retry_delays: if self.retry_delays.is_empty() {
                base.retry_delays.clone()
            } else {
                self.retry_delays.clone()
            },
            backoff: self.backoff.clone().or_else(|| base.backoff.clone()),
            max_retry_delay: self.max_retry_delay.or(base.max_retry_delay),
            jitter: self.jitter.clone().or_else(|| base.jitter.clone()),
            timeout: self.timeout.or(base.timeout),
            sla: self.sla.or(base.sla),
            pool: self.pool.clone().or_else(|| base.pool.clone()),
            pool_slots: self.pool_slots.or(base.pool_slots),
            priority: self.priority.or(base.priority),
            queue: self.queue.clone().or_else(|| base.queue.clone()),
            owner: self.owner.clone().or_else(|| base.owner.clone()),
            trigger_rule: self
                .trigger_rule
                .clone()
                .or_else(|| base.trigger_rule.clone()),
            extra,
        }
    }
}

/// How the retry delay grows between attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backoff {
    /// `exponential` or `linear`.
    pub kind: String,
    /// Growth multiplier per attempt (Airflow `retry_exponential_backoff`; Prefect and Dagster
    /// exponential backoff double, 2.0, with `retry_delay` as the base delay).
    pub factor: Option<f64>,
}

/// What kind of step a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A unit of work (Airflow task, Prefect task).
    Task,
    /// A Dagster software-defined asset.
    Asset,
    /// A Dagster external asset (AssetSpec) not computed here.
    ExternalAsset,
    /// A Dagster op.
    Op,
    /// A step that waits for a condition.
    Sensor,
    /// A step that chooses which downstream branch runs.
    Branch,
    /// A step that skips everything downstream when falsy.
    ShortCircuit,
    /// A no-op marker step.
    Empty,
    /// A step that triggers another pipeline.
    Trigger,
    /// A call of another pipeline (Prefect sub-flow).
    SubPipeline,
}

/// One step of a pipeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Node {
    /// Framework id (task_id with group prefix, asset key path, task name with call suffix).
    pub id: String,
    /// Display name when it differs from the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The kind of step.
    pub kind: NodeKind,
    /// Decorator flavour (`bash`, `virtualenv`, `sensor`, …) or the operator category; on a
    /// task the reader generated from a flow's own code, [`FLOW_CODE`] or [`SUB_FLOW_STEP`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<String>,
    /// The Python function behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callable: Option<Callable>,
    /// The classic operator behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
    /// Overrides of the pipeline's default policy.
    pub policy: Policy,
    /// Fan-out, if mapped.
    pub mapping: Option<Mapping>,
    /// When it runs relative to its upstreams' states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_rule: Option<String>,
    /// Innermost group id.
    pub group: Option<String>,
    /// The node's own partition axis (Dagster assets are partitioned one by one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<Partitions>,
    /// Sensor settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensor: Option<SensorSpec>,
    /// Assets read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inlets: Vec<AssetRef>,
    /// Assets written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outlets: Vec<AssetRef>,
    /// IO manager key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_manager: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Literal arguments passed at the call site (parameter → value), where no upstream feeds them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, Value>,
    /// Condition under which it is called (Prefect `if`), as source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// The flow locals the condition reads that hold a step's result or future (local name →
    /// node id), so the executor and the writers know which value each name stands for.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub condition_reads: BTreeMap<String, String>,
    /// The named outputs its function returns, in order, when it has several (a Dagster op's
    /// `out={...}`, a `@multi_asset`'s outs or specs; each asset of the multi-asset lists them all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    /// The outputs it may leave unproduced (a Dagster op's `Out(is_required=False)`): a step
    /// that reads one of them runs only when it was produced (see [`crate::ir::optional`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optional_outputs: Vec<String>,
    /// Values its body reads from other tasks by id (Airflow `ti.xcom_pull(task_ids=…)`), where
    /// the ids are known statically.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pulls: Vec<Pull>,
    /// Other literal options kept for writers and the report (metadata, kinds, code_version, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
    /// Where it is defined or called.
    pub span: Span,
}

/// The flavour of a task generated from flow-body code that is not a task call (Prefect
/// `total = sum(rows)`, `print(total)`): its callable's parameters are the names the code reads,
/// its body the statement (after the definitions of the plain locals it reads), then `return`
/// of the name it assigns.
pub const FLOW_CODE: &str = "flow_code";

/// The flavour of a task that runs a sub-flow calling no task or sub-flow: its callable is the
/// sub-flow's function, its result the sub-flow's return value (`extra.pipeline` names the flow).
pub const SUB_FLOW_STEP: &str = "sub_flow";

/// The methods of a Prefect state (or of a future's `.state`) a flow's condition may test.
pub const STATE_METHODS: &[&str] = &["is_failed", "is_completed", "is_crashed", "is_cancelled"];

/// Whether a condition's text tests a run's state (`x.state.is_failed()`, `s.is_completed()`):
/// the executor decides it from the runs' states, whatever the runner.
pub fn tests_run_states(condition: &str) -> bool {
    STATE_METHODS
        .iter()
        .any(|m| condition.contains(&format!(".{m}(")))
}

impl Node {
    /// Whether its condition tests a run's state (`x.state.is_failed()`, `s.is_completed()`),
    /// so it waits for those runs to finish however they end.
    pub fn condition_reads_states(&self) -> bool {
        self.condition.as_deref().is_some_and(tests_run_states)
    }

    /// Whether the reader generated it from a flow's own code ([`FLOW_CODE`] or
    /// [`SUB_FLOW_STEP`]) rather than from a task the source declares.
    pub fn is_generated(&self) -> bool {
        self.kind == NodeKind::Task
            && matches!(self.flavor.as_deref(), Some(FLOW_CODE | SUB_FLOW_STEP))
    }

    /// A bare node of a kind at a span; readers fill in the rest.
    pub fn new(id: impl Into<String>, kind: NodeKind, span: Span) -> Node {
        Node {
            id: id.into(),
            name: None,
            kind,
            flavor: None,
            callable: None,
            operator: None,
            policy: Policy::default(),
            mapping: None,
            trigger_rule: None,
            group: None,
            partitions: None,
            sensor: None,
            inlets: Vec::new(),
            outlets: Vec::new(),
            io_manager: None,
            description: None,
            tags: Vec::new(),
            args: BTreeMap::new(),
            condition: None,
            condition_reads: BTreeMap::new(),
            outputs: Vec::new(),
            optional_outputs: Vec::new(),
            pulls: Vec::new(),
            extra: BTreeMap::new(),
            span,
        }
    }
}

/// A body's read of other tasks' values by id (`ti.xcom_pull(task_ids=…)`), resolved statically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pull {
    /// Its place among the body's pulls, in source order (`frontend::xcom::pull_calls`).
    pub index: usize,
    /// The task ids it reads, in the order it names them.
    pub task_ids: Vec<String>,
    /// It names a list of ids, so it returns a list of values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub many: bool,
    /// Where the call is.
    pub span: Span,
}

/// The method whose calls in a body [`Pull::index`] counts, in the order
/// `python::visit::method_calls` finds them (readers and writers both count them so).
pub const PULL_METHOD: &str = "xcom_pull";

/// For an asset of a Dagster multi-asset (one of several outputs of a shared function), the
/// name of its output: its `outs` key, else its key as Dagster names a spec's output (`a__b`).
pub fn multi_asset_output(n: &Node) -> Option<String> {
    n.extra.get("multi_asset").and_then(Value::as_str)?;
    if n.outputs.len() < 2 {
        return None;
    }
    Some(
        n.extra
            .get("output")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| n.id.replace('/', "__")),
    )
}

/// A Python function with its source.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Callable {
    /// Function name.
    pub name: String,
    /// Parameters in order.
    pub params: Vec<CallableParam>,
    /// Return annotation as source.
    pub returns: Option<String>,
    /// Decorators as source.
    pub decorators: Vec<String>,
    /// `async def`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_async: bool,
    /// The body's source text, dedented as written.
    pub body: String,
    /// Where the body is.
    pub body_span: Span,
    /// Where the whole `def` is.
    pub span: Span,
}

/// One parameter of a callable.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CallableParam {
    /// Name.
    pub name: String,
    /// Annotation as source.
    pub annotation: Option<String>,
    /// Default as source.
    pub default: Option<String>,
}

/// A classic operator instance.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Operator {
    /// Class name as written (`BashOperator`).
    pub class: String,
    /// Fully qualified import path, when resolved.
    pub import_path: Option<String>,
    /// Keyword arguments not modelled elsewhere, evaluated where literal.
    pub args: BTreeMap<String, Value>,
    /// Names of the arguments that hold Jinja templates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templated: Vec<String>,
}

/// Fan-out of a node over a collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mapping {
    /// The mapped arguments.
    pub over: Vec<MappedArg>,
    /// Arguments held constant (`partial`, `unmapped`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub partial: BTreeMap<String, Value>,
    /// `expand_kwargs` style: each element is a dict of arguments.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kwargs: bool,
}

/// One mapped argument and where its elements come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MappedArg {
    /// Parameter name (empty for positional `.map(xs)` over the first parameter).
    pub param: String,
    /// A literal collection, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub literal: Option<Value>,
    /// The upstream node producing the collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_node: Option<String>,
}

/// Sensor settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SensorSpec {
    /// `poke` or `reschedule`.
    pub mode: Option<String>,
    /// Seconds between checks.
    pub poke_interval: Option<f64>,
    /// Seconds before giving up.
    pub timeout: Option<f64>,
    /// Deferrable (async trigger).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferrable: bool,
}

/// A reference to a data asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetRef {
    /// Asset name or key.
    pub name: Option<String>,
    /// Asset URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// What an edge carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// A value flows from upstream into a parameter.
    Data,
    /// Only ordering.
    Order,
}

/// A dependency: `to` runs after `from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// Upstream node id.
    pub from: String,
    /// Downstream node id.
    pub to: String,
    /// Data or order.
    pub kind: EdgeKind,
    /// The downstream parameter fed, for data edges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The named output of the upstream it carries, when the upstream has several
    /// (a Dagster op's `out={...}`, an Airflow `multiple_outputs` key, a returned dict's key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Where the dependency is written.
    pub span: Span,
}

/// What kind of grouping a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// Airflow TaskGroup: a naming and UI boundary.
    TaskGroup,
    /// Prefect sub-flow or Dagster graph: its own run and retry boundary.
    SubFlow,
    /// Dagster asset group: catalog grouping.
    AssetGroup,
}

/// A group of nodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    /// Id (full, with parent prefixes).
    pub id: String,
    /// Kind.
    pub kind: GroupKind,
    /// Enclosing group.
    pub parent: Option<String>,
    /// Policy applied inside the group.
    #[serde(default, skip_serializing_if = "Policy::is_empty")]
    pub policy: Policy,
    /// Tooltip or description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where it is defined.
    pub span: Span,
}

/// A data-quality check on a node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    /// Check name.
    pub name: String,
    /// The node it guards.
    pub target: String,
    /// `error` or `warn`.
    pub severity: Option<String>,
    /// Whether a failure stops downstream steps.
    pub blocking: bool,
    /// Description.
    pub description: Option<String>,
    /// The checking function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callable: Option<Callable>,
    /// Other literal options of the check (retry policy, partitions, metadata, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
    /// Where it is defined.
    pub span: Span,
}

/// An external-event trigger of a pipeline (Dagster `@sensor`, `@asset_sensor`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SensorTrigger {
    /// Sensor name.
    pub name: String,
    /// `sensor`, `asset_sensor`, `run_status_sensor`, …
    pub kind: String,
    /// Asset watched, for asset sensors.
    pub asset: Option<String>,
    /// Minimum seconds between evaluations.
    pub interval: Option<f64>,
    /// The function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callable: Option<Callable>,
    /// Where it is defined.
    pub span: Span,
}

/// A resource or IO manager bound by key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resource {
    /// Key.
    pub key: String,
    /// Class or factory as written.
    pub class: Option<String>,
    /// Literal arguments.
    pub args: BTreeMap<String, Value>,
    /// Where it is bound.
    pub span: Span,
}

/// A deployment of a pipeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployment {
    /// Deployment name.
    pub name: String,
    /// Work pool.
    pub work_pool: Option<String>,
    /// Schedule.
    pub schedule: Option<Schedule>,
    /// Parameters.
    pub parameters: BTreeMap<String, Value>,
    /// Tags.
    pub tags: Vec<String>,
    /// `serve`, `deploy`, `to_deployment`, `prefect.yaml`, `build_from_flow`.
    pub method: String,
    /// Every schedule when several are declared (`schedule` is the first of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Schedule>,
    /// Other literal settings (work queue, image, paused, concurrency limit, source, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
    /// Where it is declared.
    pub span: Span,
}

/// A run parameter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Param {
    /// Name.
    pub name: String,
    /// Type as written (`int`, `"string"`).
    pub r#type: Option<String>,
    /// Default value.
    pub default: Option<Value>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A construct a reader saw but could not model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Opaque {
    /// What it is (`dynamic_loop`, `unknown_call`, …).
    pub kind: String,
    /// 1-based line.
    pub line: u32,
    /// Full span.
    pub span: Span,
    /// Why it could not be modelled.
    pub why: String,
    /// The source text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}
