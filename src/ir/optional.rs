//! Optional outputs (a Dagster op's `Out(is_required=False)`, listed in
//! [`Node::optional_outputs`]): which data edges read one, and the condition a step that reads
//! them runs under. Dagster skips a step when an output it reads was not produced; in the IR
//! that step's condition tests the producer's result, a dict by output name:
//! `"big" in route` (with `condition_reads = {"route": "route"}`). What reads a skipped step's
//! output is skipped in turn, as everything below a skipped step with all-success semantics.

use std::collections::{BTreeMap, HashSet};

use super::{Edge, EdgeKind, Node, Pipeline};

/// Whether a data edge from `up` reads one of its optional outputs.
pub fn reads_optional(e: &Edge, up: &Node) -> bool {
    e.kind == EdgeKind::Data
        && e.output
            .as_ref()
            .is_some_and(|o| up.optional_outputs.contains(o))
}

/// The ids of the steps that read an optional output of another step (linear in the edges).
pub fn readers(p: &Pipeline) -> HashSet<&str> {
    if p.nodes.iter().all(|n| n.optional_outputs.is_empty()) {
        return HashSet::new();
    }
    let index = p.node_index();
    p.edges
        .iter()
        .filter(|e| {
            index
                .get(e.from.as_str())
                .is_some_and(|&u| reads_optional(e, &p.nodes[u]))
        })
        .map(|e| e.to.as_str())
        .collect()
}

/// The local name a condition gives a producing step's result: its id as a Python identifier
/// (`graph.route_2` is `graph_route_2`).
pub fn result_name(id: &str) -> String {
    let mut out: String = id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The test that a step's result (the local `local`, a dict by output name) holds the output
/// `name`: `"big" in route`.
pub fn produced_test(name: &str, local: &str) -> String {
    let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{quoted}\" in {local}")
}

/// Sets the condition of every step that reads optional outputs (joined with `and` to a
/// condition it already has); linear in the nodes and edges.
pub fn apply_conditions(p: &mut Pipeline) {
    let ids: HashSet<String> = readers(p).into_iter().map(str::to_string).collect();
    if ids.is_empty() {
        return;
    }
    let index: std::collections::HashMap<String, usize> = p
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.clone(), i))
        .collect();
    // Per reader, in edge order: its tests (each once) and the locals they read.
    let mut found: BTreeMap<usize, (Vec<String>, BTreeMap<String, String>)> = BTreeMap::new();
    for e in &p.edges {
        let (Some(&u), Some(&d)) = (index.get(&e.from), index.get(&e.to)) else {
            continue;
        };
        if !ids.contains(&e.to) || !reads_optional(e, &p.nodes[u]) {
            continue;
        }
        let local = result_name(&e.from);
        let test = produced_test(e.output.as_deref().unwrap_or(""), &local);
        let (tests, reads) = found.entry(d).or_default();
        if !tests.contains(&test) {
            tests.push(test);
        }
        reads.insert(local, e.from.clone());
    }
    for (d, (tests, reads)) in found {
        let cond = tests.join(" and ");
        let n = &mut p.nodes[d];
        n.condition = Some(match n.condition.take() {
            Some(old) => format!("({old}) and ({cond})"),
            None => cond,
        });
        n.condition_reads.extend(reads);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{NodeKind, Span};

    fn edge(from: &str, to: &str, output: Option<&str>) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            kind: EdgeKind::Data,
            param: Some("rows".into()),
            output: output.map(str::to_string),
            span: Span::default(),
        }
    }

    #[test]
    fn readers_of_optional_outputs_get_a_membership_test() {
        let mut p = Pipeline::default();
        let mut route = Node::new("g.route", NodeKind::Op, Span::default());
        route.outputs = vec!["big".into(), "small".into(), "count".into()];
        route.optional_outputs = vec!["big".into(), "small".into()];
        for id in ["big_load", "small_load", "audit"] {
            p.nodes.push(Node::new(id, NodeKind::Op, Span::default()));
        }
        p.nodes.push(route);
        p.edges = vec![
            edge("g.route", "big_load", Some("big")),
            edge("g.route", "small_load", Some("small")),
            edge("g.route", "audit", Some("count")),
            edge("big_load", "audit", None),
        ];
        apply_conditions(&mut p);
        let n = |id: &str| p.nodes.iter().find(|n| n.id == id).unwrap();
        assert_eq!(
            n("big_load").condition.as_deref(),
            Some("\"big\" in g_route")
        );
        assert_eq!(
            n("small_load")
                .condition_reads
                .get("g_route")
                .map(String::as_str),
            Some("g.route")
        );
        // A required output, or a plain edge, gives no condition.
        assert!(n("audit").condition.is_none());
        assert_eq!(result_name("3x-y"), "_3x_y");
    }
}
