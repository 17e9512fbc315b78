//! orchmig: reads Airflow, Dagster and Prefect pipelines into one neutral IR, scores them
//! against a decision matrix, and ports them between frameworks.

pub mod cli;
pub mod diag;
pub mod emit;
pub mod exec;
pub mod frontend;
pub mod graph;
pub mod ir;
pub mod matrix;
pub mod python;
pub mod report;
pub mod robustness;
pub mod text;
pub mod verify;
