//! `orchmig graph PATH`: reads one pipeline file and draws its pipelines in a format.

use std::path::Path;

use super::output::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, write_stdout};
use super::ui::print_path_error;
use crate::graph::format::{GraphFormat, render, select};

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
    let Some(file) = super::run::read_one(a.path) else {
        return EXIT_USAGE;
    };
    let drawings = match select(&file, a.pipeline, a.format) {
        Ok(d) => d,
        Err(e) => {
            print_path_error(&file.path, &e.message, &e.help);
            return if e.usage { EXIT_USAGE } else { EXIT_FINDINGS };
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

fn write_out(out: &Path, input: &Path, text: &str, force: bool) -> i32 {
    let shown = out.display().to_string();
    if let Some(code) = super::port::refuse_out_file(out, &[input], force, None) {
        return code;
    }
    match super::port::write_atomic(out, text) {
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
