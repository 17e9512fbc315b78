//! Retry and timeout policy of one step, from the IR's effective policy, in virtual milliseconds.

use crate::ir::{Framework, Policy};

/// Airflow's default `retry_delay` (five minutes), used when an Airflow step retries without one.
const AIRFLOW_DEFAULT_DELAY_MS: u64 = 300_000;

/// How often a step is attempted, how long it waits between attempts, and its attempt timeout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Delay before the first retry.
    pub base_delay_ms: u64,
    /// Explicit per-retry delays (the last one repeats).
    pub delays_ms: Vec<u64>,
    /// Growth: `exponential` with its factor, or `linear`.
    pub backoff: Option<(String, f64)>,
    /// Upper bound of any delay.
    pub max_delay_ms: Option<u64>,
    /// Attempt timeout.
    pub timeout_ms: Option<u64>,
}

/// Seconds (as the IR stores them) to whole virtual milliseconds; negative or NaN is zero.
pub fn ms(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        (seconds * 1000.0).round().min(u64::MAX as f64 / 4.0) as u64
    } else {
        0
    }
}

impl AttemptPolicy {
    /// The policy a step runs with; `framework` supplies the default delay when none is set.
    pub fn from_policy(p: &Policy, framework: Option<Framework>) -> AttemptPolicy {
        let retries = p.retries.unwrap_or(0);
        let base_delay_ms = match p.retry_delay {
            Some(d) => ms(d),
            None if framework == Some(Framework::Airflow) && retries > 0 => {
                AIRFLOW_DEFAULT_DELAY_MS
            }
            None => 0,
        };
        AttemptPolicy {
            retries,
            base_delay_ms,
            delays_ms: p.retry_delays.iter().map(|d| ms(*d)).collect(),
            backoff: p.backoff.as_ref().map(|b| {
                let factor = b
                    .factor
                    .filter(|f| f.is_finite() && *f > 0.0)
                    .unwrap_or(2.0);
                (b.kind.to_ascii_lowercase(), factor)
            }),
            max_delay_ms: p.max_retry_delay.map(ms),
            timeout_ms: p.timeout.map(ms).filter(|t| *t > 0),
        }
    }

    /// Attempts in all (retries plus the first).
    pub fn max_attempts(&self) -> u32 {
        self.retries.saturating_add(1)
    }

    /// The delay before retry number `retry` (1 for the first retry): the explicit list if any,
    /// else the base delay grown by the backoff (`base × factor^(retry-1)` or `base × retry`),
    /// capped by the maximum delay.
    pub fn delay_before_retry(&self, retry: u32) -> u64 {
        let retry = retry.max(1);
        let raw = if let Some(last) = self.delays_ms.last() {
            *self.delays_ms.get(retry as usize - 1).unwrap_or(last)
        } else {
            match &self.backoff {
                Some((kind, factor)) if kind.starts_with("exp") => {
                    let grown = self.base_delay_ms as f64 * factor.powi((retry - 1).min(64) as i32);
                    if grown.is_finite() {
                        grown.min(u64::MAX as f64 / 4.0) as u64
                    } else {
                        u64::MAX / 4
                    }
                }
                Some((kind, _)) if kind.starts_with("lin") => {
                    self.base_delay_ms.saturating_mul(retry as u64)
                }
                _ => self.base_delay_ms,
            }
        };
        match self.max_delay_ms {
            Some(max) => raw.min(max),
            None => raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Backoff;

    #[test]
    fn exponential_backoff_is_capped() {
        let p = Policy {
            retries: Some(4),
            retry_delay: Some(30.0),
            backoff: Some(Backoff {
                kind: "exponential".into(),
                factor: Some(2.0),
            }),
            max_retry_delay: Some(100.0),
            timeout: Some(1800.0),
            ..Policy::default()
        };
        let a = AttemptPolicy::from_policy(&p, Some(Framework::Airflow));
        assert_eq!(a.max_attempts(), 5);
        let delays: Vec<u64> = (1..=4).map(|r| a.delay_before_retry(r)).collect();
        assert_eq!(delays, vec![30_000, 60_000, 100_000, 100_000]);
        assert_eq!(a.timeout_ms, Some(1_800_000));
    }

    #[test]
    fn explicit_delays_repeat_the_last_and_linear_grows() {
        let p = Policy {
            retries: Some(5),
            retry_delays: vec![1.0, 5.0],
            ..Policy::default()
        };
        let a = AttemptPolicy::from_policy(&p, Some(Framework::Prefect));
        assert_eq!(
            (1..=4).map(|r| a.delay_before_retry(r)).collect::<Vec<_>>(),
            vec![1000, 5000, 5000, 5000]
        );
        let p = Policy {
            retries: Some(3),
            retry_delay: Some(5.0),
            backoff: Some(Backoff {
                kind: "linear".into(),
                factor: None,
            }),
            ..Policy::default()
        };
        let a = AttemptPolicy::from_policy(&p, Some(Framework::Dagster));
        assert_eq!(
            (1..=3).map(|r| a.delay_before_retry(r)).collect::<Vec<_>>(),
            vec![5000, 10_000, 15_000]
        );
    }

    #[test]
    fn airflow_defaults_to_five_minutes_others_to_zero() {
        let p = Policy {
            retries: Some(1),
            ..Policy::default()
        };
        assert_eq!(
            AttemptPolicy::from_policy(&p, Some(Framework::Airflow)).delay_before_retry(1),
            300_000
        );
        assert_eq!(
            AttemptPolicy::from_policy(&p, Some(Framework::Prefect)).delay_before_retry(1),
            0
        );
        let weird = Policy {
            retry_delay: Some(f64::NAN),
            timeout: Some(-1.0),
            ..Policy::default()
        };
        let a = AttemptPolicy::from_policy(&weird, None);
        assert_eq!((a.base_delay_ms, a.timeout_ms), (0, None));
    }
}
