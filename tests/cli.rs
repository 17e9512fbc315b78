//! The CLI as a user drives it: `orchmig ir` and `orchmig analyze`, good and bad input.

mod support;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn orchmig() -> Command {
    Command::cargo_bin("orchmig").expect("binary")
}

fn analyze_json(args: &[&str]) -> (Value, std::process::Output) {
    let out = orchmig()
        .arg("analyze")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run");
    let json = serde_json::from_slice(&out.stdout).expect("analyze JSON");
    (json, out)
}

fn row<'a>(inv: &'a Value, pipeline: &str) -> &'a Value {
    inv["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pipeline"] == pipeline)
        .unwrap_or_else(|| panic!("no row for {pipeline}"))
}

#[test]
fn analyze_lists_every_corpus_pipeline_with_its_counts() {
    let (inv, out) = analyze_json(&["corpus/airflow"]);
    support::assert_success(&out);
    // Every pipeline of every file is a row, and the counts are those of the IR.
    let ir: Value = serde_json::from_slice(
        &orchmig()
            .args(["ir", "corpus/airflow"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let mut pipelines = 0;
    for file in ir["files"].as_array().unwrap() {
        for p in file["pipelines"].as_array().unwrap() {
            pipelines += 1;
            let r = row(&inv, p["id"].as_str().unwrap());
            assert_eq!(r["nodes"], p["nodes"].as_array().unwrap().len());
            assert_eq!(r["edges"], p["edges"].as_array().unwrap().len());
        }
    }
    assert_eq!(inv["totals"]["pipelines"], pipelines);
    assert!(pipelines >= 12);
    // Counts a reader of the code can check: extract >> transform >> load.
    let orders = row(&inv, "orders_etl");
    assert_eq!(
        (orders["nodes"].as_u64(), orders["edges"].as_u64()),
        (Some(3), Some(2))
    );
    let fanout = row(&inv, "marketing_fanout");
    assert_eq!(fanout["mapped"], 5);
    assert_eq!(fanout["nodes"], 7);
}

#[test]
fn analyze_table_and_markdown_show_totals() {
    orchmig()
        .args(["analyze", "corpus/airflow"])
        .assert()
        .success()
        .stdout(predicate::str::contains("orders_etl").and(predicate::str::contains("estate: ")));
    orchmig()
        .args(["analyze", "corpus/airflow", "--format", "markdown"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("| pipeline | framework |"));
}

/// The terminal table fits the width it is given (`COLUMNS`), with the columns a review reads
/// first; names and paths are cut with `…`, the answer columns and the line numbers are kept.
#[test]
fn analyze_fits_80_and_120_columns() {
    for width in [80usize, 120] {
        let out = orchmig()
            .args(["analyze", "corpus/", "tests/bad/syntax_token.py"])
            .env("COLUMNS", width.to_string())
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines() {
            assert!(line.chars().count() <= width, "{width}: {line:?}");
        }
        let header = text.lines().nth(1).unwrap();
        for column in [
            "pipeline",
            "file:line",
            "framework",
            "shape",
            "best fit",
            "effort",
        ] {
            assert!(header.contains(column), "{header}");
        }
        assert!(!header.contains("retry %"), "{header}");
        // Every data row keeps its line number and an answer.
        assert!(text.contains(".py:33 "), "{text}");
        for summary in ["shapes: ", "best fit: ", "effort to dagster: ", "estate: "] {
            assert!(text.contains(summary), "{summary} missing:\n{text}");
        }
        assert!(
            text.contains("error: tests/bad/syntax_token.py:6"),
            "{text}"
        );
    }
}

/// `matrix PATH` and `verify` fit the terminal too (their optional columns give way first).
#[test]
fn matrix_and_verify_fit_80_and_120_columns() {
    for width in [80usize, 120] {
        for args in [
            &["matrix", "corpus/"][..],
            &["verify", "corpus/airflow", "--to", "dagster"][..],
        ] {
            let out = orchmig()
                .args(args)
                .env("COLUMNS", width.to_string())
                .output()
                .unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            assert!(text.lines().count() > 5, "{args:?}: {text}");
            for line in text.lines() {
                assert!(
                    line.chars().count() <= width,
                    "{args:?} at {width}: {line:?}"
                );
            }
        }
    }
}

/// `--wide` shows every column with whole cells; `--columns` picks; an unknown id is a usage
/// error that lists the known ones.
#[test]
fn analyze_wide_and_chosen_columns() {
    let wide = orchmig()
        .args(["analyze", "corpus/airflow/orders_etl.py", "--wide"])
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    let text = String::from_utf8(wide.stdout).unwrap();
    for column in [
        "retry %",
        "schedule",
        "migration cost",
        "@daily (Europe/Paris)",
    ] {
        assert!(text.contains(column), "{text}");
    }
    let chosen = orchmig()
        .args([
            "analyze",
            "corpus/airflow/orders_etl.py",
            "--columns",
            "pipeline,nodes,effort",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(chosen.stdout).unwrap();
    let header = text.lines().nth(1).unwrap();
    assert!(header.contains("nodes") && header.contains("effort") && !header.contains("shape"));
    orchmig()
        .args(["analyze", "corpus/airflow", "--columns", "pipeline,colour"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("unknown column `colour`")
                .and(predicate::str::contains("best-fit")),
        );
}

#[test]
fn ir_json_has_the_documented_contract() {
    let out = orchmig()
        .args(["ir", "corpus/airflow/orders_etl.py"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let ir: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ir["ir_version"], 1);
    let file = &ir["files"][0];
    assert_eq!(file["framework"], "airflow");
    assert_eq!(file["source_version"], "airflow@3");
    let p = &file["pipelines"][0];
    for key in [
        "id",
        "name",
        "framework",
        "schedule",
        "partitions",
        "nodes",
        "edges",
        "checks",
        "opaque",
    ] {
        assert!(p.get(key).is_some(), "missing {key}");
    }
    assert_eq!(p["schedule"]["kind"], "preset");
    assert_eq!(p["schedule"]["timezone"], "Europe/Paris");
    let node = &p["nodes"][0];
    for key in ["id", "kind", "policy", "mapping", "group"] {
        assert!(node.get(key).is_some(), "missing node key {key}");
    }
    let edge = &p["edges"][0];
    assert_eq!(
        (
            edge["from"].as_str(),
            edge["to"].as_str(),
            edge["kind"].as_str()
        ),
        (Some("extract"), Some("transform"), Some("data"))
    );
    assert!(file["diagnostics"].as_array().unwrap().is_empty());
}

#[test]
fn a_syntax_error_is_reported_with_line_and_hint_and_the_rest_is_read() {
    orchmig()
        .args([
            "analyze",
            "tests/bad/syntax_error.py",
            "corpus/airflow/orders_etl.py",
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("tests/bad/syntax_error.py:7")
                .and(predicate::str::contains("help:")),
        )
        .stdout(predicate::str::contains("orders_etl"));
}

#[test]
fn pep701_fstrings_are_read() {
    orchmig()
        .args(["ir", "tests/bad/pep701.py"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"quoting\""));
}

#[test]
fn non_utf8_files_are_diagnosed_not_fatal() {
    orchmig()
        .args([
            "analyze",
            "tests/bad/latin1.py",
            "corpus/airflow/orders_etl.py",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("latin1.py:2").and(predicate::str::contains("UTF-8")))
        .stdout(predicate::str::contains("orders_etl"));
}

#[test]
fn cycles_dangling_references_and_duplicates_point_at_the_source() {
    orchmig()
        .args(["ir", "tests/bad/cycle.py"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cycle.py:7").and(predicate::str::contains("cycle")));
    orchmig()
        .args(["ir", "tests/bad/dangling.py"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("dangling.py:6").and(predicate::str::contains("`finish`")),
        );
    orchmig()
        .args(["ir", "tests/bad/duplicate_ids.py"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("duplicate_ids.py:6").and(predicate::str::contains("`same`")),
        );
}

#[test]
fn a_missing_path_is_a_usage_error_but_other_paths_are_read() {
    orchmig()
        .args(["analyze", "no/such/dir", "corpus/airflow/orders_etl.py"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no/such/dir").and(predicate::str::contains("no such file")),
        )
        .stdout(predicate::str::contains("orders_etl"));
}

#[test]
fn files_without_pipelines_are_counted_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("helpers.py"),
        "def add(a, b):\n    return a + b\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("empty.py"), "").unwrap();
    std::fs::create_dir(dir.path().join("__pycache__")).unwrap();
    std::fs::write(dir.path().join("__pycache__/x.py"), "def (:\n").unwrap();
    let (inv, out) = analyze_json(&[dir.path().to_str().unwrap()]);
    support::assert_success(&out);
    assert_eq!(inv["files"], 2);
    assert_eq!(inv["files_without_pipelines"], 2);
    assert_eq!(inv["files_with_errors"], 0);
}

#[test]
fn output_is_deterministic() {
    let a = orchmig().args(["ir", "corpus"]).output().unwrap().stdout;
    let b = orchmig().args(["ir", "corpus"]).output().unwrap().stdout;
    assert_eq!(a, b);
}

#[test]
fn output_is_the_same_whatever_the_thread_count() {
    let run = |threads: Option<&str>, env: Option<&str>, args: &[&str]| {
        let mut cmd = orchmig();
        cmd.env_remove("ORCHMIG_THREADS")
            .env_remove("RAYON_NUM_THREADS");
        if let Some(n) = env {
            cmd.env("ORCHMIG_THREADS", n);
        }
        if let Some(n) = threads {
            cmd.args(["--threads", n]);
        }
        let out = cmd.args(args).output().unwrap();
        support::assert_success(&out);
        (out.stdout, out.stderr)
    };
    for args in [
        &["analyze", "corpus", "--format", "json"][..],
        &["analyze", "corpus"][..],
        &["ir", "corpus"][..],
    ] {
        let default = run(None, None, args);
        assert!(!default.0.is_empty());
        assert_eq!(run(Some("1"), None, args), default, "--threads 1, {args:?}");
        assert_eq!(
            run(None, Some("1"), args),
            default,
            "ORCHMIG_THREADS=1, {args:?}"
        );
        assert_eq!(run(Some("4"), None, args), default, "--threads 4, {args:?}");
    }
    // A port writes the same files too.
    let ported = |threads: &str| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        run(
            Some(threads),
            None,
            &[
                "port",
                "corpus",
                "--to",
                "dagster",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        // Same-named sources (ml_training.py in two frameworks) keep their folders below --out.
        let mut files = std::collections::BTreeMap::new();
        for e in walkdir::WalkDir::new(&out) {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let rel = e.path().strip_prefix(&out).unwrap().to_owned();
                files.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
        files
    };
    let one = ported("1");
    assert!(one.len() > 10);
    assert_eq!(ported("3"), one);
}

/// `analyze --format json` says which files had problems and why, not only how many: every file
/// with diagnostics is listed with each one's severity, code, line and message.
#[test]
fn analyze_json_lists_every_diagnostic_per_file() {
    let out = Command::cargo_bin("orchmig")
        .unwrap()
        .args([
            "analyze",
            "tests/bad/cycle.py",
            "tests/bad/syntax_error.py",
            "corpus/airflow/orders_etl.py",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["files_with_errors"], 2);
    let listed: Vec<(String, String, u64)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            let path = f["path"].as_str().unwrap().to_string();
            f["diagnostics"].as_array().unwrap().iter().map(move |d| {
                (
                    path.clone(),
                    d["code"].as_str().unwrap().to_string(),
                    d["line"].as_u64().unwrap_or(0),
                )
            })
        })
        .collect();
    assert!(
        listed.contains(&("tests/bad/cycle.py".into(), "cycle".into(), 7)),
        "{listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|(p, c, _)| p == "tests/bad/syntax_error.py" && c == "syntax"),
        "{listed:?}"
    );
    assert!(!listed.iter().any(|(p, _, _)| p.contains("orders_etl")));
}
