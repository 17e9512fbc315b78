//! The neutral IR: one model for Airflow, Dagster and Prefect pipelines.

pub mod graph;
mod model;
mod validate;
mod value;

pub use model::*;
pub use validate::{is_node_id, validate};
pub use value::{CallValue, DateTime, Value};
