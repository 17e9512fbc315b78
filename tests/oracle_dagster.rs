//! The real Dagster as the oracle: every corpus file must read as `Definitions` loads it
//! (asset keys and deps, groups, external assets, partitions, checks, jobs and their selections
//! or op steps, schedules, sensors), and must load and materialise in Dagster itself.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use support::dagster::compare_dagster;
use support::venv_python;

fn corpus_files() -> Vec<PathBuf> {
    let (files, errors) = orchmig::frontend::collect_files(&[PathBuf::from("corpus/dagster")]);
    assert!(errors.is_empty(), "{errors:?}");
    files
}

/// Runs tests/oracle/dagster_dump.py over paths and returns its JSON.
fn dagster_oracle(paths: &[&Path], materialize: bool) -> Json {
    let python = venv_python("dagster");
    let home = tempfile::tempdir().expect("temp DAGSTER_HOME");
    let mut cmd = Command::new(python);
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/dagster_dump.py"));
    if materialize {
        cmd.arg("--materialize");
    }
    let out = cmd
        .args(paths)
        .env("DAGSTER_HOME", home.path())
        .output()
        .expect("run the Dagster oracle");
    assert!(
        out.status.success(),
        "the Dagster oracle failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("oracle JSON")
}

#[test]
fn every_corpus_file_reads_as_dagster_loads_it() {
    let files = corpus_files();
    assert!(
        files.len() >= 12,
        "the Dagster corpus has {} files, want at least 12",
        files.len()
    );
    assert_read_as_dagster_loads(&files);
}

/// Every file reads as Dagster loads it: detected as Dagster, and the same definitions.
fn assert_read_as_dagster_loads(files: &[PathBuf]) {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let oracle = dagster_oracle(&paths, false);
    let mut diffs = Vec::new();
    for f in files {
        let key = f.display().to_string();
        let ir = orchmig::frontend::read_path(f);
        if ir.framework != Some(orchmig::ir::Framework::Dagster) {
            diffs.push(format!("{key}: not detected as a Dagster file"));
        }
        diffs.extend(compare_dagster(&key, &oracle["files"][&key], &ir));
    }
    assert!(
        diffs.is_empty(),
        "orchmig and Dagster disagree:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn every_corpus_file_materialises_in_dagster() {
    let files = corpus_files();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let oracle = dagster_oracle(&paths, true);
    let mut failures = Vec::new();
    for f in &files {
        let key = f.display().to_string();
        let entry = &oracle["files"][&key];
        if let Some(err) = entry["import_error"].as_str() {
            failures.push(format!("{key}: does not load:\n{err}"));
            continue;
        }
        let runs = &entry["materialize"];
        if runs["ok"].as_bool() != Some(true) {
            failures.push(format!("{key}: {}", runs["runs"]));
        } else {
            eprintln!("{key}: {}", runs["runs"]);
        }
    }
    assert!(
        failures.is_empty(),
        "corpus files that do not run in Dagster:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_corpus_file_declares_its_constructs() {
    for f in corpus_files() {
        let text = std::fs::read_to_string(&f).expect("read corpus file");
        assert!(
            text.lines()
                .next()
                .is_some_and(|l| l.starts_with("# constructs: ")),
            "{}: the first line must be `# constructs: ...`",
            f.display()
        );
    }
}

/// Idioms taken from public Dagster code, each in a file of our own under tests/realworld/dagster,
/// read as Dagster loads them.
#[test]
fn real_world_idioms_read_as_dagster_loads_them() {
    let (files, errors) =
        orchmig::frontend::collect_files(&[PathBuf::from("tests/realworld/dagster")]);
    assert!(errors.is_empty() && !files.is_empty(), "{errors:?}");
    // Each idiom is read whole: not even an opaque warning.
    for f in &files {
        let ir = orchmig::frontend::read_path(f);
        assert!(
            ir.diagnostics.is_empty(),
            "{}: {:?}",
            f.display(),
            ir.diagnostics
        );
    }
    assert_read_as_dagster_loads(&files);
}
