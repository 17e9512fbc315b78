//! The dry runner: every attempt succeeds unless a `--fail` fault names it; `--hang` makes it
//! hang until its timeout. Deterministic; `ORCHMIG_DRY_SLEEP_MS` adds a real pause per attempt
//! (only for tests that kill a run in the middle).

use std::collections::BTreeMap;

use super::{Attempt, Input, Outcome, Runner};
use crate::exec::fault::Faults;
use crate::ir::SourceFile;

/// The dry runner.
pub struct DryRunner {
    faults: Faults,
    sleep_ms: u64,
}

impl DryRunner {
    /// A dry runner with these faults.
    pub fn new(faults: Faults) -> DryRunner {
        let sleep_ms = std::env::var("ORCHMIG_DRY_SLEEP_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            .min(10_000);
        DryRunner { faults, sleep_ms }
    }
}

impl Runner for DryRunner {
    fn name(&self) -> &'static str {
        "dry"
    }

    fn runs_bodies(&self) -> bool {
        false
    }

    fn attempt(&mut self, a: &Attempt) -> Outcome {
        if self.sleep_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(self.sleep_ms));
        }
        if self.faults.hangs(a.path, a.partition, a.attempt) {
            return Outcome {
                timed_out: true,
                error: Some("injected hang (--hang): killed at its timeout".into()),
                ..Outcome::default()
            };
        }
        if self.faults.fails(a.path, a.partition, a.attempt) {
            return Outcome::failure(format!(
                "injected failure (--fail) of attempt {}",
                a.attempt
            ));
        }
        Outcome::success()
    }

    fn condition(
        &mut self,
        _file: &SourceFile,
        expr: &str,
        params: &BTreeMap<String, Input>,
    ) -> Option<bool> {
        // Only values known without running Python (parameters, forced outputs) take part.
        let known = params
            .iter()
            .filter_map(|(k, v)| match v {
                Input::Json(j) => Some((k.clone(), j.clone())),
                Input::Expr(e) => crate::exec::condition::literal(e).map(|j| (k.clone(), j)),
                _ => None,
            })
            .collect();
        crate::exec::condition::truth(expr, &known)
    }

    fn restore(&mut self, _key: &str, _value: &serde_json::Value) {}
}
