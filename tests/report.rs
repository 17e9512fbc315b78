//! `orchmig report`: one self-contained HTML page (no external requests, no scripts) that opens on
//! the estate's summary, with every pipeline's graph, source link and ports to the other
//! frameworks (losses shown, also in print); per-pipeline pages beside it above --inline-max;
//! dated by SOURCE_DATE_EPOCH, deterministic, atomic, never overwriting a file orchmig did not
//! write without --force. tests/report_browser.rs renders it in Chromium.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// The date every test page is made at (2023-11-14 22:13:20 UTC).
const EPOCH: &str = "1700000000";

fn orchmig() -> Command {
    let mut c = Command::cargo_bin("orchmig").unwrap();
    c.env("SOURCE_DATE_EPOCH", EPOCH);
    c
}

fn report(paths: &[&str], out: &Path) -> String {
    orchmig()
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
    // Nothing to fetch: every url() is a same-SVG marker, every link a same-page anchor or a
    // relative link to a source file (followed only when clicked).
    for u in fetched_urls(&html) {
        let relative_link = u
            .strip_prefix("href=")
            .is_some_and(|h| !h.is_empty() && !h.contains(':') && !h.starts_with('/'));
        assert!(
            relative_link || u.starts_with("url(#"),
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
    // Dated by SOURCE_DATE_EPOCH, two runs give the same bytes.
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
    orchmig()
        .args(["report", "corpus/airflow/orders_etl.py", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine");
    orchmig()
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
    orchmig()
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

/// The values of every `href="…"` that is not a same-page anchor, HTML-unescaped.
fn file_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|h| !h.starts_with('#'))
        .map(|h| h.replace("&amp;", "&").replace("&#x2f;", "/"))
        .collect()
}

/// A percent-encoded relative URL as a path below `base`.
fn resolve(base: &Path, href: &str) -> PathBuf {
    let mut bytes = Vec::new();
    let mut it = href.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hex: String = [it.next().unwrap(), it.next().unwrap()]
                .iter()
                .map(|&c| c as char)
                .collect();
            bytes.push(u8::from_str_radix(&hex, 16).unwrap());
        } else {
            bytes.push(b);
        }
    }
    base.join(String::from_utf8(bytes).unwrap())
}

/// The text of `html` between `from` and the next `to`.
fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html.find(from).unwrap_or_else(|| panic!("no {from}"));
    let rest = &html[start..];
    &rest[..rest.find(to).unwrap_or(rest.len())]
}

#[test]
fn the_page_opens_on_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    // The corpus and a file that does not parse: the summary names it with its line.
    let broken = dir.path().join("inputs/broken.py");
    std::fs::create_dir_all(broken.parent().unwrap()).unwrap();
    std::fs::write(
        &broken,
        "from airflow.sdk import DAG\n\nwith DAG(dag_id='x'\n",
    )
    .unwrap();
    let out = dir.path().join("review.html");
    orchmig()
        .args(["report", "corpus"])
        .arg(&broken)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1);
    let html = std::fs::read_to_string(&out).unwrap();
    let summary = html.find("<section id=\"summary\">").expect("a summary");
    for later in [
        "id=\"estate\"",
        "id=\"matrix\"",
        "<article class=\"pipeline\"",
    ] {
        assert!(summary < html.find(later).unwrap(), "{later} comes first");
    }
    let summary = between(&html, "<section id=\"summary\">", "</section>");
    let estate = orchmig::cli::input::read_estate(&["corpus".into()]).0;
    let n: usize = estate.files.iter().map(|f| f.pipelines.len()).sum();
    // The recommendation counts the pipelines that fit best, with reasons.
    assert!(
        summary.contains(&format!(" of {n}</b> pipelines fit <b>")),
        "{summary}"
    );
    assert!(summary.contains("Why, most often:"));
    // Every shape of the estate is counted; the counts add up to the pipelines.
    let shapes = between(summary, "<table id=\"shapes\">", "</table>");
    let counted: usize = shapes
        .split("<td class=\"num\">")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(counted, n);
    // Effort per target: one row per framework, each pipeline either ported or already there.
    let effort = between(summary, "<table id=\"effort\">", "</table>");
    for t in ["airflow@3", "dagster@1", "prefect@3"] {
        assert!(effort.contains(&format!("<tr><td>{t}</td>")), "{t} missing");
    }
    // The riskiest pipelines link to their sections.
    let risky = between(summary, "<table id=\"riskiest\">", "</table>");
    assert_eq!(risky.matches("<tr><td><a href=\"#p").count(), 10);
    for anchor in risky.split("href=\"#").skip(1) {
        let id = anchor.split('"').next().unwrap();
        assert!(html.contains(&format!("<article class=\"pipeline\" id=\"{id}\">")));
    }
    // The file that could not be read, with its line and why.
    let unreadable = between(summary, "<ul id=\"unreadable\"", "</ul>");
    assert!(
        unreadable.contains("broken.py:3: "),
        "unreadable files: {unreadable}"
    );
}

#[test]
fn losses_are_shown_and_printed_and_sources_are_linked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site/review.html");
    let html = report(&["corpus"], &out);
    assert!(!html.contains("<details"), "something is collapsed");
    assert!(html.matches("<table class=\"losses\">").count() > 40);
    // Print CSS: every rule that hides something hides the navigation only, and what scrolls
    // on screen is shown whole on paper.
    let print = between(&html, "@media print {", "\n}");
    for rule in print.split('}') {
        let Some((selector, body)) = rule.split_once('{') else {
            continue;
        };
        let body = body.replace(' ', "");
        let hides = [
            "display:none",
            "visibility:hidden",
            "max-height",
            "overflow:hidden",
        ]
        .iter()
        .any(|h| body.contains(h));
        assert!(
            !hides || selector.trim() == "nav",
            "print hides {selector}: {body}"
        );
    }
    assert!(print.contains(".scroll, .graph { overflow: visible; }"));
    // Every source link is relative to the page's folder and reaches the pipeline's file.
    let links = file_links(&html);
    let estate = orchmig::cli::input::read_estate(&["corpus".into()]).0;
    let n: usize = estate.files.iter().map(|f| f.pipelines.len()).sum();
    assert_eq!(links.len(), n, "one source link per pipeline");
    for href in &links {
        assert!(!href.starts_with('/') && !href.contains(':'), "{href}");
        let target = resolve(out.parent().unwrap(), href);
        let file = std::fs::canonicalize(&target).unwrap_or_else(|e| panic!("{href}: {e}"));
        let corpus = std::fs::canonicalize("corpus").unwrap();
        assert!(file.starts_with(&corpus) && file.extension().unwrap() == "py");
    }
    // Each loss names its line in the would-be output file.
    assert!(html.contains("<td><code>orders_etl.py:"), "no output line");
}

#[test]
fn the_page_says_when_and_from_which_commit() {
    let dir = tempfile::tempdir().unwrap();
    let html = report(
        &["corpus/airflow/orders_etl.py"],
        &dir.path().join("a.html"),
    );
    assert!(html.contains("Generated 2023-11-14 22:13 UTC"));
    // In this checkout the commit is git's; git missing, the page says there is none.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_string());
    let commit = head.unwrap_or_else(|| "not a git checkout".into());
    assert!(
        html.contains(&format!("input commit <code>{commit}</code>")),
        "no commit {commit}"
    );
    // A file outside any git work tree.
    let copy = dir.path().join("orders_etl.py");
    std::fs::copy("corpus/airflow/orders_etl.py", &copy).unwrap();
    let html = report(&[copy.to_str().unwrap()], &dir.path().join("b.html"));
    assert!(html.contains("input commit <code>not a git checkout</code>"));
}

/// The per-pipeline pages of `out`, by file name.
fn pages_of(out: &Path) -> Vec<String> {
    let dir = out.with_file_name("review-pipelines");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn above_inline_max_each_pipeline_gets_its_own_page() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("review.html");
    let input = "corpus/airflow/orders_etl.py";
    let run = |extra: &[&str]| {
        orchmig()
            .args([
                "report",
                input,
                "corpus/prefect/daily_sales_etl.py",
                "--out",
            ])
            .arg(&out)
            .args(extra)
            .assert()
    };
    run(&["--inline-max", "1"]).success();
    let html = std::fs::read_to_string(&out).unwrap();
    let pages = pages_of(&out);
    assert_eq!(pages, ["0000-orders_etl.html", "0001-daily_sales_etl.html"]);
    assert!(
        !html.contains("<article"),
        "sections are on their own pages"
    );
    let links = file_links(&html);
    for name in &pages {
        assert!(
            links.contains(&format!("review-pipelines/{name}")),
            "{links:?}"
        );
        let page =
            std::fs::read_to_string(out.with_file_name("review-pipelines").join(name)).unwrap();
        assert!(page.contains("<article class=\"pipeline\"") && page.contains("<svg "));
        assert!(
            file_links(&page).contains(&"../review.html".to_string()),
            "no way back"
        );
        // The source link starts from the pages' folder.
        let src = file_links(&page)
            .into_iter()
            .find(|h| h.ends_with(".py"))
            .unwrap();
        let pages_dir = out.with_file_name("review-pipelines");
        assert!(resolve(&pages_dir, &src).is_file(), "{src}");
    }
    // orchmig's own pages are regenerated without --force; a user's file in their place is kept.
    run(&["--inline-max", "1"]).success();
    let theirs = out.with_file_name("review-pipelines").join(&pages[1]);
    std::fs::write(&theirs, "mine").unwrap();
    run(&["--inline-max", "1"])
        .code(1)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "mine");
    run(&["--inline-max", "1", "--force"]).success();
    assert!(
        std::fs::read_to_string(&theirs)
            .unwrap()
            .contains("daily_sales_etl")
    );
    // Inline again, the pages orchmig wrote are removed with their folder; a user's file stays.
    run(&[]).success();
    assert!(pages_of(&out).is_empty());
    assert!(!out.with_file_name("review-pipelines").exists());
    std::fs::create_dir(out.with_file_name("review-pipelines")).unwrap();
    std::fs::write(
        out.with_file_name("review-pipelines/0000-notes.html"),
        "mine",
    )
    .unwrap();
    run(&[]).success();
    assert_eq!(pages_of(&out), ["0000-notes.html"]);
}

#[cfg(unix)]
#[test]
fn pages_are_never_written_through_a_linked_folder() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = dir.path().join("review.html");
    std::os::unix::fs::symlink(elsewhere.path(), out.with_file_name("review-pipelines")).unwrap();
    orchmig()
        .args([
            "report",
            "corpus/airflow/orders_etl.py",
            "--inline-max",
            "0",
            "--force",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("review-pipelines"));
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    assert!(!out.exists(), "nothing is written when the pages cannot be");
}
