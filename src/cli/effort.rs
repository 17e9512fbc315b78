//! The effort model's join (docs/effort.md): a port's own ledger, plus the matrix's cost rules
//! that fire for the move. `analyze`, `port`, `report` and `analyze --target` all grade with it,
//! so the cost column and the port grade are one number. `analyze::rows_of` makes the ports.

use crate::ir::SourceFile;
use crate::matrix::{Assessment, Engine};
use crate::report::Ledger;
use serde::Serialize;
use std::collections::BTreeMap;

/// The effort of moving one pipeline to one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effort {
    /// Total minutes: by hand plus review.
    pub minutes: u32,
    /// `automatic`, `review` or `manual`.
    pub grade: &'static str,
    /// Minutes of work by hand the port's report rows leave.
    pub by_hand_minutes: u32,
    /// Minutes of design review of the matrix's fired cost rules.
    pub review_minutes: u32,
    /// Fired cost rule id → why.
    pub reasons: BTreeMap<String, String>,
}

impl Effort {
    /// The effort a finished ledger (with its cost rules added) gives.
    pub fn of(l: &Ledger) -> Effort {
        Effort {
            minutes: l.effort_minutes(),
            grade: l.grade(),
            by_hand_minutes: l.by_hand_minutes(),
            review_minutes: l.review.minutes,
            reasons: l.review.rules.clone(),
        }
    }
}

/// The matrix's reading of each pipeline of a file, in file order (`None` where it failed).
pub fn assess_all(file: &SourceFile, engine: &Engine) -> Vec<Option<Assessment>> {
    file.pipelines
        .iter()
        .map(|p| engine.assess(p).ok())
        .collect()
}

/// Adds to each ledger of a ported file the matrix's cost rules that fire for its pipeline's
/// move to the ledger's target (a copy to the file's own framework fires none); `assessed` is
/// [`assess_all`] of the file, so ports to several targets assess each pipeline once.
pub fn add_cost_rules(ledgers: &mut [Ledger], file: &SourceFile, assessed: &[Option<Assessment>]) {
    for l in ledgers {
        let Some(a) = file
            .pipelines
            .iter()
            .zip(assessed)
            .find(|(p, _)| p.id == l.pipeline)
            .and_then(|(_, a)| a.as_ref())
        else {
            continue;
        };
        let target = l.target.split('@').next().unwrap_or_default();
        if let Some(cost) = a.costs.get(target) {
            l.add_cost_rules(cost.points, cost.reasons.clone());
        }
    }
}
