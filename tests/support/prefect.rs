//! Prefect's runs of a file (tests/oracle/prefect_dump.py) against orchmig's IR of it.
//!
//! How the two are matched:
//! - a flow (module attribute) ↔ a pipeline with that id;
//! - a recorded call (one invocation of a task or sub-flow; a `.map()` is one call of N runs) ↔
//!   the node whose callable has that function name and whose span holds the call's line, in call
//!   order (`t`, `t-2`, … for calls on the same line, as in loops); a node read from a loop over a
//!   run-time value (`extra.dynamic_loop`, reported opaque) takes every call of its site;
//! - recorded upstreams (after the dump's filtering rule) ↔ edges, both reduced transitively, with
//!   kind `data` or `order` (`wait_for`); an order edge from a direct call that Prefect did not
//!   record is the flow body's sequence (the run is made once the call returned), left out;
//! - steps orchmig generated from the flow's own code (`flow_code`) are no Prefect runs: they and
//!   their edges are left out (Prefect records no input that a flow computed);
//! - retries and retry delays ↔ the node's effective policy; sub-flow calls ↔ `SubPipeline` nodes
//!   and the steps of sub-flows that call no task (`sub_flow`),
//!   flow retries ↔ `run_policy`; mapped calls ↔ nodes with a mapping (and the run count ↔ the
//!   length of a literal it maps over).
//!
//! What static reading cannot match is excused by an [`Exception`] naming the file (by its last
//! path components), the flow and the node or edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use orchmig::ir::{EdgeKind, FLOW_CODE, NodeKind, Pipeline, SUB_FLOW_STEP, SourceFile, Value};
use serde_json::Value as Json;

/// A difference static reading cannot avoid.
pub enum Exception {
    /// A node that the run with default parameters does not reach.
    NotRun {
        file: &'static str,
        flow: &'static str,
        node: &'static str,
        why: &'static str,
    },
    /// An order edge orchmig adds for a condition on a run's result; Prefect records data
    /// inputs only, not what the flow body's `if` read.
    ControlEdge {
        file: &'static str,
        flow: &'static str,
        from: &'static str,
        to: &'static str,
        why: &'static str,
    },
}

/// Whether an exception's `file` (one or more trailing path components) names `path`.
fn excuses(file: &str, path: &str) -> bool {
    Path::new(path).ends_with(file)
}

/// Node-level upstreams: node → {(upstream, kind)}.
type Graph = BTreeMap<String, BTreeSet<(String, &'static str)>>;

/// Drops `u → d` when `u` is also an ancestor of another upstream of `d` (the dump's rule).
fn reduce(g: &Graph) -> Graph {
    fn ancestors(g: &Graph, n: &str, seen: &mut BTreeSet<String>) {
        for (u, _) in g.get(n).into_iter().flatten() {
            if seen.insert(u.clone()) {
                ancestors(g, u, seen);
            }
        }
    }
    let mut out = Graph::new();
    for (d, ups) in g {
        let mut keep = BTreeSet::new();
        for (u, kind) in ups {
            let implied = ups.iter().any(|(v, _)| {
                if v == u {
                    return false;
                }
                let mut seen = BTreeSet::new();
                ancestors(g, v, &mut seen);
                seen.contains(u)
            });
            if !implied {
                keep.insert((u.clone(), *kind));
            }
        }
        out.insert(d.clone(), keep);
    }
    out
}

fn json_u64(v: &Json) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// Which node made each recorded call of a flow run (the dump's `calls`, in call order): the
/// first node, in node order, whose callable has the call's function and whose span holds its
/// line; a node takes one call, or every call of its site when read from a dynamic loop.
pub fn call_owners(p: &Pipeline, calls: &[Json]) -> Vec<Option<usize>> {
    let mut owner: Vec<Option<usize>> = vec![None; calls.len()];
    for (ni, node) in p.nodes.iter().enumerate() {
        let function = node.callable.as_ref().map_or("", |c| c.name.as_str());
        let dynamic = node.extra.contains_key("dynamic_loop");
        let fits = |c: &Json| {
            let line = json_u64(&c["line"]) as u32;
            c["function"].as_str() == Some(function)
                && (node.span.line..=node.span.end_line).contains(&line)
        };
        for (ci, c) in calls.iter().enumerate() {
            if owner[ci].is_none() && fits(c) {
                owner[ci] = Some(ni);
                if !dynamic {
                    break;
                }
            }
        }
    }
    owner
}

/// Every difference between the oracle's runs of one file and orchmig's IR of it.
///
/// `exceptions` are the differences to excuse; the index of each one that applied is put in
/// `used` (so that the caller can report exceptions that no longer apply).
pub fn compare(
    path: &str,
    oracle: &Json,
    ir: &SourceFile,
    exceptions: &[Exception],
    used: &mut BTreeSet<usize>,
) -> Vec<String> {
    let mut diffs = Vec::new();
    if let Some(err) = oracle["error"].as_str() {
        return vec![format!("{path}: Prefect could not import the file: {err}")];
    }
    let empty = serde_json::Map::new();
    let flows = oracle["flows"].as_object().unwrap_or(&empty);
    let ours: BTreeMap<&str, &Pipeline> = ir.pipelines.iter().map(|p| (p.id.as_str(), p)).collect();
    let theirs: BTreeSet<&str> = flows.keys().map(String::as_str).collect();
    let mine: BTreeSet<&str> = ours.keys().copied().collect();
    if theirs != mine {
        diffs.push(format!(
            "{path}: flows: prefect {theirs:?}, orchmig {mine:?}"
        ));
    }
    for (flow_id, flow) in flows {
        let Some(p) = ours.get(flow_id.as_str()) else {
            continue;
        };
        let at = format!("{path}: {flow_id}");
        if flow["state"].as_str() != Some("COMPLETED") {
            diffs.push(format!(
                "{at}: state: {} ({})",
                flow["state"], flow["error"]
            ));
            continue;
        }
        let their_retries = json_u64(&flow["retries"]);
        let my_retries = u64::from(p.run_policy.retries.unwrap_or(0));
        if their_retries != my_retries {
            diffs.push(format!(
                "{at}: run_policy.retries: prefect {their_retries}, orchmig {my_retries}"
            ));
        }
        let calls = flow["calls"].as_array().cloned().unwrap_or_default();
        let owner = call_owners(p, &calls);
        let mut not_run: BTreeSet<&str> = BTreeSet::new();
        let generated_ids: BTreeSet<&str> = p
            .nodes
            .iter()
            .filter(|n| n.flavor.as_deref() == Some(FLOW_CODE))
            .map(|n| n.id.as_str())
            .collect();
        let generated = |id: &str| generated_ids.contains(id);
        for (ni, node) in p.nodes.iter().enumerate() {
            if generated(&node.id) {
                continue;
            }
            let function = node.callable.as_ref().map_or("", |c| c.name.as_str());
            if !owner.contains(&Some(ni)) {
                let excused = exceptions.iter().position(|e| {
                    matches!(e, Exception::NotRun { file, flow, node: n, .. }
                        if excuses(file, path) && *flow == flow_id.as_str() && *n == node.id)
                });
                match excused {
                    Some(i) => {
                        used.insert(i);
                        not_run.insert(node.id.as_str());
                    }
                    None => diffs.push(format!(
                        "{at}.{}: nodes: orchmig has this node (line {}), Prefect ran no call of `{function}` there",
                        node.id, node.span.line
                    )),
                }
            }
        }
        for (ci, c) in calls.iter().enumerate() {
            if owner[ci].is_none() {
                diffs.push(format!(
                    "{at}: nodes: Prefect ran `{}` from line {} ({} run(s)), orchmig has no node for it",
                    c["function"].as_str().unwrap_or("?"),
                    c["line"],
                    c["runs"]
                ));
            }
        }
        // Per matched call: kind, mapping, policy, sub-flow.
        for (ci, c) in calls.iter().enumerate() {
            let Some(ni) = owner[ci] else { continue };
            let node = &p.nodes[ni];
            let nat = format!("{at}.{}", node.id);
            let is_sub = c["kind"].as_str() == Some("subflow");
            let sub_flow =
                node.kind == NodeKind::SubPipeline || node.flavor.as_deref() == Some(SUB_FLOW_STEP);
            if is_sub != sub_flow {
                diffs.push(format!(
                    "{nat}: kind: prefect {}, orchmig {:?}",
                    c["kind"], node.kind
                ));
            }
            let mapped = c["how"].as_str() == Some("map");
            if mapped != node.mapping.is_some() {
                diffs.push(format!(
                    "{nat}: mapping: prefect mapped={mapped}, orchmig mapped={}",
                    node.mapping.is_some()
                ));
            }
            if let Some(m) = &node.mapping {
                let literal_len = m
                    .over
                    .iter()
                    .filter_map(|a| {
                        a.literal
                            .as_ref()
                            .and_then(Value::as_list)
                            .map(<[Value]>::len)
                    })
                    .min();
                if let Some(n) = literal_len
                    && n as u64 != json_u64(&c["runs"])
                {
                    diffs.push(format!("{nat}: mapping: prefect made {} runs, orchmig maps over {n} literal elements", c["runs"]));
                }
            }
            let policy = p.effective_policy(node);
            let their_retries = json_u64(&c["retries"]);
            let my_retries = u64::from(policy.retries.unwrap_or(0));
            if their_retries != my_retries {
                diffs.push(format!(
                    "{nat}: policy.retries: prefect {their_retries}, orchmig {my_retries}"
                ));
            }
            let their_delays: Vec<f64> = c["retry_delays"]
                .as_array()
                .map(|a| a.iter().filter_map(Json::as_f64).collect())
                .unwrap_or_default();
            let my_delays = if policy.retry_delays.is_empty() {
                vec![policy.retry_delay.unwrap_or(0.0)]
            } else {
                policy.retry_delays.clone()
            };
            if their_delays != my_delays {
                diffs.push(format!(
                    "{nat}: policy.retry_delays: prefect {their_delays:?}, orchmig {my_delays:?}"
                ));
            }
            if is_sub {
                let sub = &c["subflow"];
                if sub["state"].as_str() != Some("COMPLETED") {
                    diffs.push(format!("{nat}: sub-flow state: {}", sub["state"]));
                }
                let child_id = node
                    .extra
                    .get("pipeline")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                match ir.pipelines.iter().find(|x| x.id == child_id) {
                    Some(child) => {
                        let child_fns: BTreeSet<&str> = child
                            .nodes
                            .iter()
                            .filter_map(|n| n.callable.as_ref().map(|c| c.name.as_str()))
                            .collect();
                        for f in sub["tasks"].as_object().unwrap_or(&empty).keys() {
                            if !child_fns.contains(f.as_str()) {
                                diffs.push(format!("{nat}: sub-flow: Prefect ran `{f}` in it, pipeline `{child_id}` has no such node"));
                            }
                        }
                    }
                    None => diffs.push(format!(
                        "{nat}: sub-flow: extra.pipeline `{child_id}` is not a pipeline of the file"
                    )),
                }
            }
        }
        // Edges.
        let mut their = Graph::new();
        for (ci, c) in calls.iter().enumerate() {
            let Some(ni) = owner[ci] else { continue };
            let down = p.nodes[ni].id.clone();
            let entry = their.entry(down.clone()).or_default();
            for u in c["upstream"].as_array().into_iter().flatten() {
                let ui = json_u64(&u["call"]) as usize;
                let Some(Some(un)) = owner.get(ui) else {
                    continue;
                };
                let up = p.nodes[*un].id.clone();
                if up == down {
                    continue;
                }
                let kind = if u["kind"].as_str() == Some("order") {
                    "order"
                } else {
                    "data"
                };
                entry.insert((up, kind));
            }
        }
        let direct: BTreeSet<&str> = p
            .nodes
            .iter()
            .filter(|n| {
                matches!(n.kind, NodeKind::Task | NodeKind::SubPipeline)
                    && !n.extra.contains_key("invocation")
            })
            .map(|n| n.id.as_str())
            .collect();
        let mut mine = Graph::new();
        for n in &p.nodes {
            if !not_run.contains(n.id.as_str()) && !generated(&n.id) {
                mine.entry(n.id.clone()).or_default();
            }
        }
        for e in &p.edges {
            if not_run.contains(e.from.as_str())
                || not_run.contains(e.to.as_str())
                || generated(&e.from)
                || generated(&e.to)
            {
                continue;
            }
            let excused = exceptions.iter().position(|x| {
                matches!(x, Exception::ControlEdge { file, flow, from, to, .. }
                    if excuses(file, path) && *flow == flow_id.as_str() && *from == e.from && *to == e.to)
            });
            if let Some(i) = excused {
                used.insert(i);
                continue;
            }
            // The order of calls in the flow body (a run made after a direct call returned,
            // which orchmig keeps so that nothing runs after a call that raised) is no input
            // Prefect records.
            let recorded = their
                .get(&e.to)
                .is_some_and(|ups| ups.iter().any(|(u, _)| *u == e.from));
            if e.kind == EdgeKind::Order && !recorded && direct.contains(e.from.as_str()) {
                continue;
            }
            let kind = match e.kind {
                EdgeKind::Data => "data",
                EdgeKind::Order => "order",
            };
            mine.entry(e.to.clone())
                .or_default()
                .insert((e.from.clone(), kind));
        }
        let (their, mine) = (reduce(&their), reduce(&mine));
        let all: BTreeSet<&String> = their.keys().chain(mine.keys()).collect();
        for n in all {
            let t = their.get(n).cloned().unwrap_or_default();
            let m = mine.get(n).cloned().unwrap_or_default();
            if t != m {
                diffs.push(format!("{at}.{n}: upstream: prefect {t:?}, orchmig {m:?}"));
            }
        }
        // A node read once from a dynamic loop must be reported as opaque.
        for n in p
            .nodes
            .iter()
            .filter(|n| n.extra.contains_key("dynamic_loop"))
        {
            if !p.opaque.iter().any(|o| o.kind == "dynamic_loop") {
                diffs.push(format!(
                    "{at}.{}: opaque: the node is marked dynamic_loop but no opaque entry says so",
                    n.id
                ));
            }
        }
    }
    diffs
}
