//! Structural validation of a pipeline: duplicate ids, dangling references, cycles.

use std::collections::HashSet;

use super::graph::PipelineGraph;
use super::model::{Diagnostic, Pipeline, Severity};

/// Whether a name can be a node id in every target: letters, digits, `_` and `-` (Airflow task
/// ids, Dagster asset names after `-` → `_`, Prefect names).
pub fn is_node_id(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Checks a pipeline and returns one diagnostic per problem, pointing at the source.
pub fn validate(pipeline: &Pipeline) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for node in &pipeline.nodes {
        if !seen.insert(node.id.as_str()) {
            out.push(Diagnostic {
                severity: Severity::Error,
                code: "duplicate-id".into(),
                line: Some(node.span.line),
                span: Some(node.span),
                message: format!(
                    "pipeline `{}` defines the id `{}` more than once",
                    pipeline.id, node.id
                ),
                help: Some("give each step a unique id (task_id=, name=)".into()),
            });
        }
    }
    for edge in &pipeline.edges {
        for end in [&edge.from, &edge.to] {
            if !seen.contains(end.as_str()) {
                out.push(Diagnostic {
                    severity: Severity::Error,
                    code: "dangling-reference".into(),
                    line: Some(edge.span.line),
                    span: Some(edge.span),
                    message: format!(
                        "pipeline `{}` has a dependency on `{end}`, which is not a step of it",
                        pipeline.id
                    ),
                    help: Some("define the step in this pipeline or remove the dependency".into()),
                });
            }
        }
    }
    for check in &pipeline.checks {
        if !seen.contains(check.target.as_str()) {
            out.push(Diagnostic {
                severity: Severity::Warning,
                code: "dangling-reference".into(),
                line: Some(check.span.line),
                span: Some(check.span),
                message: format!(
                    "check `{}` guards `{}`, which is not a step of pipeline `{}`",
                    check.name, check.target, pipeline.id
                ),
                help: Some("point the check at an asset defined in the same pipeline".into()),
            });
        }
    }
    let graph = PipelineGraph::new(pipeline);
    for cycle in graph.cycles() {
        let ids: Vec<&str> = cycle
            .iter()
            .map(|&i| pipeline.nodes[i].id.as_str())
            .collect();
        let first = &pipeline.nodes[cycle[0]];
        let at = pipeline
            .edges
            .iter()
            .find(|e| ids.contains(&e.from.as_str()) && ids.contains(&e.to.as_str()))
            .map(|e| e.span)
            .unwrap_or(first.span);
        out.push(Diagnostic {
            severity: Severity::Error,
            code: "cycle".into(),
            line: Some(at.line),
            span: Some(at),
            message: format!(
                "pipeline `{}` has a dependency cycle through {}",
                pipeline.id,
                ids.iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            help: Some(
                "a pipeline must be acyclic: remove one of the dependencies in the cycle".into(),
            ),
        });
    }
    out
}
