//! `orchmig report`: one self-contained HTML page (no external requests, no scripts), with every
//! pipeline's graph and its ports to the other frameworks; deterministic, atomic, never
//! overwriting without --force. tests/report_browser.rs renders it in Chromium.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn report(paths: &[&str], out: &Path) -> String {
    Command::cargo_bin("orchmig")
        .unwrap()
        .arg("report")
        .args(paths)
        .arg("--out")
        .arg(out)
        .assert()
        .success()
        .stderr(predicate::str::contains("wrote"));
    std::fs::read_to_string(out).unwrap()
}

/// Every URL-valued attribute or CSS url() of the page, lower-cased.
fn fetched_urls(html: &str) -> Vec<String> {
    let lower = html.to_lowercase();
    let mut out = Vec::new();
    for key in [
        "src=", "href=", "url(", "@import", "action=", "srcset=", "poster=",
    ] {
        let mut rest = lower.as_str();
        while let Some(i) = rest.find(key) {
            let tail = &rest[i + key.len()..];
            let value: String = tail
                .trim_start_matches(['"', '\'', ' '])
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | ')' | ' ' | '>'))
                .collect();
            out.push(format!("{key}{value}"));
            rest = tail;
        }
    }
    out
}

#[test]
fn the_page_is_self_contained_and_has_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let html = report(&["corpus"], &dir.path().join("review.html"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Nothing to fetch: every link is a same-page anchor, every url() a same-SVG marker.
    for u in fetched_urls(&html) {
        assert!(
            u.starts_with("href=#") || u.starts_with("url(#"),
            "the page would fetch {u}"
        );
    }
    assert!(!html.contains("<script"), "the page needs no script");
    assert!(!html.contains("<link"), "styles are inline");
    for id in ["id=\"estate\"", "id=\"matrix\"", "id=\"pipelines\""] {
        assert!(html.contains(id), "missing section {id}");
    }
    // Every corpus pipeline has a section with an inline graph and two ports.
    let estate = orchmig::cli::input::read_estate(&["corpus".into()]).0;
    let pipelines: usize = estate.files.iter().map(|f| f.pipelines.len()).sum();
    assert_eq!(
        html.matches("<article class=\"pipeline\"").count(),
        pipelines
    );
    assert_eq!(html.matches("<svg ").count(), pipelines);
    assert_eq!(html.matches("<div class=\"port\">").count(), 2 * pipelines);
    assert!(html.contains("→ dagster@1") && html.contains("→ prefect@3"));
    assert!(!html.contains("could not be computed"), "a port failed");
}

#[test]
fn the_page_is_deterministic_and_escapes_what_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let a = report(
        &["corpus/airflow/warehouse_groups.py"],
        &dir.path().join("a.html"),
    );
    let b = report(
        &["corpus/airflow/warehouse_groups.py"],
        &dir.path().join("b.html"),
    );
    assert_eq!(a, b);
    // A pipeline file whose ids carry markup: the page shows it, it does not run it.
    let src = dir.path().join("odd.py");
    std::fs::write(
        &src,
        "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n\n\
         with DAG(dag_id=\"odd\", schedule=None):\n    EmptyOperator(task_id=\"a<img src=x>\")\n",
    )
    .unwrap();
    let odd = report(&[src.to_str().unwrap()], &dir.path().join("odd.html"));
    assert!(odd.contains("a&lt;img src=x&gt;"), "the id is not escaped");
    assert!(
        !odd.contains("<img"),
        "markup from the input reached the page"
    );
}

#[test]
fn an_existing_page_is_kept_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("review.html");
    std::fs::write(&out, "mine").unwrap();
    Command::cargo_bin("orchmig")
        .unwrap()
        .args(["report", "corpus/airflow/orders_etl.py", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine");
    Command::cargo_bin("orchmig")
        .unwrap()
        .args(["report", "corpus/airflow/orders_etl.py", "--force", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("orders_etl")
    );
    // The page is orchmig's own now: regenerating it needs no --force.
    Command::cargo_bin("orchmig")
        .unwrap()
        .args(["report", "corpus/prefect/daily_sales_etl.py", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("daily_sales_etl")
    );
}
