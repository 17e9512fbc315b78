//! How much orchmig says on stderr (`-q` / `-v`), whether it may colour it, and the printing of
//! diagnostics there.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::ir::{Severity, SourceFile};

/// How much orchmig says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: errors only.
    Quiet = 0,
    /// The default: errors, warnings and short progress notes.
    Normal = 1,
    /// `-v`: also per-file timings and the paths the walker skipped.
    Verbose = 2,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

/// Sets the verbosity and the colour policy of the diagnostics; called once per process.
pub fn init(verbosity: Verbosity) {
    VERBOSITY.store(verbosity as u8, Ordering::Relaxed);
    let colour = colour_allowed(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    // A hook set earlier in the process (a second `run` in tests) stays; the policy is the same.
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(miette::MietteHandlerOpts::new().color(colour).build())
    }));
}

/// The verbosity set by [`init`].
pub fn verbosity() -> Verbosity {
    match VERBOSITY.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        2 => Verbosity::Verbose,
        _ => Verbosity::Normal,
    }
}

/// True under `-q`: only errors reach stderr.
pub fn quiet() -> bool {
    verbosity() == Verbosity::Quiet
}

/// Colour only on a terminal, and never when `NO_COLOR` is set to a non-empty value (no-color.org).
pub fn colour_allowed(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Prints a progress or summary note to stderr, unless `-q`.
pub fn note(text: &str) {
    if !quiet() {
        eprintln!("{}", crate::text::multiline(text));
    }
}

/// Prints a detail to stderr under `-v` only; the text is made only then (some are per file).
pub fn detail(text: impl FnOnce() -> String) {
    if verbosity() == Verbosity::Verbose {
        eprintln!("{}", crate::text::multiline(&text()));
    }
}

/// Warnings shown even by quiet commands (`run`): the reader cut part of the pipeline, so what
/// runs is not the whole pipeline.
const CHANGES_THE_GRAPH: [&str; 2] = ["edge-budget", "unroll-budget"];

/// Prints every diagnostic of the files to stderr (warnings not under `-q`, and under
/// `quiet_warnings` only those in [`CHANGES_THE_GRAPH`]); returns how many were errors.
pub fn print_all(files: &[SourceFile], quiet_warnings: bool) -> usize {
    let quiet_warnings = quiet_warnings || quiet();
    let mut errors = 0;
    for file in files {
        if file.diagnostics.is_empty() {
            continue;
        }
        let source = std::fs::read_to_string(&file.path).ok();
        for d in &file.diagnostics {
            if d.severity == Severity::Error {
                errors += 1;
            } else if quiet_warnings && !CHANGES_THE_GRAPH.contains(&d.code.as_str()) {
                continue;
            }
            eprintln!("{}", crate::diag::render(&file.path, d, source.as_deref()));
        }
    }
    errors
}

/// Prints a plain error about an input path (no file content to show).
pub fn print_path_error(path: &str, message: &str, help: &str) {
    eprintln!("{}", crate::diag::path_error(path, message, help));
}

/// The target `--to` names, or its error printed and the usage exit code.
pub fn target_or_exit(to: &str) -> Result<crate::emit::Target, i32> {
    crate::emit::Target::parse(to).map_err(|e| {
        print_path_error(
            &format!("--to {to}"),
            &e,
            "pass --to airflow, dagster or prefect",
        );
        super::output::EXIT_USAGE
    })
}

/// The class `--fail-on` names (approximate, redesign or none), or its error printed and the
/// usage exit code.
pub fn fail_on_or_exit(text: Option<&str>) -> Result<Option<crate::report::Fidelity>, i32> {
    use crate::report::Fidelity;
    match text.map(|t| (t, Fidelity::parse(t))) {
        None => Ok(None),
        Some((_, Some(f))) if f != Fidelity::Exact => Ok(Some(f)),
        Some((t, _)) => {
            print_path_error(
                &format!("--fail-on {t}"),
                "unknown fidelity class",
                "use approximate, redesign or none",
            );
            Err(super::output::EXIT_USAGE)
        }
    }
}

/// The built-in translation table, or its error printed and the usage exit code.
pub fn translations_or_exit() -> Result<crate::report::Translations, i32> {
    crate::report::Translations::builtin().map_err(|e| {
        eprintln!("{}", e.render());
        super::output::EXIT_USAGE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(colour_allowed(true, None));
        assert!(!colour_allowed(false, None));
        assert!(!colour_allowed(true, Some(std::ffi::OsStr::new("1"))));
        assert!(colour_allowed(true, Some(std::ffi::OsStr::new(""))));
    }
}
