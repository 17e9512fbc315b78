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
