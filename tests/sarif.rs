//! `orchmig analyze --format sarif`: a SARIF 2.1.0 log valid against the official OASIS schema.

mod support;

use assert_cmd::Command;
use serde_json::Value;

fn orchmig() -> Command {
    Command::cargo_bin("orchmig").expect("binary")
}

fn sarif(args: &[&str]) -> (Value, std::process::Output) {
    let out = orchmig()
        .arg("analyze")
        .args(args)
        .args(["--format", "sarif"])
        .output()
        .expect("run");
    let log = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (log, out)
}

fn assert_valid(log: &Value) {
    let schema: Value =
        serde_json::from_str(include_str!("sarif/sarif-schema-2.1.0.json")).expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

fn ids_of(log: &Value) -> Vec<String> {
    results(log)
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_vendored_schema_rejects_a_broken_log() {
    let (mut log, _) = sarif(&["corpus/prefect"]);
    assert_valid(&log);
    log["runs"][0]["results"][0]["level"] = Value::from("fatal");
    let schema: Value =
        serde_json::from_str(include_str!("sarif/sarif-schema-2.1.0.json")).unwrap();
    assert!(!jsonschema::is_valid(&schema, &log));
}

#[test]
fn the_corpus_log_is_valid_sarif_with_opaque_and_lossy_findings_at_their_lines() {
    let (log, out) = sarif(&["corpus", "--target", "dagster"]);
    support::assert_success(&out);
    assert_valid(&log);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "orchmig");
    // Every result names a rule described in tool.driver.rules, at its index.
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results(&log) {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"], "{r}");
        assert!(rules[i]["shortDescription"]["text"].as_str().unwrap().len() > 10);
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("corpus/"),
            "uri relative to the repo root: {uri}"
        );
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1, "{r}");
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1, "{r}");
    }
    // Every opaque construct of the IR is a result at its line and column.
    let ir: Value = serde_json::from_slice(
        &orchmig()
            .args(["ir", "corpus"])
            .output()
            .expect("ir")
            .stdout,
    )
    .unwrap();
    let mut opaque = 0;
    for f in ir["files"].as_array().unwrap() {
        for p in f["pipelines"].as_array().unwrap() {
            for o in p["opaque"].as_array().unwrap() {
                opaque += 1;
                let rule = format!("opaque/{}", o["kind"].as_str().unwrap());
                let found = results(&log).iter().any(|r| {
                    let loc = &r["locations"][0]["physicalLocation"];
                    r["ruleId"] == rule.as_str()
                        && loc["artifactLocation"]["uri"] == f["path"]
                        && loc["region"]["startLine"] == o["span"]["line"]
                        && loc["region"]["startColumn"] == o["span"]["col"]
                });
                assert!(
                    found,
                    "no result for {rule} in {} at {}",
                    f["path"], o["span"]
                );
            }
        }
    }
    assert!(opaque > 0, "the corpus has opaque constructs");
    // What a port to dagster approximates or loses is there too, as notes and warnings.
    let ids = ids_of(&log);
    assert!(ids.iter().any(|i| i.starts_with("port/OM")), "{ids:?}");
    assert!(
        results(&log)
            .iter()
            .any(|r| r["ruleId"].as_str().unwrap().starts_with("port/") && r["level"] == "note")
    );
}

#[test]
fn without_a_target_there_are_no_port_findings_and_read_errors_are_errors() {
    let (log, out) = sarif(&["tests/bad"]);
    assert_eq!(out.status.code(), Some(1), "bad inputs are findings");
    assert_valid(&log);
    let ids = ids_of(&log);
    assert!(!ids.iter().any(|i| i.starts_with("port/")), "{ids:?}");
    let syntax = results(&log)
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "tests/bad/syntax_error.py"
        })
        .expect("the syntax error is a result");
    assert_eq!(syntax["level"], "error");
    assert!(
        syntax["ruleId"]
            .as_str()
            .unwrap()
            .starts_with("diagnostic/")
    );
    assert!(
        syntax["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .is_some()
    );
}

#[test]
fn a_missing_path_is_an_error_result_and_the_rest_is_still_logged() {
    let (log, out) = sarif(&["corpus/airflow/orders_etl.py", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert_valid(&log);
    assert!(ids_of(&log).contains(&"input".to_string()));
}

/// A port finding that has code in the output (approximate, redesign) gives that line as a
/// related location under `PORTROOT`, the folder `orchmig port --out` writes: in the files that
/// command writes, each such line exists and is code.
#[test]
fn port_findings_point_at_the_ported_line_as_a_related_location() {
    for target in ["dagster", "prefect", "airflow"] {
        let (log, _) = sarif(&["corpus", "--target", target]);
        assert_valid(&log);
        assert!(
            log["runs"][0]["originalUriBaseIds"]["PORTROOT"]["description"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("--out")),
            "{target}: PORTROOT is described"
        );
        let dir = tempfile::tempdir().unwrap();
        orchmig()
            .args(["port", "corpus", "--to", target, "--out"])
            .arg(dir.path())
            .assert()
            .success();
        let mut related = 0;
        for r in results(&log) {
            let Some(rel) = r["relatedLocations"].as_array() else {
                continue;
            };
            let at = &rel[0]["physicalLocation"];
            assert_eq!(at["artifactLocation"]["uriBaseId"], "PORTROOT");
            let uri = at["artifactLocation"]["uri"].as_str().unwrap();
            let line = at["region"]["startLine"].as_u64().unwrap() as usize;
            let text = std::fs::read_to_string(dir.path().join(uri))
                .unwrap_or_else(|e| panic!("{target}: {uri}: {e}"));
            let code = text.lines().nth(line - 1).unwrap_or_default().trim();
            assert!(
                !code.is_empty() && !code.starts_with('#'),
                "{target}: {uri}:{line} is not code: {code:?}"
            );
            related += 1;
        }
        assert!(related > 50, "{target}: {related} related locations");
    }
}
