//! Which steps ran, in the real frameworks: a source pipeline and its port, each run with no fault
//! and with one injected failure, compared step by step and excused only where `orchmig verify`
//! declares the same difference.
//!
//! - The failed step of a pipeline ([`fault_step`]) is chosen from orchmig's IR of the source, and
//!   the port fails the step verify pairs with it (`verify::compare::match_nodes`); the plan the
//!   check scripts read is [`file_plan`] (its format and how each framework fails a step:
//!   tests/conformance/faults.py).
//! - A step's outcome ([`Step`]) is success, failed, or not run (skipped, upstream failed, never
//!   called); a mapped step or a step of several calls failed when one of its runs failed, else
//!   succeeded when one succeeded; a Prefect flow retried is its last attempt. [`run_of`] reads
//!   them from a check script's entry.
//! - [`compare`] lists every step of the source whose outcome differs in the port (a step the port
//!   does not have is "absent"), then the pipeline's final state; a step difference is declared
//!   when verify's run of the same scenario (no fault, or `--fail` the same step) lists a
//!   declared `trace` or `nodes` difference about that step, and a final state difference is
//!   declared when it comes with step differences that are all declared, or when verify declares
//!   its own final state difference for the run (`trap.final_state`).

use std::collections::{BTreeMap, BTreeSet};

use orchmig::ir::{Node, NodeKind, Pipeline, SourceFile, tests_run_states};
use orchmig::verify::compare::{match_nodes, match_pipelines};
use serde_json::{Value as Json, json};

use crate::support::prefect::call_owners;

/// What a step did in one run, as compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// It ran and succeeded (retries included).
    Success,
    /// It ran and failed.
    Failed,
    /// It did not run: skipped, upstream failed, or never called.
    NotRun,
}

impl Step {
    /// The word used in reports.
    pub fn label(self) -> &'static str {
        match self {
            Step::Success => "success",
            Step::Failed => "failed",
            Step::NotRun => "not run",
        }
    }

    /// The outcome of several runs of one step (map indices, calls): failed when one failed,
    /// else success when one succeeded.
    fn merge(self, other: Step) -> Step {
        match (self, other) {
            (Step::Failed, _) | (_, Step::Failed) => Step::Failed,
            (Step::Success, _) | (_, Step::Success) => Step::Success,
            _ => Step::NotRun,
        }
    }
}

/// One pipeline's run: whether it ended in success, and each step's outcome by node id.
#[derive(Debug, Clone)]
pub struct Run {
    /// The pipeline's final state was success (Airflow run state, Dagster run success, Prefect
    /// COMPLETED).
    pub succeeded: bool,
    /// Outcome by the run's own node ids.
    pub steps: BTreeMap<String, Step>,
}

/// Which scenario a comparison is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Every step runs as written.
    None,
    /// The pipeline's [`fault_step`] fails on every attempt.
    Injected,
}

impl Fault {
    /// Both scenarios, in report order.
    pub const ALL: [Fault; 2] = [Fault::None, Fault::Injected];

    /// The column name.
    pub fn label(self) -> &'static str {
        match self {
            Fault::None => "no fault",
            Fault::Injected => "injected failure",
        }
    }
}

/// Node indices in topological order, ties broken by node order (the order orchmig read them).
fn topological(p: &Pipeline) -> Vec<usize> {
    let index: BTreeMap<&str, usize> = p
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut indegree = vec![0usize; p.nodes.len()];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); p.nodes.len()];
    for e in &p.edges {
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
            down[a].push(b);
            indegree[b] += 1;
        }
    }
    let mut ready: BTreeSet<usize> = (0..p.nodes.len()).filter(|&i| indegree[i] == 0).collect();
    let mut out = Vec::new();
    while let Some(i) = ready.pop_first() {
        out.push(i);
        for &j in &down[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.insert(j);
            }
        }
    }
    out
}

/// Whether a step's outcome depends on how an upstream ended, not only on its success: a trigger
/// rule other than all_success (Prefect `allow_failure`, an `except` handler), or a condition
/// testing `upstream`'s run state.
fn failure_sensitive(d: &Node, upstream: &str) -> bool {
    d.trigger_rule
        .as_deref()
        .is_some_and(|r| r != "all_success")
        || (d.condition.as_deref().is_some_and(tests_run_states)
            && d.condition_reads.values().any(|v| v == upstream))
}

/// The step to fail in a pipeline: the first, in topological order, with a downstream step that
/// is [`failure_sensitive`] to it; else the first with a downstream step; else the first step
/// (a pipeline of one step). External assets are never chosen, and no-op steps (Airflow
/// `EmptyOperator`, which a scheduler marks successful without running it, and which ports
/// drop) only when there is nothing else.
pub fn fault_step(p: &Pipeline) -> Option<String> {
    let order: Vec<&Node> = topological(p)
        .into_iter()
        .map(|i| &p.nodes[i])
        .filter(|n| n.kind != NodeKind::ExternalAsset && !n.is_generated())
        .collect();
    // An async Prefect task called several times at once (`asyncio.gather` over calls: `t`,
    // `t-2`, …) cannot be failed alone (the harness counts calls, which run concurrently), and
    // a flow's own code (a generated step) is no task run: neither is chosen.
    let repeated = |n: &Node| {
        p.framework == Some(orchmig::ir::Framework::Prefect)
            && n.callable.as_ref().is_some_and(|c| c.is_async)
            && p.nodes.iter().any(|o| {
                o.id != n.id
                    && o.callable.as_ref().map(|c| &c.name) == n.callable.as_ref().map(|c| &c.name)
            })
    };
    let real: Vec<&Node> = order
        .iter()
        .copied()
        .filter(|n| n.kind != NodeKind::Empty && !n.is_generated() && !repeated(n))
        .collect();
    let steps = if real.is_empty() { order } else { real };
    let downstream = |id: &str| -> Vec<&Node> {
        p.edges
            .iter()
            .filter(|e| e.from == id)
            .filter_map(|e| p.nodes.iter().find(|n| n.id == e.to))
            .collect()
    };
    let sensitive = |n: &&&Node| {
        downstream(&n.id)
            .iter()
            .any(|d| failure_sensitive(d, &n.id))
            || p.nodes.iter().any(|d| {
                d.condition_reads.values().any(|v| *v == n.id) && failure_sensitive(d, &n.id)
            })
    };
    steps
        .iter()
        .find(sensitive)
        .or_else(|| steps.iter().find(|n| !downstream(&n.id).is_empty()))
        .or(steps.first())
        .map(|n| n.id.clone())
}

/// The steps a comparison covers: every step but external assets (which no run executes) and,
/// in a Prefect source, the steps orchmig generated from the flow's own code (which runs in the
/// flow, not as a task run the framework records).
fn compared(p: &Pipeline) -> impl Iterator<Item = &Node> {
    let prefect = p.framework == Some(orchmig::ir::Framework::Prefect);
    p.nodes
        .iter()
        .filter(move |n| n.kind != NodeKind::ExternalAsset && !(prefect && n.is_generated()))
}

/// The plan of one file for the check scripts (tests/conformance/faults.py): for each pipeline of
/// `port` that stands for a pipeline of `source`, its steps and the step to fail (the port's
/// counterpart of the source's [`fault_step`]; none when the port has no counterpart).
pub fn file_plan(source: &SourceFile, port: &SourceFile) -> Json {
    let mut out = serde_json::Map::new();
    for (i, j) in match_pipelines(source, port) {
        let Some(j) = j else { continue };
        let (p, q) = (&source.pipelines[i], &port.pipelines[j]);
        let m = match_nodes(p, q);
        let fail = fault_step(p)
            .and_then(|s| m.port_id(p, q, &s).map(str::to_string))
            .and_then(|id| q.nodes.iter().find(|n| n.id == id))
            .map(|n| {
                let function = n.callable.as_ref().map(|c| c.name.clone());
                // Which call of its site the step is (steps of one site are numbered in call
                // order); a step read from a loop over a run-time value is every call.
                let site = |o: &&Node| {
                    o.callable.as_ref().map(|c| &c.name) == function.as_ref()
                        && (o.span.line, o.span.end_line) == (n.span.line, n.span.end_line)
                };
                let ordinal = q.nodes.iter().filter(site).position(|o| o.id == n.id);
                let ordinal = ordinal
                    .filter(|_| !n.extra.contains_key("dynamic_loop"))
                    .map(|i| i + 1);
                json!({
                    "id": n.id,
                    "function": function,
                    "lines": [n.span.line, n.span.end_line],
                    "ordinal": ordinal,
                })
            });
        let nodes: Vec<&str> = compared(q).map(|n| n.id.as_str()).collect();
        out.insert(q.id.clone(), json!({"nodes": nodes, "fail": fail}));
    }
    Json::Object(out)
}

/// An Airflow task instance state as a [`Step`].
fn airflow_step(state: &str) -> Step {
    match state {
        "success" => Step::Success,
        "failed" => Step::Failed,
        _ => Step::NotRun,
    }
}

/// A Prefect state type as a [`Step`].
fn prefect_step(state: &str) -> Step {
    match state {
        "COMPLETED" => Step::Success,
        "FAILED" | "CRASHED" => Step::Failed,
        _ => Step::NotRun,
    }
}

/// A Dagster step, asset or hook outcome as a [`Step`].
fn dagster_step(state: &str) -> Step {
    match state {
        "success" => Step::Success,
        "failed" => Step::Failed,
        _ => Step::NotRun,
    }
}

/// Pipeline `p`'s run as a check script of `framework` reported it in a file's `entry`, from the
/// ordinary pass or the one with injected failures; why not, when it has none.
pub fn run_of(framework: &str, entry: &Json, fault: Fault, p: &Pipeline) -> Result<Run, String> {
    let scope = match fault {
        Fault::None => entry,
        Fault::Injected => &entry["faulted"],
    };
    if let Some(e) = scope["error"].as_str().filter(|_| fault == Fault::Injected) {
        return Err(format!("the run with a failure did not happen: {e}"));
    }
    let mut steps = BTreeMap::new();
    let succeeded = match framework {
        "airflow" => {
            let run = &scope["runs"][&p.id];
            if run.is_null() {
                return Err(format!("Airflow reports no run of DAG {}", p.id));
            }
            let tasks = run["tasks"].as_object().cloned().unwrap_or_default();
            for n in compared(p) {
                let mapped = format!("{}[", n.id);
                let step = tasks
                    .iter()
                    .filter(|(k, _)| *k == &n.id || k.starts_with(&mapped))
                    .map(|(_, s)| airflow_step(s.as_str().unwrap_or("")))
                    .reduce(Step::merge)
                    .unwrap_or(Step::NotRun);
                steps.insert(n.id.clone(), step);
            }
            run["state"].as_str() == Some("success")
        }
        "dagster" => {
            let jobs = match fault {
                Fault::None => &scope["materialize"]["jobs"],
                Fault::Injected => &scope["jobs"],
            };
            let run = &jobs[&p.id];
            if run.is_null() {
                return Err(format!("Dagster reports no run of {}", p.id));
            }
            for n in compared(p) {
                let found = [
                    &run["assets"][&n.id],
                    &run["steps"][&n.id],
                    &run["hooks"][&n.id],
                ]
                .into_iter()
                .find_map(Json::as_str);
                steps.insert(n.id.clone(), found.map_or(Step::NotRun, dagster_step));
            }
            run["state"].as_str() == Some("success")
        }
        _ => {
            let flow = &scope["flows"][&p.id];
            if flow.is_null() {
                return Err(format!("Prefect reports no run of flow {}", p.id));
            }
            // A flow retry runs the body again: the calls of its last attempt are the run.
            let calls = flow["calls"].as_array().cloned().unwrap_or_default();
            let last = calls.iter().filter_map(|c| c["attempt"].as_u64()).max();
            let calls: Vec<Json> = calls
                .into_iter()
                .filter(|c| c["attempt"].as_u64() == last)
                .collect();
            let owners = call_owners(p, &calls);
            for n in compared(p) {
                steps.insert(n.id.clone(), Step::NotRun);
            }
            for (c, owner) in calls.iter().zip(owners) {
                let Some(i) = owner else { continue };
                let id = &p.nodes[i].id;
                for s in c["states"].as_array().into_iter().flatten() {
                    let step = prefect_step(s.as_str().unwrap_or(""));
                    let e = steps.entry(id.clone()).or_insert(Step::NotRun);
                    *e = e.merge(step);
                }
            }
            flow["state"].as_str() == Some("COMPLETED")
        }
    };
    Ok(Run { succeeded, steps })
}

/// One difference between what a source's run and its port's run did.
#[derive(Debug, Clone)]
pub struct Diff {
    /// The source step id, or `final state`.
    pub subject: String,
    /// What the source did.
    pub source: String,
    /// What the port did (`absent`: the port has no such step).
    pub port: String,
    /// What verify says about the subject in the same scenario, when it declares it.
    pub declared_by: Option<String>,
}

/// The step a verify subject is about: `step`, `step@partition`, `step[i]`, `step::inner`.
fn subject_step(subject: &str) -> &str {
    let cut = [subject.find('['), subject.find('@'), subject.find("::")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(subject.len());
    &subject[..cut]
}

/// verify's declared `trace` or `nodes` differences about `step` in its asked run (no `when …:`
/// scenario label), joined.
fn declared(verify: &[Json], step: &str) -> Option<String> {
    let words: Vec<String> = verify
        .iter()
        .filter(|d| d["declared"].as_bool() == Some(true))
        .filter(|d| matches!(d["aspect"].as_str(), Some("trace" | "nodes")))
        .filter(|d| !d["detail"].as_str().unwrap_or("").starts_with("when "))
        .filter(|d| subject_step(d["subject"].as_str().unwrap_or("")) == step)
        .map(|d| {
            format!(
                "{}: {}",
                d["subject"].as_str().unwrap_or(""),
                d["detail"].as_str().unwrap_or("")
            )
        })
        .collect();
    (!words.is_empty()).then(|| words.join("; "))
}

/// Every difference between source pipeline `p`'s run `a` and its port `q`'s run `b`, each with
/// what verify (its differences for the same scenario) declares about it.
pub fn compare(p: &Pipeline, q: &Pipeline, a: &Run, b: &Run, verify: &[Json]) -> Vec<Diff> {
    let m = match_nodes(p, q);
    let mut out = Vec::new();
    for n in compared(p) {
        let sa = a.steps.get(&n.id).copied().unwrap_or(Step::NotRun);
        let sb = m
            .port_id(p, q, &n.id)
            .map(|id| b.steps.get(id).copied().unwrap_or(Step::NotRun));
        // A Dagster asset whose early-return test did not hold materialised None without doing
        // its work (what the port's row says): as run, it is the source's skipped step.
        let guarded = q.framework == Some(orchmig::ir::Framework::Dagster)
            && m.port_id(p, q, &n.id)
                .and_then(|id| q.nodes.iter().find(|x| x.id == id))
                .is_some_and(|x| x.condition.is_some());
        let differs = match sb {
            Some(Step::Success) if guarded && sa == Step::NotRun => false,
            Some(sb) => sb != sa,
            None => sa != Step::NotRun,
        };
        if differs {
            out.push(Diff {
                subject: n.id.clone(),
                source: sa.label().into(),
                port: sb.map_or("absent", Step::label).into(),
                declared_by: declared(verify, &n.id),
            });
        }
    }
    if a.succeeded != b.succeeded {
        let all_declared = !out.is_empty() && out.iter().all(|d| d.declared_by.is_some());
        let state = |ok: bool| if ok { "success" } else { "failed" };
        // verify's own final-state difference for the same run, declared (trap.final_state).
        let verify_says = verify.iter().find(|d| {
            d["declared"].as_bool() == Some(true)
                && d["aspect"].as_str() == Some("final_state")
                && !d["detail"].as_str().unwrap_or("").starts_with("when ")
        });
        out.push(Diff {
            subject: "final state".into(),
            source: state(a.succeeded).into(),
            port: state(b.succeeded).into(),
            declared_by: if all_declared {
                Some("follows from the declared step differences".into())
            } else {
                verify_says.map(|d| format!("final state: {}", d["detail"].as_str().unwrap_or("")))
            },
        });
    }
    out
}

/// The differences verify lists for each pipeline (by source pipeline id) in its JSON output.
pub fn verify_differences(verify: &Json) -> BTreeMap<String, Vec<Json>> {
    verify["pipelines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["pipeline"].as_str().unwrap_or("").to_string(),
                p["differences"].as_array().cloned().unwrap_or_default(),
            )
        })
        .collect()
}
