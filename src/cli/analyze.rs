//! `orchmig analyze`: the estate inventory — every pipeline, its shape and constructs, with totals.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::args::{AnalyzeFormat, Format};
use super::effort::Effort;
use super::input::{collect_files, read_reporting_all, report_reading};
use super::output::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, write_stdout};
use super::ui::print_path_error;
use crate::frontend::{self, WalkError};
use crate::ir::{Estate, Framework, Pipeline, ScheduleKind, Severity, SourceFile};
use crate::matrix::Engine;
use crate::report::Translations;
use crate::text::fit::{self, Column, Cut};

/// One inventory row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Pipeline id.
    pub pipeline: String,
    /// Source framework.
    pub framework: Framework,
    /// `path:line`.
    pub location: String,
    /// Node count.
    pub nodes: usize,
    /// Edge count.
    pub edges: usize,
    /// Schedule in short form.
    pub schedule: String,
    /// Partition kind, if any.
    pub partitions: Option<String>,
    /// Mapped nodes.
    pub mapped: usize,
    /// Sensor nodes and sensor triggers.
    pub sensors: usize,
    /// Groups and sub-flows.
    pub groups: usize,
    /// Checks.
    pub checks: usize,
    /// Share of nodes that retry (0–100).
    pub retry_coverage: u32,
    /// Opaque constructs.
    pub opaque: usize,
    /// The matrix shape it was classified into.
    pub shape: String,
    /// The tool that fits it best.
    pub best_fit: String,
    /// Target tool → the effort of moving there (the port's own grade and minutes).
    pub migration: BTreeMap<String, Effort>,
}

/// Totals for one framework or the whole estate.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Pipelines.
    pub pipelines: usize,
    /// Nodes.
    pub nodes: usize,
    /// Edges.
    pub edges: usize,
    /// Mapped nodes.
    pub mapped: usize,
    /// Sensors.
    pub sensors: usize,
    /// Groups.
    pub groups: usize,
    /// Opaque constructs.
    pub opaque: usize,
}

/// The inventory of an estate.
#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    /// Output schema id.
    pub schema: &'static str,
    /// One row per pipeline, in file then source order.
    pub pipelines: Vec<Row>,
    /// Per-framework totals.
    pub by_framework: BTreeMap<Framework, Totals>,
    /// Estate totals.
    pub totals: Totals,
    /// Files read.
    pub files: usize,
    /// Files that define no pipeline (helpers, plugins, tests).
    pub files_without_pipelines: usize,
    /// Files with errors.
    pub files_with_errors: usize,
    /// Every file that has diagnostics, with them (errors and warnings), in file order: which
    /// files could not be read, and why.
    pub diagnostics: Vec<FileDiagnostics>,
}

/// The diagnostics of one file of the inventory.
#[derive(Debug, Clone, Serialize)]
pub struct FileDiagnostics {
    /// The file, as given or found while walking.
    pub path: String,
    /// Its diagnostics, in the order the reader gave them.
    pub diagnostics: Vec<crate::ir::Diagnostic>,
}

/// One file read for the inventory: the file without its pipelines (path, framework,
/// diagnostics) and one row per pipeline.
pub struct FileRows {
    /// The file; its pipelines and support code are dropped once the rows are made.
    pub file: SourceFile,
    /// Its inventory rows, in source order.
    pub rows: Vec<Row>,
}

/// Reads every Python file under the paths and makes its rows on the reader pool, keeping no
/// file's IR beyond its own reading (an estate of any size is read in bounded memory).
pub fn read_rows(
    paths: &[PathBuf],
    engine: &Engine,
    table: &Translations,
) -> (Vec<FileRows>, Vec<WalkError>) {
    let (files, errors) = collect_files(paths);
    let read = super::parallel::map_ordered(&files, |p| {
        let mut file = frontend::read_path_here(p);
        let rows = rows_from(&file, engine, &ports_of(&file, engine, table));
        file.pipelines = Vec::new();
        file.support = Vec::new();
        FileRows { file, rows }
    });
    (read, errors)
}

/// Builds the inventory of an estate, classifying each pipeline with the matrix engine and
/// grading its move to each other framework with the effort model.
pub fn inventory(estate: &Estate, engine: &Engine, table: &Translations) -> Inventory {
    let rows = super::parallel::map_ordered(&estate.files, |f| {
        rows_from(f, engine, &ports_of(f, engine, table))
    });
    inventory_of(estate.files.iter().zip(rows))
}

/// One file's ports, made in memory, to every framework it is not written for: each ledger
/// carries the matrix's cost rules of its move (the effort model); a failed port keeps its error.
pub type Ports = Vec<(
    crate::emit::Target,
    Result<Vec<crate::report::Ledger>, String>,
)>;

/// The ports of `file` to every other framework (none for a file without pipelines).
pub fn ports_of(file: &SourceFile, engine: &Engine, table: &Translations) -> Ports {
    if file.pipelines.is_empty() {
        return Vec::new();
    }
    let assessed = super::effort::assess_all(file, engine);
    Framework::ALL
        .into_iter()
        .filter(|f| file.framework != Some(*f))
        .filter_map(|f| crate::emit::Target::parse(f.id()).ok())
        .map(|t| {
            let ported = crate::emit::port_file(file, t, table).map(|(_, mut ledgers)| {
                super::effort::add_cost_rules(&mut ledgers, file, &assessed);
                ledgers
            });
            (t, ported)
        })
        .collect()
}

/// The rows of one file's pipelines, each with its effort to every framework `ports` reached
/// (a target whose port failed has no entry).
pub fn rows_from(file: &SourceFile, engine: &Engine, ports: &Ports) -> Vec<Row> {
    file.pipelines
        .iter()
        .map(|p| {
            let efforts = ports
                .iter()
                .filter_map(|(t, ported)| {
                    let l = ported.as_ref().ok()?.iter().find(|l| l.pipeline == p.id)?;
                    Some((t.framework.id().to_string(), Effort::of(l)))
                })
                .collect();
            row(&file.path, p, engine, efforts)
        })
        .collect()
}

/// Builds the inventory from each file and its rows, in file order.
pub fn inventory_of<'f>(files: impl IntoIterator<Item = (&'f SourceFile, Vec<Row>)>) -> Inventory {
    let mut rows = Vec::new();
    let mut by_framework: BTreeMap<Framework, Totals> = BTreeMap::new();
    let mut totals = Totals::default();
    let mut count = 0;
    let mut without = 0;
    let mut with_errors = 0;
    let mut diagnostics = Vec::new();
    for (file, file_rows) in files {
        count += 1;
        if !file.diagnostics.is_empty() {
            diagnostics.push(FileDiagnostics {
                path: file.path.clone(),
                diagnostics: file.diagnostics.clone(),
            });
        }
        if file
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
        {
            with_errors += 1;
        }
        if file_rows.is_empty() {
            without += 1;
        }
        for row in file_rows {
            for t in [by_framework.entry(row.framework).or_default(), &mut totals] {
                t.pipelines += 1;
                t.nodes += row.nodes;
                t.edges += row.edges;
                t.mapped += row.mapped;
                t.sensors += row.sensors;
                t.groups += row.groups;
                t.opaque += row.opaque;
            }
            rows.push(row);
        }
    }
    Inventory {
        schema: "orchmig.analyze/1",
        pipelines: rows,
        by_framework,
        totals,
        files: count,
        files_without_pipelines: without,
        files_with_errors: with_errors,
        diagnostics,
    }
}

fn row(path: &str, p: &Pipeline, engine: &Engine, migration: BTreeMap<String, Effort>) -> Row {
    let assessment = engine.assess(p).ok();
    let retrying = p
        .nodes
        .iter()
        .filter(|n| p.effective_policy(n).retries.unwrap_or(0) > 0)
        .count();
    Row {
        pipeline: p.id.clone(),
        framework: p.framework.unwrap_or(Framework::Airflow),
        location: format!("{path}:{}", p.span.line),
        nodes: p.nodes.len(),
        edges: p.edges.len(),
        schedule: schedule_text(p),
        partitions: p.partitions.as_ref().map(|x| {
            serde_json::to_value(x)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
                .unwrap_or_default()
        }),
        mapped: p.mapped_count(),
        sensors: p
            .nodes
            .iter()
            .filter(|n| n.kind == crate::ir::NodeKind::Sensor)
            .count()
            + p.sensors.len(),
        groups: p.groups.len(),
        checks: p.checks.len(),
        retry_coverage: if p.nodes.is_empty() {
            0
        } else {
            (retrying * 100 / p.nodes.len()) as u32
        },
        opaque: p.opaque.len(),
        shape: assessment
            .as_ref()
            .map_or_else(String::new, |a| a.shape.clone()),
        best_fit: assessment
            .as_ref()
            .map_or_else(String::new, |a| a.ranking.recommended.clone()),
        migration,
    }
}

/// The migration cost column: `→dagster review 35 min · →prefect manual 2 h 10 min`.
fn migration_text(r: &Row) -> String {
    r.migration
        .iter()
        .map(|(t, c)| format!("→{t} {} {}", c.grade, crate::text::minutes(c.minutes)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A short human form of a pipeline's schedule.
pub fn schedule_text(p: &Pipeline) -> String {
    match &p.schedule {
        None => "-".into(),
        Some(s) => {
            let v = s.value.clone().unwrap_or_default();
            let tz = s
                .timezone
                .as_ref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            match s.kind {
                ScheduleKind::Manual => "manual".into(),
                ScheduleKind::Once => "once".into(),
                ScheduleKind::Continuous => "continuous".into(),
                ScheduleKind::Interval => format!("every {v}s{tz}"),
                ScheduleKind::Asset => format!("on assets: {}", s.assets.join(", ")),
                ScheduleKind::Timetable => format!("timetable {v}"),
                ScheduleKind::Cron | ScheduleKind::Preset => format!("{v}{tz}"),
            }
        }
    }
}

/// Every column `analyze` can show, by the id `--columns` takes, in `--wide` order.
pub const COLUMN_IDS: &[&str] = &[
    "pipeline",
    "framework",
    "file",
    "nodes",
    "edges",
    "schedule",
    "partitions",
    "mapped",
    "sensors",
    "groups",
    "checks",
    "retry",
    "opaque",
    "shape",
    "best-fit",
    "effort",
    "migration",
];

/// The concise default: what a design review reads first.
pub const DEFAULT_COLUMNS: &[&str] = &[
    "pipeline",
    "file",
    "framework",
    "shape",
    "best-fit",
    "effort",
];

/// What the terminal table shows: which columns, and the width to fit (none: whole cells).
#[derive(Debug, Clone)]
pub struct TableView {
    /// Column ids from [`COLUMN_IDS`], in display order.
    pub columns: Vec<&'static str>,
    /// The width to fit, if any.
    pub width: Option<usize>,
}

impl TableView {
    /// The view `--wide` and `--columns` ask for: every column at full width, the chosen ones
    /// fitted to the terminal, or the concise default fitted to it. An unknown id is an error
    /// naming the known ones.
    pub fn new(wide: bool, columns: &[String]) -> Result<TableView, String> {
        if wide {
            return Ok(TableView {
                columns: COLUMN_IDS.to_vec(),
                width: None,
            });
        }
        let chosen = if columns.is_empty() {
            DEFAULT_COLUMNS.to_vec()
        } else {
            columns
                .iter()
                .map(|c| {
                    COLUMN_IDS
                        .iter()
                        .find(|id| **id == c.trim())
                        .copied()
                        .ok_or_else(|| {
                            format!(
                                "unknown column `{c}`; the columns are {}",
                                COLUMN_IDS.join(", ")
                            )
                        })
                })
                .collect::<Result<_, _>>()?
        };
        Ok(TableView {
            columns: chosen,
            width: fit::target_width(),
        })
    }
}

/// The column of one id.
fn column(id: &str) -> Column<'static, Row> {
    let inline = crate::text::inline;
    match id {
        "pipeline" => Column::text("pipeline", move |r: &Row| inline(&r.pipeline)),
        "framework" => Column::text("framework", |r: &Row| r.framework.to_string()).cut(Cut::Never),
        "file" => Column::text("file:line", move |r: &Row| inline(&r.location)).cut(Cut::Start),
        "nodes" => Column::number("nodes", |r: &Row| r.nodes),
        "edges" => Column::number("edges", |r: &Row| r.edges),
        "schedule" => Column::text("schedule", move |r: &Row| inline(&r.schedule)),
        "partitions" => Column::text("partitions", |r: &Row| {
            r.partitions.clone().unwrap_or_else(|| "-".into())
        }),
        "mapped" => Column::number("mapped", |r: &Row| r.mapped),
        "sensors" => Column::number("sensors", |r: &Row| r.sensors),
        "groups" => Column::number("groups", |r: &Row| r.groups),
        "checks" => Column::number("checks", |r: &Row| r.checks),
        "retry" => Column::number("retry %", |r: &Row| r.retry_coverage as usize),
        "opaque" => Column::number("opaque", |r: &Row| r.opaque),
        // The answer columns are never cut: names and files give way first.
        "shape" => Column::text("shape", |r: &Row| r.shape.clone()).cut(Cut::Never),
        "best-fit" => Column::text("best fit", |r: &Row| r.best_fit.clone()).cut(Cut::Never),
        "effort" => Column::text("effort", effort_text).cut(Cut::Never),
        _ => Column::text("migration cost", migration_text),
    }
}

/// The effort of moving to the best fit, shown in the column beside it (`review 40m`), or
/// `stay` when the pipeline is already written for it (every target is in the `migration`
/// column); `?` when the port to it failed.
fn effort_text(r: &Row) -> String {
    if r.best_fit.is_empty() || r.best_fit == r.framework.to_string() {
        return "stay".into();
    }
    r.migration.get(&r.best_fit).map_or_else(
        || "?".into(),
        |c| format!("{} {}", c.grade, crate::text::minutes_short(c.minutes)),
    )
}

/// Renders the inventory as a terminal table with the view's columns, then the estate summary.
pub fn render_table(inv: &Inventory, view: &TableView) -> String {
    let columns: Vec<Column<'static, Row>> = view.columns.iter().map(|id| column(id)).collect();
    let mut out = fit::render(&columns, &inv.pipelines, view.width);
    for line in summary_lines(inv).lines() {
        out.push_str(&fit::wrap(line, view.width));
    }
    out
}

/// `a 3 · b 1`, largest count first, then by name.
fn tally<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for i in items {
        *counts
            .entry(if i.is_empty() { "-" } else { i })
            .or_default() += 1;
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The estate summary: shape mix, best fit, effort per target, totals and the files with errors.
fn summary_lines(inv: &Inventory) -> String {
    let mut out = String::new();
    if !inv.pipelines.is_empty() {
        out.push_str(&format!(
            "shapes: {}\n",
            tally(inv.pipelines.iter().map(|r| r.shape.as_str()))
        ));
        out.push_str(&format!(
            "best fit: {}\n",
            tally(inv.pipelines.iter().map(|r| r.best_fit.as_str()))
        ));
        let mut targets: BTreeMap<&str, Vec<&Effort>> = BTreeMap::new();
        for r in &inv.pipelines {
            for (t, c) in &r.migration {
                targets.entry(t.as_str()).or_default().push(c);
            }
        }
        for (t, efforts) in targets {
            let minutes: u32 = efforts.iter().map(|c| c.minutes).sum();
            let there = inv
                .pipelines
                .iter()
                .filter(|r| r.framework.id() == t)
                .count();
            out.push_str(&format!(
                "effort to {t}: {} pipelines, {} ({}); {there} already there\n",
                efforts.len(),
                tally(efforts.iter().map(|c| c.grade)),
                crate::text::minutes(minutes)
            ));
        }
    }
    for (fw, t) in &inv.by_framework {
        out.push_str(&format!(
            "{fw}: {} pipelines, {} nodes, {} edges, {} mapped, {} sensors, {} groups, {} opaque\n",
            t.pipelines, t.nodes, t.edges, t.mapped, t.sensors, t.groups, t.opaque
        ));
    }
    let t = &inv.totals;
    out.push_str(&format!(
        "estate: {} pipelines in {} files ({} without pipelines, {} with errors); {} nodes, {} edges\n",
        t.pipelines, inv.files, inv.files_without_pipelines, inv.files_with_errors, t.nodes, t.edges
    ));
    for f in &inv.diagnostics {
        if let Some(d) = f.diagnostics.iter().find(|d| d.severity == Severity::Error) {
            let at = d.line.map_or_else(String::new, |l| format!(":{l}"));
            out.push_str(&format!(
                "  error: {}{at}: {}\n",
                crate::text::inline(&f.path),
                crate::text::inline(&d.message)
            ));
        }
    }
    out
}

/// Renders the inventory as a Markdown table for design documents.
pub fn render_markdown(inv: &Inventory) -> String {
    let mut out = String::from(
        "| pipeline | framework | file:line | nodes | edges | schedule | partitions | mapped | sensors | groups | retry % | opaque | shape | best fit | migration cost |\n|---|---|---|--:|--:|---|---|--:|--:|--:|--:|--:|---|---|---|\n",
    );
    for r in &inv.pipelines {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            md(&r.pipeline),
            r.framework,
            md(&r.location),
            r.nodes,
            r.edges,
            md(&r.schedule),
            r.partitions.as_deref().unwrap_or("-"),
            r.mapped,
            r.sensors,
            r.groups,
            r.retry_coverage,
            r.opaque,
            r.shape,
            r.best_fit,
            migration_text(r)
        ));
    }
    out.push('\n');
    for line in summary_lines(inv).lines() {
        out.push_str(&format!("- {line}\n"));
    }
    out
}

fn md(s: &str) -> String {
    crate::text::md_cell(s)
}

/// Runs `orchmig analyze`; returns the exit code.
pub fn run(
    paths: &[PathBuf],
    format: AnalyzeFormat,
    matrix_dir: Option<&std::path::Path>,
    target: Option<&str>,
    view: &TableView,
) -> i32 {
    let target = match target.map(crate::emit::Target::parse) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            print_path_error("--target", &e, "pass --target airflow, dagster or prefect");
            return EXIT_USAGE;
        }
        None => None,
    };
    let matrix = match super::matrix::load_or_exit(matrix_dir) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let env = crate::matrix::environment();
    let engine = match super::matrix::engine_or_exit(&matrix, &env) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let table = match super::ui::translations_or_exit() {
        Ok(t) => t,
        Err(code) => return code,
    };
    // Without port grades or SARIF no file's IR outlives its rows.
    let inventory_format = match format {
        AnalyzeFormat::Table => Some(Format::Table),
        AnalyzeFormat::Json => Some(Format::Json),
        AnalyzeFormat::Markdown => Some(Format::Markdown),
        AnalyzeFormat::Sarif => None,
    };
    if let (None, Some(format)) = (target, inventory_format) {
        let (read, walk_errors) = read_rows(paths, &engine, &table);
        let (files, rows): (Vec<_>, Vec<_>) = read.into_iter().map(|r| (r.file, r.rows)).unzip();
        let code = report_reading(paths, &walk_errors, &files);
        let inv = inventory_of(files.iter().zip(rows));
        write_stdout(&render_inventory(&inv, None, format, view));
        return code;
    }
    let (estate, walk_errors, mut code) = read_reporting_all(paths);
    // The port grades of the whole estate, from the same writers and ledger as `orchmig port`.
    let port = target.map(|t| {
        let (report, graded) = grade_port(&estate, t, &table, &engine);
        code = code.max(graded);
        report
    });
    let text = match inventory_format {
        None => {
            let root = super::config::active().root;
            let log = super::sarif::log(&super::sarif::Inputs {
                estate: &estate,
                walk_errors: &walk_errors,
                port: port.as_ref(),
                translations: Some(&table),
                root: &root,
            });
            serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
        }
        Some(format) => {
            let inv = inventory(&estate, &engine, &table);
            render_inventory(&inv, port.as_ref(), format, view)
        }
    };
    write_stdout(&text);
    code
}

/// The inventory (and the port grades, when asked) in the chosen format.
fn render_inventory(
    inv: &Inventory,
    port: Option<&crate::report::Report>,
    format: Format,
    view: &TableView,
) -> String {
    match format {
        Format::Table => {
            let mut t = render_table(inv, view);
            if let Some(r) = port {
                t.push_str(&format!("\nport to {}:\n{}", r.target, r.table()));
            }
            t
        }
        Format::Markdown => {
            let mut t = render_markdown(inv);
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
    table: &Translations,
    engine: &Engine,
) -> (crate::report::Report, i32) {
    let mut code = EXIT_OK;
    let mut report = crate::report::Report {
        schema: "orchmig.port/1",
        target: target.label(),
        pipelines: Vec::new(),
        gains: Vec::new(),
        unread: Vec::new(),
    };
    report.gains = table
        .gains
        .get(target.framework.id())
        .cloned()
        .unwrap_or_default();
    let mut ported = Vec::new();
    for f in estate.files.iter().filter(|f| !f.pipelines.is_empty()) {
        match super::port::port_or_copy(f, Path::new(&f.path), target, table) {
            Ok((_, mut ledgers)) => {
                super::effort::add_cost_rules(
                    &mut ledgers,
                    f,
                    &super::effort::assess_all(f, engine),
                );
                ported.push((PathBuf::from(&f.path), ledgers));
            }
            Err(e) => {
                print_path_error(&f.path, &e, "the other files were still graded");
                code = EXIT_FINDINGS;
            }
        }
    }
    // Outputs are named as `orchmig port --out` names them, so they point into its folder.
    for (name, mut ledgers) in super::port::output_names(ported) {
        for l in &mut ledgers {
            l.set_output_path(&name.display().to_string());
        }
        report.pipelines.extend(ledgers);
    }
    (report, code)
}
