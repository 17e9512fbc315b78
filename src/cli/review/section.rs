//! The section of one pipeline on a review page (its own file: the page builds it, the summary
//! reads it).

use serde::Serialize;
use std::collections::BTreeMap;

use crate::matrix::Assessment;
use crate::report::Entry;

/// One pipeline's section.
#[derive(Debug, Serialize)]
pub struct PipelineSection {
    /// HTML anchor (`p0`, `p1`, …).
    pub anchor: String,
    /// Where the section is, from the page: `#p3`, or its own page `review-pipelines/0003-x.html`.
    pub href: String,
    /// The file name of its own page, when it has one.
    pub page: Option<String>,
    /// Pipeline id.
    pub id: String,
    /// Source framework.
    pub framework: String,
    /// `path:line`.
    pub location: String,
    /// The source file, relative to the HTML file that shows the section; `None` when there is
    /// no relative path to it.
    pub source_href: Option<String>,
    /// The matrix's reading of it (shape, evidence, ranking, rule costs); `None` when it failed.
    pub assessment: Option<Assessment>,
    /// The graph, laid out by orchmig (inline SVG markup, escaped by the graph module).
    pub svg: String,
    /// Why there is no graph, when it could not be drawn.
    pub svg_error: Option<String>,
    /// One port per other framework.
    pub ports: Vec<PortSection>,
    /// Minutes of rework over all its ports.
    pub effort_minutes: u32,
    /// Constructs its ports lose (`none` entries) over all targets.
    pub lost: usize,
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
