//! The run ledger survives a kill at any point: a ledger cut at any byte (what a SIGKILL between
//! or inside writes leaves) is resumed with `--resume`, nothing finished runs again, and together
//! the two runs cover every step. (tests/run.rs kills a real backfill with SIGKILL.)

mod support;

use assert_cmd::Command;
use std::collections::BTreeSet;
use std::time::Duration;

const PIPELINE: &str = "corpus/airflow/orders_etl.py";

fn run(args: &[&str]) -> (serde_json::Value, Option<i32>, String) {
    let out = Command::cargo_bin("orchmig")
        .unwrap()
        .arg("run")
        .args(args)
        .args(["--format", "json"])
        .timeout(Duration::from_secs(240))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (v, out.status.code(), stderr)
}

/// (node, partition) of every successful final state in a ledger text.
fn successes(text: &str) -> BTreeSet<(String, String)> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "final" && e["state"] == "success")
        .map(|e| {
            (
                e["node"].as_str().unwrap_or("").to_string(),
                e["partition"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_ledger_cut_at_any_byte_resumes_to_a_complete_run() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.jsonl");
    let (_, code, stderr) = run(&[
        PIPELINE,
        "--backfill",
        "2024-03-01..2024-03-05",
        "--ledger",
        full.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let text = std::fs::read_to_string(&full).unwrap();
    let everything = successes(&text);
    assert_eq!(everything.len(), 15, "5 days × 3 steps");
    let first_line = text.find('\n').unwrap() + 1;
    // Cut points: inside the first line, right after it, mid-line and on line ends later on.
    let mut cuts: Vec<usize> = vec![first_line / 2, first_line];
    cuts.extend((1..12).map(|k| first_line + (text.len() - first_line) * k / 12));
    cuts.push(text.rfind("\"event\":\"end\"").unwrap_or(text.len() - 1));
    for cut in cuts {
        let ledger = dir.path().join(format!("cut-{cut}.jsonl"));
        std::fs::write(&ledger, &text.as_bytes()[..cut]).unwrap();
        let done = successes(&text[..cut]);
        let (v, code, stderr) = run(&[PIPELINE, "--resume", ledger.to_str().unwrap()]);
        if cut < first_line {
            // Killed before the run's header was whole: nothing to resume from, said clearly.
            assert_eq!(code, Some(2), "cut {cut}: {stderr}");
            assert!(stderr.contains("ledger"), "cut {cut}: {stderr}");
            assert!(stderr.contains("help:"), "cut {cut}: {stderr}");
            continue;
        }
        assert_eq!(code, Some(0), "cut {cut}: {stderr}");
        let resumed: BTreeSet<(String, String)> = support::run_records(&v).into_iter().collect();
        assert!(
            done.is_disjoint(&resumed),
            "cut {cut}: re-ran {:?}",
            done.intersection(&resumed).collect::<Vec<_>>()
        );
        let together: BTreeSet<_> = done.union(&resumed).cloned().collect();
        assert_eq!(together, everything, "cut {cut}");
    }
}

/// Whether a process is gone (or a zombie nobody has reaped yet: dead all the same).
#[cfg(target_os = "linux")]
fn dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_killed_run_takes_its_python_worker_and_what_the_bodies_started_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("holder.py");
    std::fs::write(
        &path,
        r#"import os
import subprocess
import time

from prefect import flow, task


@task
def hold() -> int:
    child = subprocess.Popen(["sleep", "300"])
    target = os.environ["ORCHMIG_TEST_PIDS"]
    with open(target + ".tmp", "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    os.rename(target + ".tmp", target)
    time.sleep(300)
    return 1


@flow
def holder():
    hold()
"#,
    )
    .unwrap();
    let pids_file = dir.path().join("pids");
    let ledger = dir.path().join("run.jsonl");
    let mut orchmig = std::process::Command::new(assert_cmd::cargo::cargo_bin("orchmig"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--runner",
            "python",
            "--ledger",
        ])
        .arg(&ledger)
        .env("ORCHMIG_TEST_PIDS", &pids_file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut pids = String::new();
    for _ in 0..1200 {
        if let Ok(text) = std::fs::read_to_string(&pids_file) {
            pids = text;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    orchmig.kill().unwrap(); // SIGKILL: orchmig cleans nothing up itself.
    let _ = orchmig.wait();
    let pids: Vec<u32> = pids
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    assert_eq!(pids.len(), 2, "the body never started");
    let mut alive = pids.clone();
    for _ in 0..100 {
        alive.retain(|&p| !dead(p));
        if alive.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    for &p in &alive {
        // Do not leave them behind whatever the verdict.
        let _ = std::process::Command::new("kill")
            .args(["-9", &p.to_string()])
            .status();
    }
    assert!(
        alive.is_empty(),
        "still running 5 s after orchmig was killed: {alive:?} of worker {} and its body's child {}",
        pids[0],
        pids[1]
    );
}
