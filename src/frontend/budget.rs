//! The warnings of the budgets every reader shares (a reader's own budgets are its own).

use crate::ir::{Diagnostic, MAX_EDGES_PER_NODE, MAX_EDGES_PER_PIPELINE, Severity, Span};

/// The warning for a pipeline whose edges went past [`crate::ir::edge_budget`]: `cut` edges
/// from the one declared at `span` on are not read.
pub(crate) fn edge_budget(span: Span, cut: usize) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        code: "edge-budget".into(),
        line: Some(span.line),
        span: Some(span),
        message: format!(
            "this pipeline declares more edges than orchmig reads ({MAX_EDGES_PER_PIPELINE}, or {MAX_EDGES_PER_NODE} per step); the {cut} edge declaration(s) from here on are not read, so its graph, ports and runs miss them"
        ),
        help: Some(
            "a graph this dense is almost always a cross product by mistake (cross_downstream, list >> list in a loop); join the two sides through one EmptyOperator instead".into(),
        ),
    }
}
