//! Steps with several named outputs, for targets that have no multi-output steps of their own:
//! the assets of one Dagster `@multi_asset` become one step that computes them all (it runs the
//! function once), and a multi-output body returns its outputs as a dict keyed by output name,
//! which the consumers index (`split_out["domestic"]`).

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{Edge, Framework, Node, Pipeline, SourceFile, Value};
use crate::python::print as python;
use crate::report::{Fidelity, Ledger, Translations, constructs};

/// The multi-asset function a node is one output of, and that output's name.
pub fn member_of(n: &Node) -> Option<(&str, String)> {
    let function = n.extra.get("multi_asset").and_then(Value::as_str)?;
    Some((function, crate::ir::multi_asset_output(n)?))
}

/// Whether a node's body returns its several outputs (so the port returns them as a dict by
/// name); a generator that only yields materialisations or check results returns none.
pub fn returns_by_name(n: &Node) -> bool {
    n.outputs.len() > 1 && n.callable.as_ref().is_some_and(|c| !yields(&c.body))
}

/// The file with each pipeline's multi-asset members merged into one step per function (for
/// Airflow and Prefect; Dagster writes `@multi_asset` itself, so its file is returned as is).
pub fn merge_multi_assets(file: &SourceFile, target: Framework) -> SourceFile {
    let mut out = file.clone();
    if target == Framework::Dagster {
        return out;
    }
    for p in &mut out.pipelines {
        merge(p);
    }
    out
}

/// Merges the members of each multi-asset of one pipeline; returns member id → merged id.
fn merge(p: &mut Pipeline) -> BTreeMap<String, String> {
    // Members by (function, definition offset), in node order.
    let mut groups: Vec<((String, u32), Vec<usize>)> = Vec::new();
    for (i, n) in p.nodes.iter().enumerate() {
        let Some((function, _)) = member_of(n) else {
            continue;
        };
        let key = (
            function.to_string(),
            n.callable.as_ref().map_or(0, |c| c.span.start),
        );
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    let mut outputs: BTreeMap<String, String> = BTreeMap::new();
    let mut merged_nodes: BTreeMap<usize, Node> = BTreeMap::new();
    let mut dropped: BTreeSet<usize> = BTreeSet::new();
    for ((function, _), members) in &groups {
        let first = &p.nodes[members[0]];
        let taken = p
            .nodes
            .iter()
            .any(|n| n.id == *function && !members.iter().any(|&m| p.nodes[m].id == n.id));
        let id = if taken {
            first.id.clone()
        } else {
            function.clone()
        };
        let mut node = first.clone();
        node.id = id.clone();
        node.name = None;
        node.extra.remove("output");
        node.extra.remove("multi_asset");
        for &m in members {
            let member = &p.nodes[m];
            if let Some((_, output)) = member_of(member) {
                outputs.insert(member.id.clone(), output);
            }
            renamed.insert(member.id.clone(), id.clone());
            for a in &member.inlets {
                if !node.inlets.contains(a) {
                    node.inlets.push(a.clone());
                }
            }
            for a in &member.outlets {
                if !node.outlets.contains(a) {
                    node.outlets.push(a.clone());
                }
            }
            if member.description != node.description {
                node.description = None;
            }
        }
        merged_nodes.insert(members[0], node);
        dropped.extend(members[1..].iter().copied());
    }
    if renamed.is_empty() {
        return renamed;
    }
    let nodes = std::mem::take(&mut p.nodes);
    p.nodes = nodes
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !dropped.contains(i))
        .map(|(i, n)| merged_nodes.remove(&i).unwrap_or(n))
        .collect();
    let mut edges: Vec<Edge> = Vec::new();
    for e in &p.edges {
        let mut e = e.clone();
        if let Some(to) = renamed.get(&e.to) {
            e.to = to.clone();
        }
        if let Some(from) = renamed.get(&e.from) {
            if e.output.is_none() {
                e.output = outputs.get(&e.from).cloned();
            }
            e.from = from.clone();
        }
        // Dependencies between the outputs of one function are inside the merged step.
        if e.from == e.to {
            continue;
        }
        let same = |x: &Edge| {
            x.from == e.from && x.to == e.to && x.param == e.param && x.output == e.output
        };
        if !edges.iter().any(same) {
            edges.push(e);
        }
    }
    p.edges = edges;
    for c in &mut p.checks {
        if let Some(to) = renamed.get(&c.target) {
            c.target = to.clone();
        }
    }
    for n in &mut p.nodes {
        if let Some(m) = &mut n.mapping {
            for a in &mut m.over {
                if let Some(to) = a.from_node.as_ref().and_then(|f| renamed.get(f)) {
                    a.from_node = Some(to.clone());
                }
            }
        }
    }
    renamed
}

/// Records, for each merged multi-asset member of the source, that it is one output of the
/// step that computes them all, then closes the ledger over the source's constructs.
pub fn record_merged(
    file: &SourceFile,
    ledgers: &mut [Ledger],
    table: &Translations,
    target: Framework,
) {
    if target == Framework::Dagster {
        return;
    }
    let writer = format!("writer:{}", target.id());
    for (p, ledger) in file.pipelines.iter().zip(ledgers.iter_mut()) {
        let mut q = p.clone();
        let renamed = merge(&mut q);
        if renamed.is_empty() {
            continue;
        }
        let all = constructs(p);
        for n in p.nodes.iter().filter(|n| renamed.contains_key(&n.id)) {
            let (Some(step), Some((_, output))) = (renamed.get(&n.id), member_of(n)) else {
                continue;
            };
            let note = format!(
                "output `{output}` of the step `{step}`, which runs the multi-asset's function once and returns its outputs as a dict"
            );
            for c in all
                .iter()
                .filter(|c| c.subject == n.id || c.subject.starts_with(&format!("{}.", n.id)))
            {
                if ledger.has(&c.id, &c.subject) {
                    continue;
                }
                // The member reads as the merged step's own entry for the same construct.
                let on_step = format!("{step}{}", &c.subject[n.id.len()..]);
                let (fidelity, why) = if c.id.starts_with("node.") {
                    (Fidelity::Approximate, note.clone())
                } else if let Some(e) = ledger.entries.iter().find(|e| {
                    e.construct == c.id && e.subject == on_step && e.rule != "default-deny"
                }) {
                    (e.fidelity, format!("{} (on the step `{step}`)", e.note))
                } else if c.subject == format!("{}.multi_asset", n.id)
                    || c.subject == format!("{}.output", n.id)
                {
                    (
                        Fidelity::Exact,
                        format!("one step, `{step}`, computes every output of the multi-asset"),
                    )
                } else if c.id == "extra" {
                    continue;
                } else {
                    // The merged step carries the first asset's settings, not this one's.
                    (
                        Fidelity::None,
                        format!("output `{output}`'s own setting is not kept on the step `{step}`"),
                    )
                };
                // It is written where the merged step's own code is.
                let step_node = ledger
                    .entries
                    .iter()
                    .find(|e| e.subject == *step && e.construct.starts_with("node."))
                    .map(|e| e.construct.clone())
                    .unwrap_or_default();
                let like =
                    if c.id.starts_with("node.") || ledger.anchor_of(&c.id, &on_step).is_none() {
                        (step_node.as_str(), step.as_str())
                    } else {
                        (c.id.as_str(), on_step.as_str())
                    };
                if fidelity == Fidelity::None {
                    ledger.lose(table, &c.id, &c.subject, n.span, why);
                } else {
                    ledger.consume_where(
                        table,
                        &c.id,
                        &c.subject,
                        n.span,
                        like,
                        Some(fidelity),
                        why,
                    );
                }
                if let Some(e) = ledger.entries.last_mut() {
                    e.rule = writer.clone();
                }
            }
        }
        ledger.expect(all);
        ledger.finish(table);
    }
}

/// A multi-output body (a Dagster op with several `Out`s, a multi-asset function) rewritten to
/// return its outputs as a dict keyed by output name: `return a, b` becomes
/// `return {"x": a, "y": b}` when that is its only return, else the body runs as a local
/// function whose tuple is zipped with the names.
pub fn return_by_name(body: &str, names: &[String]) -> String {
    let returns: Vec<(usize, &str)> = body
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            t == "return" || t.starts_with("return ") || t.starts_with("return(")
        })
        .collect();
    let lines: Vec<&str> = body.trim_end().lines().collect();
    if let [(at, line)] = returns.as_slice()
        && *at + 1 == lines.len()
        && !line.starts_with(' ')
    {
        let values: Vec<&str> = line["return".len()..]
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if values.len() == names.len() && values.iter().all(|v| is_name(v)) {
            let items: Vec<String> = names
                .iter()
                .zip(&values)
                .map(|(n, v)| format!("{}: {v}", python::Expr::str(n).flat()))
                .collect();
            let mut out: Vec<String> = lines[..*at].iter().map(|l| l.to_string()).collect();
            out.push(format!("return {{{}}}", items.join(", ")));
            return out.join("\n") + "\n";
        }
    }
    let keys: Vec<String> = names.iter().map(|n| python::Expr::str(n).flat()).collect();
    format!(
        "def _outputs():\n{}\n\nreturn dict(zip(({}), _outputs()))\n",
        python::indent_body(body, 4).trim_end(),
        keys.join(", ")
    )
}

/// A plain Python name (`channels`), not an expression.
fn is_name(v: &str) -> bool {
    v.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && v.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Whether a body yields at its own level (a Dagster generator body: outputs, materialisations,
/// check results), so that calling it outside Dagster would not run it.
pub fn yields(body: &str) -> bool {
    let mut nested: Option<usize> = None;
    for l in body.lines() {
        let t = l.trim_start();
        if t.is_empty() {
            continue;
        }
        let indent = l.len() - t.len();
        if nested.is_some_and(|n| indent > n) {
            continue;
        }
        nested = None;
        if t.starts_with("def ") || t.starts_with("async def ") || t.starts_with("class ") {
            nested = Some(indent);
            continue;
        }
        if t.starts_with("yield ") || t == "yield" || t.contains("= yield ") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_returned_tuple_becomes_a_dict_by_output_name() {
        let body = "home = 1\nreturn domestic, international\n";
        assert_eq!(
            return_by_name(body, &names(&["domestic", "international"])),
            "home = 1\nreturn {\"domestic\": domestic, \"international\": international}\n"
        );
    }

    #[test]
    fn other_returns_are_zipped_with_the_names() {
        let body = "if x:\n    return a, b\nreturn pair()\n";
        let out = return_by_name(body, &names(&["a", "b"]));
        assert!(out.starts_with("def _outputs():\n    if x:\n"), "{out}");
        assert!(
            out.ends_with("return dict(zip((\"a\", \"b\"), _outputs()))\n"),
            "{out}"
        );
    }

    #[test]
    fn generator_bodies_are_found_at_their_own_level_only() {
        assert!(yields("x = 1\nyield MaterializeResult(asset_key=\"a\")\n"));
        assert!(yields("for r in rows:\n    yield r\n"));
        assert!(!yields("def inner():\n    yield 1\nreturn list(inner())\n"));
        assert!(!yields("return {\"yield\": 1}\n"));
    }
}
