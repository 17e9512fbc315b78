//! Assets that another pipeline of a Dagster source materialises, brought into the pipelines
//! that read them, for targets without a shared IO manager (Airflow, Prefect): there a step
//! cannot load an asset another pipeline computed, so it is computed again where it is read.

use std::collections::BTreeSet;

use crate::ir::{Edge, EdgeKind, Framework, NodeKind, Pipeline, SourceFile};
use crate::report::{Fidelity, Ledger, Translations};

/// A step brought into a pipeline: `(pipeline index, step id, the pipeline that owns it)`.
pub type Brought = (usize, String, String);

/// The file with every asset a pipeline reads from another pipeline (and what that asset
/// needs in its own pipeline, transitively) added to the reading pipeline; and what was added.
pub fn bring_upstream_assets(file: &SourceFile) -> (SourceFile, Vec<Brought>) {
    let mut out = file.clone();
    let mut brought = Vec::new();
    if file.framework != Some(Framework::Dagster) {
        return (out, brought);
    }
    for (i, p) in out.pipelines.iter_mut().enumerate() {
        let original: BTreeSet<String> = p.nodes.iter().map(|n| n.id.clone()).collect();
        let mut queue: Vec<String> = original.iter().cloned().collect();
        while let Some(id) = queue.pop() {
            // A step of the pipeline brings in only the assets it reads; a brought step brings
            // everything it needs to run after (its own pipeline's order too).
            let data_only = original.contains(&id);
            for (up, edge) in missing_upstreams(file, p, &id, data_only) {
                if !p.nodes.iter().any(|n| n.id == up) {
                    let Some((owner, node)) = producer(file, i, &up) else {
                        continue;
                    };
                    p.nodes.push(node.clone());
                    brought.push((i, up.clone(), owner.id.clone()));
                    queue.push(up.clone());
                }
                if !p
                    .edges
                    .iter()
                    .any(|e| e.from == edge.from && e.to == edge.to)
                {
                    p.edges.push(edge);
                }
            }
        }
    }
    (out, brought)
}

/// The upstream assets of step `id` that pipeline `p` does not compute, with the edge to add:
/// the step's edges in the pipeline that owns it (data edges only when `data_only`), and its
/// inlets read by a parameter of the same name (Dagster's implicit asset input) that no edge of
/// `p` feeds.
fn missing_upstreams(
    file: &SourceFile,
    p: &Pipeline,
    id: &str,
    data_only: bool,
) -> Vec<(String, Edge)> {
    let Some(node) = p.nodes.iter().find(|n| n.id == id) else {
        return Vec::new();
    };
    if node.kind != NodeKind::Asset {
        return Vec::new();
    }
    let present: BTreeSet<&str> = p.nodes.iter().map(|n| n.id.as_str()).collect();
    let mut out: Vec<(String, Edge)> = Vec::new();
    // Edges of the step where another pipeline has it with its upstreams.
    for q in &file.pipelines {
        if !q.nodes.iter().any(|n| n.id == id) {
            continue;
        }
        for e in q
            .edges
            .iter()
            .filter(|e| e.to == id && (!data_only || e.kind == EdgeKind::Data))
        {
            if !present.contains(e.from.as_str()) && !out.iter().any(|(u, _)| *u == e.from) {
                out.push((e.from.clone(), e.clone()));
            }
        }
    }
    // Inlets the step reads by parameter name, produced elsewhere.
    let params: Vec<&str> = node
        .callable
        .as_ref()
        .map(|c| c.params.iter().map(|x| x.name.as_str()).collect())
        .unwrap_or_default();
    for a in node.inlets.iter().filter_map(|a| a.name.as_deref()) {
        let fed = p
            .edges
            .iter()
            .any(|e| e.to == id && (e.from == a || e.param.as_deref() == Some(a)));
        let data = params.contains(&a);
        if present.contains(a) || fed || out.iter().any(|(u, _)| u == a) || (data_only && !data) {
            continue;
        }
        out.push((
            a.to_string(),
            Edge {
                from: a.to_string(),
                to: id.to_string(),
                kind: if data {
                    EdgeKind::Data
                } else {
                    EdgeKind::Order
                },
                param: data.then(|| a.to_string()),
                output: None,
                span: node.span,
            },
        ));
    }
    out
}

/// The pipeline (other than `skip`) whose asset `id` is, and the asset.
fn producer<'f>(
    file: &'f SourceFile,
    skip: usize,
    id: &str,
) -> Option<(&'f Pipeline, &'f crate::ir::Node)> {
    file.pipelines
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != skip)
        .find_map(|(_, q)| {
            q.nodes
                .iter()
                .find(|n| n.id == id && matches!(n.kind, NodeKind::Asset | NodeKind::ExternalAsset))
                .map(|n| (q, n))
        })
}

/// Marks the brought steps in their pipelines' ledgers (indexed like the source's pipelines):
/// a redesign, since the asset is computed again instead of being read.
pub fn record_brought(
    brought: &[Brought],
    ledgers: &mut [Ledger],
    table: &Translations,
    target: Framework,
) {
    for (i, id, owner) in brought {
        let Some(ledger) = ledgers.get_mut(*i) else {
            continue;
        };
        let external = ledger
            .entries
            .iter()
            .any(|e| e.subject == *id && e.construct == "node.external_asset");
        let note = if external {
            format!("an external asset the steps brought from the `{owner}` pipeline depend on")
        } else {
            format!(
                "an asset the `{owner}` pipeline materialises: {} has no shared IO manager, so this pipeline computes it again as its own step (share it through storage to avoid the recompute)",
                target.id()
            )
        };
        match ledger.entries.iter_mut().find(|e| {
            e.subject == *id && e.construct.starts_with("node.") && e.fidelity != Fidelity::None
        }) {
            Some(e) => {
                e.fidelity = Fidelity::Redesign;
                e.note = note;
                e.rule = format!("writer:{}", target.id());
            }
            None => {
                ledger.lose(table, "node.asset", id, crate::ir::Span::default(), note);
            }
        }
    }
}
