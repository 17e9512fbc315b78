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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    gains: BTreeMap<String, Vec<String>>,
    construct: Vec<Construct>,
}

/// The translation table.
#[derive(Debug, Clone)]
pub struct Translations {
    /// Target → what moving there gains.
    pub gains: BTreeMap<String, Vec<String>>,
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
            by_id,
        })
    }

    /// The construct with an id.
    pub fn get(&self, id: &str) -> Option<&Construct> {
        self.by_id.get(id)
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
