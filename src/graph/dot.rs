//! The Graphviz writer: plain `dot` with clusters, a shape per node kind and a legend.

use super::{Drawing, kind_fill};

/// The dot text of a drawing (one `digraph`), ending with a newline.
pub fn render(d: &Drawing, legend: bool) -> String {
    let mut out = format!("digraph {} {{\n", quote(&d.pipeline));
    out.push_str(&format!(
        "  label={};\n  labelloc=t;\n  rankdir=LR;\n  fontname=\"Helvetica\";\n",
        quote(&format!("{} ({})", d.pipeline, d.framework))
    ));
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11, style=filled, color=\"#374151\"];\n  edge [fontname=\"Helvetica\", fontsize=9, color=\"#374151\"];\n");
    clusters(d, None, 1, &mut out);
    for e in &d.edges {
        let attrs = match (e.kind, &e.param) {
            ("data", Some(p)) => format!(" [label={}]", quote(p)),
            ("data", None) => String::new(),
            ("check", _) => " [style=dotted, arrowhead=odot]".to_string(),
            _ => " [style=dashed]".to_string(),
        };
        out.push_str(&format!(
            "  {} -> {}{attrs};\n",
            quote(&e.from),
            quote(&e.to)
        ));
    }
    if legend {
        out.push_str("  subgraph cluster_legend {\n    label=\"legend\";\n    style=dashed;\n    color=\"#9ca3af\";\n");
        for k in d.kinds_present() {
            out.push_str(&format!(
                "    \"legend:{k}\" [label={}, {}];\n",
                quote(&k.replace('_', " ")),
                node_attrs(k, false)
            ));
        }
        if d.nodes.iter().any(|n| n.is_mapped()) {
            out.push_str(&format!(
                "    \"legend:mapped\" [label=\"mapped (fans out)\", {}];\n",
                node_attrs("task", true)
            ));
        }
        for e in d.edge_kinds_present() {
            let (label, style) = match e {
                "data" => ("data", ""),
                "order" => ("order only", ", style=dashed"),
                _ => ("check", ", style=dotted, arrowhead=odot"),
            };
            out.push_str(&format!(
                "    \"legend:{e}:a\" [label=\"\", shape=point];\n    \"legend:{e}:b\" [label=\"\", shape=point];\n    \"legend:{e}:a\" -> \"legend:{e}:b\" [label=\"{label}\"{style}];\n"
            ));
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

fn clusters(d: &Drawing, parent: Option<&str>, level: usize, out: &mut String) {
    let pad = "  ".repeat(level);
    for c in d.child_clusters(parent) {
        let cl = &d.clusters[c];
        out.push_str(&format!(
            "{pad}subgraph cluster_{c} {{\n{pad}  label={};\n{pad}  style=\"rounded,dashed\";\n{pad}  color=\"#6b7280\";\n",
            quote(&format!("{} · {}", cl.id, cl.kind.replace('_', " ")))
        ));
        clusters(d, Some(&cl.id), level + 1, out);
        out.push_str(&format!("{pad}}}\n"));
    }
    for i in d.nodes_in(parent) {
        let n = &d.nodes[i];
        let label = n.annotated_label(true);
        out.push_str(&format!(
            "{pad}{} [label={}, {}];\n",
            quote(&n.id),
            quote(&label),
            node_attrs(n.kind, n.is_mapped())
        ));
    }
}

/// Shape, fill and border of a node kind; mapped nodes get a double border.
fn node_attrs(kind: &str, mapped: bool) -> String {
    let shape = match kind {
        "asset" | "external_asset" => "cylinder",
        "op" => "box, style=\"filled,rounded\"",
        "sensor" => "hexagon",
        "branch" | "short_circuit" => "diamond",
        "empty" => "ellipse",
        "trigger" => "cds",
        "sub_pipeline" => "component",
        "check" => "note",
        _ => "box",
    };
    let mut s = format!("shape={shape}, fillcolor=\"{}\"", kind_fill(kind));
    if kind == "external_asset" {
        s.push_str(", style=\"filled,dashed\"");
    }
    if mapped {
        s.push_str(", peripheries=2, color=\"#7c3aed\"");
    }
    s
}

/// A dot double-quoted string: backslashes and quotes escaped, newlines as `\n`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample;

    #[test]
    fn quotes_ids_and_marks_edges_and_mapping() {
        let out = render(&Drawing::new(&sample()), true);
        assert!(out.starts_with("digraph \"etl\" {\n"), "{out}");
        assert!(out.contains("subgraph cluster_0 {"), "{out}");
        assert!(
            out.contains("\"load.extract-1\" -> \"say \\\"hi\\\"\" [label=\"x\"];"),
            "{out}"
        );
        assert!(
            out.contains("\"c\" -> \"load.extract-1\" [style=dashed];"),
            "{out}"
        );
        assert!(out.contains("peripheries=2"), "{out}");
        assert!(out.ends_with("}\n"));
    }

    #[test]
    fn quote_escapes() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
