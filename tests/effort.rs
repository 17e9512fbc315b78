//! One effort model (docs/effort.md): the cost column of `analyze`, the grade of `analyze
//! --target` and the report of `orchmig port` are one number per pipeline and target, built from
//! the port's own rows plus the matrix's cost rules, and the grades it gives separate pipelines.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn orchmig() -> Command {
    Command::cargo_bin("orchmig").unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = orchmig().args(args).output().unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", String::from_utf8_lossy(&out.stderr)))
}

/// (source file, pipeline) → minutes, from `orchmig port`'s own JSON report.
fn port_minutes(target: &str) -> BTreeMap<(String, String), u64> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    orchmig()
        .args(["port", "corpus/", "--to", target, "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(out.join("orchmig-report.json")).unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    let mut m = BTreeMap::new();
    for l in report["pipelines"].as_array().unwrap() {
        let rows: u64 = l["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["minutes"].as_u64().unwrap())
            .sum();
        let review = l["review"]["minutes"].as_u64().unwrap_or(0);
        let key = (
            l["source"].as_str().unwrap().to_string(),
            l["pipeline"].as_str().unwrap().to_string(),
        );
        // Two pipelines of one file may share an id; their sums are compared together.
        *m.entry(key).or_default() += rows + review;
    }
    m
}

#[test]
fn the_analyze_cost_column_is_the_ports_own_effort() {
    let inv = json(&["analyze", "corpus/", "--format", "json"]);
    for target in ["airflow", "dagster", "prefect"] {
        let ported = port_minutes(target);
        let mut analyzed: BTreeMap<(String, String), u64> = BTreeMap::new();
        for r in inv["pipelines"].as_array().unwrap() {
            let Some(e) = r["migration"].get(target) else {
                assert_eq!(r["framework"], target, "{r}");
                continue;
            };
            let path = r["location"].as_str().unwrap().rsplit_once(':').unwrap().0;
            let key = (
                path.to_string(),
                r["pipeline"].as_str().unwrap().to_string(),
            );
            *analyzed.entry(key).or_default() += e["minutes"].as_u64().unwrap();
        }
        for (key, minutes) in &analyzed {
            assert_eq!(
                ported.get(key),
                Some(minutes),
                "{target}: {key:?}: analyze says {minutes} minutes, the port's report {:?}",
                ported.get(key)
            );
        }
        assert!(analyzed.len() > 40, "{target}: {}", analyzed.len());
    }
}

#[test]
fn grades_spread_on_the_corpus_for_every_target() {
    for target in ["airflow", "dagster", "prefect"] {
        let inv = json(&["analyze", "corpus/", "--format", "json", "--target", target]);
        let grades: Vec<&Value> = inv["port"]["grades"].as_array().unwrap().iter().collect();
        let kinds: BTreeSet<&str> = grades
            .iter()
            .map(|g| g["grade"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            BTreeSet::from(["automatic", "manual", "review"]),
            "{target}: the grade separates nothing"
        );
        for g in &grades {
            let minutes = g["effort_minutes"].as_u64().unwrap();
            let want = match minutes {
                0 => "automatic",
                1..=60 => "review",
                _ => "manual",
            };
            assert_eq!(g["grade"], want, "{target}: {g}");
        }
    }
}

#[test]
fn a_small_tutorial_dag_costs_minutes_not_hours() {
    // Three @task steps, a cron schedule, retries: the shape of the vendors' first tutorial.
    for target in ["dagster", "prefect"] {
        let inv = json(&[
            "analyze",
            "corpus/airflow/orders_etl.py",
            "--format",
            "json",
            "--target",
            target,
        ]);
        let g = &inv["port"]["grades"][0];
        let minutes = g["effort_minutes"].as_u64().unwrap();
        assert!((1..=60).contains(&minutes), "{target}: {g}");
        assert_eq!(g["grade"], "review", "{target}: {g}");
        assert_eq!(
            inv["pipelines"][0]["migration"][target]["minutes"].as_u64(),
            Some(minutes),
            "{target}: the cost column and the grade differ"
        );
    }
}

#[test]
fn a_lost_step_weighs_more_than_a_lost_tag() {
    // The table weighs rows by kind: a step left raising NotImplementedError is half an hour
    // of work, a lost start date two minutes.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    orchmig()
        .args([
            "port",
            "corpus/airflow/asset_pipeline.py",
            "--to",
            "prefect",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("orchmig-report.json")).unwrap())
            .unwrap();
    let entries: Vec<&Value> = report["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["entries"].as_array().unwrap())
        .collect();
    let minutes_of = |construct: &str| {
        entries
            .iter()
            .find(|e| e["construct"] == construct && e["fidelity"] == "none")
            .map(|e| e["minutes"].as_u64().unwrap())
    };
    assert_eq!(minutes_of("node.trigger"), Some(30));
    assert_eq!(minutes_of("start_date"), Some(2));
    assert!(
        entries
            .iter()
            .filter(|e| e["fidelity"] == "exact")
            .all(|e| e["minutes"] == 0)
    );
}
