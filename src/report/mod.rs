//! The loss/gain report: the ledger the writers fill while they write, and its renderings.

mod constructs;
mod operators;
mod translations;

pub use constructs::{
    ConstructRef, SpanKey, body_apis, constructs, node_id, partitions_id, policy_fields,
    schedule_id,
};
pub use operators::{OperatorInfo, lookup as operator_info, operator_category};
pub use translations::{Construct, Fidelity, TargetRule, Translations};

use serde::Serialize;
use std::collections::BTreeMap;

use crate::ir::Span;
use crate::text::{inline, md_cell};

/// One decision about one construct instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Stable code (`OM010`).
    pub code: String,
    /// Construct id.
    pub construct: String,
    /// What it is about.
    pub subject: String,
    /// Fidelity class.
    pub fidelity: Fidelity,
    /// The rule that decided it.
    pub rule: String,
    /// What happens to it in the target.
    pub note: String,
    /// 1-based source line (0 when unknown).
    pub line: u32,
}

/// The ledger of one pipeline's port.
#[derive(Debug, Clone, Serialize)]
pub struct Ledger {
    /// Source file.
    pub source: String,
    /// Pipeline id.
    pub pipeline: String,
    /// Target id.
    pub target: String,
    /// Entries in recording order (sorted when finished).
    pub entries: Vec<Entry>,
    /// Where each recorded (construct, subject) was pushed in `entries` (a hint: entries are
    /// sorted when finished, so a stale index falls back to a search).
    #[serde(skip)]
    seen: BTreeMap<(String, String), usize>,
}

impl Ledger {
    /// An empty ledger for one pipeline and target.
    pub fn new(source: &str, pipeline: &str, target: &str) -> Ledger {
        Ledger {
            source: source.into(),
            pipeline: pipeline.into(),
            target: target.into(),
            entries: Vec::new(),
            seen: BTreeMap::new(),
        }
    }

    /// Records a construct as the translation table says; returns its fidelity.
    pub fn record(
        &mut self,
        table: &Translations,
        construct: &str,
        subject: &str,
        span: Span,
    ) -> Fidelity {
        self.record_as(table, construct, subject, span, None, None)
    }

    /// Records a construct with the writer's own fidelity and note where they differ from the table.
    pub fn record_as(
        &mut self,
        table: &Translations,
        construct: &str,
        subject: &str,
        span: Span,
        fidelity: Option<Fidelity>,
        note: Option<String>,
    ) -> Fidelity {
        let key = (construct.to_string(), subject.to_string());
        if let Some(&at) = self.seen.get(&key) {
            let is_it = |e: &&Entry| e.construct == construct && e.subject == subject;
            return self
                .entries
                .get(at)
                .filter(is_it)
                .or_else(|| self.entries.iter().find(is_it))
                .map_or(Fidelity::Exact, |e| e.fidelity);
        }
        self.seen.insert(key, self.entries.len());
        let (code, rule_fidelity, how) = match table.get(construct) {
            Some(c) => {
                let r = c.rule(&self.target);
                (c.code.clone(), r.fidelity, r.how.clone())
            }
            None => (
                "OM200".to_string(),
                Fidelity::None,
                "no rule for this construct".to_string(),
            ),
        };
        let fidelity = fidelity.unwrap_or(rule_fidelity);
        let rule = if note.is_some() {
            format!("writer:{}", self.target)
        } else {
            format!("translations:{construct}")
        };
        self.entries.push(Entry {
            code,
            construct: construct.into(),
            subject: subject.into(),
            fidelity,
            rule,
            note: note.unwrap_or(how),
            line: span.line,
        });
        fidelity
    }

    /// True when a construct instance has an entry.
    pub fn has(&self, construct: &str, subject: &str) -> bool {
        self.seen
            .contains_key(&(construct.to_string(), subject.to_string()))
    }

    /// Default-deny: every construct of the pipeline that no writer rule recorded becomes an
    /// entry of fidelity `none`; then the entries are sorted by line and code.
    pub fn finish(&mut self, table: &Translations, all: &[ConstructRef]) {
        for c in all {
            if !self.has(&c.id, &c.subject) {
                let span = Span {
                    line: c.span.line,
                    col: c.span.col,
                    ..Span::default()
                };
                self.record_as(
                    table,
                    &c.id,
                    &c.subject,
                    span,
                    Some(Fidelity::None),
                    Some("no writer rule consumed it: it is not in the output".into()),
                );
                if let Some(e) = self.entries.last_mut() {
                    e.rule = "default-deny".into();
                }
            }
        }
        self.entries
            .sort_by(|a, b| (a.line, &a.code, &a.subject).cmp(&(b.line, &b.code, &b.subject)));
    }

    /// The worst fidelity present.
    pub fn worst(&self) -> Fidelity {
        self.entries
            .iter()
            .map(|e| e.fidelity)
            .max()
            .unwrap_or(Fidelity::Exact)
    }

    /// Entries per fidelity class.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m: BTreeMap<&'static str, usize> = [
            Fidelity::Exact,
            Fidelity::Approximate,
            Fidelity::Redesign,
            Fidelity::None,
        ]
        .iter()
        .map(|f| (f.name(), 0))
        .collect();
        for e in &self.entries {
            *m.entry(e.fidelity.name()).or_default() += 1;
        }
        m
    }

    /// `automatic`, `review` or `manual`.
    pub fn grade(&self) -> &'static str {
        match self.worst() {
            Fidelity::Exact => "automatic",
            Fidelity::Approximate => "review",
            _ => "manual",
        }
    }

    /// A rough effort estimate in minutes: 10 per approximation, 60 per redesign or loss.
    pub fn effort_minutes(&self) -> u32 {
        self.entries
            .iter()
            .map(|e| match e.fidelity {
                Fidelity::Exact => 0,
                Fidelity::Approximate => 10,
                Fidelity::Redesign | Fidelity::None => 60,
            })
            .sum()
    }
}

/// The whole report of a port run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Schema id.
    pub schema: &'static str,
    /// Target id.
    pub target: String,
    /// One ledger per pipeline.
    pub pipelines: Vec<Ledger>,
    /// What the target gains.
    pub gains: Vec<String>,
}

/// A pipeline's summary line.
#[derive(Debug, Serialize)]
pub struct Grade {
    /// Pipeline id.
    pub pipeline: String,
    /// Grade.
    pub grade: &'static str,
    /// Minutes of estimated review and rework.
    pub effort_minutes: u32,
    /// Entries per fidelity.
    pub counts: BTreeMap<&'static str, usize>,
}

impl Report {
    /// Summary per pipeline.
    pub fn grades(&self) -> Vec<Grade> {
        self.pipelines
            .iter()
            .map(|l| Grade {
                pipeline: l.pipeline.clone(),
                grade: l.grade(),
                effort_minutes: l.effort_minutes(),
                counts: l.counts(),
            })
            .collect()
    }

    /// The worst fidelity over all pipelines.
    pub fn worst(&self) -> Fidelity {
        self.pipelines
            .iter()
            .map(Ledger::worst)
            .max()
            .unwrap_or(Fidelity::Exact)
    }

    /// The report as Markdown, for design documents.
    pub fn markdown(&self) -> String {
        let mut out = format!("# Port to {}\n\n", self.target);
        for l in &self.pipelines {
            out.push_str(&format!("## {} ({})\n\n| code | construct | subject | fidelity | line | what happens |\n|---|---|---|---|--:|---|\n", inline(&l.pipeline), inline(&l.source)));
            for e in &l.entries {
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} |\n",
                    e.code,
                    e.construct,
                    md_cell(&e.subject),
                    e.fidelity.name(),
                    e.line,
                    md_cell(&e.note)
                ));
            }
            out.push('\n');
        }
        out.push_str("## Summary\n\n| pipeline | grade | effort | exact | approximate | redesign | none |\n|---|---|--:|--:|--:|--:|--:|\n");
        for g in self.grades() {
            out.push_str(&format!(
                "| {} | {} | {} min | {} | {} | {} | {} |\n",
                md_cell(&g.pipeline),
                g.grade,
                g.effort_minutes,
                g.counts["exact"],
                g.counts["approximate"],
                g.counts["redesign"],
                g.counts["none"]
            ));
        }
        out.push_str(&format!(
            "\nGains in {}: {}.\n",
            self.target,
            self.gains.join("; ")
        ));
        out
    }

    /// The summary as a terminal table.
    pub fn table(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header([
            "pipeline",
            "grade",
            "effort",
            "exact",
            "approximate",
            "redesign",
            "none",
        ]);
        for g in self.grades() {
            t.add_row(vec![
                inline(&g.pipeline),
                g.grade.to_string(),
                format!("{} min", g.effort_minutes),
                g.counts["exact"].to_string(),
                g.counts["approximate"].to_string(),
                g.counts["redesign"].to_string(),
                g.counts["none"].to_string(),
            ]);
        }
        format!("{t}\ngains in {}: {}\n", self.target, self.gains.join("; "))
    }
}
