//! Honest ports (issue 17): every row that claims a construct was ported points at an existing,
//! non-blank, non-comment line of the generated file, and the false rows the issue lists (run
//! tags, concurrency limits and work queues, owners that were never written) stay gone.

use orchmig::emit::{Target, port_file};
use orchmig::report::{Entry, Fidelity, Ledger, Translations};

mod support;
use support::corpus;

/// Every corpus file ported to every framework: (source path, target, text, ledgers).
fn ports() -> Vec<(String, Target, String, Vec<Ledger>)> {
    let table = Translations::builtin().unwrap();
    let mut out = Vec::new();
    for f in corpus() {
        for t in ["airflow", "dagster", "prefect"] {
            let t = Target::parse(t).unwrap();
            let (text, ledgers) = port_file(&f, t, &table)
                .unwrap_or_else(|e| panic!("{} → {}: {e}", f.path, t.label()));
            out.push((f.path.clone(), t, text, ledgers));
        }
    }
    out
}

/// The generated line a claimed entry points at.
fn output_line<'t>(text: &'t str, e: &Entry) -> Option<&'t str> {
    let o = e.output.as_ref()?;
    text.lines()
        .nth(usize::try_from(o.line).ok()?.checked_sub(1)?)
}

/// The claimed (non-`none`) entries of a port.
fn claims(ledgers: &[Ledger]) -> impl Iterator<Item = &Entry> {
    ledgers
        .iter()
        .flat_map(|l| &l.entries)
        .filter(|e| e.fidelity != Fidelity::None)
}

#[test]
fn every_claimed_row_points_at_a_line_of_code_in_the_output() {
    let mut bad = Vec::new();
    let mut checked = 0;
    for (path, t, text, ledgers) in ports() {
        let file = std::path::Path::new(&path)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        for e in claims(&ledgers) {
            let what = format!(
                "{path} → {}: {} `{}` {}",
                t.label(),
                e.code,
                e.construct,
                e.subject
            );
            let Some(o) = &e.output else {
                bad.push(format!("{what}: no output"));
                continue;
            };
            if o.path != file {
                bad.push(format!("{what}: points into {} not {file}", o.path));
            }
            match output_line(&text, e).map(str::trim) {
                None => bad.push(format!("{what}: line {} is past the end", o.line)),
                Some("") => bad.push(format!("{what}: line {} is blank", o.line)),
                Some(l) if l.starts_with('#') => {
                    bad.push(format!("{what}: line {} is a comment: {l}", o.line))
                }
                Some(_) => checked += 1,
            }
        }
    }
    assert!(
        checked > 1000,
        "only {checked} claimed rows in the corpus ports"
    );
    assert!(
        bad.is_empty(),
        "rows that point at no code:\n{}",
        bad.join("\n")
    );
}

/// Asserts that every claimed row of `code` in ports to `target` points at a line that has
/// `text`, and that the corpus has such a construct in a port to `target` at all.
fn claims_only_what_is_written(target: &str, code: &str, text: &str) {
    let mut seen = 0;
    let mut bad = Vec::new();
    for (path, t, out, ledgers) in ports() {
        if t.framework.id() != target {
            continue;
        }
        seen += ledgers
            .iter()
            .flat_map(|l| &l.entries)
            .filter(|e| e.code == code)
            .count();
        for e in claims(&ledgers).filter(|e| e.code == code) {
            let line = output_line(&out, e).unwrap_or("");
            if !line.contains(text) || !out.contains(text) {
                bad.push(format!(
                    "{path}: {code} {} claims `{text}` at `{line}`",
                    e.subject
                ));
            }
        }
    }
    assert!(
        seen > 0,
        "no {code} construct in any port to {target}: the test checks nothing"
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn dagster_ports_claim_no_max_runtime_tag_they_do_not_write() {
    claims_only_what_is_written("dagster", "OM066", "dagster/max_runtime");
}

#[test]
fn dagster_ports_claim_no_priority_tag_they_do_not_write() {
    claims_only_what_is_written("dagster", "OM070", "dagster/priority");
}

#[test]
fn prefect_ports_claim_no_concurrency_limit_they_do_not_write() {
    claims_only_what_is_written("prefect", "OM068", "concurrency");
}

#[test]
fn prefect_ports_claim_no_work_queue_they_do_not_write() {
    claims_only_what_is_written("prefect", "OM071", "work_queue");
}

#[test]
fn dagster_ports_claim_owners_only_where_owners_is_written() {
    for code in ["OM004", "OM072"] {
        let mut bad = Vec::new();
        for (path, t, out, ledgers) in ports() {
            if t.framework.id() != "dagster" {
                continue;
            }
            for e in claims(&ledgers).filter(|e| e.code == code && e.fidelity == Fidelity::Exact) {
                let line = output_line(&out, e).unwrap_or("");
                if !line.contains("owners=") {
                    bad.push(format!("{path}: {code} {} exact at `{line}`", e.subject));
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

/// Branches (issue 17's "a plain Python if in the flow" / "optional outputs" rows): a Prefect
/// port claims one only where its flow takes the result and an `if` reads it; a Dagster port only
/// where an asset below the branch returns early on its result.
#[test]
fn dagster_and_prefect_ports_claim_only_the_branches_they_write() {
    let mut seen = 0;
    let mut bad = Vec::new();
    for (path, t, text, ledgers) in ports() {
        if t.framework.id() == "airflow" {
            continue;
        }
        for e in ledgers
            .iter()
            .flat_map(|l| &l.entries)
            .filter(|e| matches!(e.construct.as_str(), "node.branch" | "node.short_circuit"))
        {
            seen += 1;
            // A Prefect port tests the branch's result in the flow: the row points at the line
            // that takes it, and an `if` reads that local.
            let written = t.framework.id() == "prefect"
                && e.output.as_ref().is_some_and(|o| {
                    let line = text.lines().nth(o.line as usize - 1).unwrap_or("");
                    line.trim_start()
                        .split_once("_choice = ")
                        .is_some_and(|(stem, _)| {
                            text.contains(&format!("if {stem}_choice"))
                                || text.contains(&format!("and {stem}_choice"))
                                || text.contains(&format!("isinstance({stem}_choice"))
                        })
                });
            // A Dagster port tests the branch's result at the top of each asset below it: the
            // row points at the branch asset, and another asset returns early on its value.
            let tested = t.framework.id() == "dagster"
                && e.output.as_ref().is_some_and(|o| {
                    let name = text
                        .lines()
                        .skip(o.line as usize - 1)
                        .find_map(|l| l.strip_prefix("def "))
                        .and_then(|l| l.split('(').next())
                        .unwrap_or("");
                    !name.is_empty()
                        && [
                            format!("if not {name}:"),
                            format!("if {name} != "),
                            format!("if {name} not in "),
                            format!("_chosen({name}, "),
                            format!("_chosen(\n        {name}, "),
                        ]
                        .iter()
                        .any(|test| text.contains(test.as_str()))
                });
            if e.fidelity != Fidelity::None && !written && !tested {
                bad.push(format!(
                    "{path} → {}: {} {} {:?}",
                    t.label(),
                    e.construct,
                    e.subject,
                    e.fidelity
                ));
            }
        }
    }
    assert!(seen > 0, "no branch in any port: the test checks nothing");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The `def` names of a generated module whose whole body is `pass`.
fn empty_functions(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let head = l.trim_start();
        let Some(rest) = head
            .strip_prefix("def ")
            .or_else(|| head.strip_prefix("async def "))
        else {
            continue;
        };
        let indent = l.len() - head.len();
        // The signature may span lines: the body starts after the line ending with ':'.
        let Some(end) = (i..lines.len()).find(|&j| lines[j].trim_end().ends_with(':')) else {
            continue;
        };
        let body: Vec<&str> = lines[end + 1..]
            .iter()
            .take_while(|b| b.trim().is_empty() || b.len() - b.trim_start().len() > indent)
            .map(|b| b.trim())
            .filter(|b| !b.is_empty() && !b.starts_with('#'))
            .collect();
        if body == ["pass"] {
            out.push(rest.split('(').next().unwrap_or(rest).to_string());
        }
    }
    out
}

/// Honesty over coverage: no corpus port has a step whose body is only `pass` unless the
/// source's own function was only `pass` (an operator with no port raises instead).
#[test]
fn no_port_leaves_a_step_empty_that_the_source_did_not() {
    let table = Translations::builtin().unwrap();
    let mut bad = Vec::new();
    for f in corpus() {
        let written_empty = f
            .pipelines
            .iter()
            .flat_map(|p| &p.nodes)
            .filter_map(|n| n.callable.as_ref())
            .filter(|c| c.body.trim() == "pass")
            .count();
        for t in ["airflow", "dagster", "prefect"] {
            let t = Target::parse(t).unwrap();
            let (text, _) = port_file(&f, t, &table).unwrap();
            let empty = empty_functions(&text);
            if empty.len() > written_empty {
                bad.push(format!("{} → {}: {empty:?}", f.path, t.label()));
            }
        }
    }
    assert!(bad.is_empty(), "empty steps:\n{}", bad.join("\n"));
}

/// A DAG with an operator no writer ports (a provider SQL operator and a trigger).
const UNPORTED: &str = r#"from airflow.sdk import DAG
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

with DAG(dag_id="nightly_sql", schedule=None):
    load = SQLExecuteQueryOperator(
        task_id="load", conn_id="warehouse", sql="INSERT INTO t SELECT 1", autocommit=True
    )
    kick = TriggerDagRunOperator(task_id="kick", trigger_dag_id="report")
    load >> kick
"#;

#[test]
fn an_operator_without_a_port_raises_naming_its_class_and_arguments() {
    let table = Translations::builtin().unwrap();
    let file = orchmig::frontend::read_source("dags/nightly_sql.py", UNPORTED);
    assert_eq!(file.pipelines[0].nodes.len(), 2, "{:?}", file.diagnostics);
    for t in ["dagster", "prefect"] {
        let t = Target::parse(t).unwrap();
        let (text, ledgers) = port_file(&file, t, &table).unwrap();
        assert!(
            text.contains(
                "orchmig has no port of SQLExecuteQueryOperator(autocommit=True, conn_id=\"warehouse\", sql=\"INSERT INTO t SELECT 1\")"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "orchmig has no port of TriggerDagRunOperator(trigger_dag_id=\"report\")"
            ),
            "{text}"
        );
        assert_eq!(
            text.matches("raise NotImplementedError(").count(),
            2,
            "{text}"
        );
        assert!(empty_functions(&text).is_empty(), "{text}");
        // Neither step is claimed: every row about them is `none`, with what to do.
        let rows: Vec<&Entry> = ledgers
            .iter()
            .flat_map(|l| &l.entries)
            .filter(|e| e.subject == "load" || e.subject == "kick")
            .collect();
        assert!(rows.len() >= 2, "{rows:?}");
        for e in rows {
            assert_eq!(
                e.fidelity,
                Fidelity::None,
                "{} → {}: {e:?}",
                t.label(),
                e.construct
            );
        }
        assert!(
            ledgers
                .iter()
                .flat_map(|l| &l.entries)
                .any(|e| e.subject == "kick"
                    && e.construct == "node.trigger"
                    && e.note.contains("raises NotImplementedError"))
        );
    }
}

/// A DAG made of no-op steps only has nothing Dagster can run: the port writes no asset, op or
/// job for it, and its pipeline row is `none` (it claimed "a job per pipeline" at an empty
/// `dg.Definitions()`).
#[test]
fn a_pipeline_the_dagster_port_writes_nothing_of_is_not_claimed() {
    let src = "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n\nwith DAG(dag_id=\"skeleton\", schedule=None):\n    EmptyOperator(task_id=\"start\") >> EmptyOperator(task_id=\"end\")\n";
    let file = orchmig::frontend::read_source("dags/skeleton.py", src);
    let table = Translations::builtin().unwrap();
    let (text, ledgers) = port_file(&file, Target::parse("dagster").unwrap(), &table).unwrap();
    assert!(!text.contains("define_asset_job"), "{text}");
    let row = ledgers[0]
        .entries
        .iter()
        .find(|e| e.construct == "pipeline")
        .unwrap();
    assert_eq!(row.fidelity, Fidelity::None, "{row:?}");
    assert!(claims(&ledgers).next().is_none(), "{ledgers:?}");
}

/// Airflow fills a task's context arguments (`ds=None`, `logical_date=None`) at run time; a
/// Prefect port fills them from the flow run's scheduled start and says so (they arrived as
/// `None`, silently).
#[test]
fn airflow_context_arguments_are_filled_in_a_prefect_port() {
    let src = "import pendulum\nfrom airflow.sdk import dag, task\n\n\n@task\ndef report(ds=None, logical_date=None):\n    return f\"{ds} {logical_date}\"\n\n\n@dag(schedule=\"@daily\", start_date=pendulum.datetime(2024, 1, 1), catchup=False)\ndef daily_report():\n    report()\n\n\ndaily_report()\n";
    let file = orchmig::frontend::read_source("dags/daily_report.py", src);
    let table = Translations::builtin().unwrap();
    let (text, ledgers) = port_file(&file, Target::parse("prefect").unwrap(), &table).unwrap();
    assert!(
        text.contains("from prefect.runtime import flow_run"),
        "{text}"
    );
    assert!(
        text.contains(
            "    if ds is None:\n        ds = flow_run.scheduled_start_time.strftime(\"%Y-%m-%d\")"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "    if logical_date is None:\n        logical_date = flow_run.scheduled_start_time"
        ),
        "{text}"
    );
    let row = ledgers[0]
        .entries
        .iter()
        .find(|e| e.construct == "body.context" && e.subject == "report")
        .expect("a row for the filled context arguments");
    assert_eq!(row.fidelity, Fidelity::Approximate, "{row:?}");
    assert!(row.note.contains("`ds`, `logical_date`"), "{row:?}");
}
