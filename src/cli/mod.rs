//! The command line: the only layer that prints, exits or reads orchmig.toml. One file per
//! subcommand; the exit codes and stdout in [`output`], stderr in [`ui`]; every other layer
//! returns values and errors to it.

pub mod analyze;
pub mod args;
pub mod config;
pub mod effort;
pub mod graph;
pub mod input;
pub mod manual;
pub mod matrix;
pub mod output;
pub mod parallel;
pub mod port;
pub mod review;
pub mod run;
pub mod sarif;
pub mod ui;
pub mod verify;

use std::path::PathBuf;

pub use args::Cli;
use args::{AnalyzeFormat, Command};
use output::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, write_stdout};
use ui::print_path_error;

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    if let Some(n) = cli.threads {
        parallel::set_threads(n);
    }
    ui::init(if cli.quiet {
        ui::Verbosity::Quiet
    } else if cli.verbose {
        ui::Verbosity::Verbose
    } else {
        ui::Verbosity::Normal
    });
    match cli.command {
        Command::Completions { shell } => return manual::completions(shell),
        Command::Man { out } => return manual::man(out.as_deref()),
        _ => {}
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let config = match config::load(&cwd) {
        Ok(c) => config::activate(c),
        Err(e) => {
            eprintln!("{}", e.0);
            return EXIT_FINDINGS;
        }
    };
    if let Some(file) = &config.file {
        ui::detail(|| format!("configuration: {}", file.display()));
    }
    let paths_or_config = |paths: Vec<PathBuf>| -> Option<Vec<PathBuf>> {
        if !paths.is_empty() {
            Some(paths)
        } else if !config.paths.is_empty() {
            Some(config.paths.clone())
        } else {
            print_path_error(
                "PATH",
                "no input files or folders",
                "pass files or folders (e.g. `orchmig analyze dags/`), or set `paths = [\"dags\"]` in orchmig.toml",
            );
            None
        }
    };
    let to_or_config = |to: Option<String>| -> Option<String> {
        let to = to.or_else(|| config.to.clone());
        if to.is_none() {
            print_path_error(
                "--to",
                "no target framework",
                "pass --to airflow, dagster or prefect, or set `to = \"dagster\"` in orchmig.toml",
            );
        }
        to
    };
    let matrix_or_config = |m: Option<PathBuf>| m.or_else(|| config.matrix_dir.clone());
    match cli.command {
        Command::Completions { .. } | Command::Man { .. } => EXIT_OK,
        Command::Analyze {
            paths,
            format,
            matrix,
            target,
            wide,
            columns,
        } => {
            let view = match analyze::TableView::new(wide, &columns) {
                Ok(v) => v,
                Err(e) => {
                    ui::print_path_error(
                        "--columns",
                        &e,
                        "pass ids from the list, e.g. --columns pipeline,shape,effort",
                    );
                    return EXIT_USAGE;
                }
            };
            let Some(paths) = paths_or_config(paths) else {
                return EXIT_USAGE;
            };
            let target = match format {
                AnalyzeFormat::Sarif => target.or_else(|| config.to.clone()),
                _ => target,
            };
            analyze::run(
                &paths,
                format,
                matrix_or_config(matrix).as_deref(),
                target.as_deref(),
                &view,
            )
        }
        Command::Ir { paths } => match paths_or_config(paths) {
            Some(paths) => ir_cmd(&paths),
            None => EXIT_USAGE,
        },
        Command::Matrix {
            paths,
            shape,
            weights,
            matrix,
            format,
        } => matrix::run(
            &paths,
            shape.as_deref(),
            weights.or_else(|| config.weights.clone()).as_deref(),
            matrix_or_config(matrix).as_deref(),
            format,
        ),
        Command::Port {
            paths,
            to,
            out,
            check,
            force,
            report,
            fail_on,
            format,
        } => {
            let (Some(paths), Some(to)) = (paths_or_config(paths), to_or_config(to)) else {
                return EXIT_USAGE;
            };
            port::run(port::PortArgs {
                paths: &paths,
                to: &to,
                out: out.as_deref(),
                check,
                force,
                report: report.as_deref(),
                fail_on: fail_on.as_deref(),
                format,
            })
        }
        Command::Graph {
            path,
            pipeline,
            format,
            out,
            force,
            no_legend,
        } => graph::run(graph::GraphArgs {
            path: &path,
            pipeline: pipeline.as_deref(),
            format,
            out: out.as_deref(),
            force,
            no_legend,
        }),
        Command::Report {
            paths,
            out,
            force,
            inline_max,
        } => review::run(&paths, &out, force, inline_max),
        Command::Run(f) => run::run(run::RunCommand::from_flags(f)),
        Command::Verify {
            path,
            to,
            pipeline,
            runner,
            fail,
            set_output,
            map_width,
            fail_on,
            format,
        } => {
            let Some(to) = to_or_config(to) else {
                return EXIT_USAGE;
            };
            verify::run(verify::VerifyArgs {
                path,
                to,
                pipeline,
                runner,
                fail,
                set_output,
                map_width,
                fail_on,
                format,
            })
        }
    }
}

/// Runs `orchmig ir`; returns the exit code.
fn ir_cmd(paths: &[PathBuf]) -> i32 {
    let (estate, code) = input::read_reporting(paths);
    write_stdout(&(serde_json::to_string_pretty(&estate).unwrap_or_default() + "\n"));
    code
}
