//! The loss/gain report: the ledger the writers fill while they write, and its renderings.

mod anchor;
mod constructs;
mod operators;
mod translations;

pub use anchor::{Anchor, Output, Scope};

pub use constructs::{
    ConstructRef, SpanKey, body_apis, constructs, node_construct, node_id, partitions_id,
    policy_fields, schedule_id,
};
pub use operators::{OperatorInfo, lookup as operator_info, operator_category};
pub use translations::{Construct, Fidelity, TargetRule, Translations, Weights};

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
    /// The generated line that implements it (`None` for `none` entries).
    pub output: Option<Output>,
    /// Minutes of work by hand this row leaves (the effort model, `[effort]` of the table).
    pub minutes: u32,
    /// Where the writer said the code is, until the module text is final.
    #[serde(skip)]
    anchor: Option<Anchor>,
    /// Minutes to write the construct by hand if it is lost (its row's `effort`).
    #[serde(skip)]
    by_hand: u32,
    /// Minutes to review the construct if the port redesigns it (its row's `review`).
    #[serde(skip)]
    review: u32,
}

/// The matrix's cost rules that fire for one pipeline's move: model changes a team reviews and
/// tests beyond the rows of the ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CostReview {
    /// Sum of the fired rules' points.
    pub points: u32,
    /// Minutes of design review they take (`points × [effort] cost_point`).
    pub minutes: u32,
    /// Fired rule id → why it costs.
    pub rules: BTreeMap<String, String>,
}

impl CostReview {
    /// True when no rule fired.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.points == 0
    }
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
    /// The matrix's cost rules that fire for this move.
    #[serde(skip_serializing_if = "CostReview::is_empty")]
    pub review: CostReview,
    /// The effort model's weights, from the table `finish` was given.
    #[serde(skip)]
    weights: Weights,
    /// Where each recorded (construct, subject) was pushed in `entries` (a hint: entries are
    /// sorted when finished, so a stale index falls back to a search).
    #[serde(skip)]
    seen: BTreeMap<(String, String), usize>,
    /// Every construct of the pipeline: what `finish` denies when nothing consumed it.
    #[serde(skip)]
    pending: Vec<ConstructRef>,
}

impl Entry {
    /// Points a restated entry at the code of another entry (see [`Ledger::anchor_of`]).
    pub fn point(&mut self, at: Option<Anchor>) {
        self.anchor = at;
    }
}

impl Ledger {
    /// An empty ledger for one pipeline and target.
    pub fn new(source: &str, pipeline: &str, target: &str) -> Ledger {
        Ledger {
            source: source.into(),
            pipeline: pipeline.into(),
            target: target.into(),
            entries: Vec::new(),
            review: CostReview::default(),
            weights: Weights::default(),
            seen: BTreeMap::new(),
            pending: Vec::new(),
        }
    }

    /// An empty ledger whose pending constructs are every construct of `p`.
    pub fn for_pipeline(source: &str, p: &crate::ir::Pipeline, target: &str) -> Ledger {
        let mut l = Ledger::new(source, &p.id, target);
        l.pending = constructs(p);
        l
    }

    /// The ledger of a pipeline whose file is already written for the target, so a port copies
    /// it unchanged: every construct is exact and points at its own line of the copy (`output`
    /// names the copy; a construct without a line points at the pipeline's).
    pub fn copied(
        source: &str,
        p: &crate::ir::Pipeline,
        target: &str,
        table: &Translations,
        output: &str,
    ) -> Ledger {
        let mut l = Ledger::new(source, &p.id, target);
        let note = format!("already written for {target}: the file is copied unchanged");
        for c in constructs(p) {
            let span = Span {
                line: c.span.line,
                col: c.span.col,
                ..Span::default()
            };
            // Each construct once: the table's code, exact, at its own line of the copy.
            if l.has(&c.id, &c.subject) {
                continue;
            }
            l.push(
                table,
                &c.id,
                &c.subject,
                span,
                Some(Fidelity::Exact),
                Some(note.clone()),
                None,
            );
            if let Some(e) = l.entries.last_mut() {
                let line = if c.span.line > 0 {
                    c.span.line
                } else {
                    p.span.line
                };
                e.rule = "copy".into();
                e.output = (line > 0).then(|| Output {
                    path: output.to_string(),
                    line,
                });
            }
        }
        l.finish(table);
        l
    }

    /// Consumes a construct where the writer writes its code (`at`): the table decides its
    /// fidelity and note; returns the fidelity.
    pub fn consume(
        &mut self,
        table: &Translations,
        construct: &str,
        subject: &str,
        span: Span,
        at: Anchor,
    ) -> Fidelity {
        self.push(table, construct, subject, span, None, None, Some(at))
    }

    /// Consumes a construct with the writer's own fidelity and note where the code it writes
    /// differs from the table's row.
    #[allow(clippy::too_many_arguments)]
    pub fn consume_as(
        &mut self,
        table: &Translations,
        construct: &str,
        subject: &str,
        span: Span,
        at: Anchor,
        fidelity: Fidelity,
        note: String,
    ) -> Fidelity {
        self.push(
            table,
            construct,
            subject,
            span,
            Some(fidelity),
            Some(note),
            Some(at),
        )
    }

    /// Records a construct as lost, with the reason: no code is written for it.
    pub fn lose(
        &mut self,
        table: &Translations,
        construct: &str,
        subject: &str,
        span: Span,
        why: String,
    ) -> Fidelity {
        self.push(
            table,
            construct,
            subject,
            span,
            Some(Fidelity::None),
            Some(why),
            None,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        table: &Translations,
        construct: &str,
        subject: &str,
        span: Span,
        fidelity: Option<Fidelity>,
        note: Option<String>,
        at: Option<Anchor>,
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
        // Code for a construct the table calls lost is still no port of it.
        let anchor = at.filter(|_| fidelity != Fidelity::None);
        self.entries.push(Entry {
            code,
            construct: construct.into(),
            subject: subject.into(),
            fidelity,
            rule,
            note: note.unwrap_or(how),
            line: span.line,
            output: None,
            minutes: 0,
            anchor,
            by_hand: table.by_hand(construct),
            review: table.review(construct),
        });
        fidelity
    }

    /// Gives an existing entry a new class and note, and the code that implements it (a pass
    /// that runs after the writer, which knows better what the written code means).
    pub fn reclassify(
        &mut self,
        construct: &str,
        subject: &str,
        fidelity: Fidelity,
        note: String,
        at: Option<Anchor>,
    ) {
        let target = self.target.clone();
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.construct == construct && e.subject == subject)
        {
            e.fidelity = fidelity;
            e.note = note;
            e.rule = format!("writer:{target}");
            e.anchor = at.filter(|_| fidelity != Fidelity::None);
        }
    }

    /// True when a construct instance has an entry.
    pub fn has(&self, construct: &str, subject: &str) -> bool {
        self.seen
            .contains_key(&(construct.to_string(), subject.to_string()))
    }

    /// Adds constructs to the pending set (a pass that brings new constructs into a pipeline).
    pub fn expect(&mut self, more: impl IntoIterator<Item = ConstructRef>) {
        self.pending.extend(more);
    }

    /// Default-deny: every pending construct no writer or pass consumed becomes an entry of
    /// fidelity `none`; then the entries are sorted by line and code.
    pub fn finish(&mut self, table: &Translations) {
        self.weights = table.effort;
        let pending = std::mem::take(&mut self.pending);
        for c in &pending {
            if !self.has(&c.id, &c.subject) {
                let span = Span {
                    line: c.span.line,
                    col: c.span.col,
                    ..Span::default()
                };
                // A trap is a warning about semantics: it stands even where no code handles it.
                let why = match table.get(&c.id) {
                    Some(t) if c.id.starts_with("trap.") => format!(
                        "{}: no code in the output handles it, review by hand",
                        t.rule(&self.target).how
                    ),
                    _ => "no writer rule consumed it: it is not in the output".into(),
                };
                self.lose(table, &c.id, &c.subject, span, why);
                if let Some(e) = self.entries.last_mut() {
                    e.rule = "default-deny".into();
                }
            }
        }
        self.pending = pending;
        self.entries
            .sort_by(|a, b| (a.line, &a.code, &a.subject).cmp(&(b.line, &b.code, &b.subject)));
        self.settle();
    }

    /// Sets every entry's minutes from its final fidelity (after `finish` and `resolve`, the
    /// last steps that may change a class).
    fn settle(&mut self) {
        let w = self.weights;
        for e in &mut self.entries {
            e.minutes = match e.fidelity {
                Fidelity::Exact => 0,
                Fidelity::Approximate => w.approximate,
                Fidelity::Redesign => e.review,
                Fidelity::None => e.by_hand,
            };
        }
    }

    /// Adds the matrix's cost rules that fire for this move (points and id → why).
    pub fn add_cost_rules(&mut self, points: u32, rules: BTreeMap<String, String>) {
        self.review.points += points;
        self.review.minutes += points * self.weights.cost_point;
        self.review.rules.extend(rules);
    }

    /// Points every entry of the ledgers of one module at its generated line in the final
    /// `text` (written as `path`), looking the module up once for all of them; an entry whose
    /// anchor is not in the text claims code that is not there, and becomes `none` (rule
    /// `anchor-not-found`).
    pub fn resolve(ledgers: &mut [Ledger], text: &str, path: &str) {
        let lines: Vec<&str> = text.lines().collect();
        let anchors: Vec<Option<Anchor>> = ledgers
            .iter_mut()
            .flat_map(|l| l.entries.iter_mut())
            .map(|e| e.anchor.take())
            .collect();
        let present: Vec<&Anchor> = anchors.iter().flatten().collect();
        let mut found = anchor::resolve_all(&lines, &present).into_iter();
        let entries = ledgers.iter_mut().flat_map(|l| l.entries.iter_mut());
        for (e, at) in entries.zip(&anchors) {
            let Some(at) = at else {
                // A claim without code is no port (a pass restated an entry it could not point at).
                if e.fidelity != Fidelity::None {
                    e.fidelity = Fidelity::None;
                    e.rule = "no-output".into();
                    e.note = format!("no code is written for it: {}", e.note);
                }
                continue;
            };
            match found.next().flatten() {
                Some(line) => {
                    e.output = Some(Output {
                        path: path.into(),
                        line,
                    })
                }
                None => {
                    e.fidelity = Fidelity::None;
                    e.rule = "anchor-not-found".into();
                    e.note = format!(
                        "the writer's code for it (`{}`) is not in the output: {}",
                        at.needles.join(" … "),
                        e.note
                    );
                }
            }
        }
        for l in ledgers {
            l.settle();
        }
    }

    /// Records a construct whose code is where the code of another entry (`like`: construct,
    /// subject) is; lost, with the same note, when that entry points at no code.
    #[allow(clippy::too_many_arguments)]
    pub fn consume_where(
        &mut self,
        table: &Translations,
        construct: &str,
        subject: &str,
        span: Span,
        like: (&str, &str),
        fidelity: Option<Fidelity>,
        note: String,
    ) -> Fidelity {
        match self.anchor_of(like.0, like.1) {
            Some(at) => self.push(
                table,
                construct,
                subject,
                span,
                fidelity,
                Some(note),
                Some(at),
            ),
            None => self.lose(table, construct, subject, span, note),
        }
    }

    /// Points an entry already recorded at other code (a writer that learns later where it
    /// wrote it, e.g. a policy a reused task's call overrides); no entry, no change.
    pub fn repoint(&mut self, construct: &str, subject: &str, at: Anchor) {
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.construct == construct && e.subject == subject)
            .filter(|e| e.fidelity != Fidelity::None)
        {
            e.anchor = Some(at);
        }
    }

    /// The anchor of an entry that points at code.
    pub fn anchor_of(&self, construct: &str, subject: &str) -> Option<Anchor> {
        self.entries
            .iter()
            .find(|e| e.construct == construct && e.subject == subject)
            .filter(|e| e.fidelity != Fidelity::None)
            .and_then(|e| e.anchor.clone())
    }

    /// Renames the generated file every output points at.
    pub fn set_output_path(&mut self, path: &str) {
        for o in self.entries.iter_mut().filter_map(|e| e.output.as_mut()) {
            o.path = path.into();
        }
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

    /// The effort model's grade: `automatic` when nothing is left to do, `review` up to the
    /// table's `review_limit` minutes, `manual` beyond.
    pub fn grade(&self) -> &'static str {
        match self.effort_minutes() {
            0 => "automatic",
            m if m <= self.weights.review_limit => "review",
            _ => "manual",
        }
    }

    /// Minutes of work by hand the rows leave (the sum of their `minutes`).
    pub fn by_hand_minutes(&self) -> u32 {
        self.entries.iter().map(|e| e.minutes).sum()
    }

    /// The effort model: minutes left by hand plus minutes of design review of the matrix's
    /// fired cost rules (docs/effort.md).
    pub fn effort_minutes(&self) -> u32 {
        self.by_hand_minutes() + self.review.minutes
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
    /// Input files that were not ported, and why (read errors, a writer's error).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<Unread>,
}

/// An input file a port run did not port.
#[derive(Debug, Clone, Serialize)]
pub struct Unread {
    /// The file, as given.
    pub path: String,
    /// The line of the first error (0 when it has none).
    pub line: u32,
    /// Why.
    pub why: String,
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
    /// Of which: minutes of work by hand the rows leave.
    pub by_hand_minutes: u32,
    /// Of which: minutes of design review of the matrix's fired cost rules.
    pub review_minutes: u32,
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
                by_hand_minutes: l.by_hand_minutes(),
                review_minutes: l.review.minutes,
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
            out.push_str(&format!("## {} ({})\n\n| code | construct | subject | fidelity | source → output | min | what happens |\n|---|---|---|---|---|--:|---|\n", inline(&l.pipeline), inline(&l.source)));
            for e in &l.entries {
                let at = match &e.output {
                    Some(o) => format!("{} → {}:{}", e.line, md_cell(&o.path), o.line),
                    None => e.line.to_string(),
                };
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {} |\n",
                    e.code,
                    e.construct,
                    md_cell(&e.subject),
                    e.fidelity.name(),
                    at,
                    e.minutes,
                    md_cell(&e.note)
                ));
            }
            out.push('\n');
            if !l.review.is_empty() {
                let why: Vec<String> = l
                    .review
                    .rules
                    .iter()
                    .map(|(id, why)| format!("`{id}`: {}", inline(why)))
                    .collect();
                out.push_str(&format!(
                    "Design review, {} (the matrix's cost rules, {} points): {}.\n\n",
                    crate::text::minutes(l.review.minutes),
                    l.review.points,
                    why.join("; ")
                ));
            }
        }
        out.push_str("## Summary\n\n| pipeline | grade | effort | by hand | review | exact | approximate | redesign | none |\n|---|---|--:|--:|--:|--:|--:|--:|--:|\n");
        for g in self.grades() {
            out.push_str(&format!(
                "| {} | {} | {} | {} min | {} min | {} | {} | {} | {} |\n",
                md_cell(&g.pipeline),
                g.grade,
                crate::text::minutes(g.effort_minutes),
                g.by_hand_minutes,
                g.review_minutes,
                g.counts["exact"],
                g.counts["approximate"],
                g.counts["redesign"],
                g.counts["none"]
            ));
        }
        if !self.unread.is_empty() {
            out.push_str("\n## Files not ported\n\n| file | line | why |\n|---|--:|---|\n");
            for u in &self.unread {
                out.push_str(&format!(
                    "| {} | {} | {} |\n",
                    md_cell(&u.path),
                    u.line,
                    md_cell(&u.why)
                ));
            }
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
                crate::text::minutes(g.effort_minutes),
                g.counts["exact"].to_string(),
                g.counts["approximate"].to_string(),
                g.counts["redesign"].to_string(),
                g.counts["none"].to_string(),
            ]);
        }
        format!("{t}\ngains in {}: {}\n", self.target, self.gains.join("; "))
    }
}
