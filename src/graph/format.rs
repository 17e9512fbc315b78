//! The formats a pipeline is drawn in, and which drawings a format asks for.

use clap::ValueEnum;

use super::{Drawing, dot, json, mermaid, svg};
use crate::ir::SourceFile;

/// The formats of `orchmig graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart for a ```mermaid block in GitHub Markdown (one pipeline).
    Mermaid,
    /// Graphviz dot (one digraph per pipeline).
    Dot,
    /// The versioned JSON document (`graph_version`; every pipeline of the file).
    Json,
    /// An SVG picture laid out by orchmig itself (one pipeline).
    Svg,
}

/// Why [`select`] found nothing to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unselectable {
    /// The command line asked for what no file can give (one picture of several pipelines), as
    /// opposed to naming a pipeline this file lacks.
    pub usage: bool,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: String,
}

/// The drawings a format asks for: the named pipeline, or all of them where the format holds
/// several (dot, json); mermaid and svg draw one and ask for `--pipeline` when there are several.
pub fn select(
    file: &SourceFile,
    name: Option<&str>,
    format: GraphFormat,
) -> Result<Vec<Drawing>, Unselectable> {
    let names: Vec<&str> = file.pipelines.iter().map(|p| p.id.as_str()).collect();
    if let Some(n) = name {
        return match file.pipelines.iter().find(|p| p.id == n || p.name == n) {
            Some(p) => Ok(vec![Drawing::new(p)]),
            None => Err(Unselectable {
                usage: false,
                message: format!("no pipeline `{n}` in this file"),
                help: format!("pass --pipeline with one of: {}", names.join(", ")),
            }),
        };
    }
    if file.pipelines.len() > 1 && matches!(format, GraphFormat::Mermaid | GraphFormat::Svg) {
        return Err(Unselectable {
            usage: true,
            message: format!(
                "defines {} pipelines and a {} picture holds one",
                names.len(),
                if format == GraphFormat::Svg {
                    "svg"
                } else {
                    "mermaid"
                }
            ),
            help: format!(
                "pick one with --pipeline NAME: {} (--format dot and json draw them all)",
                names.join(", ")
            ),
        });
    }
    Ok(file.pipelines.iter().map(Drawing::new).collect())
}

/// The text of the drawings in a format.
pub fn render(
    path: &str,
    drawings: &[Drawing],
    format: GraphFormat,
    legend: bool,
) -> Result<String, String> {
    Ok(match format {
        GraphFormat::Json => json::render(path, drawings),
        GraphFormat::Dot => drawings
            .iter()
            .map(|d| dot::render(d, legend))
            .collect::<Vec<_>>()
            .join("\n"),
        GraphFormat::Mermaid => drawings
            .iter()
            .map(|d| mermaid::render(d, legend))
            .collect(),
        GraphFormat::Svg => {
            let mut out = String::new();
            for d in drawings {
                out.push_str(&svg::render(d, "")?);
            }
            out
        }
    })
}
