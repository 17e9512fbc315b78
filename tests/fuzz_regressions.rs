//! Inputs that once broke orchmig (found by the fuzz targets in fuzz/ or by hand while hardening),
//! fed through the same read → IR → every writer path as the fuzzer: each must now keep every
//! promise `orchmig::robustness::exercise` checks.

use std::time::{Duration, Instant};

#[test]
fn every_kept_crash_input_now_passes() {
    let mut inputs: Vec<_> = std::fs::read_dir("tests/fuzz_regressions")
        .expect("tests/fuzz_regressions")
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    for path in inputs {
        let bytes = std::fs::read(&path).unwrap();
        let started = Instant::now();
        let broken = orchmig::robustness::exercise(&path.display().to_string(), bytes);
        assert!(broken.is_empty(), "{}: {broken:#?}", path.display());
        // Bounded: these inputs once hung or exhausted memory (generous for a loaded CI).
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{} took {:?}",
            path.display(),
            started.elapsed()
        );
    }
}

/// The oracles themselves must hold on the pipelines we ship (a false alarm here would drown
/// the fuzzer's findings): every corpus file keeps every promise, injection oracle included.
#[test]
fn every_corpus_file_keeps_every_promise() {
    let mut seen = 0;
    for dir in ["corpus/airflow", "corpus/dagster", "corpus/prefect"] {
        for entry in std::fs::read_dir(dir).expect(dir) {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "py") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let broken = orchmig::robustness::exercise(&path.display().to_string(), bytes);
            assert!(broken.is_empty(), "{}: {broken:#?}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 40, "only {seen} corpus files");
}

/// The injection oracle fires on the file-name injection issue 21 found (a newline in a file
/// name used to reach the generated header raw), so the fuzzer can see that class of bug.
#[test]
fn the_injection_oracle_accepts_hostile_names_that_stay_inside_literals() {
    let text = "from prefect import flow, task\n\n@task(name=\"a\\nstolen()\")\ndef a():\n    return 1\n\n@flow(name='x\"\"\"\\nstolen()\\n')\ndef f():\n    a()\n";
    let path = "dags/evil\nstolen()\n\"\"\".py";
    let broken = orchmig::robustness::exercise(path, text.as_bytes().to_vec());
    assert!(broken.is_empty(), "{broken:#?}");
}
