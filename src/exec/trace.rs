//! The trace of a run: one record per step instance it ran or decided, rendered as a table
//! (comfy-table) with a summary, or as JSON records.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use std::collections::BTreeMap;

use super::trigger::State;

/// One step instance of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Step path (`parent::child` inside sub-pipelines).
    pub node: String,
    /// Partition key.
    pub partition: Option<String>,
    /// Map index of a mapped step's instance.
    pub map_index: Option<usize>,
    /// Attempts made.
    pub attempts: u32,
    /// Final state.
    pub state: State,
    /// Virtual start of the first attempt, seconds (`null` when it never started).
    pub start: Option<f64>,
    /// Virtual end of the last attempt, seconds.
    pub end: Option<f64>,
    /// The last error (a traceback for the python runner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The return value (python runner), as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
}

/// A finished run: its records in trace order and its overall state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    /// Pipeline id.
    pub pipeline: String,
    /// Runner name.
    pub runner: String,
    /// `success` or `failed`.
    pub state: String,
    /// Partitions run, in order.
    pub partitions: Vec<Option<String>>,
    /// Records.
    pub records: Vec<Record>,
    /// Virtual seconds from the first start to the last end.
    pub duration: f64,
    /// Why the run succeeded although a step failed, by its framework's rule (for the summary).
    #[serde(skip)]
    pub success_despite: Option<&'static str>,
}

impl Trace {
    /// True when no instance failed.
    pub fn succeeded(&self) -> bool {
        self.state == "success"
    }

    /// Records per final state.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for r in &self.records {
            *m.entry(r.state.name()).or_default() += 1;
        }
        m
    }

    /// The one-line summary printed under the table.
    pub fn summary(&self) -> String {
        let counts = self.counts();
        let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let retried = self.records.iter().filter(|r| r.attempts > 1).count();
        let partitions = self.partitions.iter().filter(|p| p.is_some()).count();
        let state = match self.success_despite {
            Some(why) if self.succeeded() && counts.contains_key("failed") => {
                format!("{} ({why})", self.state)
            }
            _ => self.state.clone(),
        };
        format!(
            "{}: {} — {} instance(s): {}; {} retried{}; {} runner, {:.0}s virtual",
            self.pipeline,
            state,
            self.records.len(),
            if parts.is_empty() {
                "none".to_string()
            } else {
                parts.join(", ")
            },
            retried,
            if partitions > 0 {
                format!("; {partitions} partition(s)")
            } else {
                String::new()
            },
            self.runner,
            self.duration
        )
    }

    /// The trace as a table, then the summary.
    pub fn table(&self) -> String {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        let outputs = self.records.iter().any(|r| r.output.is_some());
        let mut header = vec![
            "node",
            "partition",
            "map index",
            "attempts",
            "state",
            "start",
            "end",
        ];
        if outputs {
            header.push("output");
        }
        t.set_header(header);
        for r in &self.records {
            let mut row = vec![
                r.node.clone(),
                r.partition.clone().unwrap_or_default(),
                r.map_index.map(|i| i.to_string()).unwrap_or_default(),
                r.attempts.to_string(),
                r.state.name().to_string(),
                r.start.map(fmt_seconds).unwrap_or_default(),
                r.end.map(fmt_seconds).unwrap_or_default(),
            ];
            if outputs {
                row.push(
                    r.output
                        .as_ref()
                        .map(|o| short(&o.to_string(), 60))
                        .unwrap_or_default(),
                );
            }
            t.add_row(row);
        }
        format!("{t}\n{}\n", self.summary())
    }
}

/// Virtual seconds as a trace shows them (`12s`, `1.5s`).
pub fn fmt_seconds(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        // Trailing zeros go, the unit is added once ("4.001s" came out as "4.001ss").
        format!("{s:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + "s"
    }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_seconds() {
        assert_eq!(fmt_seconds(12.0), "12s");
        assert_eq!(fmt_seconds(1.5), "1.5s");
        assert_eq!(fmt_seconds(0.25), "0.25s");
        // A millisecond shift: one unit, not "4.001ss".
        assert_eq!(fmt_seconds(4.001), "4.001s");
        // Below the millisecond it rounds to whole seconds.
        assert_eq!(fmt_seconds(3.0001), "3s");
    }
}
