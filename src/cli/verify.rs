//! `orchmig verify PATH --to TARGET`: verifies the port of every file (see [`crate::verify::check`]),
//! prints the verdicts and every difference; exit 1 on a mismatch.

use std::path::PathBuf;

use super::args::Format;
use super::input::{collect_files, report_reading};
use super::output::{EXIT_FINDINGS, EXIT_USAGE, write_stdout};
use super::ui::{note, print_path_error};
use crate::ir::SourceFile;
use crate::verify::check::{Options, render, verify_file};

/// What `orchmig verify` was asked.
pub struct VerifyArgs {
    /// File or folder.
    pub path: PathBuf,
    /// Target text.
    pub to: String,
    /// Only this pipeline.
    pub pipeline: Option<String>,
    /// `dry` or `python`.
    pub runner: String,
    /// Faults for both runs.
    pub fail: Vec<String>,
    /// Outputs forced in both runs.
    pub set_output: Vec<String>,
    /// Width of unknown mappings.
    pub map_width: usize,
    /// `--fail-on`: a report class that fails the run even when declared.
    pub fail_on: Option<String>,
    /// Output format.
    pub format: Format,
}

/// Runs `orchmig verify`; returns the exit code.
pub fn run(a: VerifyArgs) -> i32 {
    let target = match super::ui::target_or_exit(&a.to) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let fail_on = match super::ui::fail_on_or_exit(a.fail_on.as_deref()) {
        Ok(f) => f,
        Err(code) => return code,
    };
    if !matches!(a.runner.as_str(), "dry" | "python") {
        print_path_error(
            "--runner",
            &format!("unknown runner `{}`", a.runner),
            "use dry or python",
        );
        return EXIT_USAGE;
    }
    let table = match super::ui::translations_or_exit() {
        Ok(t) => t,
        Err(code) => return code,
    };
    if !a.path.exists() {
        print_path_error(
            &a.path.display().to_string(),
            "no such file or folder",
            "check the path",
        );
        return EXIT_USAGE;
    }
    let (paths, walk_errors) = collect_files(std::slice::from_ref(&a.path));
    let read: Vec<SourceFile> = paths
        .iter()
        .map(|p| crate::frontend::read_path(p))
        .collect();
    // A source that did not read cleanly (a dependency cycle, a duplicate id) is no faithful
    // anything: its errors are shown and the exit code says so, whatever the verdicts.
    let read_code = report_reading(std::slice::from_ref(&a.path), &walk_errors, &read);
    let files: Vec<SourceFile> = read
        .into_iter()
        .filter(|f| !f.pipelines.is_empty())
        .collect();
    if files.is_empty() {
        print_path_error(
            &a.path.display().to_string(),
            "defines no pipeline orchmig can read",
            "pass a pipeline file",
        );
        return EXIT_USAGE;
    }
    let opts = Options {
        runner: a.runner.clone(),
        fail: a.fail.clone(),
        set_output: a.set_output.clone(),
        map_width: a.map_width,
        pipeline: a.pipeline.clone(),
    };
    let mut verdicts = Vec::new();
    let mut code = read_code;
    for f in &files {
        match verify_file(f, target, &table, &opts, &mut |w| {
            note(&format!("orchmig run: {w}"))
        }) {
            Ok(v) => verdicts.extend(v),
            Err(e) => {
                print_path_error(
                    &f.path,
                    &format!("cannot be ported: {e}"),
                    "the other files were still verified",
                );
                code = EXIT_FINDINGS;
            }
        }
    }
    if verdicts.is_empty() && a.pipeline.is_some() {
        print_path_error(
            "--pipeline",
            "names no pipeline of the input",
            "check the pipeline id",
        );
        return EXIT_USAGE;
    }
    let text = match a.format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "schema": "orchmig.verify/1",
                "target": target.label(),
                "runner": a.runner,
                "verdict": if verdicts.iter().any(|v| v.verdict == "mismatch") { "mismatch" } else { "faithful" },
                "pipelines": verdicts,
            }))
            .unwrap_or_default()
                + "\n"
        }
        _ => render(
            &verdicts,
            &target.label(),
            crate::text::fit::target_width(),
            super::ui::verbosity() == super::ui::Verbosity::Verbose,
        ),
    };
    write_stdout(&text);
    if verdicts.iter().any(|v| v.verdict == "mismatch") {
        code = EXIT_FINDINGS;
    }
    if let Some(f) = fail_on {
        let over: Vec<String> = verdicts
            .iter()
            .filter(|v| v.worst >= f)
            .map(|v| format!("{} ({})", crate::text::inline(&v.pipeline), v.worst.name()))
            .collect();
        if !over.is_empty() {
            eprintln!(
                "orchmig verify --fail-on {}: the port report of {} has rows of that class or worse: {}; read them in `orchmig port --to {}` (each says what to do)",
                f.name(),
                if over.len() == 1 {
                    "one pipeline".to_string()
                } else {
                    format!("{} pipelines", over.len())
                },
                over.join(", "),
                target.label()
            );
            code = EXIT_FINDINGS;
        }
    }
    code
}
