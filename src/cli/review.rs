//! `orchmig report`: one self-contained HTML page for a design review — the estate inventory,
//! the decision matrix and each pipeline's ranking, every pipeline's graph as inline SVG, and
//! the loss/gain ledger of porting each pipeline to each other framework (ported in memory).
//! The page is rendered from templates/report/*.j2 with HTML auto-escaping.

use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::analyze::{self, Inventory};
use super::input::read_reporting;
use super::output::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use super::ui::print_path_error;
use crate::emit::{Target, port_file};
use crate::graph::{Drawing, svg};
use crate::ir::{Estate, Framework, Severity};
use crate::matrix::render::{MatrixJson, matrix_json};
use crate::matrix::{Assessment, Engine, Matrix};
use crate::report::{Entry, Translations};

const TEMPLATES: &[(&str, &str)] = &[
    (
        "report/page.html.j2",
        include_str!("../../templates/report/page.html.j2"),
    ),
    (
        "report/style.css.j2",
        include_str!("../../templates/report/style.css.j2"),
    ),
];

/// Everything the page shows, in the order it shows it.
#[derive(Serialize)]
pub struct Page<'m> {
    /// orchmig's version, for the footer.
    pub version: &'static str,
    /// The paths as given.
    pub inputs: Vec<String>,
    /// The `orchmig analyze` inventory.
    pub inventory: Inventory,
    /// The decision matrix (as `orchmig matrix --format json`).
    pub matrix: MatrixJson<'m>,
    /// The tools, in the matrix's column order.
    pub tools: Vec<&'static str>,
    /// One section per pipeline, in file then source order.
    pub pipelines: Vec<PipelineSection>,
    /// Input problems the reader reported (file: message), so the page does not hide them.
    pub problems: Vec<String>,
}

/// One pipeline's section.
#[derive(Debug, Serialize)]
pub struct PipelineSection {
    /// HTML anchor (`p0`, `p1`, …).
    pub anchor: String,
    /// Pipeline id.
    pub id: String,
    /// Source framework.
    pub framework: String,
    /// `path:line`.
    pub location: String,
    /// The matrix's reading of it (shape, evidence, ranking, rule costs); `None` when it failed.
    pub assessment: Option<Assessment>,
    /// The graph, laid out by orchmig (inline SVG markup).
    pub svg: String,
    /// One port per other framework.
    pub ports: Vec<PortSection>,
}

/// The loss/gain of porting one pipeline to one target.
#[derive(Debug, Serialize)]
pub struct PortSection {
    /// Target label (`dagster@1`).
    pub target: String,
    /// `automatic`, `review` or `manual`.
    pub grade: String,
    /// Estimated minutes of review and rework.
    pub effort_minutes: u32,
    /// Entries per fidelity class.
    pub counts: BTreeMap<&'static str, usize>,
    /// The ledger's entries that are not exact (what is approximated, redesigned or lost).
    pub losses: Vec<Entry>,
    /// How many entries are exact.
    pub exact: usize,
    /// What the target gains.
    pub gains: Vec<String>,
    /// Why the port could not be computed, if it could not.
    pub error: Option<String>,
}

/// Builds the page of an estate.
pub fn build<'m>(
    inputs: &[PathBuf],
    estate: &Estate,
    matrix: &'m Matrix,
    engine: &Engine,
    table: &Translations,
) -> Page<'m> {
    let inventory = analyze::inventory(estate, engine, table);
    let mut pipelines = Vec::new();
    let mut problems = Vec::new();
    for file in &estate.files {
        for d in file
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            problems.push(format!(
                "{}:{}: {}",
                file.path,
                d.line.unwrap_or(0),
                d.message
            ));
        }
        if file.pipelines.is_empty() {
            continue;
        }
        // One port per other framework for the whole file, as `orchmig port` writes it.
        let mut ports: Vec<(Target, Result<Vec<crate::report::Ledger>, String>)> = Vec::new();
        for fw in Framework::ALL {
            if Some(fw) == file.framework {
                continue;
            }
            let Ok(t) = Target::parse(fw.id()) else {
                continue;
            };
            let ported = port_file(file, t, table).map(|(_, mut l)| {
                super::effort::add_cost_rules(&mut l, file, engine);
                l
            });
            ports.push((t, ported));
        }
        for p in &file.pipelines {
            let anchor = format!("p{}", pipelines.len());
            let drawing = Drawing::new(p);
            let svg = svg::render(&drawing, &format!("{anchor}-")).unwrap_or_else(|e| {
                problems.push(format!("{}: {e}", file.path));
                String::new()
            });
            let sections = ports
                .iter()
                .map(|(t, r)| port_section(t, r, &p.id, table))
                .collect();
            pipelines.push(PipelineSection {
                anchor,
                id: p.id.clone(),
                framework: p.framework.map(|f| f.id()).unwrap_or("unknown").into(),
                location: format!("{}:{}", file.path, p.span.line),
                assessment: engine.assess(p).ok(),
                svg,
                ports: sections,
            });
        }
    }
    Page {
        version: env!("CARGO_PKG_VERSION"),
        inputs: inputs.iter().map(|p| p.display().to_string()).collect(),
        inventory,
        matrix: matrix_json(matrix),
        tools: crate::matrix::TOOLS.to_vec(),
        pipelines,
        problems,
    }
}

fn port_section(
    t: &Target,
    result: &Result<Vec<crate::report::Ledger>, String>,
    pipeline: &str,
    table: &Translations,
) -> PortSection {
    let gains = table
        .gains
        .get(t.framework.id())
        .cloned()
        .unwrap_or_default();
    // A port that failed, or has no ledger for the pipeline, is a manual one with the reason.
    let failed = |error: String| PortSection {
        target: t.label(),
        grade: "manual".into(),
        effort_minutes: 0,
        counts: BTreeMap::new(),
        losses: Vec::new(),
        exact: 0,
        gains: gains.clone(),
        error: Some(error),
    };
    let l = match result
        .as_ref()
        .map(|ls| ls.iter().find(|l| l.pipeline == pipeline))
    {
        Err(e) => return failed(e.clone()),
        Ok(None) => return failed("the port has no ledger for this pipeline".into()),
        Ok(Some(l)) => l,
    };
    let losses: Vec<Entry> = l
        .entries
        .iter()
        .filter(|e| e.fidelity != crate::report::Fidelity::Exact)
        .cloned()
        .collect();
    PortSection {
        target: t.label(),
        grade: l.grade().into(),
        effort_minutes: l.effort_minutes(),
        counts: l.counts(),
        exact: l.entries.len() - losses.len(),
        losses,
        gains,
        error: None,
    }
}

/// The page as HTML (escaped by the templates; only the SVG markup is inserted as is).
pub fn render_html(page: &Page) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    for (name, text) in TEMPLATES {
        env.add_template(name, text)
            .map_err(|e| format!("template {name}: {e}"))?;
    }
    let tmpl = env
        .get_template("report/page.html.j2")
        .map_err(|e| format!("template: {e}"))?;
    tmpl.render(minijinja::Value::from(minijinja::value::Serde(page)))
        .map(|t| t.trim_end().to_string() + "\n")
        .map_err(|e| format!("template report/page.html.j2: {e}"))
}

/// Whether `path` is a review page `orchmig report` wrote (its footer names the command).
fn written_by_orchmig(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| {
        text.starts_with("<!DOCTYPE html>") && text.contains("(<code>orchmig report</code>)")
    })
}

/// Runs `orchmig report`; returns the exit code.
pub fn run(paths: &[PathBuf], out: &Path, force: bool) -> i32 {
    let shown = out.display().to_string();
    let inputs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    // A page orchmig wrote itself is regenerated without --force; anything else is kept.
    let ours = written_by_orchmig(out);
    if let Some(code) =
        super::port::refuse_out_file(out, &inputs, force || ours, Some("review.html"))
    {
        return code;
    }
    let matrix = match super::matrix::load(None) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{}", e.render());
            return EXIT_USAGE;
        }
    };
    let env = crate::matrix::environment();
    let engine = match Engine::new(&matrix, &env) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{}", e.render());
            return EXIT_USAGE;
        }
    };
    let table = match super::ui::translations_or_exit() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let (estate, code) = read_reporting(paths);
    if code == EXIT_USAGE {
        return code;
    }
    let page = build(paths, &estate, &matrix, &engine, &table);
    let html = match render_html(&page) {
        Ok(h) => h,
        Err(e) => {
            print_path_error(&shown, &e, "this is a bug in orchmig's report template");
            return EXIT_FINDINGS;
        }
    };
    if let Err(e) = super::port::write_atomic(out, &html) {
        print_path_error(
            &shown,
            &format!("cannot be written: {e}"),
            "check that the folder is writable",
        );
        return EXIT_FINDINGS;
    }
    eprintln!(
        "wrote {shown}: {} pipelines, {} ports",
        page.pipelines.len(),
        page.pipelines.iter().map(|p| p.ports.len()).sum::<usize>()
    );
    code.max(EXIT_OK)
}
