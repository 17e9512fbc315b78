//! The JSON writer: the versioned `orchmig graph --format json` document (docs/graph-json.md).

use serde::Serialize;

use super::{Drawing, GRAPH_VERSION};

/// The document: every drawn pipeline of one file.
#[derive(Debug, Serialize)]
pub struct GraphDocument<'d> {
    /// Schema version of this document.
    pub graph_version: u32,
    /// The file the pipelines were read from.
    pub file: &'d str,
    /// One graph per pipeline, in source order.
    pub graphs: &'d [Drawing],
}

/// The pretty JSON text of the drawings of a file, ending with a newline.
pub fn render(file: &str, drawings: &[Drawing]) -> String {
    let doc = GraphDocument {
        graph_version: GRAPH_VERSION,
        file,
        graphs: drawings,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample;

    #[test]
    fn has_version_nodes_edges_clusters() {
        let v: serde_json::Value =
            serde_json::from_str(&render("x.py", &[Drawing::new(&sample())])).unwrap();
        assert_eq!(v["graph_version"], 1);
        let g = &v["graphs"][0];
        assert_eq!(g["pipeline"], "etl");
        assert_eq!(g["nodes"][1]["mapped"][0], "x");
        assert_eq!(g["nodes"][0]["mapped"], serde_json::Value::Null);
        assert_eq!(g["edges"][0]["kind"], "data");
        assert_eq!(g["edges"][2]["kind"], "check");
        assert_eq!(g["clusters"][0]["kind"], "task_group");
    }
}
