//! Command-line interface: clap definitions of every subcommand and their dispatch.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

use crate::analyze;
use crate::diag;
use crate::ir::Estate;

/// Exit code: everything read cleanly.
pub const EXIT_OK: i32 = 0;
/// Exit code: findings (some inputs failed, stale `--check`, `verify` mismatch).
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: usage error or no input could be read.
pub const EXIT_USAGE: i32 = 2;

const EXIT_CODES: &str = "Exit codes: 0 clean; 1 findings: some inputs had errors (they are reported, the rest is still processed), a stale `port --check`, a `port --fail-on` class, a failed `run`, a `verify` mismatch, an invalid orchmig.toml; 2 usage error, no input paths, or an input path that does not exist.\n\nDefaults come from orchmig.toml (looked up from the current directory to the repository root); flags win.";

/// orchmig reads Airflow, Dagster and Prefect pipelines statically into one neutral IR.
#[derive(Debug, Parser)]
#[command(name = "orchmig", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// Threads that read files (default: ORCHMIG_THREADS, else RAYON_NUM_THREADS, else one per
    /// core); the output is the same whatever the count.
    #[arg(long, short = 'j', global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Print errors only (no warnings, notes or summaries on stderr).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail on stderr: per-file read timings, the paths the walker skipped.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats of `orchmig analyze`: the tabular ones and SARIF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    /// A table for the terminal.
    Table,
    /// Stable, versioned JSON for machines.
    Json,
    /// A Markdown table for design documents.
    Markdown,
    /// A SARIF 2.1.0 log of the findings, for code-scanning UIs.
    Sarif,
}

/// Output formats of tabular commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for the terminal.
    Table,
    /// Stable, versioned JSON for machines.
    Json,
    /// A Markdown table for design documents.
    Markdown,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inventory of every pipeline under the paths: shape, constructs and totals.
    #[command(
        after_help = "Examples:\n  orchmig analyze corpus/\n  orchmig analyze dags/ --format json > inventory.json\n  orchmig analyze dags/ --format sarif --target dagster > orchmig.sarif\n\nFiles that define no pipeline are counted, not reported as errors.\n--format sarif lists opaque constructs, read errors and (with --target) what a port would\napproximate or lose, each at its file and line."
    )]
    Analyze {
        /// Files or folders to read (folders are walked; hidden folders, __pycache__ and virtualenvs are skipped). Default: `paths` of orchmig.toml.
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = AnalyzeFormat::Table)]
        format: AnalyzeFormat,
        /// A folder with a team's own matrix files, for the shape and best-fit columns.
        #[arg(long, value_name = "DIR")]
        matrix: Option<PathBuf>,
        /// Also grade a port of every pipeline to this target (nothing is written). With --format sarif the default is `to` of orchmig.toml.
        #[arg(long, value_name = "TARGET")]
        target: Option<String>,
    },
    /// Print the neutral IR of the pipelines under the paths as JSON.
    #[command(
        after_help = "Example:\n  orchmig ir corpus/airflow/orders_etl.py | jq '.files[0].pipelines[0].nodes[].id'"
    )]
    Ir {
        /// Files or folders to read. Default: `paths` of orchmig.toml.
        paths: Vec<PathBuf>,
    },
    /// The decision matrix; a shape's tool ranking; or the ranking of real pipelines.
    #[command(
        after_help = "Examples:\n  orchmig matrix\n  orchmig matrix --shape ml-dynamic\n  orchmig matrix --shape cron-etl --weights dynamic=3,assets=0\n  orchmig matrix corpus/ --format markdown\n  orchmig matrix --matrix our-matrix/ dags/\n\nThe data lives in matrix/*.toml; copy the folder, edit it, and pass --matrix DIR."
    )]
    Matrix {
        /// Pipelines to classify and rank (files or folders).
        paths: Vec<PathBuf>,
        /// Rank the tools for one pipeline shape (cron-etl, data-product, ml-dynamic, …).
        #[arg(long)]
        shape: Option<String>,
        /// Override dimension weights for --shape: `dim=N,dim=N`.
        #[arg(long, requires = "shape")]
        weights: Option<String>,
        /// A folder with a team's own matrix files (missing files fall back to the built-in ones).
        #[arg(long, value_name = "DIR")]
        matrix: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Port pipelines to another framework, with a loss/gain report; `--check` is the CI gate.
    #[command(
        after_help = "Examples:\n  orchmig port corpus/airflow/orders_etl.py --to prefect\n  orchmig port dags/ --to dagster --out ported/\n  orchmig port dags/ --to dagster --out ported/ --check        # exit 1 when ported/ is stale\n  orchmig port dags/ --to prefect@3 --out ported/ --fail-on redesign\n\nOne output file per source file, named like it, plus orchmig-report.md and .json beside them.\nExisting files are never overwritten without --force; --out may not be inside an input folder."
    )]
    Port {
        /// Files or folders to port. Default: `paths` of orchmig.toml.
        paths: Vec<PathBuf>,
        /// Target: airflow, dagster, prefect, optionally with a version (airflow@3, airflow@2, dagster@1, prefect@3, prefect@2). Default: `to` of orchmig.toml.
        #[arg(long)]
        to: Option<String>,
        /// Output folder (required for several files; without it one file is printed to stdout).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Compare what would be written with --out: print a diff and exit 1 when stale.
        #[arg(long, requires = "out")]
        check: bool,
        /// Overwrite existing files in --out.
        #[arg(long)]
        force: bool,
        /// Where to write the Markdown report (the JSON goes beside it).
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// Exit 1 when an entry of this class or worse appears: approximate, redesign or none.
        #[arg(long, value_name = "CLASS")]
        fail_on: Option<String>,
        /// Format of the report summary on stdout.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Draw a pipeline's graph: Mermaid, Graphviz dot, versioned JSON or a self-laid-out SVG.
    #[command(after_help = GRAPH_HELP)]
    Graph {
        /// The pipeline file.
        path: PathBuf,
        /// Only this pipeline of the file (id or name).
        #[arg(long)]
        pipeline: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = crate::graph::cmd::GraphFormat::Mermaid)]
        format: crate::graph::cmd::GraphFormat,
        /// Write to FILE (atomically) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Overwrite an existing --out file.
        #[arg(long, requires = "out")]
        force: bool,
        /// Leave the legend (node kinds, marks, edge kinds) out of the picture.
        #[arg(long)]
        no_legend: bool,
    },
    /// Write one self-contained HTML design-review page: estate, matrix, graphs, port losses and gains.
    #[command(after_help = REPORT_HELP)]
    Report {
        /// Files or folders to review.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The HTML file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Overwrite an existing --out file.
        #[arg(long)]
        force: bool,
    },
    /// Run a pipeline locally on a virtual clock: retries, trigger rules, mapping, partitions, ledger.
    #[command(after_help = RUN_HELP)]
    Run(RunFlags),
    /// Prove a port faithful: port in memory, read it back, compare the IR and the traces.
    #[command(after_help = VERIFY_HELP)]
    Verify {
        /// The pipeline file (or a folder: every file in it).
        path: PathBuf,
        /// Target: airflow, dagster or prefect (optionally @version). Default: `to` of orchmig.toml.
        #[arg(long)]
        to: Option<String>,
        /// Only this pipeline of the file.
        #[arg(long)]
        pipeline: Option<String>,
        /// `dry` compares traces; `python` also runs the bodies and compares their outputs.
        #[arg(long, default_value = "dry")]
        runner: String,
        /// Faults injected into both runs (as for `orchmig run`).
        #[arg(long = "fail", value_name = "NODE[@PARTITION][:N]")]
        fail: Vec<String>,
        /// Width of mapped steps whose collection is unknown (dry runner).
        #[arg(long, default_value_t = 3)]
        map_width: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per subcommand into a folder.
    #[command(
        after_help = "Examples:\n  orchmig man | man -l -\n  orchmig man --out /usr/local/share/man/man1"
    )]
    Man {
        /// Write orchmig.1 and orchmig-SUBCOMMAND.1 into this folder instead of printing orchmig.1.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

const COMPLETIONS_HELP: &str = "Examples:
  orchmig completions bash > ~/.local/share/bash-completion/completions/orchmig
  orchmig completions zsh > ~/.zfunc/_orchmig        # with fpath+=~/.zfunc before compinit
  orchmig completions fish > ~/.config/fish/completions/orchmig.fish
  orchmig completions powershell >> $PROFILE";

const GRAPH_HELP: &str = "Examples:
  orchmig graph corpus/airflow/warehouse_groups.py                 # Mermaid, for a ```mermaid block
  orchmig graph corpus/dagster/orders_daily.py --format dot | dot -Tpng > orders.png
  orchmig graph corpus/prefect/inventory_fanout.py --format svg --out fanout.svg
  orchmig graph corpus/dagster/support_quality.py --format json | jq '.graphs[].nodes[].id'

Nodes are drawn by kind (task, asset, sensor, check, …); groups and sub-flows are clusters;
mapped steps have a thick purple (stacked) border; data edges are solid, order-only edges dashed,
checks hang off their step with a circle end. A file with several pipelines: dot and json draw
them all, mermaid and svg hold one and ask for --pipeline NAME. The JSON schema (graph_version 1)
is documented in docs/graph-json.md.

Exit codes: 0 drawn; 1 unknown --pipeline, --out exists without --force, or a drawing failed;
2 usage error or unreadable input.";

const REPORT_HELP: &str = "Examples:
  orchmig report corpus/ --out review.html
  orchmig report dags/ more_dags/ --out review.html --force

One HTML file with inline CSS and SVG, no scripts and no external requests: the estate summary
(as `orchmig analyze`), the decision matrix and each pipeline's ranking (as `orchmig matrix`),
every pipeline's graph, and for each pipeline the loss/gain ledger of porting it to each other
framework (computed in memory as `orchmig verify` does; no port file is written).

Exit codes: 0 written; 1 some inputs had errors (still reported on) or --out exists without
--force; 2 usage error or unreadable input.";

const RUN_HELP: &str = "Examples:
  orchmig run corpus/airflow/orders_etl.py
  orchmig run corpus/airflow/orders_etl.py --fail extract:2 --format json
  orchmig run corpus/dagster/orders_daily.py --backfill 2024-03-01..2024-03-30 --ledger run.jsonl
  orchmig run corpus/dagster/orders_daily.py --resume run.jsonl
  orchmig run corpus/prefect/quality_gate.py --runner python
  orchmig run corpus/airflow/finance_reconciliation.py --schedule-preview 5 --from 2024-03-29

Time is virtual: attempts take 1s, retries wait their policy's delay, nothing sleeps.
--fail NODE[@PARTITION][:N] fails the first N attempts (every attempt without :N); steps inside a
sub-pipeline are named parent::child. The ledger records the arguments: --resume FILE re-runs only
what failed or never ran, and what depends on it, and appends to FILE (or, with --ledger NEW, to a
copy of it). A resume uses the runner this command line names (default dry), never the ledger's,
and refuses a ledger that fails its checksums or is of another (version of the) pipeline.
--ledger never overwrites the pipeline file or a file that is not a ledger.

Exit codes: 0 the run succeeded; 1 a step failed (or was upstream_failed); 2 usage error or unreadable input.";

const VERIFY_HELP: &str = "Examples:
  orchmig verify corpus/airflow/orders_etl.py --to prefect
  orchmig verify corpus/dagster/orders_daily.py --to airflow --fail raw_orders:2
  orchmig verify corpus/prefect/quality_gate.py --to dagster --runner python

Differences the port's report declares (an approximation, a redesign, a loss) are listed as
declared; any other difference is a mismatch.

Exit codes: 0 faithful (modulo declared losses); 1 a mismatch; 2 usage error or unreadable input.";

/// The flags of `orchmig run`.
#[derive(Debug, clap::Args)]
pub struct RunFlags {
    /// The pipeline file.
    pub path: PathBuf,
    /// The pipeline to run, when the file defines several.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// `dry` (every step succeeds unless --fail) or `python` (runs the real bodies).
    #[arg(long, default_value = "dry")]
    pub runner: String,
    /// Most attempts running at once.
    #[arg(long, default_value_t = 16)]
    pub max_active: usize,
    /// Width of mapped steps whose collection is unknown (dry runner).
    #[arg(long, default_value_t = 3)]
    pub map_width: usize,
    /// Make the first N attempts of a step fail (all attempts without :N). Repeatable.
    #[arg(long = "fail", value_name = "NODE[@PARTITION][:N]")]
    pub fail: Vec<String>,
    /// Make the first N attempts of a step hang until their timeout. Repeatable.
    #[arg(long = "hang", value_name = "NODE[@PARTITION][:N]")]
    pub hang: Vec<String>,
    /// Run one partition.
    #[arg(long, conflicts_with = "backfill")]
    pub partition: Option<String>,
    /// Run every partition (or scheduled run) from START to END, inclusive, in order.
    #[arg(long, value_name = "START..END")]
    pub backfill: Option<String>,
    /// Most partitions of a backfill running at once.
    #[arg(long, default_value_t = 1)]
    pub max_partitions_active: usize,
    /// Print the next N run times of the schedule in the pipeline's time zone instead of running.
    #[arg(long, value_name = "N")]
    pub schedule_preview: Option<usize>,
    /// Start of the schedule preview (UTC; default now).
    #[arg(long, requires = "schedule_preview")]
    pub from: Option<String>,
    /// Write the run ledger (checksummed JSON lines, fsync'd per record) to FILE.
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
    /// Resume the run a ledger recorded: only what failed or never ran, and its downstream,
    /// with the runner this command line names.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Wall-clock seconds a python body without a timeout of its own may run.
    #[arg(long, default_value_t = 600.0)]
    pub attempt_timeout: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    if let Some(n) = cli.threads {
        crate::parallel::set_threads(n);
    }
    crate::ui::init(if cli.quiet {
        crate::ui::Verbosity::Quiet
    } else if cli.verbose {
        crate::ui::Verbosity::Verbose
    } else {
        crate::ui::Verbosity::Normal
    });
    match cli.command {
        Command::Completions { shell } => return crate::manual::completions(shell),
        Command::Man { out } => return crate::manual::man(out.as_deref()),
        _ => {}
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let config = match crate::config::load(&cwd) {
        Ok(c) => crate::config::activate(c),
        Err(e) => {
            eprintln!("{}", e.0);
            return EXIT_FINDINGS;
        }
    };
    if let Some(file) = &config.file {
        crate::ui::detail(|| format!("configuration: {}", file.display()));
    }
    let paths_or_config = |paths: Vec<PathBuf>| -> Option<Vec<PathBuf>> {
        if !paths.is_empty() {
            Some(paths)
        } else if !config.paths.is_empty() {
            Some(config.paths.clone())
        } else {
            diag::print_path_error(
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
            diag::print_path_error(
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
        } => {
            let Some(paths) = paths_or_config(paths) else {
                return EXIT_USAGE;
            };
            let target = match format {
                AnalyzeFormat::Sarif => target.or_else(|| config.to.clone()),
                _ => target,
            };
            analyze_cmd(
                &paths,
                format,
                matrix_or_config(matrix).as_deref(),
                target.as_deref(),
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
        } => crate::matrix_cmd::run(
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
            crate::port_cmd::run(crate::port_cmd::PortArgs {
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
        } => crate::graph::cmd::run(crate::graph::cmd::GraphArgs {
            path: &path,
            pipeline: pipeline.as_deref(),
            format,
            out: out.as_deref(),
            force,
            no_legend,
        }),
        Command::Report { paths, out, force } => crate::review::run(&paths, &out, force),
        Command::Run(f) => run_cmd(f),
        Command::Verify {
            path,
            to,
            pipeline,
            runner,
            fail,
            map_width,
            format,
        } => {
            let Some(to) = to_or_config(to) else {
                return EXIT_USAGE;
            };
            crate::verify::cmd::run(crate::verify::cmd::VerifyArgs {
                path,
                to,
                pipeline,
                runner,
                fail,
                map_width,
                format,
            })
        }
    }
}

/// Reads the estate, prints diagnostics, and says which exit code the inputs imply.
pub(crate) fn read_reporting(paths: &[PathBuf]) -> (Estate, i32) {
    let (estate, _, code) = read_reporting_all(paths);
    (estate, code)
}

/// [`read_reporting`], also returning the paths that could not be walked.
fn read_reporting_all(paths: &[PathBuf]) -> (Estate, Vec<crate::frontend::WalkError>, i32) {
    let (estate, walk_errors) = analyze::read_estate(paths);
    let code = report_reading(paths, &walk_errors, &estate.files);
    (estate, walk_errors, code)
}

/// Prints the walk errors and the files' diagnostics; says which exit code they imply.
pub(crate) fn report_reading(
    paths: &[PathBuf],
    walk_errors: &[crate::frontend::WalkError],
    files: &[crate::ir::SourceFile],
) -> i32 {
    let mut code = EXIT_OK;
    for e in walk_errors {
        let missing = e.message == "no such file or folder";
        diag::print_path_error(
            &e.path.display().to_string(),
            &e.message,
            if missing {
                "check the path; the other inputs were still read"
            } else {
                "orchmig skipped it; the other inputs were still read"
            },
        );
        code = if missing && paths.contains(&e.path) {
            EXIT_USAGE
        } else {
            code.max(EXIT_FINDINGS)
        };
    }
    let errors = diag::print_all(files, false);
    if errors > 0 && code == EXIT_OK {
        code = EXIT_FINDINGS;
    }
    code
}

/// Pretty JSON of a document with its versioned schema id (`"schema": "orchmig.NAME/N"`) first.
pub(crate) fn versioned_json<T: serde::Serialize>(schema: &'static str, body: &T) -> String {
    #[derive(serde::Serialize)]
    struct Versioned<'a, T> {
        schema: &'static str,
        #[serde(flatten)]
        body: &'a T,
    }
    serde_json::to_string_pretty(&Versioned { schema, body }).unwrap_or_default() + "\n"
}

/// Writes text to stdout; false when stdout is closed (e.g. a pipe to `head`).
pub(crate) fn write_stdout(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_ok()
}

fn run_cmd(f: RunFlags) -> i32 {
    let faults_given = !f.fail.is_empty() || !f.hang.is_empty();
    crate::exec::cmd::run(crate::exec::cmd::RunCommand {
        args: crate::exec::RunArgs {
            path: f.path.display().to_string(),
            pipeline: f.pipeline,
            runner: f.runner,
            max_active: f.max_active,
            map_width: f.map_width,
            fail: f.fail,
            hang: f.hang,
            partition: f.partition,
            backfill: f.backfill,
            max_partitions_active: f.max_partitions_active,
            attempt_timeout: f.attempt_timeout,
        },
        schedule_preview: f.schedule_preview,
        from: f.from,
        ledger: f.ledger,
        resume: f.resume,
        faults_given,
        format: f.format,
    })
}

fn analyze_cmd(
    paths: &[PathBuf],
    format: AnalyzeFormat,
    matrix_dir: Option<&std::path::Path>,
    target: Option<&str>,
) -> i32 {
    let target = match target.map(crate::emit::Target::parse) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            diag::print_path_error("--target", &e, "pass --target airflow, dagster or prefect");
            return EXIT_USAGE;
        }
        None => None,
    };
    let matrix = match crate::matrix_cmd::load(matrix_dir) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{}", e.render());
            return EXIT_USAGE;
        }
    };
    let env = crate::matrix::environment();
    let engine = match crate::matrix::Engine::new(&matrix, &env) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{}", e.render());
            return EXIT_USAGE;
        }
    };
    // Without port grades or SARIF no file's IR outlives its rows.
    let inventory_format = match format {
        AnalyzeFormat::Table => Some(Format::Table),
        AnalyzeFormat::Json => Some(Format::Json),
        AnalyzeFormat::Markdown => Some(Format::Markdown),
        AnalyzeFormat::Sarif => None,
    };
    if let (None, Some(format)) = (target, inventory_format) {
        let (read, walk_errors) = analyze::read_rows(paths, &engine);
        let (files, rows): (Vec<_>, Vec<_>) = read.into_iter().map(|r| (r.file, r.rows)).unzip();
        let code = report_reading(paths, &walk_errors, &files);
        let inv = analyze::inventory_of(files.iter().zip(rows));
        write_stdout(&render_inventory(&inv, None, format));
        return code;
    }
    let (estate, walk_errors, mut code) = read_reporting_all(paths);
    let table = crate::report::Translations::builtin().ok();
    // The port grades of the whole estate, from the same writers and ledger as `orchmig port`.
    let port = target.map(|t| {
        let (report, graded) = grade_port(&estate, t, table.as_ref());
        code = code.max(graded);
        report
    });
    let text = match inventory_format {
        None => {
            let root = crate::config::active().root;
            let log = crate::sarif::log(&crate::sarif::Inputs {
                estate: &estate,
                walk_errors: &walk_errors,
                port: port.as_ref(),
                translations: table.as_ref(),
                root: &root,
            });
            serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
        }
        Some(format) => {
            let inv = analyze::inventory(&estate, &engine);
            render_inventory(&inv, port.as_ref(), format)
        }
    };
    write_stdout(&text);
    code
}

/// The inventory (and the port grades, when asked) in the chosen format.
fn render_inventory(
    inv: &analyze::Inventory,
    port: Option<&crate::report::Report>,
    format: Format,
) -> String {
    match format {
        Format::Table => {
            let mut t = analyze::render_table(inv);
            if let Some(r) = port {
                t.push_str(&format!("\nport to {}:\n{}", r.target, r.table()));
            }
            t
        }
        Format::Markdown => {
            let mut t = analyze::render_markdown(inv);
            if let Some(r) = port {
                t.push_str(&format!("\n{}", r.markdown()));
            }
            t
        }
        Format::Json => {
            let mut v = serde_json::to_value(inv).unwrap_or_default();
            if let Some(r) = port {
                v["port"] = serde_json::json!({ "target": r.target, "grades": r.grades() });
            }
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
    }
}

/// Ports every file of the estate in memory to grade it; returns the report and the exit code it implies.
fn grade_port(
    estate: &Estate,
    target: crate::emit::Target,
    table: Option<&crate::report::Translations>,
) -> (crate::report::Report, i32) {
    let mut code = EXIT_OK;
    let mut report = crate::report::Report {
        schema: "orchmig.port/1",
        target: target.label(),
        pipelines: Vec::new(),
        gains: Vec::new(),
    };
    if let Some(table) = table {
        report.gains = table
            .gains
            .get(target.framework.id())
            .cloned()
            .unwrap_or_default();
        for f in estate.files.iter().filter(|f| !f.pipelines.is_empty()) {
            match crate::emit::port_file(f, target, table) {
                Ok((_, ledgers)) => report.pipelines.extend(ledgers),
                Err(e) => {
                    diag::print_path_error(&f.path, &e, "the other files were still graded");
                    code = EXIT_FINDINGS;
                }
            }
        }
    }
    (report, code)
}

fn ir_cmd(paths: &[PathBuf]) -> i32 {
    let (estate, code) = read_reporting(paths);
    write_stdout(&(serde_json::to_string_pretty(&estate).unwrap_or_default() + "\n"));
    code
}
