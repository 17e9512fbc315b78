//! Verifying a port: port a file in memory, read the port back with the target's reader, compare
//! the IR structure modulo the report's declared losses, then the dry traces under the same
//! faults (and with the python runner the steps' outputs); one verdict per pipeline.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::compare::{self, Difference, NodeMatch};
use crate::emit::{Target, port_file};
use crate::exec::{self, Record, RunArgs, Trace};
use crate::ir::{Pipeline, SourceFile};
use crate::report::{Fidelity, Ledger, Translations};

/// How to verify: the runner, the faults and the mapping width of both runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// `dry` or `python`.
    pub runner: String,
    /// `--fail` specs, in source step ids.
    pub fail: Vec<String>,
    /// `--set-output` specs, in source step ids.
    pub set_output: Vec<String>,
    /// Width of unknown mappings.
    pub map_width: usize,
    /// Only this pipeline.
    pub pipeline: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            runner: "dry".into(),
            fail: Vec::new(),
            set_output: Vec::new(),
            map_width: 3,
            pipeline: None,
        }
    }
}

/// The verdict on one pipeline's port.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// Source file.
    pub source: String,
    /// Source pipeline id.
    pub pipeline: String,
    /// The port's pipeline id, if it was found.
    pub port: Option<String>,
    /// `faithful`, `declared` (faithful modulo declared losses) or `mismatch`.
    pub verdict: String,
    /// The worst class among the pipeline's port report rows (`exact` without rows).
    pub worst: Fidelity,
    /// How many runs of each side were compared: the one asked for, then each branch outcome
    /// and each step failing in turn.
    pub scenarios: usize,
    /// Every difference.
    pub differences: Vec<Difference>,
}

impl Verdict {
    /// Differences the report does not declare.
    pub fn mismatches(&self) -> usize {
        self.differences.iter().filter(|d| !d.declared).count()
    }

    /// A one-line reading of the verdict.
    pub fn sentence(&self) -> String {
        let declared = self.differences.len() - self.mismatches();
        match self.verdict.as_str() {
            "faithful" => "faithful".into(),
            "declared" => format!("faithful modulo {declared} declared difference(s)"),
            _ => format!(
                "MISMATCH: {} undeclared difference(s), {declared} declared",
                self.mismatches()
            ),
        }
    }
}

fn verdict_of(differences: &[Difference]) -> String {
    if differences.is_empty() {
        "faithful".into()
    } else if differences.iter().all(|d| d.declared) {
        "declared".into()
    } else {
        "mismatch".into()
    }
}

/// One pair of runs to compare: faults and forced outputs given to both sides.
#[derive(Debug, Clone, Default)]
struct Scenario {
    /// What the runs were asked to do, for the differences' details; `None` for the run the
    /// command line asked for.
    label: Option<String>,
    fail: Vec<String>,
    set_output: Vec<String>,
    /// The branching step whose outcome the scenario forces: its differences are declared
    /// exactly when the report classes that step's branch `redesign` or `none`.
    branch: Option<String>,
    /// The steps that read the forced step's optional outputs: the scenario's differences are
    /// declared when the report classes their `node.optional_output` rows `redesign` or `none`.
    readers: Vec<String>,
}

/// Whether the report says the behaviour a scenario forces is not kept (`redesign` or `none`):
/// the forced branching step's branch row, or the `node.optional_output` row of a step that
/// reads the forced step's optional outputs.
fn forced_excused(ledger: Option<&Ledger>, branch: &str, readers: &[String]) -> bool {
    ledger.is_some_and(|l| {
        l.entries.iter().any(|e| {
            e.fidelity >= Fidelity::Redesign
                && ((e.subject == branch
                    && matches!(e.construct.as_str(), "node.branch" | "node.short_circuit"))
                    || (e.construct == "node.optional_output" && readers.contains(&e.subject)))
        })
    })
}

/// Most failure scenarios per pipeline (one per step, in source order).
const MAX_FAILURE_SCENARIOS: usize = 100;

/// Most steps plus edges summed over a pipeline's extra scenarios: a pipeline of thousands of
/// steps gets fewer failure scenarios, so verify stays within seconds.
const MATRIX_BUDGET: usize = 100_000;

/// The scenarios of a pipeline: the asked run, each branch outcome (a branch choosing each of
/// its downstream steps, a short-circuit returning false) and each step failing in turn (in
/// source order, as many as the matrix budget leaves room for).
fn scenarios(p: &Pipeline, opts: &Options) -> Vec<Scenario> {
    use crate::ir::NodeKind;
    let mut out = vec![Scenario {
        label: None,
        fail: opts.fail.clone(),
        set_output: opts.set_output.clone(),
        branch: None,
        readers: Vec::new(),
    }];
    for n in &p.nodes {
        match n.kind {
            NodeKind::Branch => {
                let mut arms: Vec<&str> = p
                    .edges
                    .iter()
                    .filter(|e| e.from == n.id)
                    .map(|e| e.to.as_str())
                    .collect();
                arms.sort_unstable();
                arms.dedup();
                for arm in arms {
                    let choice = serde_json::Value::String(arm.to_string());
                    out.push(Scenario {
                        label: Some(format!("when {} chooses {arm}", n.id)),
                        set_output: vec![format!("{}={choice}", n.id)],
                        branch: Some(n.id.clone()),
                        ..Scenario::default()
                    });
                }
            }
            NodeKind::ShortCircuit => out.push(Scenario {
                label: Some(format!("when {} returns false", n.id)),
                set_output: vec![format!("{}=false", n.id)],
                branch: Some(n.id.clone()),
                ..Scenario::default()
            }),
            _ => {}
        }
    }
    out.extend(optional_output_scenarios(p));
    let size = (p.nodes.len() + p.edges.len()).max(1);
    let room = (MATRIX_BUDGET / size).saturating_sub(out.len() - 1);
    out.truncate(1 + (MATRIX_BUDGET / size).min(out.len() - 1));
    for n in p
        .nodes
        .iter()
        .filter(|n| n.kind != crate::ir::NodeKind::ExternalAsset)
        .take(MAX_FAILURE_SCENARIOS.min(room))
    {
        out.push(Scenario {
            label: Some(format!("when {} fails", n.id)),
            fail: vec![n.id.clone()],
            ..Scenario::default()
        });
    }
    out
}

/// The outcomes of each step with optional outputs that something reads (a Dagster op's
/// `Out(is_required=False)`): it yields only one of them (with its required outputs), for each
/// in turn, and, when it has one, none. Its result is a dict by output name.
fn optional_output_scenarios(p: &Pipeline) -> Vec<Scenario> {
    let readers = crate::ir::optional::readers(p);
    if readers.is_empty() {
        return Vec::new();
    }
    // The readers below each producer, in edge order (one pass over the edges).
    let mut below: std::collections::HashMap<&str, Vec<String>> = std::collections::HashMap::new();
    for e in p.edges.iter().filter(|e| readers.contains(e.to.as_str())) {
        below.entry(e.from.as_str()).or_default().push(e.to.clone());
    }
    let mut out = Vec::new();
    for n in p.nodes.iter().filter(|n| !n.optional_outputs.is_empty()) {
        let Some(reading) = below.get(n.id.as_str()).cloned() else {
            continue;
        };
        let required: Vec<&String> = n
            .outputs
            .iter()
            .filter(|o| !n.optional_outputs.contains(o))
            .collect();
        let mut outcomes: Vec<(String, Vec<&String>)> = n
            .optional_outputs
            .iter()
            .map(|o| (format!("when {} yields only {o}", n.id), vec![o]))
            .collect();
        if n.optional_outputs.len() == 1 {
            outcomes.push((
                format!("when {} yields none of its optional outputs", n.id),
                vec![],
            ));
        }
        for (label, yielded) in outcomes {
            let value: serde_json::Map<String, serde_json::Value> = required
                .iter()
                .chain(&yielded)
                .map(|o| ((*o).clone(), serde_json::Value::Array(Vec::new())))
                .collect();
            out.push(Scenario {
                label: Some(label),
                set_output: vec![format!("{}={}", n.id, serde_json::Value::Object(value))],
                branch: Some(n.id.clone()),
                readers: reading.clone(),
                ..Scenario::default()
            });
        }
    }
    out
}

/// A `--set-output` spec with its step renamed as the port names it.
fn translate_set(spec: &str, a: &Pipeline, b: &Pipeline, m: &NodeMatch) -> String {
    match crate::exec::fault::parse_set_output(spec) {
        Ok((node, value)) => match m.port_id(a, b, &node) {
            Some(port) => format!("{port}={value}"),
            None => spec.to_string(),
        },
        Err(_) => spec.to_string(),
    }
}

/// A `--fail` spec with its step renamed as the port names it.
fn translate_fault(spec: &str, a: &Pipeline, b: &Pipeline, m: &NodeMatch) -> String {
    for node in crate::exec::fault::step_of(spec) {
        let (top, rest) = match node.split_once("::") {
            Some((t, r)) => (t.to_string(), format!("::{r}")),
            None => (node.clone(), String::new()),
        };
        if let Some(port) = m.port_id(a, b, &top) {
            return format!("{port}{rest}{}", &spec[node.len()..]);
        }
    }
    spec.to_string()
}

fn run_dry(
    file: &SourceFile,
    p: &Pipeline,
    runner: &str,
    scenario: &Scenario,
    map_width: usize,
    warn: &mut dyn FnMut(&str),
) -> Result<Trace, String> {
    let known = exec::step_paths(file, p);
    let args = RunArgs {
        path: file.path.clone(),
        pipeline: Some(p.id.clone()),
        runner: runner.into(),
        map_width,
        fail: scenario
            .fail
            .iter()
            .filter(|s| {
                crate::exec::fault::step_of(s)
                    .iter()
                    .any(|n| known.contains(n))
            })
            .cloned()
            .collect(),
        set_output: scenario
            .set_output
            .iter()
            .filter(|s| {
                crate::exec::fault::parse_set_output(s).is_ok_and(|(n, _)| known.contains(&n))
            })
            .cloned()
            .collect(),
        attempt_timeout: 60.0,
        ..RunArgs::default()
    };
    let mut r = exec::make_runner(&args)?;
    exec::execute(file, p, &args, r.as_mut(), None, None, warn)
}

fn record_key(r: &Record, multi: bool) -> (String, Option<String>, Option<usize>) {
    (
        r.node.clone(),
        if multi { r.partition.clone() } else { None },
        r.map_index,
    )
}

/// Compares the traces of a pipeline and its port run under the same faults.
fn compare_traces(
    a: &Pipeline,
    b: &Pipeline,
    m: &NodeMatch,
    ta: &Trace,
    tb: &Trace,
    tainted: &HashSet<String>,
    outputs: bool,
) -> Vec<Difference> {
    let skip_a: HashSet<&str> = m.missing.iter().map(|&i| a.nodes[i].id.as_str()).collect();
    let skip_b: HashSet<&str> = m.added.iter().map(|&j| b.nodes[j].id.as_str()).collect();
    let multi = ta.partitions.len() > 1 || tb.partitions.len() > 1;
    let top = |node: &str| node.split("::").next().unwrap_or(node).to_string();
    let mut left: BTreeMap<_, &Record> = BTreeMap::new();
    for r in &ta.records {
        if !skip_a.contains(top(&r.node).as_str()) {
            left.insert(record_key(r, multi), r);
        }
    }
    let mut right: BTreeMap<_, Record> = BTreeMap::new();
    for r in &tb.records {
        let t = top(&r.node);
        if skip_b.contains(t.as_str()) {
            continue;
        }
        let mut r = r.clone();
        if let Some(src) = m.source_id(a, b, &t) {
            r.node = format!("{src}{}", &r.node[t.len()..]);
        }
        right.insert(record_key(&r, multi), r);
    }
    let mut out = Vec::new();
    let subject = |k: &(String, Option<String>, Option<usize>)| {
        let mut s = k.0.clone();
        if let Some(p) = &k.1 {
            s.push_str(&format!("@{p}"));
        }
        if let Some(i) = k.2 {
            s.push_str(&format!("[{i}]"));
        }
        s
    };
    let keys: BTreeSet<_> = left.keys().chain(right.keys()).cloned().collect();
    for k in keys {
        let declared = tainted.contains(&top(&k.0));
        match (left.get(&k), right.get(&k)) {
            (Some(x), Some(y)) => {
                let mut what = Vec::new();
                if x.state != y.state {
                    what.push(format!("state {} became {}", x.state, y.state));
                }
                if x.attempts != y.attempts {
                    what.push(format!("attempts {} became {}", x.attempts, y.attempts));
                }
                let shift = (x.start != y.start || x.end != y.end).then(|| {
                    format!(
                        "virtual time {}–{} became {}–{}",
                        t(x.start),
                        t(x.end),
                        t(y.start),
                        t(y.end)
                    )
                });
                // A shift in virtual time alone is its own aspect: the step ran the same way.
                let aspect = if what.is_empty() { TIMING } else { "trace" };
                what.extend(shift);
                if !what.is_empty() {
                    out.push(Difference {
                        aspect: aspect.into(),
                        subject: subject(&k),
                        detail: what.join(", "),
                        declared,
                    });
                }
                if outputs && x.output != y.output {
                    out.push(Difference {
                        aspect: "output".into(),
                        subject: subject(&k),
                        detail: format!(
                            "{} became {}",
                            short(x.output.as_ref()),
                            short(y.output.as_ref())
                        ),
                        declared,
                    });
                }
            }
            (Some(x), None) => out.push(Difference {
                aspect: "trace".into(),
                subject: subject(&k),
                detail: format!("ran in the source ({}) but not in the port", x.state),
                declared,
            }),
            (None, Some(y)) => out.push(Difference {
                aspect: "trace".into(),
                subject: subject(&k),
                detail: format!("ran in the port ({}) but not in the source", y.state),
                declared,
            }),
            (None, None) => {}
        }
    }
    out
}

/// The difference in final state between a source run and its port's (each decided by its
/// framework's rule, exec::final_state), if any: declared when the report classes the trap
/// `trap.final_state` redesign or none, or when it follows from step differences that are all
/// declared.
fn final_state(
    ta: &Trace,
    tb: &Trace,
    steps: &[Difference],
    ledger: Option<&Ledger>,
) -> Option<Difference> {
    if ta.state == tb.state {
        return None;
    }
    let behaviour: Vec<&Difference> = steps.iter().filter(|d| d.aspect != TIMING).collect();
    let follows = !behaviour.is_empty() && behaviour.iter().all(|d| d.declared);
    let trap = ledger.is_some_and(|l| {
        l.entries
            .iter()
            .any(|e| e.construct == "trap.final_state" && e.fidelity >= Fidelity::Redesign)
    });
    Some(Difference {
        aspect: FINAL_STATE.into(),
        subject: "final state".into(),
        detail: format!("the run's {} became {}", ta.state, tb.state),
        declared: follows || trap,
    })
}

/// The aspect of a difference in the run's final state.
pub const FINAL_STATE: &str = "final_state";

/// The aspect of a difference in virtual start or end time only.
pub const TIMING: &str = "timing";

fn t(x: Option<f64>) -> String {
    x.map(crate::exec::trace::fmt_seconds)
        .unwrap_or_else(|| "-".into())
}

fn short(v: Option<&serde_json::Value>) -> String {
    let s = v.map(|v| v.to_string()).unwrap_or_else(|| "nothing".into());
    if s.chars().count() > 80 {
        s.chars().take(79).collect::<String>() + "…"
    } else {
        s
    }
}

/// Steps whose trace may differ because of a declared structural difference: the steps the
/// report declares something about (a structural difference, or a step the report says has no
/// port), and everything downstream of them (in the source's graph).
fn tainted(
    a: &Pipeline,
    b: &Pipeline,
    m: &NodeMatch,
    diffs: &[Difference],
    ledger: Option<&Ledger>,
) -> HashSet<String> {
    let mut seeds: Vec<usize> = Vec::new();
    let index_of = a.node_index();
    let index = |id: &str| index_of.get(id).copied();
    // A step the report says has no port (a stub that raises, a body that raises on what it
    // reads): its run differs, declared.
    if let Some(l) = ledger {
        for e in l.entries.iter().filter(|e| {
            e.fidelity == crate::report::Fidelity::None
                && (e.construct.starts_with("node.")
                    || e.construct.starts_with("operator.")
                    || e.construct.starts_with("body."))
        }) {
            if let Some(i) = index(&e.subject) {
                seeds.push(i);
            }
        }
    }
    for d in diffs.iter().filter(|d| d.declared) {
        for part in d.subject.split(" → ") {
            if let Some(i) = index(part) {
                seeds.push(i);
            }
        }
        if matches!(d.aspect.as_str(), "schedule" | "partitions") {
            seeds.extend(0..a.nodes.len());
        }
    }
    // Steps added by the port push back what follows them in the port.
    for &j in &m.added {
        let id = &b.nodes[j].id;
        for e in b.edges.iter().filter(|e| &e.from == id) {
            if let Some(src) = m.source_id(a, b, &e.to).and_then(index) {
                seeds.push(src);
            }
        }
    }
    // A step dropped by the port shortens what follows it.
    for &i in &m.missing {
        seeds.push(i);
    }
    match crate::exec::scheduler::Plan::new(a) {
        Ok(plan) => plan
            .downstream_closure(seeds)
            .into_iter()
            .map(|i| a.nodes[i].id.clone())
            .collect(),
        Err(_) => a.nodes.iter().map(|n| n.id.clone()).collect(),
    }
}

/// Verifies the port of one file to a target; one verdict per source pipeline. `warn` gets each
/// warning about a run's plan (an unknown trigger rule).
pub fn verify_file(
    file: &SourceFile,
    target: Target,
    table: &Translations,
    opts: &Options,
    warn: &mut dyn FnMut(&str),
) -> Result<Vec<Verdict>, String> {
    // A file already written for the target is copied through unchanged by `orchmig port`:
    // its port is the file itself.
    if file.framework == Some(target.framework) {
        return Ok(file
            .pipelines
            .iter()
            .filter(|p| {
                opts.pipeline
                    .as_deref()
                    .is_none_or(|n| n == p.id || n == p.name)
            })
            .map(|p| Verdict {
                source: file.path.clone(),
                pipeline: p.id.clone(),
                port: Some(p.id.clone()),
                verdict: "faithful".into(),
                worst: Fidelity::Exact,
                scenarios: 0,
                differences: Vec::new(),
            })
            .collect());
    }
    let (text, ledgers) = port_file(file, target, table)?;
    let back = crate::frontend::read_source(
        &format!("{} (ported to {})", file.path, target.label()),
        &text,
    );
    let mut out = Vec::new();
    let unreadable: Vec<String> = back
        .diagnostics
        .iter()
        .filter(|d| d.severity == crate::ir::Severity::Error)
        .map(|d| format!("line {}: {}", d.line.unwrap_or(0), d.message))
        .collect();
    for (i, found) in compare::match_pipelines(file, &back) {
        let p = &file.pipelines[i];
        if opts
            .pipeline
            .as_deref()
            .is_some_and(|n| n != p.id && n != p.name)
        {
            continue;
        }
        let ledger: Option<&Ledger> = ledgers.iter().find(|l| l.pipeline == p.id);
        let worst = ledger.map_or(Fidelity::Exact, Ledger::worst);
        let mut diffs = Vec::new();
        if back.framework != Some(target.framework) {
            diffs.push(Difference {
                aspect: "pipeline".into(),
                subject: p.id.clone(),
                detail: format!(
                    "the port is read back as {} code, not {}",
                    back.framework.map(|f| f.id()).unwrap_or("no framework's"),
                    target.framework
                ),
                declared: false,
            });
        }
        for u in &unreadable {
            diffs.push(Difference {
                aspect: "pipeline".into(),
                subject: p.id.clone(),
                detail: format!("the port does not read back: {u}"),
                declared: false,
            });
        }
        let Some(j) = found else {
            diffs.push(Difference {
                aspect: "pipeline".into(),
                subject: p.id.clone(),
                detail: "has no pipeline in the port".into(),
                declared: ledger.is_some_and(|l| {
                    l.entries.iter().any(|e| {
                        e.construct == "pipeline" && e.fidelity != crate::report::Fidelity::Exact
                    })
                }),
            });
            out.push(Verdict {
                source: file.path.clone(),
                pipeline: p.id.clone(),
                port: None,
                verdict: verdict_of(&diffs),
                worst,
                scenarios: 0,
                differences: diffs,
            });
            continue;
        };
        let q = &back.pipelines[j];
        let (m, structural) = compare::structure(p, q, ledger);
        diffs.extend(structural);
        let taint = tainted(p, q, &m, &diffs, ledger);
        let scenarios = scenarios(p, opts);
        for (k, scenario) in scenarios.iter().enumerate() {
            let port_side = Scenario {
                label: scenario.label.clone(),
                fail: scenario
                    .fail
                    .iter()
                    .map(|s| translate_fault(s, p, q, &m))
                    .collect(),
                set_output: scenario
                    .set_output
                    .iter()
                    .map(|s| translate_set(s, p, q, &m))
                    .collect(),
                branch: scenario.branch.clone(),
                readers: scenario.readers.clone(),
            };
            // The python runner runs real bodies: only the asked run and branch outcomes.
            let mut runners = vec!["dry"];
            if opts.runner == "python" && scenario.fail.is_empty() {
                runners.push("python");
            }
            for runner in runners {
                let found = match (
                    run_dry(file, p, runner, scenario, opts.map_width, &mut *warn),
                    run_dry(&back, q, runner, &port_side, opts.map_width, &mut *warn),
                ) {
                    (Ok(ta), Ok(tb)) => {
                        let mut d = compare_traces(p, q, &m, &ta, &tb, &taint, runner == "python");
                        if runner == "python" {
                            // The dry pass already compared times; a real body that fails (or
                            // skips) where the other side's succeeded is a state difference.
                            d.retain(|x| {
                                x.aspect == "output"
                                    || (x.aspect == "trace" && x.detail.starts_with("state "))
                            });
                            for x in &mut d {
                                if x.aspect == "trace" {
                                    x.detail = format!("with the python runner: {}", x.detail);
                                }
                            }
                        } else if let Some(mut f) = final_state(&ta, &tb, &d, ledger) {
                            // A step the port folds away (a no-op) cannot fail there.
                            f.declared |= scenario.fail.iter().any(|s| {
                                crate::exec::fault::step_of(s)
                                    .iter()
                                    .any(|n| m.port_id(p, q, n).is_none())
                            });
                            d.push(f);
                        }
                        d
                    }
                    (Err(e), _) => vec![Difference {
                        aspect: "trace".into(),
                        subject: p.id.clone(),
                        detail: format!("the source does not run ({runner}): {e}"),
                        declared: false,
                    }],
                    (_, Err(e)) => vec![Difference {
                        aspect: "trace".into(),
                        subject: p.id.clone(),
                        detail: format!("the port does not run ({runner}): {e}"),
                        declared: false,
                    }],
                };
                if k == 0 {
                    diffs.extend(found);
                    continue;
                }
                // Another scenario adds what it shows beyond the asked run: behaviour only
                // (a retry's timing follows from the policies already compared).
                for mut d in found.into_iter().filter(|d| d.aspect != TIMING) {
                    if diffs.iter().any(|x| {
                        x.aspect == d.aspect && x.subject == d.subject && x.detail == d.detail
                    }) {
                        continue;
                    }
                    if let Some(label) = &scenario.label {
                        d.detail = format!("{label}: {}", d.detail);
                    }
                    if let Some(b) = &scenario.branch {
                        d.declared = forced_excused(ledger, b, &scenario.readers);
                    }
                    if !diffs.contains(&d) {
                        diffs.push(d);
                    }
                }
            }
        }
        out.push(Verdict {
            source: file.path.clone(),
            pipeline: p.id.clone(),
            port: Some(q.id.clone()),
            verdict: verdict_of(&diffs),
            worst,
            scenarios: scenarios.len(),
            differences: diffs,
        });
    }
    Ok(out)
}

/// The verdicts as a table fitted to `width` (paths cut from the left, names at the end), then
/// the differences, wrapped to it: behaviour first, timing-only shifts counted on one line
/// (listed one by one with `timing_details`).
pub fn render(
    verdicts: &[Verdict],
    target: &str,
    width: Option<usize>,
    timing_details: bool,
) -> String {
    use crate::text::fit::{Column, Cut, render as fitted, wrap};
    let inline = crate::text::inline;
    let columns = vec![
        Column::text("source", move |v: &Verdict| inline(&v.source)).cut(Cut::Start),
        Column::text("pipeline", move |v: &Verdict| inline(&v.pipeline)),
        Column::text("port", move |v: &Verdict| {
            v.port.as_deref().map_or_else(|| "—".into(), inline)
        })
        .optional(),
        Column::text("verdict", |v: &Verdict| v.sentence()).cut(Cut::Never),
    ];
    let mut out = fitted(&columns, verdicts, width);
    for v in verdicts.iter().filter(|v| !v.differences.is_empty()) {
        out.push_str(&format!(
            "\n{} ({}) → {target}:\n",
            inline(&v.pipeline),
            inline(&v.source)
        ));
        // What behaves differently first, undeclared before declared; timing shifts on one line.
        let (timing, mut shown): (Vec<&Difference>, Vec<&Difference>) =
            v.differences.iter().partition(|d| d.aspect == TIMING);
        shown.sort_by_key(|d| d.declared);
        if timing_details {
            shown.extend(&timing);
        }
        for d in shown {
            let line = format!(
                "  [{}] {} {}: {}",
                if d.declared { "declared" } else { "mismatch" },
                d.aspect,
                inline(&d.subject),
                inline(&d.detail)
            );
            out.push_str(&wrap(&line, width));
        }
        if !timing.is_empty() && !timing_details {
            let undeclared = match timing.iter().filter(|d| !d.declared).count() {
                0 => String::new(),
                k => format!(", {k} of them undeclared"),
            };
            let n = timing.len();
            let line = format!(
                "  {n} step{} only ran at other virtual times (same states and attempts{undeclared}; -v lists them)",
                if n == 1 { "" } else { "s" }
            );
            out.push_str(&wrap(&line, width));
        }
    }
    let bad = verdicts.iter().filter(|v| v.verdict == "mismatch").count();
    let line = format!(
        "verify → {target}: {} pipeline(s), {} faithful, {} faithful modulo declared losses, {bad} mismatch",
        verdicts.len(),
        verdicts.iter().filter(|v| v.verdict == "faithful").count(),
        verdicts.iter().filter(|v| v.verdict == "declared").count(),
    );
    out.push('\n');
    out.push_str(&wrap(&line, width));
    out
}
