//! Features of a pipeline that the matrix rules read, derived from its IR.

use serde::Serialize;
use std::collections::BTreeSet;

use crate::ir::{NodeKind, Pipeline, ScheduleKind};

/// Words in node ids that mark machine-learning steps.
const ML_TERMS: &[&str] = &[
    "train",
    "retrain",
    "predict",
    "inference",
    "embed",
    "tune",
    "hyperparam",
    "champion",
    "fit",
    "features",
];

/// What the rules see of a pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct Features {
    /// Source framework id.
    pub framework: String,
    /// Steps.
    pub nodes: usize,
    /// Dependencies.
    pub edges: usize,
    /// Mapped steps.
    pub mapped: usize,
    /// Sub-pipeline calls.
    pub sub_pipelines: usize,
    /// Asset steps (computed or external).
    pub assets: usize,
    /// Checks.
    pub checks: usize,
    /// Sensor steps and sensor triggers.
    pub sensors: usize,
    /// Classic operators.
    pub operators: usize,
    /// Steps defined as decorated functions.
    pub taskflow: usize,
    /// Groups and sub-flows.
    pub groups: usize,
    /// Branching and short-circuit steps.
    pub branches: usize,
    /// Steps with a non-default trigger rule.
    pub trigger_rules: usize,
    /// Steps called under a runtime condition.
    pub conditions: usize,
    /// Opaque constructs.
    pub opaque: usize,
    /// Loops the reader could not unroll.
    pub dynamic_loops: usize,
    /// Steps with asset outlets.
    pub outlets: usize,
    /// Resources and IO managers.
    pub io_managers: usize,
    /// Deployments.
    pub deployments: usize,
    /// Run parameters.
    pub params: usize,
    /// Provider packages used beyond the standard one (`amazon`, `google`, …).
    pub providers: Vec<String>,
    /// Number of such providers.
    pub provider_count: usize,
    /// Whether the pipeline is partitioned.
    pub partitioned: bool,
    /// Partition kind.
    pub partition_kind: Option<String>,
    /// Schedule kind, or `none`.
    pub schedule_kind: String,
    /// Whether it runs on a clock or on data.
    pub scheduled: bool,
    /// Catchup on.
    pub catchup: bool,
    /// Share of steps that retry (0–100).
    pub retry_coverage: u32,
    /// Whole-pipeline retries.
    pub flow_retries: bool,
    /// Tags, lowercased.
    pub tags: Vec<String>,
    /// Steps whose id reads as machine learning.
    pub ml_terms: usize,
}

/// Derives the features of a pipeline.
pub fn features(p: &Pipeline) -> Features {
    let count = |f: &dyn Fn(&crate::ir::Node) -> bool| p.nodes.iter().filter(|n| f(n)).count();
    let providers: BTreeSet<String> = p
        .nodes
        .iter()
        .filter_map(|n| {
            n.operator
                .as_ref()?
                .import_path
                .as_deref()
                .and_then(provider_of)
        })
        .filter(|prov| prov != "standard")
        .collect();
    let retrying = count(&|n| p.effective_policy(n).retries.unwrap_or(0) > 0);
    let schedule_kind = p.schedule.as_ref().map_or("none".to_string(), |s| {
        serde_json::to_value(s.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    });
    Features {
        framework: p.framework.map_or("unknown".into(), |f| f.id().to_string()),
        nodes: p.nodes.len(),
        edges: p.edges.len(),
        mapped: p.mapped_count(),
        sub_pipelines: count(&|n| n.kind == NodeKind::SubPipeline),
        assets: count(&|n| matches!(n.kind, NodeKind::Asset | NodeKind::ExternalAsset)),
        checks: p.checks.len(),
        sensors: count(&|n| n.kind == NodeKind::Sensor) + p.sensors.len(),
        operators: count(&|n| n.operator.is_some()),
        taskflow: count(&|n| n.operator.is_none() && n.callable.is_some()),
        groups: p.groups.len(),
        branches: count(&|n| matches!(n.kind, NodeKind::Branch | NodeKind::ShortCircuit)),
        trigger_rules: count(&|n| {
            n.trigger_rule
                .as_deref()
                .is_some_and(|t| t != "all_success")
        }),
        conditions: count(&|n| n.condition.is_some()),
        opaque: p.opaque.len(),
        dynamic_loops: p.opaque.iter().filter(|o| o.kind == "dynamic_loop").count(),
        outlets: count(&|n| !n.outlets.is_empty()),
        io_managers: p.resources.len(),
        deployments: p.deployments.len(),
        params: p.params.len(),
        provider_count: providers.len(),
        providers: providers.into_iter().collect(),
        partitioned: p.partitions.is_some(),
        partition_kind: p.partitions.as_ref().and_then(|x| {
            serde_json::to_value(x)
                .ok()?
                .get("kind")?
                .as_str()
                .map(str::to_string)
        }),
        scheduled: p
            .schedule
            .as_ref()
            .is_some_and(|s| !matches!(s.kind, ScheduleKind::Manual)),
        schedule_kind,
        catchup: p.catchup.unwrap_or(false),
        retry_coverage: if p.nodes.is_empty() {
            0
        } else {
            (retrying * 100 / p.nodes.len()) as u32
        },
        flow_retries: p.run_policy.retries.unwrap_or(0) > 0,
        tags: p.tags.iter().map(|t| t.to_lowercase()).collect(),
        ml_terms: count(&|n| {
            let id = n.id.to_lowercase();
            ML_TERMS.iter().any(|t| {
                // Whole words, or word prefixes for the longer terms (`training`, `predictions`).
                id.split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|w| w == *t || (t.len() > 3 && w.starts_with(t)))
            })
        }),
    }
}

/// The provider package of an operator import path (`airflow.providers.amazon.…` → `amazon`).
fn provider_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("airflow.providers.")?;
    Some(rest.split('.').next()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_come_from_import_paths() {
        assert_eq!(
            provider_of("airflow.providers.amazon.aws.sensors.s3.S3KeySensor").as_deref(),
            Some("amazon")
        );
        assert_eq!(provider_of("airflow.operators.bash.BashOperator"), None);
    }
}
