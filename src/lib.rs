//! orchmig: reads Airflow, Dagster and Prefect pipelines into one neutral IR, scores them
//! against a decision matrix, and ports them between frameworks.

pub mod analyze;
pub mod cli;
pub mod config;
pub mod diag;
pub mod emit;
pub mod exec;
pub mod frontend;
pub mod graph;
pub mod ir;
pub mod manual;
pub mod matrix;
pub mod matrix_cmd;
pub mod parallel;
pub mod port_cmd;
pub mod python;
pub mod report;
pub mod review;
pub mod robustness;
pub mod sarif;
pub mod text;
pub mod ui;
pub mod verify;
