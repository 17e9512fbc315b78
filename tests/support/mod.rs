//! Shared test helpers: the framework virtualenvs and the real-framework oracles.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use orchmig::ir::{Pipeline, ScheduleKind, SourceFile, preset_cron};

pub mod dagster;
pub mod prefect;

/// Fails the test, with the command's stderr, unless the command exited 0.
#[track_caller]
pub fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// (node, partition) of every record of an `orchmig run --format json` document, in order.
pub fn run_records(run: &serde_json::Value) -> Vec<(String, String)> {
    run["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["node"].as_str().unwrap().to_string(),
                r["partition"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every corpus file that defines a pipeline, read.
pub fn corpus() -> Vec<SourceFile> {
    let (files, _) = orchmig::frontend::collect_files(&[PathBuf::from("corpus")]);
    files
        .iter()
        .map(|f| orchmig::frontend::read_path(f))
        .filter(|f| !f.pipelines.is_empty())
        .collect()
}

/// The root of the framework virtualenvs made by scripts/setup-venvs.sh.
pub fn venv_root() -> PathBuf {
    std::env::var_os("ORCHMIG_VENVS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("ORCHMIG_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                        .join(".cache/orchmig")
                });
            cache.join("venvs")
        })
}

/// The python of one framework venv; fails the test (never skips) when it is missing.
pub fn venv_python(name: &str) -> PathBuf {
    let python = venv_root().join(name).join("bin/python");
    assert!(
        python.exists() && venv_root().join(name).join(".orchmig-stamp").exists(),
        "the {name} virtualenv is missing at {}: run `scripts/setup-venvs.sh` (the README's test command does) \
         or set ORCHMIG_VENVS to where it lives",
        python.display()
    );
    python
}

/// Runs the Airflow oracle over paths and returns its JSON.
pub fn airflow_oracle(paths: &[&Path]) -> serde_json::Value {
    let python = venv_python("airflow");
    let home = tempfile::tempdir().expect("temp AIRFLOW_HOME");
    let out = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/airflow_dump.py"))
        .args(paths)
        .env("AIRFLOW_HOME", home.path())
        .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        .env("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
        .output()
        .expect("run the Airflow oracle");
    assert!(
        out.status.success(),
        "the Airflow oracle failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("oracle JSON")
}

/// The schedule of a pipeline in the oracle's normal form.
pub fn normal_schedule(p: &Pipeline) -> String {
    let Some(s) = &p.schedule else {
        return "none".into();
    };
    let v = s.value.clone().unwrap_or_default();
    match s.kind {
        ScheduleKind::Manual => "none".into(),
        ScheduleKind::Once => "once".into(),
        ScheduleKind::Continuous => "continuous".into(),
        ScheduleKind::Cron => format!("cron:{v}"),
        ScheduleKind::Preset => format!("cron:{}", preset_cron(&v).unwrap_or(&v)),
        ScheduleKind::Interval => format!("interval:{v}"),
        ScheduleKind::Asset => format!("asset:{}", s.assets.join(",")),
        ScheduleKind::Timetable => format!("timetable:{v}"),
    }
}

/// How much of the oracle's view to compare.
#[derive(Clone, Copy, PartialEq)]
pub enum Depth {
    /// DAG ids, task ids, upstream edges.
    Structure,
    /// Also schedule, catchup, retries and mapped tasks.
    Full,
}

/// Every difference between the oracle's view of a file and orchmig's IR of it, one line each.
pub fn compare_airflow(
    path: &str,
    oracle: &serde_json::Value,
    ir: &SourceFile,
    depth: Depth,
) -> Vec<String> {
    let mut diffs = Vec::new();
    let errors = oracle["import_errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !errors.is_empty() {
        diffs.push(format!(
            "{path}: Airflow could not import the file: {}",
            errors[0].as_str().unwrap_or("")
        ));
        return diffs;
    }
    let empty = serde_json::Map::new();
    let dags = oracle["dags"].as_object().unwrap_or(&empty);
    let ours: BTreeMap<&str, &Pipeline> = ir.pipelines.iter().map(|p| (p.id.as_str(), p)).collect();
    let theirs: BTreeSet<&str> = dags.keys().map(String::as_str).collect();
    let mine: BTreeSet<&str> = ours.keys().copied().collect();
    if theirs != mine {
        diffs.push(format!(
            "{path}: DAG ids: airflow {theirs:?}, orchmig {mine:?}"
        ));
    }
    for (dag_id, dag) in dags {
        let Some(p) = ours.get(dag_id.as_str()) else {
            continue;
        };
        let tasks = dag["tasks"].as_object().unwrap_or(&empty);
        let their_ids: BTreeSet<&str> = tasks.keys().map(String::as_str).collect();
        let my_ids: BTreeSet<&str> = p.nodes.iter().map(|n| n.id.as_str()).collect();
        if their_ids != my_ids {
            let missing: Vec<_> = their_ids.difference(&my_ids).collect();
            let extra: Vec<_> = my_ids.difference(&their_ids).collect();
            diffs.push(format!(
                "{path}: {dag_id}: task ids: missing {missing:?}, extra {extra:?}"
            ));
        }
        for (task_id, t) in tasks {
            let Some(node) = p.nodes.iter().find(|n| &n.id == task_id) else {
                continue;
            };
            let their_up: BTreeSet<String> = t["upstream"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let my_up: BTreeSet<String> = p
                .edges
                .iter()
                .filter(|e| &e.to == task_id)
                .map(|e| e.from.clone())
                .collect();
            if their_up != my_up {
                diffs.push(format!(
                    "{path}: {dag_id}.{task_id}: upstream: airflow {their_up:?}, orchmig {my_up:?}"
                ));
            }
            if depth == Depth::Full {
                let their_retries = t["retries"].as_u64().unwrap_or(0);
                let my_retries = u64::from(p.effective_policy(node).retries.unwrap_or(0));
                if their_retries != my_retries {
                    diffs.push(format!("{path}: {dag_id}.{task_id}: retries: airflow {their_retries}, orchmig {my_retries}"));
                }
                let their_mapped = t["mapped"].as_bool().unwrap_or(false);
                if their_mapped != node.mapping.is_some() {
                    diffs.push(format!(
                        "{path}: {dag_id}.{task_id}: mapped: airflow {their_mapped}, orchmig {}",
                        node.mapping.is_some()
                    ));
                }
            }
        }
        if depth == Depth::Full {
            let their_sched = dag["schedule"].as_str().unwrap_or("");
            let my_sched = normal_schedule(p);
            if their_sched != my_sched {
                diffs.push(format!(
                    "{path}: {dag_id}: schedule: airflow {their_sched}, orchmig {my_sched}"
                ));
            }
            // Airflow 3 defaults catchup to False.
            let their_catchup = dag["catchup"].as_bool().unwrap_or(false);
            let my_catchup = p.catchup.unwrap_or(false);
            if their_catchup != my_catchup {
                diffs.push(format!(
                    "{path}: {dag_id}: catchup: airflow {their_catchup}, orchmig {my_catchup}"
                ));
            }
        }
    }
    diffs
}
