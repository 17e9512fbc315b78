//! The neutral IR: one model for Airflow, Dagster and Prefect pipelines.

pub mod graph;
mod model;
pub mod optional;
mod validate;
mod value;

pub use model::*;

/// Edges any pipeline may have, however few its steps.
pub const MAX_EDGES_PER_PIPELINE: usize = 50_000;

/// Edges allowed per step beyond [`MAX_EDGES_PER_PIPELINE`]: a chain of 100,000 steps is read
/// whole, a cross product of two lists of a thousand (a million edges) is not.
pub const MAX_EDGES_PER_NODE: usize = 8;

/// Most edges a pipeline of `nodes` steps may have: denser graphs are cut there with an
/// `edge-budget` warning, so every command stays fast and small on them. Real DAGs stay far
/// below (a few edges per step).
pub fn edge_budget(nodes: usize) -> usize {
    MAX_EDGES_PER_PIPELINE.max(nodes.saturating_mul(MAX_EDGES_PER_NODE))
}
pub use validate::{is_node_id, validate};
pub use value::{CallValue, DateTime, Value};
