//! The neutral IR: one model for Airflow, Dagster and Prefect pipelines.

pub mod graph;
mod model;
mod validate;
mod value;

pub use model::*;

/// Most edges one pipeline may have: a denser graph (`cross_downstream` over two lists of a
/// thousand tasks makes a million) is cut here with an `edge-budget` warning, so that every
/// command stays fast and small on it. Real DAGs stay far below (thousands of edges at most).
pub const MAX_EDGES_PER_PIPELINE: usize = 50_000;
pub use validate::{is_node_id, validate};
pub use value::{CallValue, DateTime, Value};
