//! The first screen of a review page: the estate's shapes, the recommendation and its reasons,
//! the effort of porting to each framework, the riskiest pipelines and the unreadable files.

use serde::Serialize;
use std::collections::BTreeMap;

use super::section::PipelineSection;
use crate::cli::analyze::Inventory;
use crate::frontend::WalkError;
use crate::ir::{Framework, Severity};
use crate::matrix::render::MatrixJson;

/// How many pipelines the riskiest list names.
pub const RISKIEST: usize = 10;

/// How many reasons the recommendation gives.
const REASONS: usize = 3;

/// The answer, before any detail.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Pipelines per shape, most first.
    pub shapes: Vec<ShapeCount>,
    /// The framework most pipelines fit best, and why; `None` when none was classified.
    pub recommendation: Option<Recommendation>,
    /// The effort of moving the estate to each framework.
    pub effort: Vec<TargetEffort>,
    /// The pipelines whose ports need the most rework, worst first.
    pub riskiest: Vec<Risk>,
    /// Files and paths that could not be read, with why (`file:line: message`).
    pub unreadable: Vec<String>,
}

/// One shape of the estate.
#[derive(Debug, Serialize)]
pub struct ShapeCount {
    /// Shape id.
    pub shape: String,
    /// What the shape is (from matrix/shapes.toml).
    pub title: String,
    /// The shape's own pick.
    pub pick: String,
    /// Pipelines of that shape.
    pub pipelines: usize,
}

/// The estate's recommendation.
#[derive(Debug, Serialize)]
pub struct Recommendation {
    /// The framework most pipelines fit best.
    pub tool: String,
    /// How many fit it best.
    pub fits: usize,
    /// How many pipelines were classified.
    pub of: usize,
    /// Best-fit counts of every tool, most first.
    pub counts: Vec<(String, usize)>,
    /// The rules that fired most often on the pipelines that fit it best.
    pub reasons: Vec<Reason>,
    /// The matrix rows that set it apart from the runner-up most often, largest margin first.
    pub deciding: Vec<Reason>,
    /// The effort of porting the other pipelines to it.
    pub effort: Option<TargetEffort>,
}

/// A reason and how many of the recommended tool's pipelines it holds for.
#[derive(Debug, Serialize)]
pub struct Reason {
    /// Rule or dimension id.
    pub id: String,
    /// What it says.
    pub why: String,
    /// Pipelines it held for.
    pub pipelines: usize,
}

/// The effort of porting the estate to one framework.
#[derive(Debug, Clone, Serialize)]
pub struct TargetEffort {
    /// Target label (`dagster@1`).
    pub target: String,
    /// Pipelines already written for it (nothing to port).
    pub already: usize,
    /// Pipelines ported to it.
    pub ported: usize,
    /// Sum of the ports' estimated minutes.
    pub minutes: u32,
    /// Ports graded automatic, review and manual.
    pub automatic: usize,
    /// See `automatic`.
    pub review: usize,
    /// See `automatic`.
    pub manual: usize,
    /// Ports that could not be computed (counted as manual too).
    pub failed: usize,
}

/// One of the riskiest pipelines.
#[derive(Debug, Serialize)]
pub struct Risk {
    /// Link to its section.
    pub href: String,
    /// Pipeline id.
    pub id: String,
    /// Source framework.
    pub framework: String,
    /// `path:line`.
    pub location: String,
    /// Minutes over all its ports.
    pub minutes: u32,
    /// Constructs lost over all its ports.
    pub lost: usize,
    /// Ports graded manual.
    pub manual: usize,
}

/// Builds the summary of an estate's page.
pub fn summarize(
    inventory: &Inventory,
    pipelines: &[PipelineSection],
    matrix: &MatrixJson,
    walk_errors: &[WalkError],
) -> Summary {
    let effort = effort(pipelines);
    let recommendation = recommendation(pipelines, matrix).map(|mut r| {
        let prefix = format!("{}@", r.tool);
        r.effort = effort
            .iter()
            .find(|t| t.target.starts_with(&prefix))
            .cloned();
        r
    });
    Summary {
        shapes: shapes(pipelines, matrix),
        recommendation,
        effort,
        riskiest: riskiest(pipelines),
        unreadable: unreadable(inventory, walk_errors),
    }
}

fn shapes(pipelines: &[PipelineSection], matrix: &MatrixJson) -> Vec<ShapeCount> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for a in pipelines.iter().filter_map(|p| p.assessment.as_ref()) {
        *counts.entry(a.shape.as_str()).or_default() += 1;
    }
    let mut out: Vec<ShapeCount> = counts
        .into_iter()
        .map(|(shape, n)| {
            let known = matrix.shapes.iter().find(|s| s.id == shape);
            ShapeCount {
                shape: shape.to_string(),
                title: known.map(|s| s.title.to_string()).unwrap_or_default(),
                pick: known.map(|s| s.pick.to_string()).unwrap_or_default(),
                pipelines: n,
            }
        })
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.pipelines)); // stable: ties stay in id order
    out
}

/// Counts `key`s, most first (ties in first-seen order), keeping the first text seen for each.
fn ranked(items: impl Iterator<Item = (String, String)>) -> Vec<Reason> {
    let mut out: Vec<Reason> = Vec::new();
    for (id, why) in items {
        match out.iter_mut().find(|r| r.id == id) {
            Some(r) => r.pipelines += 1,
            None => out.push(Reason {
                id,
                why,
                pipelines: 1,
            }),
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.pipelines)); // stable: ties keep first-seen order
    out
}

fn recommendation(pipelines: &[PipelineSection], matrix: &MatrixJson) -> Option<Recommendation> {
    let assessed: Vec<_> = pipelines
        .iter()
        .filter_map(|p| p.assessment.as_ref())
        .collect();
    let counts: Vec<(String, usize)> = {
        let mut c = ranked(
            assessed
                .iter()
                .map(|a| (a.ranking.recommended.clone(), String::new())),
        );
        c.sort_by_key(|r| {
            let order = crate::matrix::TOOLS.iter().position(|t| *t == r.id);
            (std::cmp::Reverse(r.pipelines), order)
        });
        c.into_iter().map(|r| (r.id, r.pipelines)).collect()
    };
    let (tool, fits) = counts.first().cloned()?;
    let theirs: Vec<_> = assessed
        .iter()
        .filter(|a| a.ranking.recommended == tool)
        .collect();
    let mut reasons = ranked(
        theirs
            .iter()
            .flat_map(|a| a.evidence.iter().map(|e| (e.rule.clone(), e.why.clone()))),
    );
    reasons.truncate(REASONS);
    let mut deciding = ranked(theirs.iter().filter_map(|a| {
        let d = a.ranking.deciding.first()?;
        let title = matrix
            .dimensions
            .iter()
            .find(|row| row.id == d.dimension)
            .map_or(d.dimension.as_str(), |row| row.title);
        Some((d.dimension.clone(), title.to_string()))
    }));
    deciding.truncate(REASONS);
    Some(Recommendation {
        tool,
        fits,
        of: assessed.len(),
        counts,
        reasons,
        deciding,
        effort: None,
    })
}

fn effort(pipelines: &[PipelineSection]) -> Vec<TargetEffort> {
    Framework::ALL
        .into_iter()
        .map(|fw| {
            let prefix = format!("{}@", fw.id());
            let mut t = TargetEffort {
                target: crate::emit::Target::parse(fw.id())
                    .map_or_else(|_| fw.id().to_string(), |t| t.label()),
                already: 0,
                ported: 0,
                minutes: 0,
                automatic: 0,
                review: 0,
                manual: 0,
                failed: 0,
            };
            for p in pipelines {
                let Some(port) = p.ports.iter().find(|s| s.target.starts_with(&prefix)) else {
                    t.already += 1;
                    continue;
                };
                t.ported += 1;
                t.minutes += port.effort_minutes;
                t.failed += usize::from(port.error.is_some());
                match port.grade.as_str() {
                    "automatic" => t.automatic += 1,
                    "review" => t.review += 1,
                    _ => t.manual += 1,
                }
            }
            t
        })
        .collect()
}

fn riskiest(pipelines: &[PipelineSection]) -> Vec<Risk> {
    let mut risky: Vec<&PipelineSection> = pipelines
        .iter()
        .filter(|p| p.effort_minutes > 0 || p.lost > 0 || p.ports.iter().any(|s| s.error.is_some()))
        .collect();
    // Most minutes first, then most lost constructs; ties keep file order.
    risky.sort_by_key(|p| std::cmp::Reverse((p.effort_minutes, p.lost)));
    risky
        .into_iter()
        .take(RISKIEST)
        .map(|p| Risk {
            href: p.href.clone(),
            id: p.id.clone(),
            framework: p.framework.clone(),
            location: p.location.clone(),
            minutes: p.effort_minutes,
            lost: p.lost,
            manual: p.ports.iter().filter(|s| s.grade == "manual").count(),
        })
        .collect()
}

fn unreadable(inventory: &Inventory, walk_errors: &[WalkError]) -> Vec<String> {
    let walked = walk_errors
        .iter()
        .map(|e| format!("{}: {}", e.path.display(), e.message));
    let read = inventory.diagnostics.iter().flat_map(|f| {
        f.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| match d.line {
                Some(line) => format!("{}:{line}: {}", f.path, d.message),
                None => format!("{}: {}", f.path, d.message),
            })
    });
    walked.chain(read).collect()
}
