//! `orchmig graph PATH`: reads one pipeline file and draws its pipelines in a format.

use clap::ValueEnum;
use std::path::Path;

use super::{Drawing, dot, json, mermaid, svg};
use crate::cli::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, write_stdout};
use crate::diag::print_path_error;
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

/// The arguments of `orchmig graph`.
#[derive(Debug)]
pub struct GraphArgs<'a> {
    /// The pipeline file.
    pub path: &'a Path,
    /// Only this pipeline (id or name).
    pub pipeline: Option<&'a str>,
    /// Output format.
    pub format: GraphFormat,
    /// Write here instead of stdout.
    pub out: Option<&'a Path>,
    /// Overwrite an existing `out`.
    pub force: bool,
    /// Leave the legend out.
    pub no_legend: bool,
}

/// Runs `orchmig graph`; returns the exit code.
pub fn run(a: GraphArgs) -> i32 {
    let Some(file) = crate::exec::cmd::read_one(a.path) else {
        return EXIT_USAGE;
    };
    let drawings = match select(&file, a.pipeline, a.format) {
        Ok(d) => d,
        Err((code, message, help)) => {
            print_path_error(&file.path, &message, &help);
            return code;
        }
    };
    let text = match render(&file.path, &drawings, a.format, !a.no_legend) {
        Ok(t) => t,
        Err(e) => {
            print_path_error(
                &file.path,
                &e,
                "use --format dot or mermaid for this pipeline",
            );
            return EXIT_FINDINGS;
        }
    };
    match a.out {
        None => {
            write_stdout(&text);
            EXIT_OK
        }
        Some(out) => write_out(out, a.path, &text, a.force),
    }
}

/// The drawings a format asks for: the named pipeline, or all of them where the format holds
/// several (dot, json); mermaid and svg draw one and ask for `--pipeline` when there are several.
pub fn select(
    file: &SourceFile,
    name: Option<&str>,
    format: GraphFormat,
) -> Result<Vec<Drawing>, (i32, String, String)> {
    let names: Vec<&str> = file.pipelines.iter().map(|p| p.id.as_str()).collect();
    if let Some(n) = name {
        return match file.pipelines.iter().find(|p| p.id == n || p.name == n) {
            Some(p) => Ok(vec![Drawing::new(p)]),
            None => Err((
                EXIT_FINDINGS,
                format!("no pipeline `{n}` in this file"),
                format!("pass --pipeline with one of: {}", names.join(", ")),
            )),
        };
    }
    if file.pipelines.len() > 1 && matches!(format, GraphFormat::Mermaid | GraphFormat::Svg) {
        return Err((
            EXIT_USAGE,
            format!(
                "defines {} pipelines and a {} picture holds one",
                names.len(),
                if format == GraphFormat::Svg {
                    "svg"
                } else {
                    "mermaid"
                }
            ),
            format!(
                "pick one with --pipeline NAME: {} (--format dot and json draw them all)",
                names.join(", ")
            ),
        ));
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

fn write_out(out: &Path, input: &Path, text: &str, force: bool) -> i32 {
    let shown = out.display().to_string();
    if let Some(code) = crate::port_cmd::refuse_out_file(out, &[input], force, None) {
        return code;
    }
    match crate::port_cmd::write_atomic(out, text) {
        Ok(()) => {
            eprintln!("wrote {}", crate::text::inline(&shown));
            EXIT_OK
        }
        Err(e) => {
            print_path_error(
                &shown,
                &format!("cannot be written: {e}"),
                "check that the folder is writable",
            );
            EXIT_FINDINGS
        }
    }
}
