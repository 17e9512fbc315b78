//! Trigger rules: whether a step runs, is skipped or is marked upstream_failed, from the states
//! of its upstream steps, with Airflow's semantics.

use std::fmt;

/// Final and intermediate states of a step instance, as Airflow names them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Ran and succeeded.
    Success,
    /// Ran and failed after its last retry.
    Failed,
    /// Not run because an upstream failed.
    UpstreamFailed,
    /// Not run because its trigger rule, a branch or a short-circuit skipped it.
    Skipped,
}

impl State {
    /// The lowercase name used in traces, JSON and the ledger.
    pub fn name(self) -> &'static str {
        match self {
            State::Success => "success",
            State::Failed => "failed",
            State::UpstreamFailed => "upstream_failed",
            State::Skipped => "skipped",
        }
    }

    /// Parses a state name.
    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "success" => State::Success,
            "failed" => State::Failed,
            "upstream_failed" => State::UpstreamFailed,
            "skipped" => State::Skipped,
            _ => return None,
        })
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The trigger rules of Airflow; Prefect's `allow_failure` and Dagster's defaults map onto them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerRule {
    /// Every upstream succeeded (the default).
    AllSuccess,
    /// Every upstream failed or was upstream_failed.
    AllFailed,
    /// Every upstream finished, whatever its state.
    AllDone,
    /// Every upstream was skipped.
    AllSkipped,
    /// At least one upstream succeeded (runs as soon as one does).
    OneSuccess,
    /// At least one upstream failed (runs as soon as one does).
    OneFailed,
    /// At least one upstream succeeded or failed.
    OneDone,
    /// No upstream failed (succeeded or skipped).
    NoneFailed,
    /// No upstream failed and at least one succeeded.
    NoneFailedMinOneSuccess,
    /// No upstream was skipped.
    NoneSkipped,
    /// Runs regardless of its upstreams, without waiting for them.
    Always,
}

impl TriggerRule {
    /// Every rule, in a fixed order.
    pub const ALL: [TriggerRule; 11] = [
        TriggerRule::AllSuccess,
        TriggerRule::AllFailed,
        TriggerRule::AllDone,
        TriggerRule::AllSkipped,
        TriggerRule::OneSuccess,
        TriggerRule::OneFailed,
        TriggerRule::OneDone,
        TriggerRule::NoneFailed,
        TriggerRule::NoneFailedMinOneSuccess,
        TriggerRule::NoneSkipped,
        TriggerRule::Always,
    ];

    /// Parses a rule name as Airflow writes it (`none_failed_or_skipped` is the old name of
    /// `none_failed_min_one_success`; `dummy` the old name of `always`).
    pub fn parse(s: &str) -> Option<TriggerRule> {
        let s = s
            .trim()
            .trim_start_matches("TriggerRule.")
            .to_ascii_lowercase();
        Some(match s.as_str() {
            "all_success" => TriggerRule::AllSuccess,
            "all_failed" => TriggerRule::AllFailed,
            "all_done" | "all_done_setup_success" => TriggerRule::AllDone,
            "all_skipped" => TriggerRule::AllSkipped,
            "one_success" => TriggerRule::OneSuccess,
            "one_failed" => TriggerRule::OneFailed,
            "one_done" => TriggerRule::OneDone,
            "none_failed" => TriggerRule::NoneFailed,
            "none_failed_min_one_success" | "none_failed_or_skipped" => {
                TriggerRule::NoneFailedMinOneSuccess
            }
            "none_skipped" => TriggerRule::NoneSkipped,
            "always" | "dummy" => TriggerRule::Always,
            _ => return None,
        })
    }

    /// The rule's name.
    pub fn name(self) -> &'static str {
        match self {
            TriggerRule::AllSuccess => "all_success",
            TriggerRule::AllFailed => "all_failed",
            TriggerRule::AllDone => "all_done",
            TriggerRule::AllSkipped => "all_skipped",
            TriggerRule::OneSuccess => "one_success",
            TriggerRule::OneFailed => "one_failed",
            TriggerRule::OneDone => "one_done",
            TriggerRule::NoneFailed => "none_failed",
            TriggerRule::NoneFailedMinOneSuccess => "none_failed_min_one_success",
            TriggerRule::NoneSkipped => "none_skipped",
            TriggerRule::Always => "always",
        }
    }
}

/// How many upstream instances are in each state, and how many there are in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upstream {
    /// Upstream instances in all.
    pub total: usize,
    /// Succeeded.
    pub success: usize,
    /// Failed.
    pub failed: usize,
    /// Upstream_failed.
    pub upstream_failed: usize,
    /// Skipped.
    pub skipped: usize,
}

impl Upstream {
    /// Counts a list of upstream states; `None` is an upstream that has not finished.
    pub fn count(states: impl IntoIterator<Item = Option<State>>) -> Upstream {
        let mut u = Upstream::default();
        for s in states {
            u.total += 1;
            match s {
                Some(State::Success) => u.success += 1,
                Some(State::Failed) => u.failed += 1,
                Some(State::UpstreamFailed) => u.upstream_failed += 1,
                Some(State::Skipped) => u.skipped += 1,
                None => {}
            }
        }
        u
    }

    /// Finished upstream instances.
    pub fn done(&self) -> usize {
        self.success + self.failed + self.upstream_failed + self.skipped
    }

    fn all_done(&self) -> bool {
        self.done() == self.total
    }

    fn failures(&self) -> usize {
        self.failed + self.upstream_failed
    }
}

/// What the trigger rule says about a step now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not decidable yet: wait for more upstreams.
    Wait,
    /// Run it.
    Run,
    /// Mark it skipped.
    Skip,
    /// Mark it upstream_failed.
    UpstreamFailed,
}

/// Decides a step from its upstream states as Airflow's trigger-rule dependency does
/// (including deciding early: an all_success step is upstream_failed as soon as one upstream fails).
pub fn decide(rule: TriggerRule, u: Upstream) -> Decision {
    use Decision::*;
    let done = u.all_done();
    match rule {
        TriggerRule::Always => Run,
        TriggerRule::AllSuccess => {
            if u.failures() > 0 {
                UpstreamFailed
            } else if u.skipped > 0 {
                Skip
            } else if done {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::AllFailed => {
            if u.success > 0 || u.skipped > 0 {
                Skip
            } else if done {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::AllDone => {
            if done {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::AllSkipped => {
            if u.success > 0 || u.failures() > 0 {
                Skip
            } else if done {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::OneSuccess => {
            if u.success > 0 {
                Run
            } else if done && u.total > 0 && u.skipped == u.total {
                Skip
            } else if done && u.total > 0 {
                UpstreamFailed
            } else if u.total == 0 {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::OneFailed => {
            if u.failures() > 0 {
                Run
            } else if done && u.total > 0 {
                Skip
            } else if u.total == 0 {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::OneDone => {
            if u.success + u.failed > 0 {
                Run
            } else if done && u.total > 0 {
                Skip
            } else if u.total == 0 {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::NoneFailed => {
            if u.failures() > 0 {
                UpstreamFailed
            } else if done {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::NoneFailedMinOneSuccess => {
            if u.failures() > 0 {
                UpstreamFailed
            } else if done && u.total > 0 && u.skipped == u.total {
                Skip
            } else if done {
                Run
            } else {
                Wait
            }
        }
        TriggerRule::NoneSkipped => {
            if u.skipped > 0 {
                Skip
            } else if done {
                Run
            } else {
                Wait
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::{Run, Skip, Wait};
    use State::{Failed, Skipped, Success};

    fn d(rule: &str, states: &[Option<State>]) -> Decision {
        decide(
            TriggerRule::parse(rule).unwrap(),
            Upstream::count(states.iter().copied()),
        )
    }

    #[test]
    fn every_rule_parses_and_names_itself() {
        for r in TriggerRule::ALL {
            assert_eq!(TriggerRule::parse(r.name()), Some(r));
        }
        assert_eq!(
            TriggerRule::parse("TriggerRule.ALL_DONE"),
            Some(TriggerRule::AllDone)
        );
        assert_eq!(TriggerRule::parse("sometimes"), None);
    }

    #[test]
    fn all_success_fails_early_and_skips_on_skips() {
        assert_eq!(d("all_success", &[Some(Success), Some(Success)]), Run);
        assert_eq!(d("all_success", &[Some(Success), None]), Wait);
        assert_eq!(
            d("all_success", &[Some(Failed), None]),
            Decision::UpstreamFailed
        );
        assert_eq!(
            d("all_success", &[Some(State::UpstreamFailed)]),
            Decision::UpstreamFailed
        );
        assert_eq!(d("all_success", &[Some(Skipped), Some(Success)]), Skip);
        assert_eq!(d("all_success", &[]), Run);
    }

    #[test]
    fn all_failed_all_done_all_skipped() {
        assert_eq!(
            d("all_failed", &[Some(Failed), Some(State::UpstreamFailed)]),
            Run
        );
        assert_eq!(d("all_failed", &[Some(Failed), Some(Success)]), Skip);
        assert_eq!(d("all_failed", &[Some(Failed), None]), Wait);
        assert_eq!(d("all_done", &[Some(Failed), Some(Skipped)]), Run);
        assert_eq!(d("all_done", &[Some(Failed), None]), Wait);
        assert_eq!(d("all_skipped", &[Some(Skipped), Some(Skipped)]), Run);
        assert_eq!(d("all_skipped", &[Some(Skipped), Some(Success)]), Skip);
        assert_eq!(d("all_skipped", &[Some(Skipped), None]), Wait);
    }

    #[test]
    fn one_rules_decide_as_soon_as_they_can() {
        assert_eq!(d("one_success", &[Some(Success), None]), Run);
        assert_eq!(d("one_success", &[Some(Failed), None]), Wait);
        assert_eq!(
            d("one_success", &[Some(Failed), Some(Skipped)]),
            Decision::UpstreamFailed
        );
        assert_eq!(d("one_success", &[Some(Skipped), Some(Skipped)]), Skip);
        assert_eq!(d("one_failed", &[Some(Failed), None]), Run);
        assert_eq!(d("one_failed", &[Some(State::UpstreamFailed), None]), Run);
        assert_eq!(d("one_failed", &[Some(Success), Some(Success)]), Skip);
        assert_eq!(d("one_failed", &[Some(Success), None]), Wait);
        assert_eq!(d("one_done", &[Some(Failed), None]), Run);
        assert_eq!(d("one_done", &[Some(Success), None]), Run);
        assert_eq!(
            d("one_done", &[Some(Skipped), Some(State::UpstreamFailed)]),
            Skip
        );
    }

    #[test]
    fn none_rules() {
        assert_eq!(d("none_failed", &[Some(Success), Some(Skipped)]), Run);
        assert_eq!(d("none_failed", &[Some(Skipped), Some(Skipped)]), Run);
        assert_eq!(
            d("none_failed", &[Some(Failed), None]),
            Decision::UpstreamFailed
        );
        assert_eq!(
            d(
                "none_failed_min_one_success",
                &[Some(Success), Some(Skipped)]
            ),
            Run
        );
        assert_eq!(
            d(
                "none_failed_min_one_success",
                &[Some(Skipped), Some(Skipped)]
            ),
            Skip
        );
        assert_eq!(
            d(
                "none_failed_min_one_success",
                &[Some(State::UpstreamFailed), Some(Success)]
            ),
            Decision::UpstreamFailed
        );
        assert_eq!(d("none_skipped", &[Some(Failed), Some(Success)]), Run);
        assert_eq!(d("none_skipped", &[Some(Skipped), None]), Skip);
        assert_eq!(d("always", &[None, Some(Failed)]), Run);
    }
}
