//! A petgraph view of a pipeline, for ordering, cycle detection and the executor.

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

use super::model::{EdgeKind, Pipeline};

/// A pipeline's nodes and edges as a directed graph; node weights index `Pipeline::nodes`.
pub struct PipelineGraph {
    /// The graph; each weight is an index into `pipeline.nodes`.
    pub graph: DiGraph<usize, EdgeKind>,
    /// Node id → graph index (first node with that id).
    pub index: HashMap<String, NodeIndex>,
}

impl PipelineGraph {
    /// Builds the graph; edges whose ends are unknown ids are skipped (validation reports them).
    pub fn new(pipeline: &Pipeline) -> PipelineGraph {
        let mut graph = DiGraph::with_capacity(pipeline.nodes.len(), pipeline.edges.len());
        let mut index = HashMap::with_capacity(pipeline.nodes.len());
        for (i, node) in pipeline.nodes.iter().enumerate() {
            let ix = graph.add_node(i);
            index.entry(node.id.clone()).or_insert(ix);
        }
        for edge in &pipeline.edges {
            if let (Some(&a), Some(&b)) = (index.get(&edge.from), index.get(&edge.to)) {
                graph.add_edge(a, b, edge.kind);
            }
        }
        PipelineGraph { graph, index }
    }

    /// Node indices (into `pipeline.nodes`) in a dependency order, or `None` if there is a cycle.
    pub fn topological_order(&self) -> Option<Vec<usize>> {
        toposort(&self.graph, None)
            .ok()
            .map(|order| order.into_iter().map(|ix| self.graph[ix]).collect())
    }

    /// Every cycle as the node indices (into `pipeline.nodes`) of a strongly connected component.
    pub fn cycles(&self) -> Vec<Vec<usize>> {
        let mut out: Vec<Vec<usize>> = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|scc| {
                scc.len() > 1 || scc.iter().any(|&n| self.graph.find_edge(n, n).is_some())
            })
            .map(|scc| {
                let mut v: Vec<usize> = scc.into_iter().map(|ix| self.graph[ix]).collect();
                v.sort_unstable();
                v
            })
            .collect();
        out.sort();
        out
    }

    /// Upstream node indices (into `pipeline.nodes`) of a node index.
    pub fn upstream(&self, node: usize) -> Vec<usize> {
        let ix = NodeIndex::new(node);
        let mut v: Vec<usize> = self
            .graph
            .neighbors_directed(ix, petgraph::Direction::Incoming)
            .map(|n| self.graph[n])
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Edge, Node, NodeKind, Span};

    fn pipeline(edges: &[(&str, &str)]) -> Pipeline {
        let mut p = Pipeline::default();
        for id in ["a", "b", "c"] {
            p.nodes.push(Node::new(id, NodeKind::Task, Span::default()));
        }
        for (f, t) in edges {
            p.edges.push(Edge {
                from: f.to_string(),
                to: t.to_string(),
                kind: EdgeKind::Order,
                param: None,
                output: None,
                span: Span::default(),
            });
        }
        p
    }

    #[test]
    fn orders_a_chain() {
        let g = PipelineGraph::new(&pipeline(&[("b", "c"), ("a", "b")]));
        assert_eq!(g.topological_order(), Some(vec![0, 1, 2]));
        assert!(g.cycles().is_empty());
        assert_eq!(g.upstream(2), vec![1]);
    }

    #[test]
    fn finds_a_cycle() {
        let g = PipelineGraph::new(&pipeline(&[("a", "b"), ("b", "a"), ("b", "c")]));
        assert_eq!(g.topological_order(), None);
        assert_eq!(g.cycles(), vec![vec![0, 1]]);
    }
}
