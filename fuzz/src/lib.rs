//! Inputs for orchmig's fuzz targets: framework headers for raw bytes, and valid Python pipelines
//! built from grammar fragments.

pub mod grammar;

/// Import headers that wake each reader (and all of them at once); the first byte picks one.
const HEADERS: [&str; 6] = [
    "",
    "from airflow.sdk import DAG, dag, task\nfrom airflow.providers.standard.operators.bash import BashOperator\n",
    "import dagster as dg\nfrom dagster import asset, op, job, Definitions\n",
    "from prefect import flow, task\n",
    "from airflow.sdk import dag, task\nimport dagster as dg\nfrom prefect import flow\n",
    "from airflow import DAG\nfrom airflow.operators.python import PythonOperator\nfrom datetime import timedelta\n",
];

/// The fuzzer's bytes with the import header chosen by the first byte in front of the rest.
pub fn with_header(data: &[u8]) -> Vec<u8> {
    let Some((&first, rest)) = data.split_first() else {
        return Vec::new();
    };
    let mut bytes = HEADERS[first as usize % HEADERS.len()].as_bytes().to_vec();
    bytes.extend_from_slice(rest);
    bytes
}
