//! Every JSON output validates against its documented, versioned schema in schemas/.

use assert_cmd::Command;
use serde_json::Value;

fn output(args: &[&str]) -> Value {
    let out = Command::cargo_bin("orchmig")
        .expect("binary")
        .args(args)
        .output()
        .expect("run");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?} is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn schema(name: &str) -> Value {
    let path = format!("{}/schemas/{name}.schema.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file"))
        .expect("schema JSON")
}

fn assert_valid(name: &str, doc: &Value) {
    let validator = jsonschema::validator_for(&schema(name)).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .take(20)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
    if name != "ir" {
        assert_eq!(doc["schema"], format!("orchmig.{name}/1"));
    }
}

#[test]
fn analyze_and_ir_outputs_match_their_schemas() {
    assert_valid(
        "analyze",
        &output(&["analyze", "corpus", "--format", "json"]),
    );
    assert_valid(
        "analyze",
        &output(&[
            "analyze", "corpus", "--format", "json", "--target", "prefect",
        ]),
    );
    assert_valid("ir", &output(&["ir", "corpus", "tests/bad"]));
}

#[test]
fn matrix_outputs_match_their_schemas() {
    assert_valid("matrix", &output(&["matrix", "--format", "json"]));
    assert_valid(
        "matrix.shape",
        &output(&["matrix", "--shape", "ml-dynamic", "--format", "json"]),
    );
    assert_valid(
        "matrix.pipelines",
        &output(&["matrix", "corpus", "--format", "json"]),
    );
}

#[test]
fn port_report_matches_its_schema_on_stdout_and_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ported");
    let o = out.to_str().unwrap();
    let stdout = output(&[
        "port",
        "corpus/airflow",
        "--to",
        "dagster",
        "--out",
        o,
        "--format",
        "json",
    ]);
    assert_valid("port", &stdout);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("orchmig-report.json")).unwrap())
            .unwrap();
    assert_valid("port", &file);
}

#[test]
fn run_and_verify_outputs_match_their_schemas() {
    assert_valid(
        "run",
        &output(&[
            "run",
            "corpus/airflow/orders_etl.py",
            "--fail",
            "extract:2",
            "--format",
            "json",
        ]),
    );
    assert_valid(
        "run",
        &output(&[
            "run",
            "corpus/dagster/orders_daily.py",
            "--backfill",
            "2024-03-01..2024-03-03",
            "--format",
            "json",
        ]),
    );
    assert_valid(
        "run.schedule",
        &output(&[
            "run",
            "corpus/airflow/finance_reconciliation.py",
            "--schedule-preview",
            "3",
            "--from",
            "2024-03-29",
            "--format",
            "json",
        ]),
    );
    assert_valid(
        "verify",
        &output(&[
            "verify",
            "corpus/airflow/orders_etl.py",
            "--to",
            "prefect",
            "--format",
            "json",
        ]),
    );
}

#[test]
fn every_schema_file_is_listed_in_the_schemas_readme() {
    let dir = format!("{}/schemas", env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(format!("{dir}/README.md")).unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".schema.json") {
            assert!(
                readme.contains(&format!("({name})")),
                "{name} is not documented"
            );
            let s = schema(name.trim_end_matches(".schema.json"));
            assert!(s["$schema"].as_str().unwrap().contains("2020-12"));
        }
    }
}
