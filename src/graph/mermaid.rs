//! The Mermaid writer: a `flowchart` that pastes into GitHub Markdown as a ```mermaid block.
//!
//! Node and cluster ids are generated (`n0`, `c0`) so that any IR id — dots, dashes, quotes,
//! spaces — is safe; the real id is the label, written as a quoted string with Mermaid's entity
//! codes for the characters that would end or inject into it.

use super::{Drawing, kind_fill};

/// The Mermaid text of a drawing, ending with a newline.
pub fn render(d: &Drawing, legend: bool) -> String {
    let mut out = String::from("flowchart LR\n");
    out.push_str(&format!(
        "  %% orchmig graph of {} ({})\n",
        comment(&d.pipeline),
        d.framework
    ));
    clusters(d, None, 1, &mut out);
    for e in &d.edges {
        let (Some(a), Some(b)) = (d.index_of(&e.from), d.index_of(&e.to)) else {
            continue;
        };
        let arrow = match (e.kind, &e.param) {
            ("data", Some(p)) => format!("-->|\"{}\"|", text(p)),
            ("data", None) => "-->".to_string(),
            ("check", _) => "--o".to_string(),
            _ => "-.->".to_string(),
        };
        out.push_str(&format!("  n{a} {arrow} n{b}\n"));
    }
    if legend {
        legend_block(d, &mut out);
    }
    for k in d.kinds_present() {
        let dash = if k == "external_asset" {
            ",stroke-dasharray:4 3"
        } else {
            ""
        };
        out.push_str(&format!(
            "  classDef {k} fill:{},stroke:#374151,color:#111827{dash}\n",
            kind_fill(k)
        ));
    }
    let mut mapped: Vec<String> = (0..d.nodes.len())
        .filter(|&i| d.nodes[i].is_mapped())
        .map(|i| format!("n{i}"))
        .collect();
    if !mapped.is_empty() {
        if legend {
            mapped.push("legend_mapped".into());
        }
        out.push_str("  classDef mapped stroke:#7c3aed,stroke-width:3px\n");
        out.push_str(&format!("  class {} mapped\n", mapped.join(",")));
    }
    if legend {
        out.push_str("  classDef legend fill:#ffffff,stroke:#ffffff,color:#374151\n");
    }
    out
}

fn clusters(d: &Drawing, parent: Option<&str>, level: usize, out: &mut String) {
    let pad = "  ".repeat(level);
    for c in d.child_clusters(parent) {
        let cl = &d.clusters[c];
        out.push_str(&format!(
            "{pad}subgraph c{c}[\"{} · {}\"]\n",
            text(&cl.id),
            cl.kind.replace('_', " ")
        ));
        clusters(d, Some(&cl.id), level + 1, out);
        out.push_str(&format!("{pad}end\n"));
    }
    for i in d.nodes_in(parent) {
        let n = &d.nodes[i];
        let label = n.annotated_label(false);
        out.push_str(&format!(
            "{pad}n{i}{}:::{}\n",
            shape(n.kind, &text(&label)),
            n.kind
        ));
    }
}

fn legend_block(d: &Drawing, out: &mut String) {
    out.push_str("  subgraph legend[\"legend\"]\n");
    for k in d.kinds_present() {
        out.push_str(&format!(
            "    legend_{k}{}:::{k}\n",
            shape(k, &k.replace('_', " "))
        ));
    }
    if d.nodes.iter().any(|n| n.is_mapped()) {
        out.push_str("    legend_mapped[\"mapped (fans out)\"]:::task\n");
    }
    for e in d.edge_kinds_present() {
        let what = match e {
            "data" => "──▶ data: a value flows",
            "order" => "┄┄▶ order only",
            _ => "──o check guards the step",
        };
        out.push_str(&format!("    legend_edge_{e}[\"{what}\"]:::legend\n"));
    }
    out.push_str("  end\n");
}

/// The node syntax of a kind around an already escaped label.
fn shape(kind: &str, label: &str) -> String {
    match kind {
        "asset" | "external_asset" => format!("[(\"{label}\")]"),
        "op" => format!("(\"{label}\")"),
        "sensor" => format!("{{{{\"{label}\"}}}}"),
        "branch" | "short_circuit" => format!("{{\"{label}\"}}"),
        "empty" => format!("([\"{label}\"])"),
        "trigger" => format!(">\"{label}\"]"),
        "sub_pipeline" => format!("[[\"{label}\"]]"),
        "check" => format!("[/\"{label}\"/]"),
        _ => format!("[\"{label}\"]"),
    }
}

/// Text for inside a quoted Mermaid string: quotes, markup and entity starts as entity codes.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn comment(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample;

    #[test]
    fn ids_are_generated_and_labels_escaped() {
        let out = render(&Drawing::new(&sample()), true);
        assert!(out.starts_with("flowchart LR\n"), "{out}");
        // The dotted, dashed id is a label, never a Mermaid id.
        assert!(out.contains("n0[\"load.extract-1\"]:::task"), "{out}");
        // Quotes inside a label cannot end the string.
        assert!(out.contains("say #quot;hi#quot; (mapped over x)"), "{out}");
        assert!(!out.contains("say \"hi"), "{out}");
        assert!(out.contains("subgraph c0[\"load · task group\"]"), "{out}");
        assert!(out.contains("n0 -->|\"x\"| n1"), "{out}");
        assert!(out.contains("n2 -.-> n0"), "{out}");
        assert!(out.contains("n1 --o n3"), "{out}");
        assert!(out.contains("class n1,legend_mapped mapped"), "{out}");
    }

    #[test]
    fn escapes_markup_and_entities() {
        assert_eq!(text("a<b>&\"#`"), "a#lt;b#gt;#amp;#quot;#35;#96;");
    }
}
