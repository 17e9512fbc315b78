//! The benchmark (README "Performance") in its quick mode: it must keep running and print every
//! figure; timings are not asserted (the machine running the tests may be busy).

use std::process::Command;

#[test]
fn quick_bench_completes_and_prints_every_figure() {
    let out = Command::new(env!("CARGO_BIN_EXE_orchmig-bench"))
        .arg("--quick")
        .output()
        .expect("run orchmig-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figure = |label: &str| {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` line in:\n{stdout}"));
        assert!(
            line[label.len()..].chars().any(|c| c.is_ascii_digit()) || line.contains("skipped"),
            "no figure on `{line}`"
        );
    };
    for label in [
        "(a) parse floor",
        "(b) orchmig analyze, 1 thread",
        "(b) orchmig analyze, all cores",
        "(c) orchmig port --to dagster",
        "(d) peak RSS, analyze",
        "(d) peak RSS, port",
        "analyze (1 thread) / parse floor",
        "speed-up, 1 →",
        "port / analyze",
        "peak RSS (MB",
        "DagBag fill / orchmig analyze",
        "linearity: analyze, one DAG of 1000 tasks",
        "linearity: port --to dagster, one DAG of 10000 tasks",
        "analyze time, 10× the tasks",
        "port time, 10× the tasks",
    ] {
        figure(label);
    }
    // With the Airflow venv, DagBag really loaded the generated Airflow files.
    if let Some(line) = stdout.lines().find(|l| l.starts_with("(e) DagBag fill")) {
        assert!(line.contains(" 0 import errors"), "{line}");
        assert!(!line.contains(" 0 DAGs"), "{line}");
    }
}
