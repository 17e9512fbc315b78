//! Tables, Markdown and JSON of the matrix, shape rankings and pipeline assessments.

use comfy_table::{Cell, Table, presets};
use serde::Serialize;
use std::collections::BTreeMap;

use super::data::{Matrix, TOOLS};
use super::engine::{Assessment, Ranking};

fn table(header: Vec<String>) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.set_header(header);
    t
}

fn markdown(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

fn render(header: Vec<String>, rows: Vec<Vec<String>>, md: bool) -> String {
    if md {
        return markdown(&header, &rows);
    }
    let mut t = table(header);
    for r in rows {
        t.add_row(r.into_iter().map(Cell::new).collect::<Vec<_>>());
    }
    t.to_string() + "\n"
}

/// The 5×3 matrix with winner and tie-breaker per row.
pub fn matrix_text(m: &Matrix, md: bool) -> String {
    let header = [
        "dimension",
        "airflow",
        "dagster",
        "prefect",
        "winner",
        "tie-breaker",
    ]
    .map(String::from)
    .to_vec();
    let rows = m
        .dimensions
        .iter()
        .map(|d| {
            let mut r = vec![d.title.clone()];
            for t in TOOLS {
                let p = d.position(t);
                r.push(if d.winner == "depends" {
                    p.position.clone()
                } else {
                    format!("{} ({})", p.position, p.score)
                });
            }
            r.push(d.winner.clone());
            r.push(d.tie_breaker.clone());
            r
        })
        .collect();
    render(header, rows, md)
}

/// The matrix as JSON.
#[derive(Serialize)]
pub struct MatrixJson<'a> {
    /// Schema id.
    pub schema: &'static str,
    /// Rows.
    pub dimensions: Vec<DimensionJson<'a>>,
    /// Shapes with their picks.
    pub shapes: Vec<ShapeJson<'a>>,
    /// Cheat sheet.
    pub situations: &'a [super::data::Situation],
}

/// One matrix row as JSON.
#[derive(Serialize)]
pub struct DimensionJson<'a> {
    /// Id.
    pub id: &'a str,
    /// Heading.
    pub title: &'a str,
    /// Tool → position, score, why.
    pub tools: BTreeMap<&'static str, (&'a str, f64, &'a str)>,
    /// Winner.
    pub winner: &'a str,
    /// Tie-breaker.
    pub tie_breaker: &'a str,
}

/// One shape as JSON.
#[derive(Serialize)]
pub struct ShapeJson<'a> {
    /// Id.
    pub id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Pick.
    pub pick: &'a str,
}

/// The matrix as a JSON document.
pub fn matrix_json(m: &Matrix) -> MatrixJson<'_> {
    MatrixJson {
        schema: "orchmig.matrix/1",
        dimensions: m
            .dimensions
            .iter()
            .map(|d| DimensionJson {
                id: &d.id,
                title: &d.title,
                tools: TOOLS
                    .iter()
                    .map(|t| {
                        (
                            *t,
                            (
                                d.position(t).position.as_str(),
                                d.position(t).score,
                                d.position(t).why.as_str(),
                            ),
                        )
                    })
                    .collect(),
                winner: &d.winner,
                tie_breaker: &d.tie_breaker,
            })
            .collect(),
        shapes: m
            .shapes
            .iter()
            .map(|s| ShapeJson {
                id: &s.id,
                title: &s.title,
                pick: &s.pick,
            })
            .collect(),
        situations: &m.situations,
    }
}

/// A shape's ranking with the recommendation, the tie-breaker and the deciding rows.
pub fn ranking_text(m: &Matrix, r: &Ranking, md: bool) -> String {
    let mut header = vec!["rank".to_string(), "tool".into(), "fit (0-5)".into()];
    header.extend(
        m.dimensions
            .iter()
            .map(|d| format!("{} ×{}", d.id, r.weights.get(&d.id).copied().unwrap_or(0.0))),
    );
    let rows = r
        .tools
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut row = vec![(i + 1).to_string(), t.tool.clone(), format!("{:.2}", t.fit)];
            row.extend(
                m.dimensions
                    .iter()
                    .map(|d| format!("{:.2}", t.contributions[&d.id])),
            );
            row
        })
        .collect();
    let mut out = render(header, rows, md);
    let title = m.shape(&r.shape).map_or("", |s| s.title.as_str());
    out.push_str(&format!("\nshape: {} — {title}\n", r.shape));
    if r.hybrid {
        out.push_str(&format!(
            "recommended: hybrid — {}; default for the rest: {}\n",
            r.tie_breaker, r.recommended
        ));
    } else {
        out.push_str(&format!(
            "recommended: {}\ntie-breaker: {}\n",
            r.recommended, r.tie_breaker
        ));
    }
    let deciding: Vec<String> = r
        .deciding
        .iter()
        .map(|d| format!("{} (+{:.2})", d.dimension, d.margin))
        .collect();
    if !deciding.is_empty() {
        out.push_str(&format!("decided by: {}\n", deciding.join(", ")));
    }
    out
}

/// The columns of [`assessment_row`].
pub const ASSESSMENT_HEADER: [&str; 9] = [
    "pipeline",
    "framework",
    "file:line",
    "shape",
    "evidence",
    "airflow",
    "dagster",
    "prefect",
    "recommended",
];

/// One pipeline's assessment as table cells, in [`ASSESSMENT_HEADER`] order.
pub fn assessment_row(location: &str, a: &Assessment) -> Vec<String> {
    let fit = |t: &str| {
        a.ranking
            .tools
            .iter()
            .find(|x| x.tool == t)
            .map_or(String::new(), |x| format!("{:.2}", x.fit))
    };
    vec![
        crate::text::inline(&a.pipeline),
        a.framework.clone(),
        crate::text::inline(location),
        a.shape.clone(),
        a.evidence
            .iter()
            .map(|e| e.rule.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        fit("airflow"),
        fit("dagster"),
        fit("prefect"),
        a.ranking.recommended.clone(),
    ]
}

/// Per-pipeline assessments and the estate summary: a Markdown table, or a terminal table fitted
/// to `width` (pipeline names and evidence cut at the end, paths from the left).
pub fn assessments_text(items: &[(String, Assessment)], md: bool, width: Option<usize>) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|(loc, a)| assessment_row(loc, a))
        .collect();
    let mut out = if md {
        let header = ASSESSMENT_HEADER.map(String::from).to_vec();
        render(header, rows, true)
    } else {
        use crate::text::fit::{Column, Cut, render as fitted};
        let columns: Vec<Column<'_, Vec<String>>> = ASSESSMENT_HEADER
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let cut = match *h {
                    "file:line" => Cut::Start,
                    "pipeline" | "evidence" => Cut::End,
                    _ => Cut::Never,
                };
                // `best fit`, as analyze says it, is narrower than `recommended`.
                let header = if *h == "recommended" { "best fit" } else { h };
                let column = Column::text(header, move |r: &Vec<String>| r[i].clone()).cut(cut);
                // The evidence and the framework give way on a narrow terminal.
                if matches!(*h, "evidence" | "framework") {
                    column.optional()
                } else {
                    column
                }
            })
            .collect();
        fitted(&columns, &rows, width)
    };
    let s = summary(items);
    out.push('\n');
    let shapes: Vec<String> = s.shapes.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let picks: Vec<String> = s
        .recommended
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let bullet = if md { "- " } else { "" };
    for line in [
        format!("{bullet}shapes: {}", shapes.join(", ")),
        format!("{bullet}recommended: {}", picks.join(", ")),
    ] {
        out.push_str(&crate::text::fit::wrap(
            &line,
            if md { None } else { width },
        ));
    }
    out
}

/// Counts of shapes and recommendations over an estate.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Shape → pipelines.
    pub shapes: BTreeMap<String, usize>,
    /// Tool → pipelines it is recommended for.
    pub recommended: BTreeMap<String, usize>,
}

/// The estate summary of assessments.
pub fn summary(items: &[(String, Assessment)]) -> Summary {
    let mut shapes = BTreeMap::new();
    let mut recommended = BTreeMap::new();
    for (_, a) in items {
        *shapes.entry(a.shape.clone()).or_insert(0) += 1;
        *recommended
            .entry(a.ranking.recommended.clone())
            .or_insert(0) += 1;
    }
    Summary {
        shapes,
        recommended,
    }
}
