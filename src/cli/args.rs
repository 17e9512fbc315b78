//! The command line as clap reads it: every subcommand, its flags and its help.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
        /// Table: every column, cells whole (the default is a concise table fitted to the terminal).
        #[arg(long, conflicts_with = "columns")]
        wide: bool,
        /// Table: the columns to show, comma-separated: pipeline, framework, file, nodes, edges, schedule, partitions, mapped, sensors, groups, checks, retry, opaque, shape, best-fit, effort, migration.
        #[arg(long, value_name = "LIST", value_delimiter = ',')]
        columns: Vec<String>,
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
        #[arg(long, value_enum, default_value_t = crate::graph::format::GraphFormat::Mermaid)]
        format: crate::graph::format::GraphFormat,
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
    /// Write a self-contained HTML design review: the answer first (shapes, recommendation, effort, risks), then every pipeline.
    #[command(after_help = REPORT_HELP)]
    Report {
        /// Files or folders to review.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The HTML file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Overwrite an existing --out file (and pages orchmig did not write in its pages folder).
        #[arg(long)]
        force: bool,
        /// Show at most N pipelines' sections inline; above N each pipeline's section is a page of
        /// its own in <out name>-pipelines/ beside the page.
        #[arg(long, value_name = "N", default_value_t = REPORT_INLINE_MAX)]
        inline_max: usize,
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
        /// Outputs forced in both runs (as for `orchmig run`): a branch's choice, the result an
        /// `if` reads. Source step ids.
        #[arg(long = "set-output", value_name = "NODE=JSON")]
        set_output: Vec<String>,
        /// Width of mapped steps whose collection is unknown (dry runner).
        #[arg(long, default_value_t = 3)]
        map_width: usize,
        /// Exit 1 when a verified pipeline's port report has a row of this class or worse
        /// (approximate, redesign or none), even when every difference is declared.
        #[arg(long, value_name = "CLASS")]
        fail_on: Option<String>,
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

/// The most pipelines whose sections `orchmig report` shows inline by default (about 12 KB
/// each); above it each pipeline's section is a page of its own.
pub const REPORT_INLINE_MAX: usize = 200;

const REPORT_HELP: &str = "Examples:
  orchmig report corpus/ --out review.html
  orchmig report dags/ more_dags/ --out review.html --force
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) orchmig report dags/ --out review.html

HTML with inline CSS and SVG, no scripts and no external requests. It opens on the answer: the
estate's shapes, the framework most pipelines fit best and why, the effort of porting the estate
to each framework (automatic/review/manual ports), the riskiest pipelines and the files that could
not be read. Then the inventory (as `orchmig analyze`), the decision matrix (as `orchmig matrix`)
and one section per pipeline: its source file (a link relative to the page), ranking, graph, and
the loss/gain ledger of porting it to each other framework, every loss shown with its source line
and its line in the would-be output file (ported in memory as `orchmig verify` does; no port file
is written, so output lines are text, not links). Printing the page shows everything.

Size: up to --inline-max pipelines (default 200) the sections are in the page (about 12 KB each).
Above it, the page keeps the summary and one row per pipeline (about 0.7 KB each: 3,000 pipelines
make about 2 MB) and each section is a page of its own in <out name>-pipelines/ beside it
(review.html -> review-pipelines/0042-orders_etl.html). Nothing is written outside --out's folder;
every file is written atomically; pages of an earlier run that this run no longer has are removed.

The header and footer say when the page was made (UTC; SOURCE_DATE_EPOCH fixes it, for
reproducible output) and the commit of the inputs (`git rev-parse HEAD`, or \"not a git
checkout\").

--force is needed to overwrite a file orchmig did not write; a page (or pipeline page) orchmig
wrote is regenerated without it.

Exit codes: 0 written; 1 some inputs had errors (still reported on) or --out (or a pipeline page)
exists and is not orchmig's, without --force; 2 usage error or unreadable input.";

const RUN_HELP: &str = "Examples:
  orchmig run corpus/airflow/orders_etl.py
  orchmig run corpus/airflow/orders_etl.py --fail extract:2 --format json
  orchmig run corpus/dagster/orders_daily.py --backfill 2024-03-01..2024-03-30 --ledger run.jsonl
  orchmig run corpus/dagster/orders_daily.py --resume run.jsonl
  orchmig run corpus/prefect/quality_gate.py --runner python
  orchmig run corpus/airflow/ml_training.py --set-output 'compare_to_champion=\"keep_champion\"'
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
  orchmig verify dags/ --to prefect --fail-on redesign        # CI: no redesign or loss either
  orchmig verify corpus/prefect/quality_gate.py --to airflow --set-output 'validate={\"ok\": false}'

Both runs are compared as asked, under every branch outcome (each branch choosing each of its
downstream steps, each short-circuit returning false) and with each step failing in turn.
Differences the port's report declares (an approximation, a redesign, a loss) are listed as
declared (under a forced branch outcome, only when the report says the branch is redesign or
none); any other difference is a mismatch. Behavioural differences come first; steps that only
ran at other virtual times are counted on one line (-v lists them).

Exit codes: 0 faithful (modulo declared losses); 1 a mismatch, or a report row of the --fail-on
class or worse; 2 usage error or unreadable input.";

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
    /// Make a step's successful attempts return this JSON value (a branch's choice, a
    /// short-circuit's false, the result an `if` reads), whatever the runner. Repeatable.
    #[arg(long = "set-output", value_name = "NODE=JSON")]
    pub set_output: Vec<String>,
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
