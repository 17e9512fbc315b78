//! `orchmig verify`: every corpus file in every direction, with an explicit list of the known
//! mismatches (writer gaps verify found) that may only shrink; and the CLI's verdicts and exit codes.

use assert_cmd::Command;
use predicates::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

use orchmig::emit::Target;
use orchmig::report::Translations;
use orchmig::verify::check::{Options, verify_file};

mod support;
use support::corpus;

/// Ports whose verify finds undeclared differences today, keyed `file pipeline → target`, with
/// what differs. An entry that verifies now fails the test: remove it.
const KNOWN: &[(&str, &str)] = &[(
    "corpus/airflow/customer_churn_report.py customer_churn_report → dagster",
    "the writer adds daily partitions for the logical date the bodies read, undeclared",
)];

#[test]
fn the_whole_corpus_verifies_in_every_direction_but_the_known_gaps() {
    let table = Translations::builtin().unwrap();
    let mut mismatches: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut verdicts = 0;
    for f in corpus() {
        for t in ["airflow", "dagster", "prefect"] {
            let target = Target::parse(t).unwrap();
            let v = verify_file(&f, target, &table, &Options::default(), &mut |_| {})
                .unwrap_or_else(|e| panic!("{} → {t}: {e}", f.path));
            for x in v {
                verdicts += 1;
                if x.verdict == "mismatch" {
                    mismatches
                        .entry(format!("{} {} → {t}", f.path, x.pipeline))
                        .or_default()
                        .extend(
                            x.differences
                                .iter()
                                .filter(|d| !d.declared)
                                .map(|d| format!("{} {}: {}", d.aspect, d.subject, d.detail)),
                        );
                }
            }
        }
    }
    assert!(verdicts >= 150, "{verdicts}");
    let known: BTreeSet<&str> = KNOWN.iter().map(|(k, _)| *k).collect();
    let unexpected: Vec<String> = mismatches
        .iter()
        .filter(|(k, _)| !known.contains(k.as_str()))
        .map(|(k, v)| format!("{k}:\n    {}", v.join("\n    ")))
        .collect();
    let fixed: Vec<&&str> = known
        .iter()
        .filter(|k| !mismatches.contains_key(**k))
        .collect();
    assert!(
        unexpected.is_empty(),
        "new mismatches:\n{}",
        unexpected.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "these verify now; remove them from KNOWN: {fixed:?}"
    );
}

fn orchmig() -> Command {
    Command::cargo_bin("orchmig").expect("binary")
}

#[test]
fn verify_prints_a_verdict_and_exits_by_it() {
    orchmig()
        .args(["verify", "corpus/airflow/orders_etl.py", "--to", "prefect"])
        .assert()
        .success()
        .stdout(predicate::str::contains("faithful").and(predicate::str::contains("0 mismatch")));
    // A known gap: the Dagster port runs the calls a Prefect `if` guards unconditionally; its
    // report says so (`none`), so verify calls the differences declared and --fail-on none fails.
    orchmig()
        .args([
            "verify",
            "corpus/prefect/quality_gate.py",
            "--to",
            "dagster",
            "--fail-on",
            "none",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "[declared] trace notify_owner: state skipped became success",
        ));
    let out = orchmig()
        .args([
            "verify",
            "corpus/airflow/orders_etl.py",
            "--to",
            "dagster",
            "--fail",
            "extract:2",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["target"], "dagster@1");
    assert_eq!(v["pipelines"][0]["verdict"], "faithful");
    for args in [
        vec!["verify", "corpus/airflow/orders_etl.py", "--to", "luigi"],
        vec!["verify", "corpus/airflow/nope.py", "--to", "prefect"],
        vec![
            "verify",
            "corpus/airflow/orders_etl.py",
            "--to",
            "prefect",
            "--runner",
            "x",
        ],
    ] {
        orchmig().args(&args).assert().code(2);
    }
}

#[test]
fn verify_with_the_python_runner_compares_step_outputs() {
    let table = Translations::builtin().unwrap();
    let opts = Options {
        runner: "python".into(),
        ..Options::default()
    };
    for (path, target) in [
        ("corpus/airflow/orders_etl.py", "prefect"),
        ("corpus/airflow/orders_etl.py", "dagster"),
        ("corpus/dagster/orders_daily.py", "airflow"),
        ("corpus/prefect/daily_sales_etl.py", "dagster"),
    ] {
        let f = orchmig::frontend::read_path(std::path::Path::new(path));
        for v in verify_file(
            &f,
            Target::parse(target).unwrap(),
            &table,
            &opts,
            &mut |_| {},
        )
        .unwrap()
        {
            assert_ne!(
                v.verdict, "mismatch",
                "{path} → {target}: {:#?}",
                v.differences
            );
        }
    }
    // The sub-flows' results reach the report through the task groups they are inlined as:
    // the report's output is the source's (it was lost through TriggerDagRunOperator).
    let f = orchmig::frontend::read_path(std::path::Path::new(
        "corpus/prefect/customer_onboarding.py",
    ));
    let v = verify_file(
        &f,
        Target::parse("airflow").unwrap(),
        &table,
        &opts,
        &mut |_| {},
    )
    .unwrap();
    let top = v
        .iter()
        .find(|v| v.pipeline == "customer_onboarding")
        .unwrap();
    assert_ne!(top.verdict, "mismatch", "{:#?}", top.differences);
    assert!(
        !top.differences.iter().any(|d| d.aspect == "output"),
        "{:#?}",
        top.differences
    );
}

/// Behavioural differences come first and timing-only shifts are one line (each with `-v`, its
/// seconds printed with one unit: "4.001ss" before); `--fail-on` fails a port whose report has
/// rows of that class even when every difference is declared; an unknown class is a usage error.
#[test]
fn verify_lists_behaviour_first_counts_timing_shifts_and_fails_on_a_class() {
    let args = [
        "verify",
        "corpus/airflow/data_quality_gate.py",
        "--to",
        "dagster",
    ];
    let out = orchmig().args(args).env("COLUMNS", "100").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let behaviour = text
        .find("[declared] trace cleanup_scratch: when choose_load_mode fails:")
        .expect(&text);
    let timing = text
        .find("3 steps only ran at other virtual times (same states and attempts; -v lists them)")
        .expect(&text);
    assert!(behaviour < timing, "{text}");
    assert!(!text.contains("] timing "), "{text}");
    // The branch results the Dagster assets read are edges the source already orders: no
    // difference (they were listed as port-only dependencies).
    assert!(!text.contains("is a dependency of the port only"), "{text}");

    let out = orchmig()
        .args(args)
        .arg("-v")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("[declared] timing publish_ledger: virtual time 4.001s–5.001s became 4s–5s"),
        "{text}"
    );
    // No seconds printed with two units ("4.001ss"); "success became" is a state.
    let doubled = text
        .as_bytes()
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && &w[1..] == b"ss");
    assert!(!doubled, "{text}");

    // The trigger rules the Dagster port cannot keep (`all_done` after a failure) are declared
    // (`none` rows), so only --fail-on stops it.
    orchmig()
        .args(args)
        .args(["--fail-on", "redesign"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "orchmig verify --fail-on redesign: the port report of one pipeline has rows of that class or worse: data_quality_gate (none)",
        ));
    orchmig()
        .args(args)
        .args(["--fail-on", "exact"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown fidelity class"));
}

/// verify runs each branch outcome: the Prefect port of ml_training tests the branch's result
/// in the flow, and the Dagster port at the top of the arm's asset (it read the branch's
/// result), so forcing either arm runs the same steps as the source in both. Before the Dagster
/// writer tested it, every arm ran there: verify showed `promote_model` running when
/// `keep_champion` was chosen. The JSON verdict counts the runs compared: the asked one, two
/// arms and each of the six steps failing; the other `none` rows still make `--fail-on none`
/// exit 1.
#[test]
fn verify_forces_each_branch_outcome_and_finds_arms_a_port_runs_anyway() {
    let json = |to: &str| {
        let out = orchmig()
            .args(["verify", "corpus/airflow/ml_training.py", "--to", to])
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["pipelines"][0].clone()
    };
    let prefect = json("prefect");
    assert_eq!(prefect["scenarios"], 9, "{prefect:#}");
    let details: Vec<&str> = prefect["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["detail"].as_str().unwrap())
        .collect();
    assert!(
        !details.iter().any(|d| d.contains("chooses")),
        "{details:#?}"
    );

    let dagster = json("dagster");
    assert_eq!(dagster["scenarios"], 9, "{dagster:#}");
    assert_ne!(dagster["verdict"], "mismatch", "{dagster:#}");
    let details: Vec<&str> = dagster["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["detail"].as_str().unwrap())
        .collect();
    assert!(
        !details.iter().any(|d| d.contains("chooses")),
        "{details:#?}"
    );
    orchmig()
        .args([
            "verify",
            "corpus/airflow/ml_training.py",
            "--to",
            "dagster",
            "--fail-on",
            "none",
        ])
        .assert()
        .code(1);
}

/// A Prefect `if` on a task result becomes, in Airflow, a short-circuit gate upstream of the
/// call: with the result forced either way, the port runs the same arm as the flow (the dry
/// runner evaluates the condition and the gate's one-line body alike); the `except` handler
/// waits for the try body with one_failed, so it runs exactly when the body's task fails.
#[test]
fn prefect_conditions_port_to_airflow_gates_that_take_the_same_arm() {
    arms_of_quality_gate_agree("airflow");
    let table = Translations::builtin().unwrap();
    let file = orchmig::frontend::read_path(std::path::Path::new("corpus/prefect/quality_gate.py"));
    let target = Target::parse("airflow").unwrap();
    // The handler: the source and the port agree when the try body's task fails.
    let opts = Options {
        fail: vec!["cleanup_staging".into()],
        ..Options::default()
    };
    let v = verify_file(&file, target, &table, &opts, &mut |_| {}).unwrap();
    assert!(
        !v[0]
            .differences
            .iter()
            .any(|d| d.subject == "notify_owner-2"),
        "{:#?}",
        v[0].differences
    );
}

/// In a Dagster port the same `if` is tested at the top of the asset, which reads the result:
/// forcing it either way runs the same arm as the flow (both arms did their work before, and
/// the rows said `none`).
#[test]
fn prefect_conditions_port_to_dagster_assets_that_take_the_same_arm() {
    arms_of_quality_gate_agree("dagster");
    let out = orchmig()
        .args(["port", "corpus/prefect/quality_gate.py", "--to", "dagster"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("    if not (report[\"ok\"]):\n        return None\n"),
        "{text}"
    );
}

/// With `validate`'s result forced either way, the port of quality_gate to `to` runs the same
/// arm as the flow: nothing about the arms differs, declared or not.
fn arms_of_quality_gate_agree(to: &str) {
    let table = Translations::builtin().unwrap();
    let file = orchmig::frontend::read_path(std::path::Path::new("corpus/prefect/quality_gate.py"));
    let target = Target::parse(to).unwrap();
    for (ok, ran, skipped) in [
        ("true", "publish", "quarantine"),
        ("false", "quarantine", "publish"),
    ] {
        let opts = Options {
            set_output: vec![format!("validate={{\"ok\": {ok}, \"bad\": []}}")],
            ..Options::default()
        };
        let v = verify_file(&file, target, &table, &opts, &mut |_| {}).unwrap();
        assert_eq!(v[0].verdict, "declared", "{ok}: {:#?}", v[0].differences);
        // Nothing about the arms differs, declared or not.
        for step in [ran, skipped] {
            assert!(
                !v[0]
                    .differences
                    .iter()
                    .any(|d| d.subject == step && d.aspect == "trace"),
                "{to} {ok}: {:#?}",
                v[0].differences
            );
        }
    }
}

/// An Airflow step for failures (`one_failed`) is called in a Prefect port only when an upstream
/// run failed: the flow waits for them and tests their states (it ran after every success
/// before, and would page someone daily). verify agrees with the source with no fault and with
/// each step failing in turn; the port text shows the test.
#[test]
fn a_failure_alert_runs_in_a_prefect_port_only_after_a_failure() {
    let table = Translations::builtin().unwrap();
    let file =
        orchmig::frontend::read_path(std::path::Path::new("corpus/airflow/data_quality_gate.py"));
    let target = Target::parse("prefect").unwrap();
    let v = verify_file(&file, target, &table, &Options::default(), &mut |_| {}).unwrap();
    let about_alert: Vec<&str> = v[0]
        .differences
        .iter()
        .filter(|d| d.subject == "alert_on_failure" && d.aspect == "trace")
        .map(|d| d.detail.as_str())
        .collect();
    assert!(about_alert.is_empty(), "{about_alert:#?}");
    let (text, _) = orchmig::emit::port_file(&file, target, &table).unwrap();
    assert!(
        text.contains(
            "incremental_load_out is not None and incremental_load_out.state.is_failed()"
        ),
        "{text}"
    );
    assert!(text.contains("allow_failure(full_reload_out)"), "{text}");
}

/// A flow that computes on a task's result in its body and passes the value on.
const FLOW_CODE: &str = r#"from prefect import flow, task


@task
def extract(day: str) -> list[int]:
    return [1, 2, 3]


@task
def audit(n: int) -> int:
    return n


def helper(x):
    return x * 2


@flow(name="ctx-flow")
def ctx_flow(day: str = "2024-01-01"):
    rows = extract(day)
    total = sum(rows)
    doubled = helper(total)
    audit(doubled)
"#;

/// A sub-flow that calls no task, whose value a task reads.
const TASK_LESS_SUB_FLOW: &str = r#"from prefect import flow, task


@task
def audit(n: int) -> int:
    return n


@flow
def summarise(x: int = 0) -> int:
    return x + 1


@flow
def parent():
    y = summarise(3)
    audit(y)
"#;

/// What `audit` returned in a python run of a file's pipeline.
fn audit_output(path: &std::path::Path, pipeline: Option<&str>) -> serde_json::Value {
    let mut cmd = orchmig();
    cmd.arg("run")
        .arg(path)
        .args(["--runner", "python", "--format", "json"]);
    if let Some(p) = pipeline {
        cmd.args(["--pipeline", p]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    run["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == "audit")
        .map(|r| r["output"].clone())
        .unwrap_or_else(|| panic!("no audit in {run:#}"))
}

/// Code in a Prefect flow body (`total = sum(rows)`, `helper(total)`) is a generated step, so
/// `audit` gets the value the flow computed, not `extract`'s rows; a sub-flow that calls no task
/// is one step whose value reaches `audit` (it arrived as None through an empty task group). The
/// source, and its port to every target run again from the written file, agree, and verify with
/// the python runner finds the ports faithful.
#[test]
fn flow_body_code_reaches_the_task_that_reads_it_in_every_target() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, pipeline, want) in [
        ("ctx.py", FLOW_CODE, None, serde_json::json!(12)),
        (
            "sub.py",
            TASK_LESS_SUB_FLOW,
            Some("parent"),
            serde_json::json!(4),
        ),
    ] {
        let src = dir.path().join(name);
        std::fs::write(&src, text).unwrap();
        assert_eq!(audit_output(&src, pipeline), want, "{name} (source)");
        for t in ["airflow", "dagster", "prefect"] {
            let out = dir
                .path()
                .join(format!("{t}-{}", name.trim_end_matches(".py")));
            orchmig()
                .arg("port")
                .arg(&src)
                .args(["--to", t, "--out"])
                .arg(&out)
                .assert()
                .success();
            assert_eq!(
                audit_output(&out.join(name), pipeline),
                want,
                "{name} → {t}: {}",
                std::fs::read_to_string(out.join(name)).unwrap_or_default()
            );
            orchmig()
                .arg("verify")
                .arg(&src)
                .args(["--to", t, "--runner", "python"])
                .assert()
                .success();
        }
    }
}

/// verify's differences for one inline source file ported to `to`, run with `--fail` steps.
fn verify_text(name: &str, src: &str, to: &str, fail: &[&str]) -> orchmig::verify::check::Verdict {
    let table = Translations::builtin().unwrap();
    let file = orchmig::frontend::read_source(name, src);
    let opts = Options {
        fail: fail.iter().map(|s| s.to_string()).collect(),
        ..Options::default()
    };
    let target = Target::parse(to).unwrap();
    let mut v = verify_file(&file, target, &table, &opts, &mut |_| {}).unwrap();
    v.remove(0)
}

#[test]
fn a_direct_call_that_fails_stops_the_prefect_flow_and_its_port() {
    // Prefect makes no run after a direct call that raised, and the source's model now stops
    // after `a` too; the ports wait for it, so `b` runs in neither (a port that ran `b` would
    // differ on it). tests/run.rs checks that the source stops.
    let src = "from prefect import flow, task\n@task\ndef a(): return 1\n@task\ndef b(): return 2\n@flow\ndef f():\n    a()\n    b()\n";
    for to in ["airflow", "dagster"] {
        let v = verify_text("f.py", src, to, &["a"]);
        assert_eq!(v.mismatches(), 0, "{to}: {:#?}", v.differences);
        assert!(
            !v.differences.iter().any(|d| d.subject == "b"),
            "{to}: {:#?}",
            v.differences
        );
    }
}

#[test]
fn a_prefect_flow_that_completes_although_a_task_failed_is_a_declared_final_state_difference() {
    // The submitted task's failure never reaches the flow body: Prefect completes the flow, the
    // DAG run (a failed leaf) and the Dagster run (a failed step) fail. verify compares the final
    // states and the report's trap.final_state row (redesign) declares the difference.
    let src = "from prefect import flow, task\n@task\ndef probe(): return 1\n@task\ndef other(): return 2\n@flow\ndef f():\n    probe.submit()\n    other()\n";
    for to in ["airflow", "dagster"] {
        let v = verify_text("f.py", src, to, &["probe"]);
        let finals: Vec<_> = v
            .differences
            .iter()
            .filter(|d| d.aspect == "final_state")
            .collect();
        assert_eq!(finals.len(), 1, "{to}: {:#?}", v.differences);
        assert_eq!(finals[0].detail, "the run's success became failed");
        assert!(finals[0].declared, "{to}: {:#?}", finals);
        assert_eq!(v.verdict, "declared");
    }
    // The CI gate fails on it: the construct is a redesign.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.py");
    std::fs::write(&path, src).unwrap();
    orchmig()
        .args([
            "verify",
            path.to_str().unwrap(),
            "--to",
            "airflow",
            "--fail",
            "probe",
        ])
        .args(["--fail-on", "redesign"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "[declared] final_state final state: the run's success became failed",
        ));
}

#[test]
fn run_context_reads_keep_their_values_in_every_port() {
    // `ds=None` arguments, `get_current_context()["params"]` and a DAG param named like a task:
    // with the python runner verify compares what each step returns. Before, the Dagster port
    // passed `ds=None`, the Prefect port called `.submit()` on the `region` parameter (which
    // shadowed the task of that name), and both lost the params.
    let src = "from datetime import datetime\n\nfrom airflow.sdk import dag, get_current_context, task\n\n\n@dag(schedule=\"@daily\", start_date=datetime(2024, 1, 1), catchup=False, params={\"region\": \"eu\"})\ndef ctx_report():\n    @task\n    def stamp(ds=None) -> str:\n        return f\"day {ds}\"\n\n    @task\n    def region() -> str:\n        ctx = get_current_context()\n        return ctx[\"params\"][\"region\"]\n\n    stamp()\n    region()\n\n\nctx_report()\n";
    let table = Translations::builtin().unwrap();
    let file = orchmig::frontend::read_source("ctx.py", src);
    let opts = Options {
        runner: "python".into(),
        ..Options::default()
    };
    for to in ["prefect", "dagster"] {
        let target = Target::parse(to).unwrap();
        let v = verify_file(&file, target, &table, &opts, &mut |_| {}).unwrap();
        assert_eq!(v[0].verdict, "faithful", "{to}: {:#?}", v[0].differences);
        let (text, _) = orchmig::emit::port_file(&file, target, &table).unwrap();
        if to == "prefect" {
            assert!(!text.contains("region.submit("), "{text}");
        }
    }
}

#[test]
fn a_context_key_no_port_builds_is_a_none_row_and_its_failure_is_declared() {
    // `dag_run` is no key `_airflow_context` builds: the ported body raises
    // NotImplementedError naming it, the report says none (it said approximate), and the
    // python runner's failed step is a declared difference, not a faithful port.
    let src = "from datetime import datetime\n\nfrom airflow.sdk import dag, get_current_context, task\n\n\n@dag(schedule=None, start_date=datetime(2024, 1, 1))\ndef conf_reader():\n    @task\n    def read_conf() -> str:\n        ctx = get_current_context()\n        return str(ctx[\"dag_run\"].conf)\n\n    read_conf()\n\n\nconf_reader()\n";
    let table = Translations::builtin().unwrap();
    let file = orchmig::frontend::read_source("conf.py", src);
    let opts = Options {
        runner: "python".into(),
        ..Options::default()
    };
    for to in ["prefect", "dagster"] {
        let target = Target::parse(to).unwrap();
        let (_, ledgers) = orchmig::emit::port_file(&file, target, &table).unwrap();
        let row = ledgers[0]
            .entries
            .iter()
            .find(|e| e.subject == "read_conf" && e.construct == "body.framework_call")
            .unwrap_or_else(|| panic!("{to}: {:#?}", ledgers[0].entries));
        assert_eq!(row.fidelity, orchmig::report::Fidelity::None);
        assert!(row.note.contains("`dag_run`"), "{}", row.note);
        let v = verify_file(&file, target, &table, &opts, &mut |_| {}).unwrap();
        assert_eq!(v[0].verdict, "declared", "{to}: {:#?}", v[0].differences);
        assert!(
            v[0].differences
                .iter()
                .any(|d| d.detail == "with the python runner: state success became failed"),
            "{to}: {:#?}",
            v[0].differences
        );
    }
}

#[test]
fn a_deployment_schedule_the_port_does_not_write_is_a_declared_difference() {
    // An Airflow DAG has one schedule: the second schedule of `serve(schedules=[…])` is not in
    // the port. verify compares every deployment schedule (it compared the first only, and
    // called the port faithful); the report's schedule.additional row (redesign) declares it.
    let src = "from prefect import flow, task\nfrom prefect.schedules import Cron, Interval\n\n\n@task\ndef ping() -> int:\n    return 1\n\n\n@flow\ndef heartbeat():\n    ping()\n\n\nif __name__ == \"__main__\":\n    heartbeat.serve(name=\"hb\", schedules=[Interval(10), Cron(\"0 6 * * *\")])\n";
    let v = verify_text("sched.py", src, "airflow", &[]);
    let lost: Vec<_> = v
        .differences
        .iter()
        .filter(|d| d.aspect == "schedule")
        .collect();
    assert_eq!(lost.len(), 1, "{:#?}", v.differences);
    assert_eq!(
        lost[0].detail,
        "the deployment schedule cron `0 6 * * *` is not in the port"
    );
    assert!(lost[0].declared);
    assert_eq!(v.verdict, "declared");
}

/// A Dagster op with optional outputs (`Out(is_required=False)`): verify forces each outcome
/// (the op yields only one of them), and the Airflow and Prefect ports run the same readers as
/// Dagster would, so nothing differs. A port that ran both readers whatever the op yielded
/// would differ under those scenarios: the Airflow port with its skips taken out runs
/// `issue_refunds` and `notify_customers` where the source skips them.
#[test]
fn verify_forces_each_optional_output_and_the_ports_run_the_same_readers() {
    let file = "corpus/dagster/refund_triage.py";
    for to in ["airflow", "prefect"] {
        let out = orchmig()
            .args(["verify", file, "--to", to, "--format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let p = &v["pipelines"][0];
        // The asked run, one run per optional output, one per step failing (5 steps).
        assert_eq!(p["scenarios"], 1 + 2 + 5, "{p:#}");
        assert_eq!(p["verdict"], "faithful", "{to}: {p:#}");
    }
    let forced = r#"route_refunds={"manual_review": []}"#;
    let states = |path: &std::path::Path| -> BTreeMap<String, String> {
        let out = orchmig()
            .arg("run")
            .arg(path)
            .args(["--set-output", forced, "--format", "json"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["records"]
            .as_array()
            .or_else(|| v.as_array())
            .unwrap_or_else(|| panic!("{v:#}"))
            .iter()
            .map(|r| {
                (
                    r["node"].as_str().unwrap().to_string(),
                    r["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let source = states(std::path::Path::new(file));
    assert_eq!(source["issue_refunds"], "skipped", "{source:?}");
    assert_eq!(source["notify_customers"], "skipped", "{source:?}");
    assert_eq!(source["open_review_tickets"], "success", "{source:?}");
    let dir = tempfile::tempdir().unwrap();
    orchmig()
        .args(["port", file, "--to", "airflow", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let port = dir.path().join("refund_triage.py");
    assert_eq!(states(&port), source);
    // The same port without its skips runs the reader of the output that was not produced.
    let text = std::fs::read_to_string(&port).unwrap();
    let stripped: String = text
        .split("    if \"")
        .enumerate()
        .map(|(i, part)| match (i, part.find("\n    requests = ")) {
            (0, _) | (_, None) => {
                if i == 0 {
                    part.to_string()
                } else {
                    format!("    if \"{part}")
                }
            }
            (_, Some(k)) => part[k + 1..].to_string(),
        })
        .collect();
    assert!(!stripped.contains("AirflowSkipException("), "{stripped}");
    let broken = dir.path().join("broken").join("refund_triage.py");
    std::fs::create_dir_all(broken.parent().unwrap()).unwrap();
    std::fs::write(&broken, stripped).unwrap();
    let ran = states(&broken);
    assert_eq!(ran["issue_refunds"], "success", "{ran:?}");
    assert_ne!(ran, source);
}
