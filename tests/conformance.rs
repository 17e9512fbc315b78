//! Conformance: every corpus file, ported by the built `orchmig` to each of the three targets
//! (its own framework included, as a normalising port), is real code for the real framework.
//!
//! Each emitted file gets four checks:
//! - **ruff**: `ruff check --isolated --select E4,E7,E9,F` (ruff's default rules, which include
//!   pyflakes' unused-import F401 and undefined-name F821) and `ruff format --check --isolated`,
//!   with the pinned ruff of the tools venv;
//! - **load**: Airflow's DagBag imports it with no import errors and no two of its assets share a
//!   name or a URI (Airflow would activate only one); Dagster imports it and
//!   `Definitions.validate_loadable` accepts it; Prefect imports it and builds every flow's
//!   deployment (`to_deployment`, never served);
//! - **structure**: what the framework loaded (Airflow: DAG and task ids, upstreams, schedule,
//!   catchup, retries, mapped tasks; Dagster: assets and deps, groups, partitions, checks, jobs,
//!   schedules, sensors; Prefect: the flows' recorded task, sub-flow and mapped runs, their
//!   upstreams and policies) equals orchmig's own reading of the port (`orchmig ir`), with the
//!   comparisons of the oracle tests (tests/support). tests/port.rs checks that the port reads
//!   like its source, so the two together tie the source to what the framework loads;
//! - **run**: Airflow: every DAG through `dag.test()` (not for a file with conflicting assets:
//!   which one Airflow activates is arbitrary, so the run would pass or fail by chance); Dagster:
//!   every op job executed, every asset materialised (one partition of partitioned ones) with its
//!   checks passing, every asset job executed; Prefect: every flow called with its defaults, to
//!   completion (its structure is what the runs recorded, so it is not reached when a run fails).
//!
//! Then **which steps ran**, port against source, in the real frameworks (tests/conformance/
//! behaviour.rs): the source's runs are those of its port to its own framework (a byte copy,
//! checked). Each pipeline runs twice: with no fault, and with one step failing on every
//! attempt — the step chosen from orchmig's IR of the source (`behaviour::fault_step`: one whose
//! failure a downstream trigger rule or state test reacts to, else the first with a downstream
//! step), injected the same way in source and port (tests/conformance/faults.py). For every
//! port to another framework and both scenarios, each step's outcome (success, failed, not run)
//! and the pipeline's final state must equal the source's, unless `orchmig verify SOURCE --to
//! TARGET [--pipeline P --fail STEP] --format json` declares that difference for the same run.
//! The report gets a table of these comparisons (same / declared difference / undeclared) and
//! every difference with verify's words.
//!
//! The work is batched: ONE python process per framework runs every file of its target, then
//! runs them again with the injected failures of the plan it is given (ORCHMIG_FAULTS)
//! (tests/conformance/{airflow,dagster,prefect}_check.py: one Airflow metadata DB, one Dagster
//! instance, one Prefect test harness), and the three frameworks (and the verify calls) run in
//! parallel. A failure never stops the batch: every
//! cell is filled in, and a table of the run is printed at the end (also written to
//! `$CARGO_TARGET_TMPDIR/conformance-report.md`, every cell as JSON in `conformance-report.json`,
//! the frameworks' logs beside them in `conformance-<target>.log`).
//!
//! Every cell must pass. [`KNOWN_FAILURES`] (empty today) is where a failure could be allowed
//! while a writer is fixed: a listed failure is allowed, an unlisted one fails the test, and a
//! listed one that passes now fails the test too (remove it), so the list only shrinks.
//! [`KNOWN_DIVERGENCES`] does the same for undeclared differences in which steps ran.

#[path = "conformance/behaviour.rs"]
mod behaviour;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use behaviour::{Diff, Fault};
use orchmig::ir::{Estate, SourceFile};
use orchmig::verify::compare::match_pipelines;
use serde_json::Value as Json;
use support::dagster::compare_dagster;
use support::prefect::{self, Exception};
use support::{Depth, compare_airflow, venv_python, venv_root};

/// The frameworks, as `orchmig port --to` and the corpus folders name them.
const FRAMEWORKS: [&str; 3] = ["airflow", "dagster", "prefect"];

/// How long one framework's batch may take before it is killed (the whole suite takes a few
/// minutes; this only stops a hang).
const BATCH_DEADLINE: Duration = Duration::from_secs(20 * 60);

/// The most lines of an error kept in a report cell.
const ERROR_LINES: usize = 8;

/// The four checks of an emitted file, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Check {
    /// ruff check and ruff format --check.
    Ruff,
    /// The framework imports the file and accepts its definitions.
    Load,
    /// The framework's structure equals orchmig's reading of the port.
    Structure,
    /// The pipelines run to success.
    Run,
}

impl Check {
    /// Every check, in report order.
    const ALL: [Check; 4] = [Check::Ruff, Check::Load, Check::Structure, Check::Run];

    /// The column name.
    fn label(self) -> &'static str {
        match self {
            Check::Ruff => "ruff",
            Check::Load => "load",
            Check::Structure => "structure",
            Check::Run => "run",
        }
    }
}

/// A failure of today that the test allows, with why it fails (for the writer engineer).
struct Known {
    /// The corpus file, as `corpus/<framework>/<name>.py`.
    file: &'static str,
    /// The target framework.
    target: &'static str,
    /// The failing check.
    check: Check,
    /// What is wrong in the port.
    why: &'static str,
}

/// Shorthand for a [`Known`] entry.
#[allow(dead_code)] // used by KNOWN_FAILURES entries, when there are any
const fn known(file: &'static str, target: &'static str, check: Check, why: &'static str) -> Known {
    Known {
        file,
        target,
        check,
        why,
    }
}

/// Known failures, by target: none today. An entry (made with [`known`]) names the corpus file,
/// the target, the check and what the port gets wrong; a listed failure that passes fails the
/// test, so an entry goes as soon as the writer is fixed. The run's cells, with the frameworks'
/// errors, are in `$CARGO_TARGET_TMPDIR/conformance-report.json`.
const KNOWN_FAILURES: &[Known] = &[];

/// Nodes that a port's run with default parameters does not reach (a branch not taken), so
/// Prefect records no call for them; not a failure. `file` is `<source framework>/<name>.py`.
/// A Prefect file ported to Prefect is copied unchanged, so its run is the source's: the same
/// exceptions as in `tests/oracle_prefect.rs`.
const PREFECT_NOT_RUN: &[Exception] = &[
    Exception::NotRun {
        file: "prefect/snapshot_guard.py",
        flow: "snapshot_guard",
        node: "page_on_call",
        why: "called only when check_snapshot's state is failed; the fixture snapshot passes its check",
    },
    Exception::NotRun {
        file: "prefect/snapshot_guard.py",
        flow: "snapshot_guard",
        node: "set_aside",
        why: "the `else` branch of `if verdict[\"complete\"]`: the fixture snapshot is complete",
    },
    Exception::ControlEdge {
        file: "prefect/snapshot_guard.py",
        flow: "snapshot_guard",
        from: "check_snapshot",
        to: "promote",
        why: "promote runs only after the flow body read the check's result in `if verdict[\"complete\"]`",
    },
    Exception::NotRun {
        file: "airflow/data_quality_gate.py",
        flow: "data_quality_gate",
        node: "alert_on_failure",
        why: "its rule is one_failed: the port calls it only when an upstream run failed, and the fixture run does not fail",
    },
    Exception::NotRun {
        file: "airflow/data_quality_gate.py",
        flow: "data_quality_gate",
        node: "full_reload",
        why: "an arm of the `choose_load_mode` branch, which chooses incremental_load for the fixture ledger (no negative amounts); the port calls only the chosen arm",
    },
    Exception::NotRun {
        file: "prefect/quality_gate.py",
        flow: "quality_gate",
        node: "quarantine",
        why: "the `else` branch of `if report[\"ok\"]`: the fixture batch is clean, so it is not taken",
    },
    Exception::NotRun {
        file: "prefect/quality_gate.py",
        flow: "quality_gate",
        node: "notify_owner",
        why: "under `if strict:`, and `strict` defaults to False",
    },
    Exception::NotRun {
        file: "prefect/quality_gate.py",
        flow: "quality_gate",
        node: "notify_owner-2",
        why: "in the `except RuntimeError:` handler; cleanup does not raise",
    },
    Exception::ControlEdge {
        file: "prefect/quality_gate.py",
        flow: "quality_gate",
        from: "validate",
        to: "publish",
        why: "publish runs only after the flow body read validate's result in `if report[\"ok\"]`",
    },
    Exception::NotRun {
        file: "dagster/refund_triage.py",
        flow: "refund_triage_job",
        node: "open_review_tickets",
        why: "reads route_refunds' optional output manual_review, which the op does not yield for the fixture requests (none above the limit); the port calls it only under `if \"manual_review\" in …`, as Dagster skips it",
    },
];

/// A difference in which steps ran, between a source and its port in the real frameworks, that
/// the test allows today although `orchmig verify` does not declare it (for the writer engineer).
struct KnownDivergence {
    /// The corpus file, as `corpus/<framework>/<name>.py`.
    file: &'static str,
    /// The target framework.
    target: &'static str,
    /// The scenario.
    fault: Fault,
    /// What the source does and what the port does.
    why: &'static str,
}

/// Shorthand for a [`KnownDivergence`] entry.
#[allow(dead_code)] // used by KNOWN_DIVERGENCES entries, when there are any
const fn diverges(
    file: &'static str,
    target: &'static str,
    fault: Fault,
    why: &'static str,
) -> KnownDivergence {
    KnownDivergence {
        file,
        target,
        fault,
        why,
    }
}

/// Undeclared differences in which steps ran (or comparisons that could not be made), by file,
/// target and scenario (empty today). Like [`KNOWN_FAILURES`] it may only shrink: an entry whose comparison
/// is now the same as the source's (or declared) fails the test.
const KNOWN_DIVERGENCES: &[KnownDivergence] = &[];

/// The result of one check.
#[derive(Clone, Debug)]
enum Outcome {
    /// The check passed.
    Pass,
    /// The check failed, with the framework's (or ruff's, or the comparison's) own words.
    Fail(String),
    /// The check could not be made because an earlier one failed.
    NotReached,
    /// The run stopped where the port says it would: at a step whose operator has no port, which
    /// raises `NotImplementedError` (every failure of the run names such a step).
    Stops(String),
}

/// What every stub step's `NotImplementedError` says first (src/emit/shared.rs).
const STUB: &str = "orchmig has no port of";

/// The run cell of a run that failed with `failures`: it stops where the port declares it would
/// when the port has stub steps and every failure is one of them raising; else a failure.
fn failed_run(port: &Port, failures: &[String]) -> Outcome {
    let text = failures.join("\n");
    let declared = std::fs::read_to_string(&port.path).is_ok_and(|t| t.contains(STUB));
    if declared && !failures.is_empty() && failures.iter().all(|f| f.contains(STUB)) {
        Outcome::Stops(clip(&text))
    } else {
        Outcome::Fail(clip(&text))
    }
}

/// One emitted file: which corpus file, for which target, where it was written.
struct Port {
    /// The corpus file, as `corpus/<framework>/<name>.py`.
    source: String,
    /// The target framework.
    target: &'static str,
    /// The emitted file.
    path: PathBuf,
}

impl Port {
    /// The emitted file's path as orchmig and the check scripts report it.
    fn key(&self) -> String {
        self.path.display().to_string()
    }
}

/// The checks of one port.
type Row = BTreeMap<Check, Outcome>;

/// The built orchmig binary.
fn orchmig() -> Command {
    Command::new(env!("CARGO_BIN_EXE_orchmig"))
}

/// The corpus files of one framework, as `corpus/<framework>/<name>.py`.
fn corpus_files(framework: &str) -> Vec<String> {
    let dir = PathBuf::from("corpus").join(framework);
    let (files, errors) = orchmig::frontend::collect_files(&[dir]);
    assert!(errors.is_empty(), "{errors:?}");
    files.iter().map(|f| f.display().to_string()).collect()
}

/// Ports every corpus folder to every target under `root/<target>/<source>/`; a port that
/// fails leaves its files missing (reported by [`missing_ports`]), it does not stop the others.
fn port_everything(root: &Path) -> (Vec<Port>, Vec<String>) {
    let mut ports = Vec::new();
    let mut errors = Vec::new();
    for target in FRAMEWORKS {
        for source in FRAMEWORKS {
            let out = root.join(target).join(source);
            let run = orchmig()
                .args(["port", &format!("corpus/{source}"), "--to", target, "--out"])
                .arg(&out)
                .output()
                .expect("run orchmig port");
            if !run.status.success() {
                errors.push(format!(
                    "orchmig port corpus/{source} --to {target} exited with {}:\n{}",
                    run.status,
                    String::from_utf8_lossy(&run.stderr)
                ));
            }
            for file in corpus_files(source) {
                let name = Path::new(&file).file_name().expect("file name");
                ports.push(Port {
                    path: out.join(name),
                    source: file,
                    target,
                });
            }
        }
    }
    (ports, errors)
}

/// orchmig's reading of every emitted file of one target, by path.
fn read_ports(root: &Path, target: &str) -> BTreeMap<String, SourceFile> {
    let out = orchmig()
        .arg("ir")
        .arg(root.join(target))
        .output()
        .expect("run orchmig ir");
    let estate: Estate = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "orchmig ir {target} printed no IR ({e}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    estate
        .files
        .into_iter()
        .map(|f| (f.path.clone(), f))
        .collect()
}

/// Every environment variable of the frameworks is dropped from a child's environment, so that
/// the developer's shell (a real AIRFLOW_HOME, a PREFECT_API_URL) cannot leak into the checks.
fn clean_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if ["AIRFLOW", "PREFECT_", "DAGSTER_", "PYTHON"]
            .iter()
            .any(|p| key.starts_with(p))
        {
            cmd.env_remove(key);
        }
    }
    cmd.env("PYTHONDONTWRITEBYTECODE", "1");
    // String hashes decide the order of sets and dicts in the frameworks: keep runs reproducible.
    cmd.env("PYTHONHASHSEED", "0");
}

/// Runs one framework's check script over the files and returns its JSON, or why it has none.
/// stdout goes to a file (no pipe to fill), stderr to `log`; past [`BATCH_DEADLINE`] the process
/// is killed (SIGKILL: the frameworks trap SIGTERM).
fn run_batch(
    target: &str,
    files: &[&Port],
    work: &Path,
    env: &[(&str, String)],
    log: &Path,
) -> Result<Json, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(format!("{target}_check.py"));
    let out_path = work.join(format!("{target}.json"));
    let mut cmd = Command::new(venv_python(target));
    clean_env(&mut cmd);
    cmd.arg(script)
        .args(files.iter().map(|p| &p.path))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("batch stdout file"))
        .stderr(File::create(log).expect("batch log file"));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start {target}: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the batch") {
            break status;
        }
        if start.elapsed() > BATCH_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the {target} batch did not finish within {} s and was killed; see {}",
                BATCH_DEADLINE.as_secs(),
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let text = std::fs::read(&out_path).unwrap_or_default();
    if !status.success() {
        return Err(format!(
            "the {target} check script exited with {status}:\n{}",
            tail(&std::fs::read_to_string(log).unwrap_or_default(), 20)
        ));
    }
    serde_json::from_slice(&text).map_err(|e| {
        format!(
            "the {target} check script printed no JSON ({e}); see {}",
            log.display()
        )
    })
}

/// The last `n` lines of a text.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A Python traceback, short: its exception line, then the innermost frame in `path` (the file
/// being checked) as `at <path>:<line> in <function>: <source>`; the tail when no frame is there.
fn traceback_snippet(text: &str, path: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let Some(exception) = lines.iter().rev().find(|l| !l.trim().is_empty()) else {
        return String::new();
    };
    let frame = lines.iter().enumerate().rev().find_map(|(i, l)| {
        let rest = l.trim_start().strip_prefix("File \"")?;
        let (file, rest) = rest.split_once("\", line ")?;
        if file != path {
            return None;
        }
        let (line, function) = rest.split_once(", in ").unwrap_or((rest, "?"));
        let source = lines.get(i + 1).map_or("", |s| s.trim());
        Some(format!("  at {file}:{line} in {function}: {source}"))
    });
    match frame {
        Some(frame) => format!("{}\n{frame}", exception.trim()),
        None => tail(text, 4),
    }
}

/// At most [`ERROR_LINES`] lines of an error.
fn clip(text: &str) -> String {
    let lines: Vec<&str> = text.trim().lines().collect();
    if lines.len() <= ERROR_LINES {
        return lines.join("\n");
    }
    let mut kept = lines[..ERROR_LINES].join("\n");
    let _ = write!(kept, "\n… ({} more lines)", lines.len() - ERROR_LINES);
    kept
}

/// A failure from comparison lines (empty: a pass), with the port's path shortened.
fn from_diffs(diffs: &[String], key: &str) -> Outcome {
    if diffs.is_empty() {
        return Outcome::Pass;
    }
    let text = diffs
        .iter()
        .map(|d| d.replace(&format!("{key}: "), ""))
        .collect::<Vec<_>>()
        .join("\n");
    Outcome::Fail(clip(&text))
}

/// The ruff cell of every file of one target: `ruff check` diagnostics and `ruff format`
/// verdicts, one ruff process each over all the files.
fn ruff_cells(files: &[&Port], work: &Path) -> BTreeMap<String, Outcome> {
    let ruff = venv_root().join("tools/bin/ruff");
    assert!(
        ruff.exists(),
        "ruff is missing at {}: run scripts/setup-venvs.sh",
        ruff.display()
    );
    let paths: Vec<&PathBuf> = files
        .iter()
        .map(|p| &p.path)
        .filter(|p| p.exists())
        .collect();
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if !paths.is_empty() {
        let check = Command::new(&ruff)
            .args([
                "check",
                "--isolated",
                "--no-cache",
                "--select",
                "E4,E7,E9,F",
            ])
            .args(["--output-format", "json", "--exit-zero"])
            .args(&paths)
            .current_dir(work)
            .output()
            .expect("run ruff check");
        let diagnostics: Json = serde_json::from_slice(&check.stdout).unwrap_or_else(|e| {
            panic!(
                "ruff check printed no JSON ({e}):\n{}",
                String::from_utf8_lossy(&check.stderr)
            )
        });
        for d in diagnostics.as_array().into_iter().flatten() {
            found
                .entry(d["filename"].as_str().unwrap_or("").to_string())
                .or_default()
                .push(format!(
                    "ruff check: line {}: {} {}",
                    d["location"]["row"],
                    d["code"].as_str().unwrap_or("?"),
                    d["message"].as_str().unwrap_or("")
                ));
        }
        let format = Command::new(&ruff)
            .args(["format", "--check", "--isolated", "--no-cache"])
            .args(&paths)
            .current_dir(work)
            .output()
            .expect("run ruff format");
        let stdout = String::from_utf8_lossy(&format.stdout);
        for line in stdout.lines() {
            if let Some(file) = line.strip_prefix("Would reformat: ") {
                found
                    .entry(file.to_string())
                    .or_default()
                    .push("ruff format --check: would reformat the file".into());
            }
        }
        if !format.status.success() && !stdout.contains("Would reformat: ") {
            let err = String::from_utf8_lossy(&format.stderr).into_owned();
            for p in &paths {
                found
                    .entry(p.display().to_string())
                    .or_default()
                    .push(format!("ruff format failed: {}", clip(&err)));
            }
        }
    }
    files
        .iter()
        .map(|p| {
            let key = p.key();
            let outcome = match found.get(&key) {
                _ if !p.path.exists() => Outcome::NotReached,
                Some(lines) => Outcome::Fail(clip(&lines.join("\n"))),
                None => Outcome::Pass,
            };
            (key, outcome)
        })
        .collect()
}

/// The load, structure and run cells of one Airflow port from airflow_check.py's entry.
fn airflow_row(port: &Port, entry: &Json, ir: Option<&SourceFile>) -> Row {
    let key = port.key();
    let mut row = Row::new();
    let errors: Vec<&str> = entry["import_errors"]
        .as_array()
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    if !errors.is_empty() {
        row.insert(
            Check::Load,
            Outcome::Fail(clip(&format!(
                "DagBag import error: {}",
                traceback_snippet(errors[0], &key)
            ))),
        );
        return row;
    }
    let conflicts: Vec<&str> = entry["asset_conflicts"]
        .as_array()
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    row.insert(
        Check::Load,
        if conflicts.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail(clip(&format!(
                "asset conflict (Airflow activates one asset per name and URI):\n{}",
                conflicts.join("\n")
            )))
        },
    );
    row.insert(
        Check::Structure,
        match ir {
            Some(ir) => from_diffs(&compare_airflow(&key, entry, ir, Depth::Full), &key),
            None => Outcome::Fail("orchmig ir did not read the port".into()),
        },
    );
    if !conflicts.is_empty() {
        // Not run: which of the conflicting assets Airflow activates is arbitrary.
        return row;
    }
    let runs = entry["runs"].as_object().cloned().unwrap_or_default();
    let failed: Vec<String> = runs
        .iter()
        .filter(|(_, r)| r["state"].as_str() != Some("success"))
        .map(|(dag, r)| {
            format!(
                "dag.test() of {dag}: {}: {}",
                r["state"].as_str().unwrap_or("?"),
                r["error"].as_str().unwrap_or("")
            )
        })
        .collect();
    row.insert(
        Check::Run,
        if runs.is_empty() {
            Outcome::Fail("no DAG to run".into())
        } else if failed.is_empty() {
            Outcome::Pass
        } else {
            failed_run(port, &failed)
        },
    );
    row
}

/// The load, structure and run cells of one Dagster port from dagster_check.py's entry.
fn dagster_row(port: &Port, entry: &Json, ir: Option<&SourceFile>) -> Row {
    let key = port.key();
    let mut row = Row::new();
    if let Some(err) = entry["import_error"].as_str() {
        row.insert(
            Check::Load,
            Outcome::Fail(clip(&traceback_snippet(err, &key))),
        );
        return row;
    }
    row.insert(Check::Load, Outcome::Pass);
    row.insert(
        Check::Structure,
        match ir {
            Some(ir) => from_diffs(&compare_dagster(&key, entry, ir), &key),
            None => Outcome::Fail("orchmig ir did not read the port".into()),
        },
    );
    let run = &entry["materialize"];
    row.insert(
        Check::Run,
        if run["ok"].as_bool() == Some(true) {
            Outcome::Pass
        } else {
            let errors: Vec<String> = run["errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            failed_run(port, &errors)
        },
    );
    row
}

/// The load, structure and run cells of one Prefect port from prefect_check.py's entry; the
/// structure is what the runs recorded, so it is not reached when a flow did not complete.
fn prefect_row(
    port: &Port,
    entry: &Json,
    ir: Option<&SourceFile>,
    used: &mut BTreeSet<usize>,
) -> Row {
    let key = port.key();
    let mut row = Row::new();
    if let Some(err) = entry["error"].as_str() {
        row.insert(Check::Load, Outcome::Fail(clip(&format!("import: {err}"))));
        return row;
    }
    let deployments: Vec<String> = entry["deployments"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(flow, e)| e.as_str().map(|e| format!("{flow}.to_deployment(): {e}")))
        .collect();
    row.insert(
        Check::Load,
        if deployments.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail(clip(&deployments.join("\n")))
        },
    );
    let flows = entry["flows"].as_object().cloned().unwrap_or_default();
    let failed: Vec<String> = flows
        .iter()
        .filter(|(_, f)| f["state"].as_str() != Some("COMPLETED"))
        .map(|(flow, f)| {
            let error = f["error"].as_str().unwrap_or("");
            let tasks: Vec<&str> = f["task_failures"]
                .as_array()
                .map(|a| a.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            // A flow that stopped because a stub task raised says only that a downstream
            // result never came: the failure is the stubs', when they are all that failed.
            if !tasks.is_empty()
                && tasks.iter().all(|t| t.contains(STUB))
                && (error.contains(STUB) || error.contains("UnfinishedRun"))
            {
                return format!("flow {flow}: stopped at {}", tasks.join("; "));
            }
            format!(
                "flow {flow}: {}: {error}",
                f["state"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    row.insert(
        Check::Run,
        if flows.is_empty() {
            Outcome::Fail("no flow to run".into())
        } else if failed.is_empty() {
            Outcome::Pass
        } else {
            failed_run(port, &failed)
        },
    );
    row.insert(
        Check::Structure,
        match ir {
            _ if !failed.is_empty() || flows.is_empty() => Outcome::NotReached,
            Some(ir) => from_diffs(
                &prefect::compare(&key, entry, ir, PREFECT_NOT_RUN, used),
                &key,
            ),
            None => Outcome::Fail("orchmig ir did not read the port".into()),
        },
    );
    row
}

/// Everything one framework says about the ports of its target: a row per port, how long it
/// took, and the Prefect exceptions that applied.
struct Batch {
    /// Rows by port key.
    rows: BTreeMap<String, Row>,
    /// Wall time of the batch (ruff included).
    took: Duration,
    /// Indices of [`PREFECT_NOT_RUN`] entries that applied.
    used: BTreeSet<usize>,
    /// The check script's entry of each port, by port key (none when the batch failed).
    entries: BTreeMap<String, Json>,
}

/// Checks every port of one target: ruff, then the framework's batch, then the comparisons.
fn check_target(
    target: &'static str,
    ports: &[&Port],
    ir: &BTreeMap<String, SourceFile>,
    faults: &Path,
    work: &Path,
    log: &Path,
) -> Batch {
    let start = Instant::now();
    let ruff = ruff_cells(ports, work);
    let home = work.join(format!("{target}-home"));
    std::fs::create_dir_all(home.join("dags")).expect("framework home");
    let home_s = home.display().to_string();
    let mut env: Vec<(&str, String)> = match target {
        "airflow" => vec![
            ("AIRFLOW_HOME", home_s.clone()),
            ("AIRFLOW__CORE__DAGS_FOLDER", format!("{home_s}/dags")),
            ("AIRFLOW__CORE__LOAD_EXAMPLES", "False".into()),
            ("AIRFLOW__CORE__UNIT_TEST_MODE", "False".into()),
            // FileSensor resolves paths against fs_default (see corpus/airflow/sensor_gated_load.py).
            (
                "AIRFLOW_CONN_FS_DEFAULT",
                r#"{"conn_type": "fs", "extra": {"path": "/"}}"#.into(),
            ),
        ],
        "dagster" => vec![("DAGSTER_HOME", home_s)],
        _ => vec![
            ("PREFECT_HOME", home_s),
            ("PREFECT_SERVER_ANALYTICS_ENABLED", "false".into()),
            ("PREFECT_LOGGING_LEVEL", "WARNING".into()),
        ],
    };
    // Each framework its own temp folder: the three batches run at once, and bodies that use
    // tempfile.gettempdir() must not meet another framework's files.
    let tmp = work.join(format!("{target}-tmp"));
    std::fs::create_dir_all(&tmp).expect("framework temp dir");
    env.push(("TMPDIR", tmp.display().to_string()));
    env.push(("ORCHMIG_FAULTS", faults.display().to_string()));
    let present: Vec<&Port> = ports.iter().copied().filter(|p| p.path.exists()).collect();
    let json = if present.is_empty() {
        Err("orchmig port wrote no file".to_string())
    } else {
        run_batch(target, &present, work, &env, log)
    };
    let mut used = BTreeSet::new();
    let mut rows = BTreeMap::new();
    for port in ports {
        let key = port.key();
        let mut row = if !port.path.exists() {
            Row::from([(
                Check::Load,
                Outcome::Fail("orchmig port wrote no file for it".into()),
            )])
        } else {
            match &json {
                Err(e) => Row::from([(Check::Load, Outcome::Fail(e.clone()))]),
                Ok(json) => {
                    let entry = &json["files"][&key];
                    let ir = ir.get(&key);
                    if entry.is_null() {
                        Row::from([(
                            Check::Load,
                            Outcome::Fail("the check script did not report the file".into()),
                        )])
                    } else {
                        match target {
                            "airflow" => airflow_row(port, entry, ir),
                            "dagster" => dagster_row(port, entry, ir),
                            _ => prefect_row(port, entry, ir, &mut used),
                        }
                    }
                }
            }
        };
        row.insert(
            Check::Ruff,
            ruff.get(&key).cloned().unwrap_or(Outcome::NotReached),
        );
        for c in Check::ALL {
            row.entry(c).or_insert(Outcome::NotReached);
        }
        rows.insert(key, row);
    }
    // Paths in errors are shown from the work folder: `<target>/<source>/<file>.py:<line>`.
    let prefix = format!("{}/", work.display());
    for row in rows.values_mut() {
        for outcome in row.values_mut() {
            if let Outcome::Fail(e) = outcome {
                *e = e.replace(&prefix, "");
            }
        }
    }
    let entries = match &json {
        Ok(json) => ports
            .iter()
            .map(|p| (p.key(), json["files"][&p.key()].clone()))
            .filter(|(_, e)| !e.is_null())
            .collect(),
        Err(_) => BTreeMap::new(),
    };
    Batch {
        rows,
        took: start.elapsed(),
        used,
        entries,
    }
}

/// The report of the run: the table, then every failure with its error, then what the list of
/// known failures says about them.
fn report(
    ports: &[Port],
    rows: &BTreeMap<String, Row>,
    times: &[(&str, Duration)],
    port_errors: &[String],
) -> (String, Vec<String>) {
    let is_known = |p: &Port, c: Check| {
        KNOWN_FAILURES
            .iter()
            .position(|k| k.file == p.source && k.target == p.target && k.check == c)
    };
    let mut table = String::from("| corpus file | target | ruff | load | structure | run |\n");
    table.push_str("|---|---|---|---|---|---|\n");
    let mut failures = String::new();
    let mut problems = Vec::new();
    let mut listed_seen = BTreeSet::new();
    let mut counts = BTreeMap::<&str, usize>::new();
    let mut order: Vec<&Port> = ports.iter().collect();
    order.sort_by(|a, b| (&a.source, a.target).cmp(&(&b.source, b.target)));
    for p in order {
        let row = &rows[&p.key()];
        let _ = write!(table, "| {} | {} |", p.source, p.target);
        for c in Check::ALL {
            let listed = is_known(p, c);
            let cell = match (&row[&c], listed) {
                (Outcome::Pass, None) => "pass",
                (Outcome::Pass, Some(i)) => {
                    listed_seen.insert(i);
                    problems.push(format!(
                        "{} → {}: {} passes now: remove it from KNOWN_FAILURES",
                        p.source,
                        p.target,
                        c.label()
                    ));
                    "pass (listed!)"
                }
                (Outcome::Fail(e), listed) => {
                    let tag = if let Some(i) = listed {
                        listed_seen.insert(i);
                        "FAIL (known)"
                    } else {
                        problems.push(format!(
                            "{} → {}: {} fails and is not in KNOWN_FAILURES:\n{}",
                            p.source,
                            p.target,
                            c.label(),
                            indent(e)
                        ));
                        "FAIL"
                    };
                    let why = listed.map_or(String::new(), |i| {
                        format!("    (listed: {})\n", KNOWN_FAILURES[i].why)
                    });
                    let _ = writeln!(
                        failures,
                        "- {} → {} · {} · {tag}\n{why}{}",
                        p.source,
                        p.target,
                        c.label(),
                        indent(e)
                    );
                    tag
                }
                (Outcome::NotReached, listed) => {
                    if let Some(i) = listed {
                        listed_seen.insert(i);
                    }
                    "—"
                }
                (Outcome::Stops(e), listed) => {
                    if let Some(i) = listed {
                        listed_seen.insert(i);
                    }
                    let _ = writeln!(
                        failures,
                        "- {} → {} · {} · stops at a declared stub (expected)\n{}",
                        p.source,
                        p.target,
                        c.label(),
                        indent(e)
                    );
                    "stops (declared)"
                }
            };
            *counts.entry(cell).or_default() += 1;
            let _ = write!(table, " {cell} |");
        }
        table.push('\n');
    }
    for (i, k) in KNOWN_FAILURES.iter().enumerate() {
        if !listed_seen.contains(&i) {
            problems.push(format!(
                "KNOWN_FAILURES names {} → {} · {}, which is not a port of this run: remove it",
                k.file,
                k.target,
                k.check.label()
            ));
        }
    }
    problems.extend(port_errors.iter().cloned());
    let mut out = String::from("# Conformance of ported corpus files\n\n");
    let totals: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = writeln!(out, "Cells: {}.", totals.join(", "));
    let secs: Vec<String> = times
        .iter()
        .map(|(t, d)| format!("{t} {:.0} s", d.as_secs_f64()))
        .collect();
    let _ = writeln!(out, "Batches (wall): {}.\n", secs.join(", "));
    out.push_str(&table);
    if !failures.is_empty() {
        out.push_str("\n## Failures\n\n");
        out.push_str(&failures);
    }
    (out, problems)
}

/// Every cell as JSON, `[{"file", "target", "check", "outcome": "pass" | "fail" | "not reached" | "stops",
/// "error"}]`, for tools (and for regenerating [`KNOWN_FAILURES`]).
fn cells_json(ports: &[Port], rows: &BTreeMap<String, Row>) -> Json {
    let mut cells = Vec::new();
    for p in ports {
        for (check, outcome) in &rows[&p.key()] {
            let (outcome, error) = match outcome {
                Outcome::Pass => ("pass", Json::Null),
                Outcome::Fail(e) => ("fail", Json::from(e.as_str())),
                Outcome::NotReached => ("not reached", Json::Null),
                Outcome::Stops(e) => ("stops", Json::from(e.as_str())),
            };
            cells.push(serde_json::json!({
                "file": p.source, "target": p.target, "check": check.label(),
                "outcome": outcome, "error": error,
            }));
        }
    }
    Json::from(cells)
}

/// Indents every line of a text by four spaces.
fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where the README's feature table starts and ends.
const FEATURES_BEGIN: &str = "<!-- feature table: written by tests/conformance.rs -->";
const FEATURES_END: &str = "<!-- end of feature table -->";

/// The README's feature table from this run: every construct of the translation table, its
/// class in each target, and the corpus files whose port records it and passes all four checks.
fn feature_table(work: &Path, ports: &[Port], rows: &BTreeMap<String, Row>) -> String {
    let passed: BTreeMap<(&str, &str), bool> = ports
        .iter()
        .map(|p| {
            let row = rows.get(&p.key());
            let ok = row.is_some_and(|r| r.values().all(|o| matches!(o, Outcome::Pass)));
            ((p.source.as_str(), p.target), ok)
        })
        .collect();
    // (construct, target) → the corpus files whose port to the target records it.
    let mut seen: BTreeMap<(String, &str), BTreeSet<String>> = BTreeMap::new();
    for target in FRAMEWORKS {
        for source in FRAMEWORKS {
            let path = work.join(target).join(source).join("orchmig-report.json");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let report: Json = serde_json::from_str(&text).expect("port report JSON");
            for ledger in report["pipelines"].as_array().into_iter().flatten() {
                let file = ledger["source"].as_str().unwrap_or_default().to_string();
                for e in ledger["entries"].as_array().into_iter().flatten() {
                    if let Some(c) = e["construct"].as_str() {
                        seen.entry((c.to_string(), target))
                            .or_default()
                            .insert(file.clone());
                    }
                }
            }
        }
    }
    let table = orchmig::report::Translations::builtin().expect("translation table");
    let mut out = format!(
        "{FEATURES_BEGIN}\n| construct | read from | → Airflow | → Dagster | → Prefect |\n|---|---|---|---|---|\n"
    );
    for c in table.all() {
        let mut from = BTreeSet::new();
        let mut cells = Vec::new();
        for target in FRAMEWORKS {
            let files = seen.get(&(c.id.clone(), target));
            let n = files.map_or(0, BTreeSet::len);
            let ok = files.map_or(0, |fs| {
                fs.iter()
                    .filter(|f| passed.get(&(f.as_str(), target)) == Some(&true))
                    .count()
            });
            for f in files.into_iter().flatten() {
                from.insert(f.split('/').nth(1).unwrap_or_default().to_string());
            }
            let evidence = match (n, ok) {
                (0, _) => "not in the corpus".to_string(),
                (n, ok) if ok == n => format!("✓ {n} file{}", if n == 1 { "" } else { "s" }),
                (n, ok) => format!("✗ {ok} of {n} files pass"),
            };
            cells.push(format!("{} · {evidence}", c.rule(target).fidelity.name()));
        }
        let from: Vec<String> = from.into_iter().collect();
        out.push_str(&format!(
            "| {} (`{}`) | {} | {} |\n",
            c.title,
            c.id,
            if from.is_empty() {
                "–".to_string()
            } else {
                from.join(", ")
            },
            cells.join(" | ")
        ));
    }
    out.push_str(FEATURES_END);
    out
}

/// Checks (or, with `ORCHMIG_UPDATE_DOCS=1`, rewrites) the README's feature table.
fn check_feature_table(want: &str) -> Option<String> {
    let path = PathBuf::from("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let (Some(a), Some(b)) = (readme.find(FEATURES_BEGIN), readme.find(FEATURES_END)) else {
        return Some(format!(
            "README.md has no feature table (between `{FEATURES_BEGIN}` and `{FEATURES_END}`)"
        ));
    };
    let current = &readme[a..b + FEATURES_END.len()];
    if current == want {
        return None;
    }
    if std::env::var_os("ORCHMIG_UPDATE_DOCS").is_some() {
        let new = format!(
            "{}{want}{}",
            &readme[..a],
            &readme[b + FEATURES_END.len()..]
        );
        std::fs::write(&path, new).expect("write README.md");
        return None;
    }
    Some("README.md's feature table is not what this run shows: run `ORCHMIG_UPDATE_DOCS=1 cargo test --test conformance` and review the diff".into())
}

/// The framework a corpus file is written for (`corpus/<framework>/<name>.py`).
fn framework_of(source: &str) -> &str {
    source.split('/').nth(1).unwrap_or_default()
}

/// For each corpus file, the key of its port to its own framework: a byte-for-byte copy (`orchmig
/// port` copies such files; checked here), so its runs are the source's runs.
fn own_ports(ports: &[Port]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for p in ports.iter().filter(|p| p.target == framework_of(&p.source)) {
        let copied = std::fs::read(&p.path).ok() == std::fs::read(&p.source).ok();
        assert!(
            copied,
            "{} is not a copy of {}: the source's runs would not be its own",
            p.path.display(),
            p.source
        );
        out.insert(p.source.clone(), p.key());
    }
    out
}

/// Writes the fault plan of every port of one target (tests/conformance/faults.py) and returns
/// its path; a port whose source or itself orchmig did not read has no plan.
fn write_plan(
    target: &str,
    ports: &[Port],
    irs: &BTreeMap<&str, BTreeMap<String, SourceFile>>,
    own: &BTreeMap<String, String>,
    work: &Path,
) -> PathBuf {
    let mut files = serde_json::Map::new();
    for p in ports.iter().filter(|p| p.target == target) {
        let source = own
            .get(&p.source)
            .and_then(|k| irs[framework_of(&p.source)].get(k));
        if let (Some(source), Some(port)) = (source, irs[target].get(&p.key())) {
            files.insert(p.key(), behaviour::file_plan(source, port));
        }
    }
    let path = work.join(format!("{target}-faults.json"));
    let plan = serde_json::json!({ "files": files });
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&plan).expect("plan JSON"),
    )
    .expect("write the fault plan");
    path
}

/// verify's differences for one scenario of one port, by source pipeline id, or why there are none.
type Verified = Result<BTreeMap<String, Vec<Json>>, String>;

/// Runs `orchmig verify … --format json` and returns its differences by pipeline.
fn verify(args: &[&str]) -> Verified {
    let out = orchmig()
        .arg("verify")
        .args(args)
        .args(["--format", "json"])
        .output()
        .map_err(|e| format!("could not run orchmig verify: {e}"))?;
    let json: Json = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "orchmig verify {} printed no JSON ({e}): {}",
            args.join(" "),
            clip(&String::from_utf8_lossy(&out.stderr))
        )
    })?;
    Ok(behaviour::verify_differences(&json))
}

/// verify's word on every port to another framework: with no fault (one call per file), and with
/// each pipeline's fault step failing (`--pipeline P --fail STEP`, one call per pipeline).
fn verify_everything(
    ports: &[Port],
    irs: &BTreeMap<&str, BTreeMap<String, SourceFile>>,
    own: &BTreeMap<String, String>,
) -> BTreeMap<(String, &'static str, Fault), Verified> {
    let mut out = BTreeMap::new();
    for p in ports.iter().filter(|p| p.target != framework_of(&p.source)) {
        out.insert(
            (p.source.clone(), p.target, Fault::None),
            verify(&[&p.source, "--to", p.target]),
        );
        let Some(source) = own
            .get(&p.source)
            .and_then(|k| irs[framework_of(&p.source)].get(k))
        else {
            continue;
        };
        let mut faulted: Verified = Ok(BTreeMap::new());
        for pipeline in &source.pipelines {
            let Some(step) = behaviour::fault_step(pipeline) else {
                continue;
            };
            let found = verify(&[
                &p.source,
                "--to",
                p.target,
                "--pipeline",
                &pipeline.id,
                "--fail",
                &step,
            ]);
            faulted = match (faulted, found) {
                (Ok(mut all), Ok(one)) => {
                    all.extend(one.into_iter().filter(|(id, _)| *id == pipeline.id));
                    Ok(all)
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
        }
        out.insert((p.source.clone(), p.target, Fault::Injected), faulted);
    }
    out
}

/// Where a port's runs stand against its source's, in one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    /// Every step did the same, and the pipelines ended alike.
    Same,
    /// Every difference is one verify declares.
    Declared,
    /// A run to compare is missing (the reason is in the cell).
    NotCompared,
    /// Some difference is not declared.
    Undeclared,
}

/// One comparison cell: a corpus file's runs against its port's, in one scenario.
struct Behaviour {
    /// The corpus file, as `corpus/<framework>/<name>.py`.
    source: String,
    /// The target framework.
    target: &'static str,
    /// The scenario.
    fault: Fault,
    /// `pipeline: step` of each injected failure (source ids).
    failed: Vec<String>,
    /// Per source pipeline: the differences, or why the runs could not be compared.
    pipelines: Vec<(String, Result<Vec<Diff>, String>)>,
}

impl Behaviour {
    /// The cell's verdict: the worst of its pipelines'.
    fn verdict(&self) -> Verdict {
        self.pipelines
            .iter()
            .map(|(_, r)| match r {
                Err(_) => Verdict::NotCompared,
                Ok(d) if d.iter().any(|d| d.declared_by.is_none()) => Verdict::Undeclared,
                Ok(d) if !d.is_empty() => Verdict::Declared,
                Ok(_) => Verdict::Same,
            })
            .max()
            .unwrap_or(Verdict::Same)
    }

    /// Every difference and missing comparison, one per line.
    fn details(&self) -> String {
        let mut out = Vec::new();
        for (pipeline, r) in &self.pipelines {
            match r {
                Err(e) => out.push(format!("{pipeline}: not compared: {e}")),
                Ok(diffs) => {
                    for d in diffs {
                        let how = match &d.declared_by {
                            Some(v) => format!("declared ({v})"),
                            None => "UNDECLARED".to_string(),
                        };
                        out.push(format!(
                            "{pipeline}: {}: source {}, port {} · {how}",
                            d.subject, d.source, d.port
                        ));
                    }
                }
            }
        }
        out.join("\n")
    }
}

/// The IR files, entries and verify answers the comparisons read, by framework.
struct Evidence<'a> {
    /// orchmig's reading of every port, by target and port key.
    irs: &'a BTreeMap<&'a str, BTreeMap<String, SourceFile>>,
    /// The check scripts' entries, by target and port key.
    entries: &'a BTreeMap<&'a str, BTreeMap<String, Json>>,
    /// The key of each corpus file's copy (its own framework's port).
    own: &'a BTreeMap<String, String>,
    /// verify's differences by (corpus file, target, scenario).
    verified: &'a BTreeMap<(String, &'static str, Fault), Verified>,
}

/// Compares the runs of every port to another framework with its source's, in both scenarios.
fn behaviours(ports: &[Port], ev: &Evidence) -> Vec<Behaviour> {
    let mut out = Vec::new();
    for p in ports.iter().filter(|p| p.target != framework_of(&p.source)) {
        let from = framework_of(&p.source);
        let own = ev.own.get(&p.source);
        let source_ir = own.and_then(|k| ev.irs[from].get(k));
        let port_ir = ev.irs[p.target].get(&p.key());
        let source_entry = own.and_then(|k| ev.entries[from].get(k));
        let port_entry = ev.entries[p.target].get(&p.key());
        for fault in Fault::ALL {
            let mut cell = Behaviour {
                source: p.source.clone(),
                target: p.target,
                fault,
                failed: Vec::new(),
                pipelines: Vec::new(),
            };
            let (Some(src), Some(port)) = (source_ir, port_ir) else {
                cell.pipelines.push((
                    "*".into(),
                    Err("orchmig did not read the source or the port".into()),
                ));
                out.push(cell);
                continue;
            };
            let verified = &ev.verified[&(p.source.clone(), p.target, fault)];
            for (i, j) in match_pipelines(src, port) {
                let sp = &src.pipelines[i];
                let step = behaviour::fault_step(sp);
                if fault == Fault::Injected {
                    match &step {
                        Some(step) => cell.failed.push(format!("{}: {step}", sp.id)),
                        None => continue,
                    }
                }
                let said = match verified {
                    Ok(by) => by.get(&sp.id).cloned().unwrap_or_default(),
                    Err(e) => {
                        cell.pipelines.push((sp.id.clone(), Err(e.clone())));
                        continue;
                    }
                };
                let result = match j {
                    None => {
                        let declared = said.iter().any(|d| {
                            d["aspect"].as_str() == Some("pipeline")
                                && d["declared"].as_bool() == Some(true)
                        });
                        Ok(vec![Diff {
                            subject: "pipeline".into(),
                            source: "runs".into(),
                            port: "absent".into(),
                            declared_by: declared.then(|| "verify: no pipeline in the port".into()),
                        }])
                    }
                    Some(j) => {
                        let q = &port.pipelines[j];
                        let runs = (
                            source_entry
                                .ok_or("the source was not run".to_string())
                                .and_then(|e| behaviour::run_of(from, e, fault, sp)),
                            port_entry
                                .ok_or("the port was not run".to_string())
                                .and_then(|e| behaviour::run_of(p.target, e, fault, q)),
                        );
                        match runs {
                            (Ok(a), Ok(b)) => Ok(behaviour::compare(sp, q, &a, &b, &said)),
                            (Err(e), _) => Err(format!("source: {e}")),
                            (_, Err(e)) => Err(format!("port: {e}")),
                        }
                    }
                };
                cell.pipelines.push((sp.id.clone(), result));
            }
            out.push(cell);
        }
    }
    out
}

/// The report's section on which steps ran (a table per file and target, then every difference),
/// and the problems: undeclared differences and missing comparisons that
/// [`KNOWN_DIVERGENCES`] does not list, and listed ones that no longer happen.
fn behaviour_report(cells: &[Behaviour]) -> (String, Vec<String>) {
    let known = |c: &Behaviour| {
        KNOWN_DIVERGENCES
            .iter()
            .position(|k| k.file == c.source && k.target == c.target && k.fault == c.fault)
    };
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut counts = BTreeMap::<&str, usize>::new();
    let mut table = String::from(
        "| corpus file | target | no fault | injected failure | failed step |\n|---|---|---|---|---|\n",
    );
    let mut details = String::new();
    let mut rows: BTreeMap<(&str, &str), Vec<&Behaviour>> = BTreeMap::new();
    for c in cells {
        rows.entry((c.source.as_str(), c.target))
            .or_default()
            .push(c);
    }
    for ((source, target), row) in rows {
        let mut line = format!("| {source} | {target} |");
        let mut failed = String::new();
        for fault in Fault::ALL {
            let Some(c) = row.iter().find(|c| c.fault == fault) else {
                line.push_str(" — |");
                continue;
            };
            if fault == Fault::Injected {
                failed = c.failed.join("; ");
            }
            let listed = known(c);
            if let Some(i) = listed {
                seen.insert(i);
            }
            let verdict = c.verdict();
            let word = match (verdict, listed) {
                (Verdict::Same, None) => "same",
                (Verdict::Declared, None) => "declared difference",
                (Verdict::Same | Verdict::Declared, Some(_)) => {
                    problems.push(format!(
                        "{source} → {target} ({}): the runs agree now: remove it from KNOWN_DIVERGENCES",
                        fault.label()
                    ));
                    "agrees (listed!)"
                }
                (Verdict::Undeclared, Some(_)) => "undeclared (known)",
                (Verdict::NotCompared, Some(_)) => "not compared (known)",
                (Verdict::Undeclared | Verdict::NotCompared, None) => {
                    problems.push(format!(
                        "{source} → {target} ({}): the port's run differs from the source's and verify does not declare it:\n{}",
                        fault.label(),
                        indent(&c.details())
                    ));
                    if verdict == Verdict::Undeclared {
                        "UNDECLARED DIFFERENCE"
                    } else {
                        "NOT COMPARED"
                    }
                }
            };
            *counts.entry(word).or_default() += 1;
            let _ = write!(line, " {word} |");
            if verdict != Verdict::Same {
                let why = listed.map_or(String::new(), |i| {
                    format!("    (listed: {})\n", KNOWN_DIVERGENCES[i].why)
                });
                let _ = writeln!(
                    details,
                    "- {source} → {target} · {} · {word}\n{why}{}",
                    fault.label(),
                    indent(&c.details())
                );
            }
        }
        let _ = writeln!(line, " {failed} |");
        table.push_str(&line);
    }
    for (i, k) in KNOWN_DIVERGENCES.iter().enumerate() {
        if !seen.contains(&i) {
            problems.push(format!(
                "KNOWN_DIVERGENCES names {} → {} ({}), which is not a comparison of this run: remove it",
                k.file,
                k.target,
                k.fault.label()
            ));
        }
    }
    let totals: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let mut out = String::from("\n## Which steps ran: ports against their sources\n\n");
    let _ = writeln!(
        out,
        "Each port to another framework and its source (the corpus file, run in its own framework) \
         ran with no fault and with one step of each pipeline failing; a difference in a step's \
         outcome (success, failed, not run) or in the final state is declared when `orchmig verify` \
         declares it for the same run.\n\nComparisons: {} ({}).\n",
        cells.len(),
        totals.join(", ")
    );
    out.push_str(&table);
    if !details.is_empty() {
        out.push_str("\n### Differences\n\n");
        out.push_str(&details);
    }
    (out, problems)
}

/// The comparison cells as JSON, in the format of [`cells_json`] (`check`: `steps, no fault` or
/// `steps, injected failure`; `outcome`: same, declared, undeclared, not compared).
fn behaviour_json(cells: &[Behaviour]) -> Vec<Json> {
    cells
        .iter()
        .map(|c| {
            let outcome = match c.verdict() {
                Verdict::Same => "same",
                Verdict::Declared => "declared",
                Verdict::NotCompared => "not compared",
                Verdict::Undeclared => "undeclared",
            };
            let details = c.details();
            serde_json::json!({
                "file": c.source, "target": c.target,
                "check": format!("steps, {}", c.fault.label()),
                "outcome": outcome,
                "failed": c.failed,
                "error": if details.is_empty() { Json::Null } else { Json::from(details) },
            })
        })
        .collect()
}

/// Ports the corpus, checks every emitted file in its framework (one thread and one python
/// process per framework), compares which steps ran in each port with its source, prints and
/// writes the report, and fails on any failure or undeclared difference that
/// [`KNOWN_FAILURES`] or [`KNOWN_DIVERGENCES`] does not list and on any listed one that passes.
#[test]
fn every_port_loads_structures_and_runs_in_its_framework() {
    let started = Instant::now();
    let work = tempfile::tempdir().expect("work dir");
    let (ports, port_errors) = port_everything(work.path());
    let logs = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let irs: BTreeMap<&str, BTreeMap<String, SourceFile>> = FRAMEWORKS
        .iter()
        .map(|&t| (t, read_ports(work.path(), t)))
        .collect();
    let own = own_ports(&ports);
    let (batches, verified) = std::thread::scope(|s| {
        let handles: Vec<_> = FRAMEWORKS
            .iter()
            .map(|&target| {
                let mine: Vec<&Port> = ports.iter().filter(|p| p.target == target).collect();
                let work = work.path();
                let log = logs.join(format!("conformance-{target}.log"));
                let plan = write_plan(target, &ports, &irs, &own, work);
                let ir = &irs[target];
                s.spawn(move || (target, check_target(target, &mine, ir, &plan, work, &log)))
            })
            .collect();
        let verifying = s.spawn(|| {
            let start = Instant::now();
            (verify_everything(&ports, &irs, &own), start.elapsed())
        });
        let batches: Vec<(&str, Batch)> = handles
            .into_iter()
            .map(|h| h.join().expect("a framework thread panicked"))
            .collect();
        (
            batches,
            verifying.join().expect("the verify thread panicked"),
        )
    });
    let (verified, verify_took) = verified;
    let mut rows = BTreeMap::new();
    let mut times = Vec::new();
    let mut used = BTreeSet::new();
    let mut entries = BTreeMap::new();
    for (target, batch) in batches {
        rows.extend(batch.rows);
        times.push((target, batch.took));
        used.extend(batch.used);
        entries.insert(target, batch.entries);
    }
    times.push(("verify", verify_took));
    times.push(("total", started.elapsed()));
    let cells = behaviours(
        &ports,
        &Evidence {
            irs: &irs,
            entries: &entries,
            own: &own,
            verified: &verified,
        },
    );
    let (mut text, mut problems) = report(&ports, &rows, &times, &port_errors);
    let (steps_text, steps_problems) = behaviour_report(&cells);
    text.push_str(&steps_text);
    problems.extend(steps_problems);
    for (i, e) in PREFECT_NOT_RUN.iter().enumerate() {
        if !used.contains(&i) {
            let (Exception::NotRun { file, node, .. }
            | Exception::ControlEdge { file, to: node, .. }) = e;
            problems.push(format!(
                "PREFECT_NOT_RUN entry for {file} ({node}) no longer applies: remove it"
            ));
        }
    }
    problems.extend(check_feature_table(&feature_table(
        work.path(),
        &ports,
        &rows,
    )));
    let path = logs.join("conformance-report.md");
    std::fs::write(&path, &text).expect("write the report");
    let mut json = cells_json(&ports, &rows);
    if let Json::Array(all) = &mut json {
        all.extend(behaviour_json(&cells));
    }
    std::fs::write(
        logs.join("conformance-report.json"),
        serde_json::to_string_pretty(&json).expect("report JSON"),
    )
    .expect("write the JSON report");
    // Straight to stderr, past the test harness's capture: the table is the point of the run.
    let _ = writeln!(
        std::io::stderr(),
        "\n{text}\n(report: {}; framework logs beside it)",
        path.display()
    );
    assert!(
        problems.is_empty(),
        "conformance: {} problem(s) (the table is in {}):\n{}",
        problems.len(),
        path.display(),
        problems.join("\n")
    );
}
