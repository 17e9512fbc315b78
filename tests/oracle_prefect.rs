//! The real Prefect as the oracle: every corpus flow is run locally (tests/oracle/prefect_dump.py,
//! one ephemeral API server for the whole batch) and the runs it records must be the graph
//! orchmig reads statically (compared by tests/support/prefect.rs).
//!
//! How the two are matched:
//! - a flow (module attribute) ↔ a pipeline with that id;
//! - a recorded call (one invocation of a task or sub-flow; a `.map()` is one call of N runs) ↔
//!   the node whose callable has that function name and whose span holds the call's line, in call
//!   order (`t`, `t-2`, … for calls on the same line, as in loops); a node read from a loop over a
//!   run-time value (`extra.dynamic_loop`, reported opaque) takes every call of its site;
//! - recorded upstreams (after the dump's filtering rule) ↔ edges, both reduced transitively, with
//!   kind `data` or `order` (`wait_for`);
//! - retries and retry delays ↔ the node's effective policy; sub-flow calls ↔ `SubPipeline` nodes,
//!   flow retries ↔ `run_policy`; mapped calls ↔ nodes with a mapping (and the run count ↔ the
//!   length of a literal it maps over).
//!
//! What static reading cannot match is listed in [`EXCEPTIONS`], each with its reason; an
//! exception that no longer happens fails the test too.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use support::prefect::{Exception, compare};

const EXCEPTIONS: &[Exception] = &[
    Exception::NotRun {
        file: "snapshot_guard.py",
        flow: "snapshot_guard",
        node: "page_on_call",
        why: "called only when check_snapshot's state is failed; the fixture snapshot passes its check",
    },
    Exception::NotRun {
        file: "snapshot_guard.py",
        flow: "snapshot_guard",
        node: "set_aside",
        why: "the `else` branch of `if verdict[\"complete\"]`: the fixture snapshot is complete",
    },
    Exception::ControlEdge {
        file: "snapshot_guard.py",
        flow: "snapshot_guard",
        from: "check_snapshot",
        to: "promote",
        why: "promote runs only after the flow body read the check's result in `if verdict[\"complete\"]`",
    },
    Exception::NotRun {
        file: "quality_gate.py",
        flow: "quality_gate",
        node: "quarantine",
        why: "the `else` branch of `if report[\"ok\"]`: the fixture batch is clean, so it is not taken",
    },
    Exception::NotRun {
        file: "quality_gate.py",
        flow: "quality_gate",
        node: "notify_owner",
        why: "under `if strict:`, and `strict` defaults to False",
    },
    Exception::NotRun {
        file: "quality_gate.py",
        flow: "quality_gate",
        node: "notify_owner-2",
        why: "in the `except RuntimeError:` handler; cleanup does not raise",
    },
    Exception::ControlEdge {
        file: "quality_gate.py",
        flow: "quality_gate",
        from: "validate",
        to: "publish",
        why: "publish runs only after the flow body read validate's result in `if report[\"ok\"]`",
    },
];

fn corpus_files() -> Vec<PathBuf> {
    let (files, errors) = orchmig::frontend::collect_files(&[PathBuf::from("corpus/prefect")]);
    assert!(errors.is_empty(), "{errors:?}");
    files
}

/// Runs the Prefect oracle over the files and returns its JSON.
fn prefect_oracle(paths: &[&Path]) -> Json {
    let python = support::venv_python("prefect");
    let home = tempfile::tempdir().expect("temp PREFECT_HOME");
    let out = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/prefect_dump.py"))
        .args(paths)
        .env("PREFECT_HOME", home.path())
        .env("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        .env_remove("PREFECT_API_URL")
        .output()
        .expect("run the Prefect oracle");
    assert!(
        out.status.success(),
        "the Prefect oracle failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the Prefect oracle printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The differences between what Prefect ran and what orchmig reads, for every file; the
/// exceptions used are noted in `used`.
fn differences(
    files: &[PathBuf],
    exceptions: &[Exception],
    used: &mut BTreeSet<usize>,
) -> Vec<String> {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let oracle = prefect_oracle(&paths);
    let mut diffs = Vec::new();
    for f in files {
        let key = f.display().to_string();
        let ir = orchmig::frontend::read_path(f);
        // An opaque entry's warning says what orchmig did not model; it is no difference itself.
        for d in ir.diagnostics.iter().filter(|d| d.code != "opaque") {
            diffs.push(format!(
                "{key}: diagnostics: {:?} {} {}",
                d.severity, d.code, d.message
            ));
        }
        diffs.extend(compare(&key, &oracle["files"][&key], &ir, exceptions, used));
    }
    eprintln!("oracle dropped inputs: {}", oracle["dropped"]);
    diffs
}

#[test]
fn every_corpus_flow_runs_as_orchmig_reads_it() {
    let files = corpus_files();
    assert!(
        files.len() >= 12,
        "the Prefect corpus has {} flow files, want at least 12",
        files.len()
    );
    let mut used = BTreeSet::new();
    let mut diffs = differences(&files, EXCEPTIONS, &mut used);
    for (i, e) in EXCEPTIONS.iter().enumerate() {
        if !used.contains(&i) {
            let (file, what, why) = match e {
                Exception::NotRun {
                    file, node, why, ..
                } => (file, format!("node {node} not run"), why),
                Exception::ControlEdge {
                    file,
                    from,
                    to,
                    why,
                    ..
                } => (file, format!("control edge {from} -> {to}"), why),
            };
            diffs.push(format!("corpus/prefect/{file}: stale exception ({what}: {why}): it no longer applies, remove it"));
        }
    }
    assert!(
        diffs.is_empty(),
        "orchmig and Prefect disagree:\n{}",
        diffs.join("\n")
    );
}

/// Idioms learned from public flows written elsewhere, in files of our own
/// (`tests/realworld/prefect/`): each runs in Prefect as orchmig reads it, with nothing opaque.
#[test]
fn real_world_idioms_run_as_orchmig_reads_them() {
    let (files, errors) =
        orchmig::frontend::collect_files(&[PathBuf::from("tests/realworld/prefect")]);
    assert!(errors.is_empty() && !files.is_empty(), "{errors:?}");
    for f in &files {
        let ir = orchmig::frontend::read_path(f);
        let opaque: Vec<_> = ir.pipelines.iter().flat_map(|p| &p.opaque).collect();
        assert!(opaque.is_empty(), "{}: {opaque:?}", f.display());
    }
    let diffs = differences(&files, &[], &mut BTreeSet::new());
    assert!(
        diffs.is_empty(),
        "orchmig and Prefect disagree:\n{}",
        diffs.join("\n")
    );
}
