//! `orchmig run`: ordering invariants on every corpus pipeline, retries under fault injection,
//! every trigger rule, mapping widths, sub-pipeline retry boundaries, backfill and resume (also of
//! a killed run), the python runner on corpus bodies, schedule previews and usage errors.

use assert_cmd::Command;
use predicates::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

use orchmig::exec::runner::dry::DryRunner;
use orchmig::exec::{Record, RunArgs, State, Trace, execute};
use orchmig::ir::{Edge, EdgeKind, Framework, Node, NodeKind, Pipeline, SourceFile, Span};

mod support;
use support::corpus;

fn orchmig() -> Command {
    Command::cargo_bin("orchmig").expect("binary")
}

fn dry(file: &SourceFile, p: &Pipeline, args: &RunArgs) -> Trace {
    let mut r = DryRunner::new(args.faults());
    execute(file, p, args, &mut r, None, None, &mut |_| {})
        .unwrap_or_else(|e| panic!("{} {}: {e}", file.path, p.id))
}

fn read(path: &str) -> SourceFile {
    orchmig::frontend::read_path(std::path::Path::new(path))
}

fn record<'t>(t: &'t Trace, node: &str) -> &'t Record {
    t.records
        .iter()
        .find(|r| r.node == node)
        .unwrap_or_else(|| panic!("no record of {node} in {:#?}", t.records))
}

fn json_run(args: &[&str]) -> (serde_json::Value, i32) {
    let out = orchmig()
        .arg("run")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap_or(-1))
}

#[test]
fn every_corpus_pipeline_runs_in_dependency_order_within_the_concurrency_limit() {
    let mut pipelines = 0;
    for f in corpus() {
        for p in &f.pipelines {
            pipelines += 1;
            let args = RunArgs {
                max_active: 2,
                ..RunArgs::default()
            };
            let t = dry(&f, p, &args);
            assert_eq!(t, dry(&f, p, &args), "{}: not deterministic", p.id);
            assert!(
                t.succeeded(),
                "{} {} failed with no fault:\n{}",
                f.path,
                p.id,
                t.table()
            );
            // Every step is accounted for.
            let top: BTreeSet<&str> = t
                .records
                .iter()
                .filter(|r| !r.node.contains("::"))
                .map(|r| r.node.as_str())
                .collect();
            for n in &p.nodes {
                assert!(
                    top.contains(n.id.as_str()),
                    "{}: {} has no record",
                    p.id,
                    n.id
                );
            }
            // A step starts only after every instance of its upstreams ended.
            let by_node: BTreeMap<(&str, Option<&str>), Vec<&Record>> =
                t.records.iter().fold(BTreeMap::new(), |mut m, r| {
                    m.entry((r.node.as_str(), r.partition.as_deref()))
                        .or_default()
                        .push(r);
                    m
                });
            for e in &p.edges {
                for part in &t.partitions {
                    let ups = by_node.get(&(e.from.as_str(), part.as_deref()));
                    let downs = by_node.get(&(e.to.as_str(), part.as_deref()));
                    let (Some(ups), Some(downs)) = (ups, downs) else {
                        continue;
                    };
                    for d in downs.iter().filter_map(|d| d.start) {
                        for u in ups.iter().filter_map(|u| u.end) {
                            assert!(
                                u <= d,
                                "{}: {} started at {d} before {} ended at {u}",
                                p.id,
                                e.to,
                                e.from
                            );
                        }
                    }
                }
            }
            // Never more than --max-active attempts at once (top-level steps; a sub-pipeline
            // call runs its own steps inside its attempt).
            let mut points: Vec<(f64, i32)> = Vec::new();
            for r in t
                .records
                .iter()
                .filter(|r| !r.node.contains("::") && r.attempts == 1)
            {
                if let (Some(s), Some(e)) = (r.start, r.end)
                    && e > s
                {
                    points.push((s, 1));
                    points.push((e, -1));
                }
            }
            points.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let mut running = 0;
            for (_, d) in points {
                running += d;
                assert!(running <= 2, "{}: more than 2 attempts at once", p.id);
            }
        }
    }
    assert!(pipelines >= 50, "{pipelines}");
}

#[test]
fn retries_follow_the_policy_under_fault_injection() {
    let f = read("corpus/airflow/orders_etl.py");
    let p = &f.pipelines[0];
    // extract: retries 3, retry_delay 2 minutes.
    let t = dry(
        &f,
        p,
        &RunArgs {
            fail: vec!["extract:2".into()],
            ..RunArgs::default()
        },
    );
    let r = record(&t, "extract");
    assert_eq!(
        (r.attempts, r.state, r.end),
        (3, State::Success, Some(243.0))
    );
    assert!(t.succeeded());
    let t = dry(
        &f,
        p,
        &RunArgs {
            fail: vec!["extract".into()],
            ..RunArgs::default()
        },
    );
    assert_eq!(record(&t, "extract").attempts, 4);
    assert_eq!(record(&t, "extract").state, State::Failed);
    assert_eq!(record(&t, "transform").state, State::UpstreamFailed);
    assert_eq!(record(&t, "load").state, State::UpstreamFailed);
    assert!(!t.succeeded());
    // payroll: 3 retries from 60 s, doubling, capped at 900 s.
    let f = read("corpus/airflow/payroll_monthly.py");
    let t = dry(
        &f,
        &f.pipelines[0],
        &RunArgs {
            fail: vec!["compute_net_pay:3".into()],
            ..RunArgs::default()
        },
    );
    let r = record(&t, "compute_net_pay");
    assert_eq!(
        (r.attempts, r.start, r.end),
        (
            4,
            Some(0.0),
            Some(1.0 + 60.0 + 1.0 + 120.0 + 1.0 + 240.0 + 1.0)
        )
    );
    // A hang is killed at the timeout: fetch_ledger has timeout 300 s and 2 retries of 180 s.
    let f = read("corpus/airflow/finance_reconciliation.py");
    let t = dry(
        &f,
        &f.pipelines[0],
        &RunArgs {
            hang: vec!["fetch_ledger:1".into()],
            ..RunArgs::default()
        },
    );
    let r = record(&t, "fetch_ledger");
    assert_eq!((r.attempts, r.state), (2, State::Success));
    assert_eq!(r.end, Some(r.start.unwrap() + 300.0 + 180.0 + 1.0));
}

fn synthetic(rules: &[&str]) -> Pipeline {
    let mut p = Pipeline {
        id: "rules".into(),
        framework: Some(Framework::Airflow),
        ..Pipeline::default()
    };
    for id in ["bad", "good"] {
        p.nodes.push(Node::new(id, NodeKind::Task, Span::default()));
    }
    for rule in rules {
        let mut n = Node::new(*rule, NodeKind::Task, Span::default());
        n.trigger_rule = Some(rule.to_string());
        p.nodes.push(n);
        for up in ["bad", "good"] {
            p.edges.push(Edge {
                from: up.into(),
                to: rule.to_string(),
                kind: EdgeKind::Order,
                param: None,
                output: None,
                span: Span::default(),
            });
        }
    }
    p
}

#[test]
fn every_trigger_rule_after_one_failed_and_one_successful_upstream() {
    let expected = [
        ("all_success", State::UpstreamFailed),
        ("all_failed", State::Skipped),
        ("all_done", State::Success),
        ("all_skipped", State::Skipped),
        ("one_success", State::Success),
        ("one_failed", State::Success),
        ("one_done", State::Success),
        ("none_failed", State::UpstreamFailed),
        ("none_failed_min_one_success", State::UpstreamFailed),
        ("none_skipped", State::Success),
        ("always", State::Success),
    ];
    let rules: Vec<&str> = expected.iter().map(|(r, _)| *r).collect();
    let p = synthetic(&rules);
    let f = SourceFile::default();
    let t = dry(
        &f,
        &p,
        &RunArgs {
            fail: vec!["bad".into()],
            ..RunArgs::default()
        },
    );
    for (rule, state) in expected {
        assert_eq!(record(&t, rule).state, state, "{rule}");
    }
    // `always` does not wait; `one_success` starts as soon as `good` succeeded.
    assert_eq!(record(&t, "always").start, Some(0.0));
    assert_eq!(record(&t, "one_success").start, Some(1.0));
    // With both upstreams successful, the failure rules skip.
    let t = dry(&f, &p, &RunArgs::default());
    assert_eq!(record(&t, "all_failed").state, State::Skipped);
    assert_eq!(record(&t, "one_failed").state, State::Skipped);
    assert_eq!(record(&t, "all_success").state, State::Success);
    assert_eq!(
        record(&t, "none_failed_min_one_success").state,
        State::Success
    );
}

#[test]
fn corpus_trigger_rules_react_to_failures() {
    let f = read("corpus/airflow/data_quality_gate.py");
    let p = &f.pipelines[0];
    let t = dry(
        &f,
        p,
        &RunArgs {
            fail: vec!["full_reload".into()],
            ..RunArgs::default()
        },
    );
    assert_eq!(record(&t, "full_reload").state, State::Failed);
    assert_eq!(record(&t, "alert_on_failure").state, State::Success); // one_failed
    assert_eq!(record(&t, "loaded").state, State::UpstreamFailed); // none_failed_min_one_success
    // all_done runs whatever its upstreams ended as (upstream_failed is done too).
    assert_eq!(record(&t, "cleanup_scratch").state, State::Success);
    let t = dry(&f, p, &RunArgs::default());
    assert_eq!(record(&t, "alert_on_failure").state, State::Skipped);
}

#[test]
fn mapping_widths_come_from_literals_upstreams_or_the_default() {
    let f = read("corpus/airflow/marketing_fanout.py");
    let p = &f.pipelines[0];
    let t = dry(
        &f,
        p,
        &RunArgs {
            map_width: 5,
            ..RunArgs::default()
        },
    );
    let width = |n: &str| t.records.iter().filter(|r| r.node == n).count();
    assert_eq!(width("cost_per_click"), 5); // from an upstream's output: --map-width
    assert_eq!(width("segment_sizes"), 3); // a literal of three
    assert_eq!(width("summarize"), 1);
    assert!(
        t.records
            .iter()
            .filter(|r| r.node == "cost_per_click")
            .all(|r| r.map_index.is_some())
    );
    // A failing instance fails only itself; the collecting step is upstream_failed.
    let t = dry(
        &f,
        p,
        &RunArgs {
            fail: vec!["cost_per_click".into()],
            map_width: 2,
            ..RunArgs::default()
        },
    );
    assert_eq!(
        t.records
            .iter()
            .filter(|r| r.node == "cost_per_click" && r.state == State::Failed)
            .count(),
        2
    );
    assert_eq!(record(&t, "summarize").state, State::UpstreamFailed);
    // Mapping over a mapped step keeps its width (Dagster dynamic outputs chained).
    let f = read("corpus/dagster/file_fanout.py");
    let t = dry(
        &f,
        &f.pipelines[0],
        &RunArgs {
            map_width: 4,
            ..RunArgs::default()
        },
    );
    assert_eq!(
        t.records.iter().filter(|r| r.node == "score_file").count(),
        4
    );
    // Two mapped literals: Airflow crosses them, Prefect zips them.
    let mut p = synthetic(&[]);
    let mut n = Node::new("m", NodeKind::Task, Span::default());
    let list = |n: i64| orchmig::ir::Value::List((0..n).map(orchmig::ir::Value::Int).collect());
    n.mapping = Some(orchmig::ir::Mapping {
        over: vec![
            orchmig::ir::MappedArg {
                param: "a".into(),
                literal: Some(list(3)),
                from_node: None,
            },
            orchmig::ir::MappedArg {
                param: "b".into(),
                literal: Some(list(2)),
                from_node: None,
            },
        ],
        partial: Default::default(),
        kwargs: false,
    });
    p.nodes.push(n);
    let f = SourceFile::default();
    assert_eq!(
        dry(&f, &p, &RunArgs::default())
            .records
            .iter()
            .filter(|r| r.node == "m")
            .count(),
        6
    );
    p.framework = Some(Framework::Prefect);
    assert_eq!(
        dry(&f, &p, &RunArgs::default())
            .records
            .iter()
            .filter(|r| r.node == "m")
            .count(),
        2
    );
    // An empty literal skips the mapped step.
    if let Some(m) = p.nodes[2].mapping.as_mut() {
        m.over[0].literal = Some(list(0));
    }
    assert_eq!(
        record(&dry(&f, &p, &RunArgs::default()), "m").state,
        State::Skipped
    );
}

#[test]
fn sub_pipelines_retry_as_a_whole() {
    let f = read("corpus/prefect/customer_onboarding.py");
    let p = f
        .pipelines
        .iter()
        .find(|p| p.id == "customer_onboarding")
        .unwrap();
    // verify_accounts is a sub-flow with retries=2: a failing child task fails the whole
    // nested run, and the flow's retry runs the child again (check_email has no retries).
    let t = dry(
        &f,
        p,
        &RunArgs {
            fail: vec!["verify_accounts::check_email:1".into()],
            ..RunArgs::default()
        },
    );
    let parent = record(&t, "verify_accounts");
    let child = record(&t, "verify_accounts::check_email");
    assert_eq!((parent.attempts, parent.state), (2, State::Success));
    assert_eq!((child.attempts, child.state), (2, State::Success));
    // 1 s for the first nested run, 5 s retry delay, 1 s for the second.
    assert_eq!((parent.start, parent.end), (Some(1.0), Some(8.0)));
    let t = dry(
        &f,
        p,
        &RunArgs {
            fail: vec!["verify_accounts::check_email".into()],
            ..RunArgs::default()
        },
    );
    assert_eq!(record(&t, "verify_accounts").attempts, 3);
    assert_eq!(record(&t, "verify_accounts").state, State::Failed);
    assert_eq!(record(&t, "onboarding_report").state, State::UpstreamFailed);
    // A timeout bounds the whole nested run.
    let t = dry(
        &f,
        p,
        &RunArgs {
            hang: vec!["verify_accounts::check_email:1".into()],
            ..RunArgs::default()
        },
    );
    assert_eq!(record(&t, "verify_accounts").attempts, 2);
    assert_eq!(record(&t, "verify_accounts").state, State::Success);
}

fn ledger_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn a_failed_backfill_resumes_at_the_failed_day_only() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("run.jsonl");
    let l = ledger.to_str().unwrap();
    let (v, code) = json_run(&[
        "corpus/dagster/orders_daily.py",
        "--backfill",
        "2024-03-01..2024-03-30",
        "--fail",
        "clean_orders@2024-03-12",
        "--ledger",
        l,
    ]);
    assert_eq!(code, 1);
    let records = v["records"].as_array().unwrap();
    assert_eq!(v["partitions"].as_array().unwrap().len(), 30);
    assert_eq!(records.len(), 90);
    for r in records {
        for k in [
            "node",
            "partition",
            "map_index",
            "attempts",
            "state",
            "start",
            "end",
        ] {
            assert!(r.get(k).is_some(), "{k} missing in {r}");
        }
    }
    // Days after the failure still ran (Airflow and Dagster backfills carry on).
    assert!(
        records
            .iter()
            .any(|r| r["partition"] == "2024-03-30" && r["state"] == "success")
    );
    let first = ledger_lines(&ledger);
    assert_eq!(first[0]["event"], "run");
    assert_eq!(first[0]["args"]["backfill"], "2024-03-01..2024-03-30");
    // The resume needs nothing but the ledger: only day 12's failed step and its downstream run.
    let (v, code) = json_run(&[
        "corpus/dagster/orders_daily.py",
        "--resume",
        l,
        "--fail",
        "clean_orders@2024-03-12:1",
    ]);
    assert_eq!(code, 0, "{v}");
    let ran: Vec<(String, String)> = support::run_records(&v).into_iter().collect();
    assert_eq!(
        ran,
        vec![
            ("clean_orders".to_string(), "2024-03-12".to_string()),
            ("category_revenue".to_string(), "2024-03-12".to_string()),
        ]
    );
    // The ledger was appended to, not rewritten; a second resume has nothing left to do.
    let all = ledger_lines(&ledger);
    assert!(all.len() > first.len());
    assert!(all.iter().any(|e| e["event"] == "resume"));
    let (v, code) = json_run(&["corpus/dagster/orders_daily.py", "--resume", l]);
    assert_eq!((code, v["records"].as_array().unwrap().len()), (0, 0));
}

#[test]
fn a_killed_backfill_loses_nothing_and_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("killed.jsonl");
    let bin = assert_cmd::cargo::cargo_bin("orchmig");
    let mut child = std::process::Command::new(&bin)
        .args([
            "run",
            "corpus/airflow/orders_etl.py",
            "--backfill",
            "2024-03-01..2024-03-30",
            "--ledger",
            ledger.to_str().unwrap(),
        ])
        .env("ORCHMIG_DRY_SLEEP_MS", "20")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until some days are in the ledger, then kill the process in the middle.
    let mut lines = 0;
    for _ in 0..6000 {
        lines = ledger_lines(&ledger).len();
        if lines >= 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(lines >= 60, "the run wrote only {lines} ledger lines");
    let before = ledger_lines(&ledger);
    assert!(
        !before.iter().any(|e| e["event"] == "end"),
        "the run finished before it was killed"
    );
    let done: BTreeSet<(String, String)> = before
        .iter()
        .filter(|e| e["event"] == "final" && e["state"] == "success")
        .map(|e| {
            (
                e["node"].as_str().unwrap().to_string(),
                e["partition"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(!done.is_empty());
    let (v, code) = json_run(&[
        "corpus/airflow/orders_etl.py",
        "--resume",
        ledger.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{v}");
    let resumed: BTreeSet<(String, String)> = support::run_records(&v).into_iter().collect();
    // Nothing finished runs again, and together they cover every day's three steps.
    assert!(
        done.is_disjoint(&resumed),
        "re-ran {:?}",
        done.intersection(&resumed).collect::<Vec<_>>()
    );
    assert_eq!(done.len() + resumed.len(), 90);
    let first_resumed = resumed.iter().map(|(_, p)| p.clone()).min().unwrap();
    assert!(done.iter().filter(|(_, p)| *p < first_resumed).count() > 0);
}

/// A field of the first trace record of `node` in a `--format json` run.
fn json_field(v: &serde_json::Value, node: &str, field: &str) -> serde_json::Value {
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == node)
        .map(|r| r[field].clone())
        .unwrap()
}

#[test]
fn the_python_runner_runs_corpus_bodies_with_upstream_values() {
    let (v, code) = json_run(&["corpus/airflow/orders_etl.py", "--runner", "python"]);
    assert_eq!(code, 0, "{v}");
    let out = |v: &serde_json::Value, node: &str| json_field(v, node, "output");
    assert_eq!(
        out(&v, "transform"),
        serde_json::json!({"books": 55.9, "games": 59.99, "music": 9.99})
    );
    let (v, code) = json_run(&[
        "corpus/prefect/customer_onboarding.py",
        "--runner",
        "python",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        out(&v, "onboarding_report"),
        serde_json::json!({"accounts": 3, "mails": 4})
    );
    // Call-site conditions read the flow's values: a clean batch is published, not quarantined.
    let (v, _) = json_run(&["corpus/prefect/quality_gate.py", "--runner", "python"]);
    let state = |node: &str| json_field(&v, node, "state");
    assert_eq!(state("publish"), "success");
    assert_eq!(state("quarantine"), "skipped");
    // Dagster context.partition_key and a mapped task over an upstream's real output.
    let (v, _) = json_run(&[
        "corpus/dagster/orders_daily.py",
        "--runner",
        "python",
        "--partition",
        "2024-03-05",
    ]);
    assert!(out(&v, "raw_orders").to_string().contains("2024-03-05"));
    let (v, code) = json_run(&[
        "corpus/prefect/inventory_fanout.py",
        "--runner",
        "python",
        "--pipeline",
        "inventory_fanout",
    ]);
    assert_eq!(code, 0, "{v}");
    let widths = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["node"] == "value_stock")
        .count();
    assert_eq!(widths, 3);
    // Dagster dynamic outputs fan out, and the collected results come back in.
    let (v, code) = json_run(&["corpus/dagster/file_fanout.py", "--runner", "python"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(out(&v, "total_rows"), serde_json::json!(9));
    assert_eq!(
        out(&v, "summarise_batch"),
        serde_json::json!({"files": 3, "score": 13.5})
    );
    // A branch follows its body's choice.
    let (v, _) = json_run(&["corpus/airflow/data_quality_gate.py", "--runner", "python"]);
    let state = |node: &str| json_field(&v, node, "state");
    assert_eq!(state("incremental_load"), "success");
    assert_eq!(state("full_reload"), "skipped");
}

#[test]
fn the_python_runner_passes_each_consumer_its_named_output() {
    // An asset of a multi-asset is its own output of the shared function, not the whole tuple.
    let (v, code) = json_run(&[
        "corpus/dagster/marketing_attribution.py",
        "--runner",
        "python",
        "--pipeline",
        "attribution_job",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        json_field(&v, "budget_recommendation", "output"),
        serde_json::json!({"email": 0.67, "search": 0.33})
    );
    // A port that returns the outputs as a dict: each consumer reads its key.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    orchmig()
        .args([
            "port",
            "corpus/dagster/fulfilment_ops.py",
            "--to",
            "prefect",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let ported = out.join("fulfilment_ops.py");
    let (v, code) = json_run(&[ported.to_str().unwrap(), "--runner", "python"]);
    assert_eq!(code, 0, "{v}");
    let countries = |node: &str| {
        json_field(&v, node, "output")
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["country"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(countries("pack_orders"), ["FR", "FR"]);
    assert_eq!(countries("pack_orders_2"), ["US"]);
}

#[test]
fn the_python_runner_records_tracebacks_and_kills_hung_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flaky.py");
    std::fs::write(
        &path,
        r#"import time

from prefect import flow, task


@task(retries=1)
def boom() -> int:
    raise ValueError("bad row 7")


@task(timeout_seconds=1)
def hang() -> int:
    time.sleep(120)
    return 1


@task
def fine() -> int:
    return 41 + 1


@flow
def flaky():
    # Submitted: a direct call's failure would stop the flow before the others.
    boom.submit()
    hang.submit()
    fine.submit()
"#,
    )
    .unwrap();
    let (v, code) = json_run(&[path.to_str().unwrap(), "--runner", "python"]);
    // No failure of a submitted task reaches the flow body: Prefect completes the flow.
    assert_eq!((v["state"].as_str(), code), (Some("success"), 0), "{v}");
    let rec = |node: &str| {
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["node"] == node)
            .unwrap()
            .clone()
    };
    assert_eq!(rec("boom")["state"], "failed");
    assert_eq!(rec("boom")["attempts"], 2);
    let tb = rec("boom")["error"].as_str().unwrap().to_string();
    assert!(
        tb.contains("Traceback") && tb.contains("ValueError: bad row 7"),
        "{tb}"
    );
    assert_eq!(rec("hang")["state"], "failed");
    assert!(
        rec("hang")["error"]
            .as_str()
            .unwrap()
            .contains("killed at its timeout")
    );
    assert_eq!(rec("hang")["end"], 1.0); // the virtual clock stops it at its 1 s timeout
    // The worker was restarted after the kill and the rest still ran.
    assert_eq!(rec("fine")["output"], 42);
}

#[test]
fn schedule_preview_lists_run_times_in_the_pipeline_zone() {
    let out = orchmig()
        .args([
            "run",
            "corpus/airflow/finance_reconciliation.py",
            "--schedule-preview",
            "3",
            "--from",
            "2024-03-29",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["timezone"], "Europe/Paris");
    // 0 22 * * 1-5 in Paris: Friday 29 March, then Monday 1 April (after the DST change).
    assert_eq!(
        v["runs"],
        serde_json::json!([
            "2024-03-29T22:00:00+01:00",
            "2024-04-01T22:00:00+02:00",
            "2024-04-02T22:00:00+02:00"
        ])
    );
    orchmig()
        .args([
            "run",
            "corpus/prefect/quality_gate.py",
            "--schedule-preview",
            "2",
            "--from",
            "2024-01-01",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("2024-01-01 01:00"));
    orchmig()
        .args([
            "run",
            "corpus/airflow/sensor_gated_load.py",
            "--schedule-preview",
            "2",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not time-scheduled"));
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        vec!["run", "corpus/airflow/orders_etl.py", "--fail", "nope"],
        vec!["run", "corpus/airflow"],
        vec!["run", "corpus/airflow/missing.py"],
        vec![
            "run",
            "corpus/dagster/orders_daily.py",
            "--backfill",
            "2024-03-01",
        ],
        vec![
            "run",
            "corpus/dagster/orders_daily.py",
            "--partition",
            "yesterday",
        ],
        vec!["run", "corpus/dagster/feature_store.py"],
        vec!["run", "corpus/airflow/orders_etl.py", "--runner", "luigi"],
        vec![
            "run",
            "corpus/airflow/orders_etl.py",
            "--resume",
            "Cargo.toml",
        ],
        vec!["run", "tests/bad/cycle.py"],
    ] {
        orchmig().args(&args).assert().code(2);
    }
    orchmig()
        .args([
            "run",
            "corpus/dagster/feature_store.py",
            "--pipeline",
            "scoring_job",
            "--partition",
            "v7",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("v7"));
}

/// `--set-output` forces a step's result with any runner: a branch's choice skips the other arm,
/// a short-circuit's false skips everything below it, and a Prefect `if` over a forced result or
/// a parameter's default is decided by the dry runner too (it ran every conditioned step).
#[test]
fn forced_outputs_drive_branches_and_conditions_in_the_dry_runner() {
    let ml = read("corpus/airflow/ml_training.py");
    let p = &ml.pipelines[0];
    for (choice, ran, skipped) in [
        ("keep_champion", "keep_champion", "promote_model"),
        ("promote_model", "promote_model", "keep_champion"),
    ] {
        let args = RunArgs {
            set_output: vec![format!("compare_to_champion=\"{choice}\"")],
            ..RunArgs::default()
        };
        let t = dry(&ml, p, &args);
        assert_eq!(record(&t, ran).state, State::Success, "{choice}");
        assert_eq!(record(&t, skipped).state, State::Skipped, "{choice}");
        // The join after the arms runs whichever arm ran (none_failed_min_one_success).
        assert_eq!(record(&t, "notify_ml_team").state, State::Success);
    }

    let gate = read("corpus/airflow/data_quality_gate.py");
    let args = RunArgs {
        set_output: vec!["batch_is_balanced=false".into()],
        ..RunArgs::default()
    };
    let t = dry(&gate, &gate.pipelines[0], &args);
    for below in ["choose_load_mode", "full_reload", "incremental_load"] {
        assert_eq!(record(&t, below).state, State::Skipped, "{below}");
    }

    let q = read("corpus/prefect/quality_gate.py");
    let p = &q.pipelines[0];
    let ok = |v: &str| RunArgs {
        set_output: vec![format!("validate={{\"ok\": {v}, \"bad\": []}}")],
        ..RunArgs::default()
    };
    let t = dry(&q, p, &ok("true"));
    assert_eq!(record(&t, "publish").state, State::Success);
    assert_eq!(record(&t, "quarantine").state, State::Skipped);
    let t = dry(&q, p, &ok("false"));
    assert_eq!(record(&t, "publish").state, State::Skipped);
    assert_eq!(record(&t, "quarantine").state, State::Success);
    // `if strict:` with the default False.
    assert_eq!(record(&t, "notify_owner").state, State::Skipped);
    // Unknown results: the step runs, as before.
    let t = dry(&q, p, &RunArgs::default());
    assert_eq!(record(&t, "publish").state, State::Success);
    assert_eq!(record(&t, "quarantine").state, State::Success);

    // A spec that is not NODE=JSON is a usage error naming the flag.
    orchmig()
        .args([
            "run",
            "corpus/airflow/ml_training.py",
            "--set-output",
            "compare_to_champion=keep",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--set-output"));
}

#[test]
fn each_framework_decides_the_final_state_of_a_run_with_a_failed_step() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    // Prefect: a submitted task's failure that the body never resolves leaves the flow
    // COMPLETED; a direct call's failure raises in the body and fails it.
    let prefect = write(
        "flows.py",
        "from prefect import flow, task\n@task\ndef probe(): return 1\n@task\ndef tally(): return 2\n@flow\ndef quiet():\n    probe.submit()\n    tally()\n@flow\ndef loud():\n    probe()\n    tally()\n",
    );
    let (v, code) = json_run(&[&prefect, "--pipeline", "quiet", "--fail", "probe"]);
    assert_eq!((v["state"].as_str(), code), (Some("success"), 0), "{v}");
    // The table's summary says why a run with a failed step succeeded.
    orchmig()
        .args(["run", &prefect, "--pipeline", "quiet", "--fail", "probe"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "quiet: success (no failure reached the flow body) — ",
        ));
    let (v, code) = json_run(&[&prefect, "--pipeline", "loud", "--fail", "probe"]);
    assert_eq!((v["state"].as_str(), code), (Some("failed"), 1), "{v}");
    // …and Prefect makes no run after it: `tally` never ran.
    let tally = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == "tally")
        .unwrap();
    assert_eq!(tally["state"], "upstream_failed", "{v}");
    // Airflow: the leaves decide; a leaf that runs after the failure and succeeds makes the
    // DAG run succeed.
    let airflow = write(
        "dag.py",
        "from airflow.sdk import dag, task\n@dag(schedule=None)\ndef d():\n    @task\n    def work(): return 1\n    @task(trigger_rule='all_done')\n    def cleanup(): return 2\n    work() >> cleanup()\nd()\n",
    );
    let (v, code) = json_run(&[&airflow, "--fail", "work"]);
    assert_eq!((v["state"].as_str(), code), (Some("success"), 0), "{v}");
    // Dagster: any failed step fails the run.
    let dagster = write(
        "assets.py",
        "import dagster as dg\n@dg.asset\ndef raw(): return 1\n@dg.asset\ndef other(): return 2\n",
    );
    let (v, code) = json_run(&[&dagster, "--fail", "raw"]);
    assert_eq!((v["state"].as_str(), code), (Some("failed"), 1), "{v}");
}
