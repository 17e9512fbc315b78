//! The real Airflow as the oracle: every corpus DAG, and Airflow's own example DAGs, must read
//! as DagBag reads them.

mod support;

use std::path::{Path, PathBuf};

use support::{Depth, airflow_oracle, compare_airflow, venv_root};

fn corpus_files(dir: &str) -> Vec<PathBuf> {
    let (files, errors) = orchmig::frontend::collect_files(&[PathBuf::from(dir)]);
    assert!(errors.is_empty(), "{errors:?}");
    files
}

/// Every file must read exactly as DagBag reads it, with no error diagnostic.
fn assert_read_as_dagbag(files: &[PathBuf]) {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let oracle = airflow_oracle(&paths);
    let mut diffs = Vec::new();
    for f in files {
        let key = f.display().to_string();
        let ir = orchmig::frontend::read_path(f);
        for d in ir
            .diagnostics
            .iter()
            .filter(|d| d.severity == orchmig::ir::Severity::Error)
        {
            diffs.push(format!("{key}: error {}: {}", d.code, d.message));
        }
        diffs.extend(compare_airflow(
            &key,
            &oracle["files"][&key],
            &ir,
            Depth::Full,
        ));
    }
    assert!(
        diffs.is_empty(),
        "orchmig and Airflow disagree:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn every_corpus_dag_reads_as_airflow_reads_it() {
    let files = corpus_files("corpus/airflow");
    assert!(
        files.len() >= 12,
        "the Airflow corpus has {} files, want at least 12",
        files.len()
    );
    assert_read_as_dagbag(&files);
}

/// Idioms learned from public DAGs written elsewhere, in files of our own
/// (`tests/realworld/airflow/`): each must read exactly as DagBag reads it.
#[test]
fn real_world_idioms_read_as_airflow_reads_them() {
    let files = corpus_files("tests/realworld/airflow");
    assert!(!files.is_empty());
    assert_read_as_dagbag(&files);
}

#[test]
fn airflow_example_dags_read_like_dagbag() {
    let site = venv_root().join("airflow/lib/python3.11/site-packages/airflow");
    let dirs = [
        site.join("example_dags"),
        site.join("providers/standard/example_dags"),
    ];
    for d in &dirs {
        assert!(
            d.is_dir(),
            "missing {}: run scripts/setup-venvs.sh",
            d.display()
        );
    }
    let (files, _) = orchmig::frontend::collect_files(&dirs);
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let oracle = airflow_oracle(&paths);
    let mut exact = 0;
    let mut report = Vec::new();
    for f in &files {
        let key = f.display().to_string();
        let ir = orchmig::frontend::read_path(f);
        let diffs = compare_airflow(&key, &oracle["files"][&key], &ir, Depth::Structure);
        if diffs.is_empty() {
            exact += 1;
        } else {
            report.extend(diffs);
        }
    }
    let share = exact as f64 / files.len() as f64;
    eprintln!(
        "{exact}/{} example files read exactly like DagBag ({:.1}%)",
        files.len(),
        share * 100.0
    );
    for line in &report {
        eprintln!("  {line}");
    }
    assert!(
        share >= 0.9,
        "only {exact}/{} example files match DagBag:\n{}",
        files.len(),
        report.join("\n")
    );
}
