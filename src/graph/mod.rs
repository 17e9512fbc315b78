//! `orchmig graph`: a pipeline's drawing (nodes by kind, clusters, marks, data and order edges)
//! built from the IR, and its writers: Mermaid, Graphviz dot, versioned JSON and a self-laid SVG.

pub mod dot;
pub mod format;
pub mod json;
pub mod mermaid;
pub mod svg;

use serde::Serialize;

use crate::ir::{EdgeKind, GroupKind, NodeKind, Pipeline};

/// Version of the `--format json` document (`graph_version`); bumped when a key changes meaning.
pub const GRAPH_VERSION: u32 = 1;

/// A pipeline ready to draw: every writer renders this, so the formats cannot disagree.
#[derive(Debug, Clone, Serialize)]
pub struct Drawing {
    /// Pipeline id.
    pub pipeline: String,
    /// Pipeline display name.
    pub name: String,
    /// Source framework id.
    pub framework: String,
    /// Steps and checks, in IR order (checks after the steps).
    pub nodes: Vec<DrawNode>,
    /// Dependencies, then check attachments.
    pub edges: Vec<DrawEdge>,
    /// Groups and sub-flows, parents before children.
    pub clusters: Vec<Cluster>,
}

/// One box of the drawing.
#[derive(Debug, Clone, Serialize)]
pub struct DrawNode {
    /// The IR node id (a check: `check:TARGET:NAME`).
    pub id: String,
    /// The text shown: the id, and the display name when it differs.
    pub label: String,
    /// `task`, `asset`, `external_asset`, `op`, `sensor`, `branch`, `short_circuit`, `empty`,
    /// `trigger`, `sub_pipeline` or `check`.
    pub kind: &'static str,
    /// The cluster it is drawn in, if any.
    pub cluster: Option<String>,
    /// The mapped arguments when the node fans out (`null` otherwise).
    pub mapped: Option<Vec<String>>,
    /// For checks: whether a failure stops downstream steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocking: Option<bool>,
}

/// One arrow of the drawing.
#[derive(Debug, Clone, Serialize)]
pub struct DrawEdge {
    /// Upstream node id.
    pub from: String,
    /// Downstream node id.
    pub to: String,
    /// `data` (a value flows), `order` (only ordering) or `check` (a check guards `from`).
    pub kind: &'static str,
    /// The downstream parameter a data edge feeds.
    pub param: Option<String>,
}

/// A group drawn as a frame around its nodes.
#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    /// Group id.
    pub id: String,
    /// `task_group`, `sub_flow` or `asset_group`.
    pub kind: &'static str,
    /// Enclosing cluster.
    pub parent: Option<String>,
    /// Ids of the nodes directly inside it.
    pub nodes: Vec<String>,
}

impl DrawNode {
    /// True for a step that fans out over a collection.
    pub fn is_mapped(&self) -> bool {
        self.mapped.is_some()
    }

    /// Its label with what it fans out over and whether it blocks, each on its own line
    /// (`own_lines`) or in brackets after the label.
    pub fn annotated_label(&self, own_lines: bool) -> String {
        let mut notes = Vec::new();
        if let Some(over) = &self.mapped {
            notes.push(format!("mapped over {}", over.join(", ")));
        }
        if self.blocking == Some(true) {
            notes.push("blocking".to_string());
        }
        let mut label = self.label.clone();
        for note in notes {
            if own_lines {
                label.push_str(&format!("\n{note}"));
            } else {
                label.push_str(&format!(" ({note})"));
            }
        }
        label
    }
}

impl Drawing {
    /// The drawing of one pipeline.
    pub fn new(p: &Pipeline) -> Drawing {
        let mut nodes: Vec<DrawNode> = p
            .nodes
            .iter()
            .map(|n| {
                let label = match &n.name {
                    Some(name) if name != &n.id => format!("{} ({name})", n.id),
                    _ => n.id.clone(),
                };
                DrawNode {
                    id: n.id.clone(),
                    label,
                    kind: node_kind(n.kind),
                    cluster: n.group.clone(),
                    mapped: n.mapping.as_ref().map(|m| {
                        m.over
                            .iter()
                            .map(|a| {
                                if a.param.is_empty() {
                                    "*".to_string()
                                } else {
                                    a.param.clone()
                                }
                            })
                            .collect()
                    }),
                    blocking: None,
                }
            })
            .collect();
        let mut edges: Vec<DrawEdge> = p
            .edges
            .iter()
            .map(|e| DrawEdge {
                from: e.from.clone(),
                to: e.to.clone(),
                kind: match e.kind {
                    EdgeKind::Data => "data",
                    EdgeKind::Order => "order",
                },
                param: e.param.clone(),
            })
            .collect();
        for c in &p.checks {
            let id = format!("check:{}:{}", c.target, c.name);
            let cluster = p
                .nodes
                .iter()
                .find(|n| n.id == c.target)
                .and_then(|n| n.group.clone());
            nodes.push(DrawNode {
                id: id.clone(),
                label: c.name.clone(),
                kind: "check",
                cluster,
                mapped: None,
                blocking: Some(c.blocking),
            });
            edges.push(DrawEdge {
                from: c.target.clone(),
                to: id,
                kind: "check",
                param: None,
            });
        }
        let mut clusters: Vec<Cluster> = p
            .groups
            .iter()
            .map(|g| Cluster {
                id: g.id.clone(),
                kind: match g.kind {
                    GroupKind::TaskGroup => "task_group",
                    GroupKind::SubFlow => "sub_flow",
                    GroupKind::AssetGroup => "asset_group",
                },
                parent: g.parent.clone(),
                nodes: nodes
                    .iter()
                    .filter(|n| n.cluster.as_deref() == Some(&g.id))
                    .map(|n| n.id.clone())
                    .collect(),
            })
            .collect();
        // A node may name a group the reader did not list: draw it as a task group.
        for n in &nodes {
            if let Some(c) = &n.cluster
                && !clusters.iter().any(|k| &k.id == c)
            {
                clusters.push(Cluster {
                    id: c.clone(),
                    kind: "task_group",
                    parent: None,
                    nodes: nodes
                        .iter()
                        .filter(|m| m.cluster.as_ref() == Some(c))
                        .map(|m| m.id.clone())
                        .collect(),
                });
            }
        }
        // Parents before children, so writers can nest in one pass.
        clusters.sort_by_key(|c| depth(&clusters_parents(&p.groups), &c.id));
        Drawing {
            pipeline: p.id.clone(),
            name: p.name.clone(),
            framework: p.framework.map(|f| f.id()).unwrap_or("unknown").to_string(),
            nodes,
            edges,
            clusters,
        }
    }

    /// The clusters directly inside `parent` (`None`: the top level), in drawing order.
    pub fn child_clusters(&self, parent: Option<&str>) -> Vec<usize> {
        (0..self.clusters.len())
            .filter(|&i| self.clusters[i].parent.as_deref() == parent)
            .collect()
    }

    /// The nodes drawn directly inside a cluster (`None`: outside every cluster).
    pub fn nodes_in(&self, cluster: Option<&str>) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].cluster.as_deref() == cluster)
            .collect()
    }

    /// Index of a node id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// The node kinds present, in the fixed legend order.
    pub fn kinds_present(&self) -> Vec<&'static str> {
        KINDS
            .iter()
            .copied()
            .filter(|k| self.nodes.iter().any(|n| n.kind == *k))
            .collect()
    }

    /// The edge kinds present, in the fixed legend order.
    pub fn edge_kinds_present(&self) -> Vec<&'static str> {
        ["data", "order", "check"]
            .into_iter()
            .filter(|k| self.edges.iter().any(|e| e.kind == *k))
            .collect()
    }
}

/// Every node kind, in legend order.
pub const KINDS: [&str; 11] = [
    "task",
    "asset",
    "external_asset",
    "op",
    "sensor",
    "branch",
    "short_circuit",
    "empty",
    "trigger",
    "sub_pipeline",
    "check",
];

/// The drawing kind of an IR node kind.
pub fn node_kind(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Task => "task",
        NodeKind::Asset => "asset",
        NodeKind::ExternalAsset => "external_asset",
        NodeKind::Op => "op",
        NodeKind::Sensor => "sensor",
        NodeKind::Branch => "branch",
        NodeKind::ShortCircuit => "short_circuit",
        NodeKind::Empty => "empty",
        NodeKind::Trigger => "trigger",
        NodeKind::SubPipeline => "sub_pipeline",
    }
}

/// A fill colour per node kind, shared by the writers so every format looks alike.
pub fn kind_fill(kind: &str) -> &'static str {
    match kind {
        "asset" => "#dbeafe",
        "external_asset" => "#f1f5f9",
        "op" => "#ede9fe",
        "sensor" => "#fef3c7",
        "branch" | "short_circuit" => "#fce7f3",
        "empty" => "#f3f4f6",
        "trigger" => "#ffedd5",
        "sub_pipeline" => "#e0e7ff",
        "check" => "#dcfce7",
        _ => "#ffffff",
    }
}

fn clusters_parents(groups: &[crate::ir::Group]) -> Vec<(String, Option<String>)> {
    groups
        .iter()
        .map(|g| (g.id.clone(), g.parent.clone()))
        .collect()
}

fn depth(parents: &[(String, Option<String>)], id: &str) -> usize {
    let mut d = 0;
    let mut cur = id.to_string();
    while let Some((_, Some(p))) = parents.iter().find(|(g, _)| *g == cur) {
        d += 1;
        if d > parents.len() {
            break; // a parent cycle: stop rather than loop
        }
        cur = p.clone();
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Check, Edge, Group, Node, Span};

    /// A pipeline with a group, a mapped node, a check and both edge kinds.
    pub(crate) fn sample() -> Pipeline {
        let mut p = Pipeline {
            id: "etl".into(),
            name: "etl".into(),
            ..Pipeline::default()
        };
        let mut a = Node::new("load.extract-1", NodeKind::Task, Span::default());
        a.group = Some("load".into());
        let mut b = Node::new("say \"hi\"", NodeKind::Asset, Span::default());
        b.mapping = Some(crate::ir::Mapping {
            over: vec![crate::ir::MappedArg {
                param: "x".into(),
                literal: None,
                from_node: None,
            }],
            partial: Default::default(),
            kwargs: false,
        });
        p.nodes = vec![a, b, Node::new("c", NodeKind::Sensor, Span::default())];
        p.edges = vec![
            Edge {
                from: "load.extract-1".into(),
                to: "say \"hi\"".into(),
                kind: EdgeKind::Data,
                param: Some("x".into()),
                output: None,
                span: Span::default(),
            },
            Edge {
                from: "c".into(),
                to: "load.extract-1".into(),
                kind: EdgeKind::Order,
                param: None,
                output: None,
                span: Span::default(),
            },
        ];
        p.groups = vec![Group {
            id: "load".into(),
            kind: GroupKind::TaskGroup,
            parent: None,
            policy: Default::default(),
            description: None,
            span: Span::default(),
        }];
        p.checks = vec![Check {
            name: "not_empty".into(),
            target: "say \"hi\"".into(),
            severity: None,
            blocking: true,
            description: None,
            callable: None,
            extra: Default::default(),
            span: Span::default(),
        }];
        p
    }

    #[test]
    fn drawing_has_checks_clusters_and_marks() {
        let d = Drawing::new(&sample());
        assert_eq!(d.nodes.len(), 4);
        assert_eq!(d.nodes[3].kind, "check");
        assert_eq!(d.nodes[3].blocking, Some(true));
        assert!(d.nodes[1].is_mapped());
        assert_eq!(d.clusters[0].nodes, vec!["load.extract-1".to_string()]);
        assert_eq!(d.edge_kinds_present(), vec!["data", "order", "check"]);
        assert_eq!(d.kinds_present(), vec!["task", "asset", "sensor", "check"]);
    }
}
