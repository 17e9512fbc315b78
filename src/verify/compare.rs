//! Structural comparison of a source pipeline and its port: which steps correspond, and every
//! difference in steps, edges, schedule, partitions, policies, mapping and trigger rules —
//! each marked declared when the port's report (its ledger) lists the construct as approximate,
//! redesigned or lost.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::exec::policy::AttemptPolicy;
use crate::ir::{Partitions, Pipeline, SourceFile};
use crate::report::{Fidelity, Ledger};

/// One difference between a source pipeline and its port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Difference {
    /// What differs: `pipeline`, `nodes`, `edges`, `schedule`, `partitions`, `policy`, `mapping`,
    /// `trigger_rule`, `trace`, `output`.
    pub aspect: String,
    /// The step (source id) or construct it is about.
    pub subject: String,
    /// What changed.
    pub detail: String,
    /// True when the port's report declares it.
    pub declared: bool,
}

/// Which step of the port each source step became.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeMatch {
    /// (source index, port index) pairs.
    pub pairs: Vec<(usize, usize)>,
    /// Source steps with no counterpart.
    pub missing: Vec<usize>,
    /// Port steps with no counterpart.
    pub added: Vec<usize>,
}

impl NodeMatch {
    /// The port id of a source id.
    pub fn port_id<'a>(&self, a: &Pipeline, b: &'a Pipeline, id: &str) -> Option<&'a str> {
        let i = a.nodes.iter().position(|n| n.id == id)?;
        self.pairs
            .iter()
            .find(|(x, _)| *x == i)
            .map(|(_, y)| b.nodes[*y].id.as_str())
    }

    /// The source id of a port id.
    pub fn source_id<'a>(&self, a: &'a Pipeline, b: &Pipeline, id: &str) -> Option<&'a str> {
        let j = b.nodes.iter().position(|n| n.id == id)?;
        self.pairs
            .iter()
            .find(|(_, y)| *y == j)
            .map(|(x, _)| a.nodes[*x].id.as_str())
    }
}

/// An id with separators unified (`a.b`, `a/b`, `a__b`, `a-b` all become `a_b`).
pub fn normal(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for c in id.to_ascii_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    out.trim_matches('_').to_string()
}

/// The base name of a step for matching by occurrence: its function's name, else the last
/// segment of its id without a call-site suffix (`-2`, `__1`).
fn base(n: &crate::ir::Node) -> String {
    if let Some(c) = &n.callable {
        return normal(&c.name);
    }
    let last = n.id.rsplit(['.', '/']).next().unwrap_or(&n.id);
    let stripped = match last.rsplit_once("__").or_else(|| last.rsplit_once('-')) {
        Some((head, tail)) if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()) => head,
        _ => last,
    };
    normal(stripped)
}

/// Pairs the steps of a source pipeline and its port: same id, then same id once separators are
/// unified, then the same function (or base name) in order of appearance, then the same last segment.
pub fn match_nodes(a: &Pipeline, b: &Pipeline) -> NodeMatch {
    let mut left: Vec<usize> = (0..a.nodes.len()).collect();
    let mut right: Vec<usize> = (0..b.nodes.len()).collect();
    let mut pairs = Vec::new();
    type Key = fn(&crate::ir::Node) -> String;
    let keys: [Key; 4] = [
        |n| n.id.clone(),
        |n| normal(&n.id),
        base,
        |n| normal(n.id.rsplit(['.', '/']).next().unwrap_or(&n.id)),
    ];
    for key in keys {
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for &j in &right {
            by_key.entry(key(&b.nodes[j])).or_default().push(j);
        }
        let mut taken = BTreeSet::new();
        let mut matched = BTreeSet::new();
        for &i in &left {
            if let Some(list) = by_key.get_mut(&key(&a.nodes[i]))
                && !list.is_empty()
            {
                let j = list.remove(0);
                pairs.push((i, j));
                taken.insert(j);
                matched.insert(i);
            }
        }
        left.retain(|i| !matched.contains(i));
        right.retain(|j| !taken.contains(j));
    }
    pairs.sort_unstable();
    NodeMatch {
        pairs,
        missing: left,
        added: right,
    }
}

/// Most distinct starts times source edges walked when checking that a port-only edge
/// changes no order (past it, every port-only edge is listed).
const ORDER_CHECK_BUDGET: usize = 2_000_000;

/// The port's declarations: which subjects and constructs its report lists as not exact.
pub struct Declared<'l> {
    entries: Vec<&'l crate::report::Entry>,
    /// Entry indexes by every key a subject answers to: itself, each dotted prefix of it
    /// (`group.task` answers `group`), and its [`normal`] form; a look-up is then constant
    /// time however many edges a pipeline has.
    by_key: HashMap<String, Vec<usize>>,
}

impl<'l> Declared<'l> {
    /// From a ledger (none: nothing is declared).
    pub fn new(ledger: Option<&'l Ledger>) -> Declared<'l> {
        let entries: Vec<&crate::report::Entry> = ledger
            .map(|l| {
                l.entries
                    .iter()
                    .filter(|e| e.fidelity != Fidelity::Exact)
                    .collect()
            })
            .unwrap_or_default();
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let mut keys = vec![e.subject.clone(), Self::normal_key(&e.subject)];
            keys.extend(
                e.subject
                    .match_indices('.')
                    .map(|(k, _)| e.subject[..k].to_string()),
            );
            keys.sort();
            keys.dedup();
            for k in keys {
                by_key.entry(k).or_default().push(i);
            }
        }
        Declared { entries, by_key }
    }

    /// The key under which a subject's normal form is filed (apart from raw subjects).
    fn normal_key(subject: &str) -> String {
        format!("\u{0}{}", normal(subject))
    }

    /// True when a non-exact entry is about this subject (or a part of it, `subject.param`) and,
    /// if prefixes are given, its construct starts with one of them.
    pub fn about(&self, subject: &str, prefixes: &[&str]) -> bool {
        let normal = Self::normal_key(subject);
        [subject, normal.as_str()]
            .into_iter()
            .filter_map(|k| self.by_key.get(k))
            .flatten()
            .any(|&i| {
                prefixes.is_empty()
                    || prefixes
                        .iter()
                        .any(|p| self.entries[i].construct.starts_with(p))
            })
    }

    /// True when a non-exact entry has a construct starting with one of the prefixes.
    pub fn construct(&self, prefixes: &[&str]) -> bool {
        self.entries
            .iter()
            .any(|e| prefixes.iter().any(|p| e.construct.starts_with(p)))
    }
}

fn edges_folded(a: &Pipeline, dropped: &BTreeSet<String>) -> BTreeSet<(String, String)> {
    let mut succ: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &a.edges {
        succ.entry(e.from.as_str())
            .or_default()
            .insert(e.to.as_str());
    }
    let mut out = BTreeSet::new();
    for n in &a.nodes {
        if dropped.contains(&n.id) {
            continue;
        }
        // Follow edges through dropped steps to the next kept ones.
        let mut stack: Vec<&str> = succ
            .get(n.id.as_str())
            .into_iter()
            .flatten()
            .copied()
            .collect();
        let mut seen = BTreeSet::new();
        while let Some(t) = stack.pop() {
            if !seen.insert(t) {
                continue;
            }
            if dropped.contains(t) {
                stack.extend(succ.get(t).into_iter().flatten().copied());
            } else {
                out.insert((n.id.clone(), t.to_string()));
            }
        }
    }
    out
}

fn partitions_text(p: &Option<&Partitions>) -> String {
    match p {
        None => "none".into(),
        Some(Partitions::Time {
            granularity,
            start,
            timezone,
            ..
        }) => format!(
            "time {granularity} from {} ({})",
            start.clone().unwrap_or_default(),
            timezone.clone().unwrap_or_else(|| "UTC".into())
        ),
        Some(Partitions::Static { keys }) => format!("static [{}]", keys.join(", ")),
        Some(Partitions::Dynamic { name }) => {
            format!("dynamic {}", name.clone().unwrap_or_default())
        }
        Some(Partitions::Multi { dimensions }) => format!(
            "multi ({})",
            dimensions
                .iter()
                .map(|(n, d)| format!("{n}: {}", partitions_text(&Some(d))))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Some(Partitions::Parameter { name }) => format!("parameter {name}"),
    }
}

/// Every structural difference between a source pipeline and its port.
pub fn structure(
    a: &Pipeline,
    b: &Pipeline,
    ledger: Option<&Ledger>,
) -> (NodeMatch, Vec<Difference>) {
    let decl = Declared::new(ledger);
    let m = match_nodes(a, b);
    let mut out = Vec::new();
    let mut diff = |aspect: &str, subject: &str, detail: String, declared: bool| {
        out.push(Difference {
            aspect: aspect.into(),
            subject: subject.into(),
            detail,
            declared,
        });
    };
    let mut dropped = BTreeSet::new();
    for &i in &m.missing {
        let n = &a.nodes[i];
        let declared = decl.about(&n.id, &["node.", "operator.", "group.", "sensor"]);
        diff("nodes", &n.id, "is not a step of the port".into(), declared);
        dropped.insert(n.id.clone());
    }
    let checks: BTreeSet<String> = a.checks.iter().map(|c| normal(&c.name)).collect();
    let mut added_ids = BTreeSet::new();
    for &j in &m.added {
        let n = &b.nodes[j];
        // A gate the port adds before steps whose condition the report declares.
        let gate = n.kind == crate::ir::NodeKind::ShortCircuit
            && b.edges.iter().any(|e| {
                e.from == n.id
                    && m.source_id(a, b, &e.to)
                        .is_some_and(|s| decl.about(s, &["node.condition"]))
            });
        let declared = checks.contains(&normal(&n.id)) && decl.about(&n.id, &["check"])
            || decl.about(&n.id, &[])
            || gate;
        diff(
            "nodes",
            &n.id,
            "is a step of the port only".into(),
            declared,
        );
        added_ids.insert(n.id.clone());
    }
    // Edges, through the node match, with dropped steps folded into their neighbours.
    let src = edges_folded(a, &dropped);
    // The port's own steps are folded the same way (a sub-flow inlined as its steps).
    let mut port = BTreeSet::new();
    for (from, to) in edges_folded(b, &added_ids) {
        if let (Some(f), Some(t)) = (m.source_id(a, b, &from), m.source_id(a, b, &to)) {
            port.insert((f.to_string(), t.to_string()));
        }
    }
    for (f, t) in src.difference(&port) {
        let declared = decl.about(f, &["edge", "node.", "trap."])
            || decl.about(t, &["edge", "node.", "trap."]);
        diff(
            "edges",
            &format!("{f} → {t}"),
            "is not a dependency of the port".into(),
            declared,
        );
    }
    // A port-only edge between steps the source already orders (a path from one to the other,
    // like a Dagster asset reading the result of a branch above it) changes no order: it is no
    // difference. Reachability is computed once per distinct start, within a budget.
    let only: Vec<&(String, String)> = port.difference(&src).collect();
    let starts: BTreeSet<&str> = only.iter().map(|(f, _)| f.as_str()).collect();
    let mut below: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    if starts.len().saturating_mul(src.len().max(1)) <= ORDER_CHECK_BUDGET {
        let mut succ: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (f, t) in &src {
            succ.entry(f.as_str()).or_default().push(t.as_str());
        }
        for &start in &starts {
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            let mut stack = vec![start];
            while let Some(x) = stack.pop() {
                for &y in succ.get(x).map_or(&[][..], Vec::as_slice) {
                    if seen.insert(y) {
                        stack.push(y);
                    }
                }
            }
            below.insert(start, seen);
        }
    }
    for (f, t) in only {
        if below
            .get(f.as_str())
            .is_some_and(|b| b.contains(t.as_str()))
        {
            continue;
        }
        let declared = decl.about(f, &["edge", "node.", "trap."])
            || decl.about(t, &["edge", "node.", "trap."]);
        diff(
            "edges",
            &format!("{f} → {t}"),
            "is a dependency of the port only".into(),
            declared,
        );
    }
    // Schedule and partitions.
    // Cron and preset schedules compare by their cron; other kinds by kind and value.
    let schedule_text = |s: &crate::ir::Schedule| match s.cron() {
        Some(c) => format!("cron `{c}`"),
        None => format!(
            "{} `{}`",
            serde_json::to_value(s.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            s.value.clone().unwrap_or_default()
        ),
    };
    let sched = |p: &Pipeline| {
        p.schedule.as_ref().map(|s| match s.cron() {
            Some(c) => (c, "cron".to_string()),
            None => (
                s.value.clone().unwrap_or_default(),
                serde_json::to_value(s.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            ),
        })
    };
    let (sa, sb) = (sched(a), sched(b));
    let text = |s: &Option<(String, String)>| match s {
        Some((v, k)) => format!("{k} `{v}`"),
        None => "none".into(),
    };
    let manual = |s: &Option<(String, String)>| s.as_ref().is_none_or(|(_, k)| k == "manual");
    if sa != sb && !(manual(&sa) && manual(&sb)) {
        diff(
            "schedule",
            &a.id,
            format!("{} became {}", text(&sa), text(&sb)),
            decl.construct(&["schedule", "trap."]),
        );
    }
    // Every schedule the deployments declare (a Prefect `serve(schedules=[…])`), beyond the
    // pipeline's own: one the port has no schedule for is lost, declared by a schedule row.
    let every = |p: &Pipeline| -> Vec<String> {
        let mut all: Vec<String> = p
            .deployment_schedules()
            .iter()
            .map(|d| schedule_text(d.schedule))
            .collect();
        if let Some(s) = &p.schedule
            && !all.contains(&schedule_text(s))
        {
            all.push(schedule_text(s));
        }
        all.retain(|t| t != "manual ``");
        all.sort();
        all.dedup();
        all
    };
    let (ea, eb) = (every(a), every(b));
    for lost in ea.iter().filter(|t| !eb.contains(t)) {
        if sa.as_ref().is_some_and(|s| text(&Some(s.clone())) == *lost) {
            continue; // the pipeline's own schedule, compared above
        }
        diff(
            "schedule",
            &a.id,
            format!("the deployment schedule {lost} is not in the port"),
            decl.construct(&["schedule", "deployment"]),
        );
    }
    let tz = |p: &Pipeline| p.schedule.as_ref().and_then(|s| s.timezone.clone());
    if sa.is_some() && sb.is_some() && tz(a) != tz(b) && tz(a).is_some() {
        diff(
            "schedule",
            &a.id,
            format!("time zone {:?} became {:?}", tz(a), tz(b)),
            decl.construct(&["schedule"]),
        );
    }
    let (pa, pb) = (a.partition_definition(), b.partition_definition());
    if partitions_text(&pa) != partitions_text(&pb) {
        diff(
            "partitions",
            &a.id,
            format!("{} became {}", partitions_text(&pa), partitions_text(&pb)),
            decl.construct(&["partitions"]),
        );
    }
    // Per step: policy, mapping, trigger rule.
    for &(i, j) in &m.pairs {
        let (x, y) = (&a.nodes[i], &b.nodes[j]);
        let (pa, pb) = (
            AttemptPolicy::from_policy(&a.effective_policy(x), a.framework),
            AttemptPolicy::from_policy(&b.effective_policy(y), b.framework),
        );
        let scope = |subject: &str| {
            decl.about(subject, &["policy."])
                || decl.about("defaults", &["policy."])
                || x.group
                    .as_deref()
                    .is_some_and(|g| decl.about(g, &["policy.", "group."]))
        };
        let declared = scope(&x.id);
        if pa.retries != pb.retries {
            diff(
                "policy",
                &x.id,
                format!("retries {} became {}", pa.retries, pb.retries),
                declared,
            );
        }
        let delays = |p: &AttemptPolicy| {
            (1..=p.retries.min(5))
                .map(|r| p.delay_before_retry(r))
                .collect::<Vec<_>>()
        };
        if pa.retries == pb.retries && delays(&pa) != delays(&pb) {
            diff(
                "policy",
                &x.id,
                format!(
                    "retry delays {:?}s became {:?}s",
                    secs(&delays(&pa)),
                    secs(&delays(&pb))
                ),
                declared,
            );
        }
        if pa.timeout_ms != pb.timeout_ms {
            diff(
                "policy",
                &x.id,
                format!(
                    "timeout {} became {}",
                    opt_secs(pa.timeout_ms),
                    opt_secs(pb.timeout_ms)
                ),
                declared,
            );
        }
        if x.mapping.is_some() != y.mapping.is_some() {
            diff(
                "mapping",
                &x.id,
                format!(
                    "{} became {}",
                    if x.mapping.is_some() {
                        "mapped"
                    } else {
                        "not mapped"
                    },
                    if y.mapping.is_some() {
                        "mapped"
                    } else {
                        "not mapped"
                    }
                ),
                decl.about(&x.id, &["mapping", "node."]),
            );
        }
        let rule = |p: &Pipeline, n: &crate::ir::Node| {
            n.trigger_rule
                .clone()
                .or_else(|| p.effective_policy(n).trigger_rule)
                .and_then(|t| crate::exec::trigger::TriggerRule::parse(&t))
                .unwrap_or(crate::exec::trigger::TriggerRule::AllSuccess)
        };
        let (ra, rb) = (rule(a, x), rule(b, y));
        if ra != rb {
            diff(
                "trigger_rule",
                &x.id,
                format!("{} became {}", ra.name(), rb.name()),
                // A step under a declared condition, or waiting for one, tolerates its skip.
                decl.about(&x.id, &["trigger", "trap.", "node.condition"])
                    || a.edges
                        .iter()
                        .any(|e| e.to == x.id && decl.about(&e.from, &["node.condition"])),
            );
        }
    }
    out.sort();
    out.dedup();
    (m, out)
}

fn secs(v: &[u64]) -> Vec<f64> {
    v.iter().map(|x| *x as f64 / 1000.0).collect()
}

fn opt_secs(v: Option<u64>) -> String {
    v.map(|t| format!("{}s", t as f64 / 1000.0))
        .unwrap_or_else(|| "none".into())
}

/// Which pipeline of the port each source pipeline became: same id, else same name, else same
/// id once separators are unified.
pub fn match_pipelines(src: &SourceFile, port: &SourceFile) -> Vec<(usize, Option<usize>)> {
    let mut used = BTreeSet::new();
    let mut out = Vec::new();
    for (i, p) in src.pipelines.iter().enumerate() {
        let found = port
            .pipelines
            .iter()
            .enumerate()
            .filter(|(j, _)| !used.contains(j))
            .find(|(_, q)| q.id == p.id)
            .or_else(|| {
                port.pipelines
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| !used.contains(j))
                    .find(|(_, q)| {
                        q.name == p.name || q.id == p.name || normal(&q.id) == normal(&p.id)
                    })
            })
            .map(|(j, _)| j);
        if let Some(j) = found {
            used.insert(j);
        }
        out.push((i, found));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Callable, Edge, EdgeKind, Node, NodeKind, Span};

    fn node(id: &str, func: Option<&str>) -> Node {
        let mut n = Node::new(id, NodeKind::Task, Span::default());
        n.callable = func.map(|f| Callable {
            name: f.into(),
            ..Callable::default()
        });
        n
    }

    fn edge(f: &str, t: &str) -> Edge {
        Edge {
            from: f.into(),
            to: t.into(),
            kind: EdgeKind::Order,
            param: None,
            output: None,
            span: Span::default(),
        }
    }

    #[test]
    fn matches_renamed_and_suffixed_steps() {
        let a = Pipeline {
            nodes: vec![
                node("grp.fetch", Some("fetch")),
                node("grp__1.fetch", Some("fetch")),
                node("crm/raw/contacts", None),
                node("start", None),
            ],
            ..Pipeline::default()
        };
        let b = Pipeline {
            nodes: vec![
                node("fetch", Some("fetch")),
                node("fetch-2", Some("fetch")),
                node("contacts", None),
            ],
            ..Pipeline::default()
        };
        let m = match_nodes(&a, &b);
        assert_eq!(m.pairs, vec![(0, 0), (1, 1), (2, 2)]);
        assert_eq!(m.missing, vec![3]);
        assert!(m.added.is_empty());
        assert_eq!(normal("crm/raw/contacts"), "crm_raw_contacts");
        assert_eq!(normal("a__b"), normal("a.b"));
    }

    #[test]
    fn folds_dropped_steps_into_edges() {
        let a = Pipeline {
            id: "p".into(),
            nodes: vec![node("a", None), node("join", None), node("c", None)],
            edges: vec![edge("a", "join"), edge("join", "c")],
            ..Pipeline::default()
        };
        let b = Pipeline {
            id: "p".into(),
            nodes: vec![node("a", None), node("c", None)],
            edges: vec![edge("a", "c")],
            ..Pipeline::default()
        };
        let (_, d) = structure(&a, &b, None);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].aspect, "nodes");
        assert!(!d[0].declared);
    }
}
