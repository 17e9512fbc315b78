//! The run ledger against hostile or unlucky input (issue 21): `--ledger` never overwrites an
//! input or a file that is not a ledger, a resume keeps the ledger's history, never runs step
//! bodies the command line did not ask for, and trusts only a ledger of this pipeline whose
//! checksums hold (a torn last line from a crash is ignored and cut, a changed line refused).

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const ETL: &str = "corpus/airflow/orders_etl.py";

/// Runs `orchmig run ARGS --format json`: exit code, the JSON document (Null when none), stderr.
fn run(args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::cargo_bin("orchmig")
        .unwrap()
        .arg("run")
        .args(args)
        .args(["--format", "json"])
        .timeout(std::time::Duration::from_secs(240))
        .output()
        .unwrap();
    let stderr = flat(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), v, stderr)
}

/// Stderr with the diagnostics' line wrapping undone (their gutters and line breaks as spaces).
fn flat(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The nodes of a run document's records, in order.
fn nodes(v: &serde_json::Value) -> Vec<String> {
    v["records"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["node"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A copy of the corpus ETL pipeline in a fresh folder.
fn etl_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let etl = dir.path().join("etl.py");
    std::fs::copy(ETL, &etl).unwrap();
    (dir, etl)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A ledger of a run of `pipeline` whose `load` step fails every attempt (exit 1).
fn failed_run(pipeline: &Path, ledger: &Path) {
    let (code, _, err) = run(&[s(pipeline), "--fail", "load", "--ledger", s(ledger)]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn a_ledger_over_an_input_or_a_foreign_file_is_refused_and_the_file_kept() {
    let (dir, etl) = etl_copy();
    let source = std::fs::read(&etl).unwrap();
    let dotted = dir.path().join(".").join("etl.py");
    let link = dir.path().join("link.jsonl");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&etl, &link).unwrap();
    #[cfg(not(unix))]
    std::fs::copy(&etl, &link).unwrap();
    for target in [&etl, &dotted, &link] {
        let (code, _, err) = run(&[s(&etl), "--ledger", s(target)]);
        assert_eq!(code, 2, "{target:?}: {err}");
        assert!(
            err.contains("is the pipeline file, an input of this command"),
            "{err}"
        );
        assert!(err.contains("help:"), "{err}");
        assert_eq!(std::fs::read(&etl).unwrap(), source, "--ledger {target:?}");
    }
    // A file that is not a ledger is not overwritten either.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "keep me\n").unwrap();
    let (code, _, err) = run(&[s(&etl), "--ledger", s(&notes)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not an orchmig run ledger"), "{err}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "keep me\n");
    // Nor the pipeline file by way of a resume.
    let ledger = dir.path().join("run.jsonl");
    failed_run(&etl, &ledger);
    let (code, _, err) = run(&[s(&etl), "--resume", s(&ledger), "--ledger", s(&etl)]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read(&etl).unwrap(), source);
    // An earlier ledger and an empty file are the run's to (re)write.
    let (code, _, err) = run(&[s(&etl), "--ledger", s(&ledger)]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("replaces it"), "{err}");
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let (code, _, err) = run(&[s(&etl), "--ledger", s(&empty)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(&empty)
            .unwrap()
            .contains("\"event\":\"run\"")
    );
}

#[test]
fn a_resume_into_its_own_ledger_appends_and_keeps_the_history() {
    let (dir, etl) = etl_copy();
    let ledger = dir.path().join("run.jsonl");
    failed_run(&etl, &ledger);
    let before = std::fs::read(&ledger).unwrap();
    let l = s(&ledger);
    let (code, v, err) = run(&[s(&etl), "--resume", l, "--ledger", l, "--fail", "load:1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(nodes(&v), ["load"]);
    let after = std::fs::read(&ledger).unwrap();
    assert!(
        after.len() > before.len() && after.starts_with(&before),
        "the resume rewrote the ledger's history"
    );
    // The history still says what is done: a second resume has nothing left to run.
    let (code, v, err) = run(&[s(&etl), "--resume", l]);
    assert_eq!((code, nodes(&v).len()), (0, 0), "{err}");

    // `--resume L --ledger M`: M gets L's history and the resume; L stays as it was.
    let first = dir.path().join("first.jsonl");
    let next = dir.path().join("next.jsonl");
    failed_run(&etl, &first);
    let kept = std::fs::read(&first).unwrap();
    let (code, v, err) = run(&[
        s(&etl),
        "--resume",
        s(&first),
        "--ledger",
        s(&next),
        "--fail",
        "load:1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(nodes(&v), ["load"]);
    assert_eq!(std::fs::read(&first).unwrap(), kept);
    assert!(std::fs::read(&next).unwrap().starts_with(&kept));
    let (code, v, err) = run(&[s(&etl), "--resume", s(&next)]);
    assert_eq!((code, nodes(&v).len()), (0, 0), "{err}");
}

const MARKS: &str = r#"import os

from prefect import flow, task


def mark(name):
    with open(os.environ["ORCHMIG_TEST_MARKS"], "a") as f:
        f.write(name + "\n")


@task
def first() -> int:
    mark("first")
    return 1


@task
def second(x: int) -> int:
    mark("second")
    return x + 1


@flow
def marks():
    second(first())
"#;

#[test]
fn a_resume_runs_bodies_only_when_its_own_command_line_says_python() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("marks.py");
    std::fs::write(&path, MARKS).unwrap();
    let marks = dir.path().join("marks.txt");
    let run_marked = |args: &[&str]| {
        let out = Command::cargo_bin("orchmig")
            .unwrap()
            .arg("run")
            .args(args)
            .env("ORCHMIG_TEST_MARKS", &marks)
            .timeout(std::time::Duration::from_secs(240))
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), flat(&out.stderr))
    };
    let read_marks = || std::fs::read_to_string(&marks).unwrap_or_default();
    // A python run whose second step fails (injected, before its body runs).
    let ledger = dir.path().join("run.jsonl");
    let (code, err) = run_marked(&[
        s(&path),
        "--runner",
        "python",
        "--fail",
        "second",
        "--ledger",
        s(&ledger),
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(read_marks(), "first\n");
    // Resumed without --runner: the dry runner, whatever the ledger recorded; it says so.
    let (code, err) = run_marked(&[s(&path), "--resume", s(&ledger), "--fail", "second:1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        read_marks(),
        "first\n",
        "a body ran that nobody asked to run"
    );
    assert!(
        err.contains("python runner") && err.contains("dry runner"),
        "{err}"
    );
    // Asked for explicitly, the python runner runs the failed step's body.
    let again = dir.path().join("again.jsonl");
    let (code, err) = run_marked(&[
        s(&path),
        "--runner",
        "python",
        "--fail",
        "second",
        "--ledger",
        s(&again),
    ]);
    assert_eq!(code, 1, "{err}");
    let (code, err) = run_marked(&[
        s(&path),
        "--resume",
        s(&again),
        "--fail",
        "second:1",
        "--runner",
        "python",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read_marks(), "first\nfirst\nsecond\n");
}

/// The 1-based number of the first ledger line containing every one of `parts`.
fn line_with(text: &str, parts: &[&str]) -> usize {
    text.lines()
        .position(|l| parts.iter().all(|p| l.contains(p)))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line with {parts:?} in\n{text}"))
}

#[test]
fn a_resume_refuses_a_changed_ledger_and_names_the_line() {
    let (dir, etl) = etl_copy();
    let ledger = dir.path().join("run.jsonl");
    failed_run(&etl, &ledger);
    let text = std::fs::read_to_string(&ledger).unwrap();
    // Someone turns the failed step's final record into a success.
    let n = line_with(&text, &["\"event\":\"final\"", "\"node\":\"load\""]);
    let forged: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let l = if i + 1 == n {
                l.replace("\"state\":\"failed\"", "\"state\":\"success\"")
            } else {
                l.to_string()
            };
            l + "\n"
        })
        .collect();
    assert_ne!(forged, text);
    std::fs::write(&ledger, &forged).unwrap();
    let (code, v, err) = run(&[s(&etl), "--resume", s(&ledger), "--fail", "load:1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("line {n} ")), "{err}");
    assert!(err.contains("checksum") && err.contains("help:"), "{err}");
    assert!(v.is_null());
    assert_eq!(std::fs::read_to_string(&ledger).unwrap(), forged);
    // A line taken out (here the third) breaks the chain at the line that follows it.
    let cut: String = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(&ledger, cut).unwrap();
    let (code, _, err) = run(&[s(&etl), "--resume", s(&ledger)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 3 "), "{err}");
}

#[test]
fn a_resume_refuses_a_ledger_of_another_pipeline_or_an_older_orchmig() {
    let (dir, etl) = etl_copy();
    let ledger = dir.path().join("run.jsonl");
    failed_run(&etl, &ledger);
    let l = s(&ledger);
    // Another file altogether.
    let (code, _, err) = run(&["corpus/dagster/orders_daily.py", "--resume", l]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("orders_etl"), "{err}");
    // A --pipeline that is not the ledger's.
    let (code, _, err) = run(&[s(&etl), "--resume", l, "--pipeline", "orders_daily_job"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("ledger being resumed is of pipeline `orders_etl`"),
        "{err}"
    );
    // The same file with a comment added is the same pipeline…
    let source = std::fs::read_to_string(&etl).unwrap();
    std::fs::write(&etl, format!("# reviewed\n{source}")).unwrap();
    let copy = dir.path().join("copy.jsonl");
    std::fs::copy(&ledger, &copy).unwrap();
    let (code, v, err) = run(&[s(&etl), "--resume", s(&copy), "--fail", "load:1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(nodes(&v), ["load"]);
    // …but with a step's retries changed it is another version of it.
    let changed = source.replace("@task(retries=3,", "@task(retries=4,");
    assert_ne!(changed, source);
    std::fs::write(&etl, changed).unwrap();
    let (code, _, err) = run(&[s(&etl), "--resume", l, "--fail", "load:1"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("another version") && err.contains("without --resume"),
        "{err}"
    );
    // A ledger written by an older orchmig (format 1, no checksums) is not trusted.
    let old = dir.path().join("old.jsonl");
    std::fs::write(
        &old,
        "{\"event\":\"run\",\"version\":1,\"pipeline\":\"orders_etl\",\"args\":{\"path\":\"etl.py\"}}\n\
         {\"event\":\"final\",\"node\":\"extract\",\"partition\":null,\"map_index\":null,\"state\":\"success\",\"attempts\":1,\"start\":0.0,\"end\":1.0}\n",
    )
    .unwrap();
    let (code, _, err) = run(&[ETL, "--resume", s(&old)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("older orchmig") && err.contains("without --resume"),
        "{err}"
    );
}

#[test]
fn a_torn_last_line_is_reported_ignored_and_cut_before_the_resume_appends() {
    let (dir, etl) = etl_copy();
    let ledger = dir.path().join("run.jsonl");
    failed_run(&etl, &ledger);
    let text = std::fs::read_to_string(&ledger).unwrap();
    let lines = text.lines().count();
    // A crash in the middle of writing the last record (the run's end).
    let torn = &text[..text.len() - 10];
    std::fs::write(&ledger, torn).unwrap();
    let (code, v, err) = run(&[s(&etl), "--resume", s(&ledger), "--fail", "load:1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(nodes(&v), ["load"]);
    assert!(
        err.contains(&format!("line {lines} is incomplete")),
        "{err}"
    );
    // The torn bytes are gone: every line is whole again and the ledger resumes cleanly.
    let after = std::fs::read_to_string(&ledger).unwrap();
    let whole = &torn[..torn.rfind('\n').unwrap() + 1];
    assert!(after.starts_with(whole));
    for line in after.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    let (code, v, err) = run(&[s(&etl), "--resume", s(&ledger)]);
    assert_eq!((code, nodes(&v).len()), (0, 0), "{err}");
    assert!(!err.contains("incomplete"), "{err}");
}
