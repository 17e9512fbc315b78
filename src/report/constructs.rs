//! Every construct instance present in a pipeline's IR: what a port must account for.

use crate::ir::{
    FLOW_CODE, Node, NodeKind, Partitions, Pipeline, Policy, SUB_FLOW_STEP, ScheduleKind, Span,
};

/// One construct instance: the translation-table id, what it is about, and where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConstructRef {
    /// Construct id in translations.toml.
    pub id: String,
    /// What it is about (`pipeline`, a node id, `node.param`, …).
    pub subject: String,
    /// Source span (line 0 when unknown).
    pub span: SpanKey,
}

/// A span reduced to what orders and prints entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct SpanKey {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

impl From<Span> for SpanKey {
    fn from(s: Span) -> SpanKey {
        SpanKey {
            line: s.line,
            col: s.col,
        }
    }
}

fn push(out: &mut Vec<ConstructRef>, id: &str, subject: impl Into<String>, span: Span) {
    out.push(ConstructRef {
        id: id.into(),
        subject: subject.into(),
        span: span.into(),
    });
}

/// The construct id of a schedule kind.
pub fn schedule_id(kind: ScheduleKind) -> &'static str {
    match kind {
        ScheduleKind::Cron => "schedule.cron",
        ScheduleKind::Preset => "schedule.preset",
        ScheduleKind::Interval => "schedule.interval",
        ScheduleKind::Asset => "schedule.asset",
        ScheduleKind::Manual => "schedule.manual",
        ScheduleKind::Once => "schedule.once",
        ScheduleKind::Continuous => "schedule.continuous",
        ScheduleKind::Timetable => "schedule.timetable",
    }
}

/// The construct id of a partition kind.
pub fn partitions_id(p: &Partitions) -> &'static str {
    match p {
        Partitions::Time { .. } => "partitions.time",
        Partitions::Static { .. } => "partitions.static",
        Partitions::Dynamic { .. } => "partitions.dynamic",
        Partitions::Multi { .. } => "partitions.multi",
        Partitions::Parameter { .. } => "partitions.parameter",
    }
}

/// The construct id of a node kind.
pub fn node_id(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Task => "node.task",
        NodeKind::Asset => "node.asset",
        NodeKind::ExternalAsset => "node.external_asset",
        NodeKind::Op => "node.op",
        NodeKind::Sensor => "node.sensor",
        NodeKind::Branch => "node.branch",
        NodeKind::ShortCircuit => "node.short_circuit",
        NodeKind::Empty => "node.empty",
        NodeKind::Trigger => "node.trigger",
        NodeKind::SubPipeline => "node.sub_pipeline",
    }
}

/// The construct id of a node: its kind's, or for a task the reader generated from a flow's own
/// code, that code's (`node.flow_code`, `node.sub_flow_step`).
pub fn node_construct(n: &Node) -> &'static str {
    match (n.kind, n.flavor.as_deref()) {
        (NodeKind::Task, Some(FLOW_CODE)) => "node.flow_code",
        (NodeKind::Task, Some(SUB_FLOW_STEP)) => "node.sub_flow_step",
        (kind, _) => node_id(kind),
    }
}

/// The set policy fields of a policy, as construct ids.
pub fn policy_fields(p: &Policy) -> Vec<&'static str> {
    let mut v = Vec::new();
    if p.retries.is_some() {
        v.push("policy.retries");
    }
    if p.retry_delay.is_some() {
        v.push("policy.retry_delay");
    }
    if !p.retry_delays.is_empty() {
        v.push("policy.retry_delays");
    }
    if p.backoff.is_some() {
        v.push("policy.backoff");
    }
    if p.max_retry_delay.is_some() {
        v.push("policy.max_retry_delay");
    }
    if p.jitter.is_some() {
        v.push("policy.jitter");
    }
    if p.timeout.is_some() {
        v.push("policy.timeout");
    }
    if p.sla.is_some() {
        v.push("policy.sla");
    }
    if p.pool.is_some() {
        v.push("policy.pool");
    }
    if p.pool_slots.is_some() {
        v.push("policy.pool_slots");
    }
    if p.priority.is_some() {
        v.push("policy.priority");
    }
    if p.queue.is_some() {
        v.push("policy.queue");
    }
    if p.owner.is_some() {
        v.push("policy.owner");
    }
    if p.trigger_rule.is_some() {
        v.push("trigger_rule");
    }
    v
}

/// Framework API uses a body may contain, with the construct they are.
pub const BODY_APIS: &[(&str, &str)] = &[
    ("get_run_logger", "body.logger"),
    ("context.log", "body.logger"),
    ("get_dagster_logger", "body.logger"),
    ("airflow.task", "body.logger"),
    ("partition_key", "body.partition_key"),
    ("get_current_context", "body.context"),
    ("prefect.runtime", "body.context"),
    ("add_output_metadata", "body.output_metadata"),
    ("MaterializeResult", "body.output_metadata"),
    ("create_markdown_artifact", "body.output_metadata"),
    ("create_table_artifact", "body.output_metadata"),
    ("AssetCheckResult", "body.check_result"),
    ("xcom_pull", "body.xcom"),
];

/// The body API constructs a function body uses (each construct once).
pub fn body_apis(body: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (needle, id) in BODY_APIS {
        if body.contains(needle) && !out.contains(id) {
            out.push(id);
        }
    }
    out
}

/// Every construct instance of a pipeline, in a stable order.
pub fn constructs(p: &Pipeline) -> Vec<ConstructRef> {
    let mut out = Vec::new();
    let optional_readers = crate::ir::optional::readers(p);
    let at = p.span;
    push(&mut out, "pipeline", &p.id, at);
    if p.description.is_some() {
        push(&mut out, "pipeline.description", &p.id, at);
    }
    if !p.tags.is_empty() {
        push(&mut out, "pipeline.tags", &p.id, at);
    }
    if p.owner.is_some() {
        push(&mut out, "pipeline.owner", &p.id, at);
    }
    if let Some(s) = &p.schedule {
        push(&mut out, schedule_id(s.kind), &p.id, at);
        if s.timezone.is_some() {
            push(&mut out, "schedule.timezone", &p.id, at);
        }
    }
    if p.start_date.is_some() {
        push(&mut out, "start_date", &p.id, at);
    }
    if p.end_date.is_some() {
        push(&mut out, "end_date", &p.id, at);
    }
    if p.catchup.is_some() {
        push(&mut out, "catchup", &p.id, at);
    }
    if let Some(parts) = &p.partitions {
        push(&mut out, partitions_id(parts), &p.id, at);
    }
    for f in policy_fields(&p.defaults) {
        push(&mut out, f, "defaults", at);
    }
    for k in p.defaults.extra.keys() {
        push(&mut out, "extra", format!("defaults.{k}"), at);
    }
    if p.run_policy.retries.is_some() {
        push(&mut out, "run_policy.retries", &p.id, at);
    }
    if p.run_policy.timeout.is_some() {
        push(&mut out, "run_policy.timeout", &p.id, at);
    }
    for k in p.extra.keys() {
        push(&mut out, "extra", format!("pipeline.{k}"), at);
    }
    for n in &p.nodes {
        push(&mut out, node_construct(n), &n.id, n.span);
        if let Some(op) = &n.operator {
            if let Some(category) = crate::report::operator_category(&op.class) {
                push(&mut out, category, &n.id, n.span);
            }
            for k in op.args.keys() {
                push(&mut out, "extra", format!("{}.{k}", n.id), n.span);
            }
        }
        for f in policy_fields(&n.policy) {
            push(&mut out, f, &n.id, n.span);
        }
        for k in n.policy.extra.keys() {
            push(&mut out, "extra", format!("{}.policy.{k}", n.id), n.span);
        }
        if n.trigger_rule.is_some() {
            push(&mut out, "trigger_rule", &n.id, n.span);
        }
        if optional_readers.contains(n.id.as_str()) {
            // Its condition is that the optional outputs it reads were produced.
            push(&mut out, "node.optional_output", &n.id, n.span);
        } else if n.condition.is_some() {
            push(&mut out, "node.condition", &n.id, n.span);
        }
        if n.mapping.is_some() {
            push(&mut out, "mapping", &n.id, n.span);
        }
        if let Some(parts) = &n.partitions {
            push(&mut out, partitions_id(parts), &n.id, n.span);
        }
        if !n.outlets.is_empty() {
            push(&mut out, "assets.outlets", &n.id, n.span);
        }
        if !n.inlets.is_empty() {
            push(&mut out, "assets.inlets", &n.id, n.span);
        }
        if n.io_manager.is_some() {
            push(&mut out, "io_manager", &n.id, n.span);
        }
        for k in n.extra.keys() {
            push(&mut out, "extra", format!("{}.{k}", n.id), n.span);
        }
        if let Some(c) = &n.callable {
            for api in body_apis(&c.body) {
                push(&mut out, api, &n.id, c.body_span);
            }
        }
    }
    for g in &p.groups {
        let id = match g.kind {
            crate::ir::GroupKind::TaskGroup => "group.task_group",
            crate::ir::GroupKind::SubFlow => "group.sub_flow",
            crate::ir::GroupKind::AssetGroup => "group.asset_group",
        };
        push(&mut out, id, &g.id, g.span);
    }
    for c in &p.checks {
        push(&mut out, "check", &c.name, c.span);
        if c.blocking {
            push(&mut out, "check.blocking", &c.name, c.span);
        }
    }
    for s in &p.sensors {
        push(&mut out, "sensor_trigger", &s.name, s.span);
    }
    for r in &p.resources {
        push(&mut out, "resource", &r.key, r.span);
    }
    for ds in p.deployment_schedules() {
        if !ds.main {
            push(
                &mut out,
                "schedule.additional",
                ds.subject(),
                ds.deployment.span,
            );
        }
        if !ds.parameters.is_empty() {
            push(
                &mut out,
                "schedule.parameters",
                ds.subject(),
                ds.deployment.span,
            );
        }
    }
    for d in &p.deployments {
        push(&mut out, "deployment", &d.name, d.span);
    }
    for prm in &p.params {
        push(&mut out, "param", &prm.name, at);
    }
    for o in &p.opaque {
        push(&mut out, "opaque", format!("{}@{}", o.kind, o.line), o.span);
    }
    out
}
