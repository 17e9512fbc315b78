//! `orchmig graph`: snapshots of the Mermaid, dot and JSON drawings of corpus pipelines (one with
//! task groups, one mapped, one with checks), and the command's choices for users: several
//! pipelines, an unknown --pipeline, --out without --force, deterministic SVG.

use assert_cmd::Command;
use predicates::prelude::*;

use orchmig::graph::format::{GraphFormat, render, select};

/// Groups (Airflow task groups, nested), mapping (Prefect .map), checks (Dagster asset checks).
const FILES: [&str; 3] = [
    "corpus/airflow/warehouse_groups.py",
    "corpus/prefect/inventory_fanout.py",
    "corpus/dagster/support_quality.py",
];

fn orchmig() -> Command {
    Command::cargo_bin("orchmig").unwrap()
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s
}

fn name(path: &str) -> String {
    path.trim_start_matches("corpus/")
        .trim_end_matches(".py")
        .replace('/', "__")
}

#[test]
fn corpus_drawings_match_their_snapshots() {
    settings().bind(|| {
        for path in FILES {
            let file = orchmig::frontend::read_path(std::path::Path::new(path));
            assert!(!file.pipelines.is_empty(), "{path} has no pipeline");
            let all = select(&file, None, GraphFormat::Json).unwrap();
            let json = render(path, &all, GraphFormat::Json, true).unwrap();
            insta::assert_snapshot!(format!("graph__{}__json", name(path)), json);
            let dot = render(path, &all, GraphFormat::Dot, true).unwrap();
            insta::assert_snapshot!(format!("graph__{}__dot", name(path)), dot);
            // Mermaid holds one pipeline: the file's first.
            let first = select(&file, Some(&file.pipelines[0].id), GraphFormat::Mermaid).unwrap();
            let mermaid = render(path, &first, GraphFormat::Mermaid, true).unwrap();
            insta::assert_snapshot!(format!("graph__{}__mermaid", name(path)), mermaid);
        }
    });
}

#[test]
fn the_marks_users_look_for_are_in_every_format() {
    let groups = orchmig()
        .args(["graph", FILES[0], "--format", "mermaid"])
        .assert()
        .success();
    let out = String::from_utf8(groups.get_output().stdout.clone()).unwrap();
    assert!(out.starts_with("flowchart LR\n"), "{out}");
    assert!(out.contains("subgraph c0[\""), "no cluster:\n{out}");

    let mapped = orchmig()
        .args(["graph", FILES[1], "--format", "dot"])
        .assert()
        .success();
    let out = String::from_utf8(mapped.get_output().stdout.clone()).unwrap();
    assert!(
        out.contains("peripheries=2"),
        "mapped node not marked:\n{out}"
    );

    let checks = orchmig()
        .args(["graph", FILES[2], "--format", "json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&checks.get_output().stdout).unwrap();
    assert_eq!(v["graph_version"], 1);
    let kinds: Vec<&str> = v["graphs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["nodes"].as_array().unwrap())
        .filter_map(|n| n["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"check"), "{kinds:?}");
    assert!(kinds.contains(&"asset"), "{kinds:?}");
}

#[test]
fn unknown_pipeline_lists_the_names_and_exits_1() {
    orchmig()
        .args([
            "graph",
            "corpus/airflow/orders_etl.py",
            "--pipeline",
            "nope",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no pipeline `nope`"))
        .stderr(predicate::str::contains("orders_etl"));
}

#[test]
fn several_pipelines_need_a_name_for_one_picture_but_not_for_dot_or_json() {
    // inventory_fanout.py defines two flows.
    let several = FILES[1];
    let names = ["inventory_fanout", "price_refresh"];
    let mut fail = orchmig()
        .args(["graph", several, "--format", "mermaid"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--pipeline"));
    for n in &names {
        fail = fail.stderr(predicate::str::contains(*n));
    }
    let dot = orchmig()
        .args(["graph", several, "--format", "dot"])
        .assert()
        .success();
    let text = String::from_utf8(dot.get_output().stdout.clone()).unwrap();
    assert_eq!(text.matches("digraph ").count(), names.len());
    orchmig()
        .args(["graph", several, "--format", "svg", "--pipeline", names[1]])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("<svg "));
}

#[test]
fn svg_is_deterministic_and_out_is_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.svg");
    let args = ["graph", FILES[0], "--format", "svg", "--out"];
    orchmig().args(args).arg(&out).assert().success();
    let first = std::fs::read_to_string(&out).unwrap();
    assert!(first.starts_with("<svg ") && first.ends_with("</svg>\n"));
    assert!(first.contains("<g class=\"cluster\">"));
    orchmig()
        .args(args)
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--force"));
    orchmig()
        .args(args)
        .arg(&out)
        .arg("--force")
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
}
