//! matrix/translations.toml: for every IR construct and target, its fidelity and how.

use serde::Deserialize;
use std::collections::BTreeMap;

use crate::diag::MatrixError;

/// How faithfully a construct survives a port, from best to worst.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Fidelity {
    /// Same behaviour.
    Exact,
    /// Close; the note says what differs.
    Approximate,
    /// Modelled differently in the target: a person must decide.
    Redesign,
    /// Not ported.
    None,
}

impl Fidelity {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Fidelity::Exact => "exact",
            Fidelity::Approximate => "approximate",
            Fidelity::Redesign => "redesign",
            Fidelity::None => "none",
        }
    }

    /// Parses `approximate`, `redesign`, `none` (for `--fail-on`).
    pub fn parse(s: &str) -> Option<Fidelity> {
        Some(match s {
            "exact" => Fidelity::Exact,
            "approximate" => Fidelity::Approximate,
            "redesign" => Fidelity::Redesign,
            "none" => Fidelity::None,
            _ => return None,
        })
    }
}

/// One target's translation of a construct.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetRule {
    /// The fidelity class.
    pub fidelity: Fidelity,
    /// How the target expresses it.
    pub how: String,
}

/// A construct row of the table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Construct {
    /// Stable code.
    pub code: String,
    /// Construct id.
    pub id: String,
    /// Human name.
    pub title: String,
    /// Into Airflow.
    pub airflow: TargetRule,
    /// Into Dagster.
    pub dagster: TargetRule,
    /// Into Prefect.
    pub prefect: TargetRule,
    /// Minutes to write this construct by hand when a port loses it (default: `[effort] none`).
    #[serde(default)]
    pub effort: Option<u32>,
    /// Minutes to review it when a port redesigns it (default: `[effort] redesign`).
    #[serde(default)]
    pub review: Option<u32>,
}

impl Construct {
    /// The rule for a target id.
    pub fn rule(&self, target: &str) -> &TargetRule {
        match target {
            "dagster" => &self.dagster,
            "prefect" => &self.prefect,
            _ => &self.airflow,
        }
    }
}

/// The effort model's weights (`[effort]`): minutes of work per report row by fidelity, and
/// how the minutes grade a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// Minutes to read and confirm an approximated construct.
    pub approximate: u32,
    /// Minutes to review a construct the target models differently.
    pub redesign: u32,
    /// Minutes to write a lost construct by hand, unless its row says `effort`.
    pub none: u32,
    /// Minutes of design review per point of the matrix's cost rules that fire for a move.
    pub cost_point: u32,
    /// The most minutes a port graded `review` may take; more is `manual`.
    pub review_limit: u32,
}

impl Default for Weights {
    /// The weights of the built-in table (for ledgers made without one).
    fn default() -> Weights {
        Weights {
            approximate: 5,
            redesign: 10,
            none: 15,
            cost_point: 15,
            review_limit: 60,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    gains: BTreeMap<String, Vec<String>>,
    effort: Weights,
    construct: Vec<Construct>,
}

/// The translation table.
#[derive(Debug, Clone)]
pub struct Translations {
    /// Target → what moving there gains.
    pub gains: BTreeMap<String, Vec<String>>,
    /// The effort model's weights.
    pub effort: Weights,
    by_id: BTreeMap<String, Construct>,
}

const BUILTIN: &str = include_str!("../../matrix/translations.toml");

impl Translations {
    /// The built-in table.
    pub fn builtin() -> Result<Translations, MatrixError> {
        Translations::parse("matrix/translations.toml", BUILTIN)
    }

    /// Parses a table, checking that codes and ids are unique.
    pub fn parse(file: &str, text: &str) -> Result<Translations, MatrixError> {
        let parsed: File = toml::from_str(text).map_err(|e| MatrixError {
            file: file.into(),
            text: text.into(),
            span: e.span(),
            message: format!("invalid translation table: {}", e.message()),
            help: "the fields are documented at the top of translations.toml".into(),
        })?;
        let mut by_id = BTreeMap::new();
        let mut codes = std::collections::BTreeSet::new();
        for c in parsed.construct {
            if !codes.insert(c.code.clone()) || by_id.contains_key(&c.id) {
                return Err(MatrixError {
                    file: file.into(),
                    text: text.into(),
                    span: None,
                    message: format!("construct `{}` ({}) is listed twice", c.id, c.code),
                    help: "codes and ids are unique; add a new code instead of reusing one".into(),
                });
            }
            by_id.insert(c.id.clone(), c);
        }
        Ok(Translations {
            gains: parsed.gains,
            effort: parsed.effort,
            by_id,
        })
    }

    /// The construct with an id.
    pub fn get(&self, id: &str) -> Option<&Construct> {
        self.by_id.get(id)
    }

    /// Minutes to write a lost construct by hand: its row's `effort`, else the default.
    pub fn by_hand(&self, id: &str) -> u32 {
        self.get(id)
            .and_then(|c| c.effort)
            .unwrap_or(self.effort.none)
    }

    /// Minutes to review a redesigned construct: its row's `review`, else the default.
    pub fn review(&self, id: &str) -> u32 {
        self.get(id)
            .and_then(|c| c.review)
            .unwrap_or(self.effort.redesign)
    }

    /// Every construct, by id.
    pub fn all(&self) -> impl Iterator<Item = &Construct> {
        self.by_id.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_table_parses_with_unique_codes() {
        let t = Translations::builtin().unwrap();
        assert!(t.get("schedule.cron").is_some());
        assert_eq!(t.get("opaque").unwrap().code, "OM201");
        assert_eq!(
            t.get("trigger_rule").unwrap().rule("dagster").fidelity,
            Fidelity::Redesign
        );
    }

    #[test]
    fn every_code_is_documented() {
        let docs = include_str!("../../docs/codes.md");
        for c in Translations::builtin().unwrap().all() {
            assert!(
                docs.contains(&format!("`{}`", c.code)),
                "{} is not in docs/codes.md",
                c.code
            );
        }
    }
}
