//! The decision matrix and its rule engine, through the CLI and the library.

mod support;

use assert_cmd::Command;
use predicates::prelude::*;
use proptest::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

use orchmig::matrix::{Engine, Matrix, environment, render};

fn orchmig() -> Command {
    Command::cargo_bin("orchmig").expect("binary")
}

fn json(args: &[&str]) -> Value {
    let out = orchmig()
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run");
    support::assert_success(&out);
    serde_json::from_slice(&out.stdout).expect("json")
}

fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn the_matrix_table_and_json() {
    let out = orchmig().arg("matrix").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("matrix__table", text);
        insta::assert_json_snapshot!("matrix__json", json(&["matrix"]));
    });
}

#[test]
fn every_shape_ranking() {
    let m = Matrix::builtin().unwrap();
    snapshot_settings().bind(|| {
        for id in m.shape_ids() {
            insta::assert_json_snapshot!(
                format!("matrix__shape__{id}"),
                json(&["matrix", "--shape", id])
            );
        }
    });
}

#[test]
fn the_guides_picks_hold_through_the_cli() {
    for (shape, tool) in [
        ("cron-etl", "airflow"),
        ("data-product", "dagster"),
        ("ml-dynamic", "prefect"),
    ] {
        assert_eq!(
            json(&["matrix", "--shape", shape])["recommended"],
            tool,
            "{shape}"
        );
    }
    orchmig()
        .args(["matrix", "--shape", "data-product"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("recommended: dagster")
                .and(predicate::str::contains("decided by: ")),
        );
}

#[test]
fn weights_override_the_shape() {
    let r = json(&[
        "matrix",
        "--shape",
        "cron-etl",
        "--weights",
        "maturity=0,best_for=0,dynamic=10",
    ]);
    assert_eq!(r["recommended"], "prefect");
    assert_eq!(r["weights"]["dynamic"], 10.0);
    orchmig()
        .args(["matrix", "--shape", "cron-etl", "--weights", "speed=2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown dimension `speed`"));
}

#[test]
fn an_unknown_shape_lists_the_valid_ones_and_suggests_the_nearest() {
    orchmig()
        .args(["matrix", "--shape", "data-prodcut"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("did you mean `data-product`?")
                .and(predicate::str::contains("cron-etl"))
                .and(predicate::str::contains("multi-tool")),
        );
}

#[test]
fn corpus_pipelines_are_classified_and_ranked() {
    let doc = json(&["matrix", "corpus"]);
    snapshot_settings().bind(|| {
        let compact: Vec<Value> = doc["pipelines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                serde_json::json!({
                    "pipeline": p["pipeline"], "location": p["location"], "shape": p["shape"],
                    "evidence": p["evidence"].as_array().unwrap().iter().map(|e| e["rule"].clone()).collect::<Vec<_>>(),
                    "fit": p["ranking"]["tools"].as_array().unwrap().iter().map(|t| (t["tool"].as_str().unwrap().to_string(), t["fit"].clone())).collect::<std::collections::BTreeMap<_, _>>(),
                    "recommended": p["ranking"]["recommended"], "costs": p["costs"],
                })
            })
            .collect();
        insta::assert_json_snapshot!("matrix__corpus", serde_json::json!({"pipelines": compact, "summary": doc["summary"]}));
    });
    // Pipelines a reader of the code would classify this way.
    let shape_of = |id: &str| {
        doc["pipelines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pipeline"] == id)
            .map(|p| p["shape"].as_str().unwrap().to_string())
    };
    assert_eq!(
        shape_of("customer_360_build").as_deref(),
        Some("data-product")
    );
    assert_eq!(shape_of("ml_training").as_deref(), Some("ml-dynamic"));
    assert_eq!(shape_of("payroll_monthly").as_deref(), Some("cron-etl"));
    assert_eq!(
        shape_of("orders_daily_job").as_deref(),
        Some("data-product")
    );
    assert_eq!(shape_of("ml_retrain").as_deref(), Some("ml-dynamic"));
    assert_eq!(shape_of("regional_reports").as_deref(), Some("small-team"));
}

#[test]
fn analyze_shows_shape_best_fit_and_migration_cost() {
    let inv = json(&["analyze", "corpus/airflow/data_quality_gate.py"]);
    let row = &inv["pipelines"][0];
    assert_eq!(row["shape"], "cron-etl");
    assert_eq!(row["best_fit"], "airflow");
    // Branches and trigger rules have no Dagster equivalent: the rule's 3 points are 45 minutes
    // of design review on top of the port's rows.
    let dagster = &row["migration"]["dagster"];
    assert!(
        dagster["review_minutes"].as_u64().unwrap() >= 45,
        "{dagster}"
    );
    assert_eq!(
        dagster["minutes"].as_u64().unwrap(),
        dagster["review_minutes"].as_u64().unwrap() + dagster["by_hand_minutes"].as_u64().unwrap()
    );
    assert!(
        row["migration"]["dagster"]["reasons"]
            .get("af-dg-trigger-rules")
            .is_some()
    );
    assert!(
        row["migration"].get("airflow").is_none(),
        "no cost to move to its own framework"
    );
}

#[test]
fn a_teams_matrix_overrides_and_is_validated() {
    let dir = tempfile::tempdir().unwrap();
    // Only shapes.toml is overridden: cron-etl now picks on dynamic flows alone.
    let shapes = std::fs::read_to_string("matrix/shapes.toml").unwrap().replace(
        "weights = { maturity = 3, assets = 1, dynamic = 1, hosting = 1, best_for = 3 }\nfit = { airflow = 5, dagster = 2, prefect = 3 }",
        "weights = { maturity = 0, assets = 0, dynamic = 1, hosting = 0, best_for = 0 }\nfit = { airflow = 5, dagster = 2, prefect = 3 }",
    );
    std::fs::write(dir.path().join("shapes.toml"), shapes).unwrap();
    let d = dir.path().to_str().unwrap();
    assert_eq!(
        json(&["matrix", "--matrix", d, "--shape", "cron-etl"])["recommended"],
        "prefect"
    );

    std::fs::write(dir.path().join("rules.toml"), "default_shape = \"cron-etl\"\n\n[[rule]]\nid = \"broken\"\nwhen = \"mapped >\"\nwhy = \"x\"\n").unwrap();
    orchmig()
        .args(["matrix", "--matrix", d])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("rules.toml:5").and(predicate::str::contains("`broken`")));

    std::fs::write(
        dir.path().join("rules.toml"),
        "default_shape = \"cron-etl\"\n[[rule]\n",
    )
    .unwrap();
    orchmig()
        .args(["matrix", "--matrix", d])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("rules.toml:2").and(predicate::str::contains("help:")));
}

fn corpus_pipelines() -> Vec<orchmig::ir::Pipeline> {
    let (files, _) = orchmig::frontend::collect_files(&[PathBuf::from("corpus")]);
    files
        .iter()
        .flat_map(|f| orchmig::frontend::read_path(f).pipelines)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn rankings_do_not_depend_on_rule_or_file_order(seed in any::<u64>()) {
        let base = Matrix::builtin().unwrap();
        let env = environment();
        let pipelines = corpus_pipelines();
        let engine = Engine::new(&base, &env).unwrap();
        let expected: Vec<_> = pipelines.iter().map(|p| engine.assess(p).unwrap()).collect();

        let mut shuffled = base.clone();
        let mut order: Vec<usize> = (0..pipelines.len()).collect();
        shuffle(&mut shuffled.rules, seed);
        shuffle(&mut shuffled.costs, seed.rotate_left(17));
        shuffle(&mut order, seed.rotate_left(31));
        let env2 = environment();
        let engine2 = Engine::new(&shuffled, &env2).unwrap();
        let mut got: Vec<_> = order.iter().map(|&i| (i, engine2.assess(&pipelines[i]).unwrap())).collect();
        let summary_shuffled = render::summary(&got.iter().map(|(_, a)| (String::new(), a.clone())).collect::<Vec<_>>());
        got.sort_by_key(|(i, _)| *i);
        let got: Vec<_> = got.into_iter().map(|(_, a)| a).collect();
        prop_assert_eq!(&got, &expected);
        let summary = render::summary(&expected.iter().map(|a| (String::new(), a.clone())).collect::<Vec<_>>());
        prop_assert_eq!(format!("{summary:?}"), format!("{summary_shuffled:?}"));
    }
}

fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        v.swap(i, (seed >> 33) as usize % (i + 1));
    }
}
