//! What a review page shows: the [`Page`] of an estate and its per-pipeline sections, each
//! pipeline ported in memory to every other framework (no port file is written).

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::links::{encode_segment, page_name, relative_href};
use super::section::{PipelineSection, PortSection};
use super::stamp::InputCommit;
use super::summary::{Summary, summarize};
use crate::cli::analyze::{self, Inventory, Ports};
use crate::emit::Target;
use crate::frontend::WalkError;
use crate::graph::{Drawing, svg};
use crate::ir::{Estate, Pipeline, SourceFile};
use crate::matrix::render::{MatrixJson, matrix_json};
use crate::matrix::{Engine, Matrix};
use crate::report::{Entry, Fidelity, Ledger, Translations};

/// Everything the page shows, in the order it shows it.
#[derive(Serialize)]
pub struct Page<'m> {
    /// orchmig's version, for the footer.
    pub version: &'static str,
    /// The paths as given.
    pub inputs: Vec<String>,
    /// When the page was made (`YYYY-MM-DD HH:MM UTC`).
    pub generated: String,
    /// The commit the inputs were read at (`git rev-parse HEAD`), or why there is none; one
    /// `input: commit` per input when they differ.
    pub commit: String,
    /// The answer first: shapes, recommendation, effort, riskiest pipelines, unreadable files.
    pub summary: Summary,
    /// The `orchmig analyze` inventory.
    pub inventory: Inventory,
    /// The decision matrix (as `orchmig matrix --format json`).
    pub matrix: MatrixJson<'m>,
    /// The tools, in the matrix's column order.
    pub tools: Vec<&'static str>,
    /// One section per pipeline, in file then source order.
    pub pipelines: Vec<PipelineSection>,
    /// The folder of per-pipeline pages (as linked from the page), when sections are not inline.
    pub pages_folder: Option<String>,
}

/// Where the page goes and whether each pipeline gets a page of its own.
pub struct Placement {
    /// The folder the page is written to (relative links start there).
    pub page_dir: PathBuf,
    /// The folder of per-pipeline pages, when the sections are not inline.
    pub pages_dir: Option<PathBuf>,
}

/// What [`build`] reads: the estate and the matrix and translation data it is judged by.
pub struct Sources<'a, 'm> {
    /// The paths as given.
    pub inputs: &'a [PathBuf],
    /// The estate read from them.
    pub estate: &'a Estate,
    /// Paths that could not be walked.
    pub walk_errors: &'a [WalkError],
    /// The decision matrix.
    pub matrix: &'m Matrix,
    /// Its compiled rules.
    pub engine: &'a Engine<'m>,
    /// The translation table.
    pub table: &'a Translations,
}

/// Builds the page of an estate.
pub fn build<'m>(
    src: &Sources<'_, 'm>,
    place: &Placement,
    generated: String,
    commits: Vec<InputCommit>,
) -> Page<'m> {
    // Each file is ported once to each other framework: the inventory's effort column and the
    // sections' ledgers come from the same ports.
    let files = &src.estate.files;
    let ports: Vec<Ports> =
        crate::cli::parallel::map_ordered(files, |f| analyze::ports_of(f, src.engine, src.table));
    let rows = files
        .iter()
        .zip(&ports)
        .map(|(f, p)| analyze::rows_from(f, src.engine, p));
    let inventory = analyze::inventory_of(files.iter().zip(rows));
    let mut pipelines = Vec::new();
    for (file, ports) in files.iter().zip(&ports) {
        for p in &file.pipelines {
            pipelines.push(section(pipelines.len(), file, p, ports, src, place));
        }
    }
    let matrix = matrix_json(src.matrix);
    let summary = summarize(&inventory, &pipelines, &matrix, src.walk_errors);
    Page {
        version: env!("CARGO_PKG_VERSION"),
        inputs: src.inputs.iter().map(|p| p.display().to_string()).collect(),
        generated,
        commit: commit_text(&commits),
        summary,
        inventory,
        matrix,
        tools: crate::matrix::TOOLS.to_vec(),
        pipelines,
        pages_folder: place.pages_dir.as_deref().map(folder_href),
    }
}

/// One commit when every input has the same (or none), else `input: commit` per input.
fn commit_text(commits: &[InputCommit]) -> String {
    match commits {
        [] => super::stamp::NOT_A_CHECKOUT.to_string(),
        [first, rest @ ..] if rest.iter().all(|c| c.commit == first.commit) => first.commit.clone(),
        _ => commits
            .iter()
            .map(|c| format!("{}: {}", c.input, c.commit))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn folder_href(dir: &Path) -> String {
    dir.file_name()
        .map(|n| encode_segment(&n.to_string_lossy()))
        .unwrap_or_default()
}

fn section(
    index: usize,
    file: &SourceFile,
    p: &Pipeline,
    ports: &Ports,
    src: &Sources,
    place: &Placement,
) -> PipelineSection {
    let anchor = format!("p{index}");
    let (href, page, shown_from) = match &place.pages_dir {
        Some(dir) => {
            let name = page_name(index, &p.id);
            let href = format!("{}/{}", folder_href(dir), encode_segment(&name));
            (href, Some(name), dir.as_path())
        }
        None => (format!("#{anchor}"), None, place.page_dir.as_path()),
    };
    let (svg, svg_error) = match svg::render(&Drawing::new(p), &format!("{anchor}-")) {
        Ok(s) => (s, None),
        Err(e) => (String::new(), Some(e)),
    };
    let ports: Vec<PortSection> = ports
        .iter()
        .map(|(t, r)| port_section(t, r, &p.id, src.table))
        .collect();
    PipelineSection {
        href,
        page,
        id: p.id.clone(),
        framework: p.framework.map(|f| f.id()).unwrap_or("unknown").into(),
        location: format!("{}:{}", file.path, p.span.line),
        source_href: relative_href(shown_from, Path::new(&file.path)),
        assessment: src.engine.assess(p).ok(),
        svg,
        svg_error,
        effort_minutes: ports.iter().map(|s| s.effort_minutes).sum(),
        lost: ports
            .iter()
            .map(|s| s.counts.get("none").copied().unwrap_or(0))
            .sum(),
        ports,
        anchor,
    }
}

fn port_section(
    t: &Target,
    result: &Result<Vec<Ledger>, String>,
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
        .filter(|e| e.fidelity != Fidelity::Exact)
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
