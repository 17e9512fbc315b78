//! Inputs for orchmig's fuzz targets (framework headers and file names for raw bytes, valid
//! Python pipelines built from grammar fragments, estates of files in folders) and the oracles
//! beyond orchmig's own: CPython's `compile()` on a sample of the ports.

pub mod cpython;
pub mod estate;
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

/// The file a `read_bytes` input stands for: the first byte picks the import header, the
/// second gives the length of the file name that follows (any bytes: line ends, quotes, `..`),
/// and the rest is the file's text.
pub fn named(data: &[u8]) -> (String, Vec<u8>) {
    let Some((&first, rest)) = data.split_first() else {
        return ("dags/empty.py".into(), Vec::new());
    };
    let (name, rest) = match rest.split_first() {
        Some((&len, tail)) if len < 64 => tail.split_at((len as usize).min(tail.len())),
        _ => (&b"fuzz"[..], rest),
    };
    let path = format!("dags/{}.py", String::from_utf8_lossy(name));
    let mut bytes = HEADERS[first as usize % HEADERS.len()].as_bytes().to_vec();
    bytes.extend_from_slice(rest);
    (path, bytes)
}

/// Runs one file through `orchmig::robustness::run` and CPython's compiler on a sample of its
/// ports; panics (the fuzzer's finding) on any broken promise.
pub fn check(path: &str, bytes: Vec<u8>) {
    let input = String::from_utf8_lossy(&bytes).into_owned();
    let done = orchmig::robustness::run(path, bytes);
    assert!(done.broken.is_empty(), "{path:?}: {:#?}", done.broken);
    for (label, text) in &done.outputs {
        if let Err(e) = cpython::compiles_sampled(text) {
            // Syntax this CPython does not know yet (a 3.14 t-string, a 3.12 f-string) that the
            // user wrote is copied as written: a finding only when CPython takes the input.
            if cpython::compiles(&input).is_ok() {
                panic!("{path:?}: the {label} port parses in orchmig but CPython refuses it: {e}");
            }
        }
    }
}
