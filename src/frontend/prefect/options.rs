//! Prefect keyword options → IR fields: retry policies, schedules, deployment settings, the
//! partition parameter.

use std::collections::BTreeMap;

use super::names::schedule_class;
use crate::ir::{Backoff, Policy, Schedule, ScheduleKind, Value};

/// Most retry delays `exponential_backoff` produces (Prefect caps them at 50).
const MAX_BACKOFF_DELAYS: i64 = 50;

/// Applies one `@task` / `@flow` retry or timeout option to a policy; false when `key` is not one.
/// Values that are not literal are kept in `policy.extra` under their key.
pub fn apply_policy(policy: &mut Policy, key: &str, value: &Value) -> bool {
    let mut unmodelled = false;
    match key {
        "retries" => match value.as_int() {
            Some(n) if n >= 0 => policy.retries = u32::try_from(n).ok(),
            _ if matches!(value, Value::None) => {}
            _ => unmodelled = true,
        },
        "retry_delay_seconds" => match value {
            Value::None => {}
            Value::List(items) => {
                let delays: Option<Vec<f64>> = items.iter().map(Value::as_seconds).collect();
                match delays {
                    Some(d) => policy.retry_delays = d,
                    None => unmodelled = true,
                }
            }
            Value::Call(c) if c.func.rsplit('.').next() == Some("exponential_backoff") => {
                match c
                    .kwargs
                    .get("backoff_factor")
                    .or_else(|| c.args.first())
                    .and_then(Value::as_f64)
                {
                    Some(f) => {
                        // Prefect's delay is `backoff_factor * 2**attempt`: the factor is the
                        // first delay and the growth is 2.
                        policy.backoff = Some(Backoff {
                            kind: "exponential".into(),
                            factor: Some(2.0),
                        });
                        policy.retry_delay = Some(f);
                    }
                    None => unmodelled = true,
                }
            }
            v => match v.as_seconds() {
                Some(s) => policy.retry_delay = Some(s),
                None => unmodelled = true,
            },
        },
        "retry_jitter_factor" => match value {
            Value::None => {}
            v => match v.as_f64() {
                Some(f) => policy.jitter = Some(format_number(f)),
                None => unmodelled = true,
            },
        },
        "timeout_seconds" => match value {
            Value::None => {}
            v => match v.as_seconds() {
                Some(s) => policy.timeout = Some(s),
                None => unmodelled = true,
            },
        },
        _ => return false,
    }
    if unmodelled {
        policy.extra.insert(key.to_string(), value.clone());
    }
    true
}

/// Fills `retry_delays` with the exact delays `exponential_backoff` gives once retries are known
/// (`backoff_factor * 2**attempt`, as Prefect computes them when the task is decorated).
pub fn expand_backoff(policy: &mut Policy) {
    if let (Some(_), Some(retries), Some(f), true) = (
        &policy.backoff,
        policy.retries,
        policy.retry_delay,
        policy.retry_delays.is_empty(),
    ) {
        let n = i64::from(retries).min(MAX_BACKOFF_DELAYS);
        policy.retry_delays = (0..n).map(|r| f * 2f64.powi(r as i32)).collect();
    }
}

/// A number as short text (`3`, `0.5`).
pub fn format_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// A schedule from a schedule object (`Cron(...)`, `Interval(...)`, `CronSchedule(...)`, …) or a
/// dict in the `prefect.yaml` / `schedules=[{"cron": ...}]` form.
pub fn schedule_object(value: &Value) -> Option<Schedule> {
    match value {
        Value::Call(c) => {
            let kind = schedule_class(&c.func)?;
            let first = c.args.first().or_else(|| c.kwargs.get(kind));
            let timezone = c
                .kwargs
                .get("timezone")
                .and_then(Value::as_str)
                .map(str::to_string);
            let mut s = simple_schedule(kind, first?)?;
            s.timezone = timezone;
            if let Some(Value::Dict(m)) = c.kwargs.get("parameters") {
                s.parameters = m.clone();
            }
            Some(s)
        }
        Value::Dict(m) => {
            let (kind, v) = ["cron", "interval", "rrule"]
                .iter()
                .find_map(|k| m.get(*k).map(|v| (*k, v)))?;
            let mut s = simple_schedule(kind, v)?;
            s.timezone = m
                .get("timezone")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(Value::Dict(p)) = m.get("parameters") {
                s.parameters = p.clone();
            }
            Some(s)
        }
        _ => None,
    }
}

/// A schedule from one `cron=` / `interval=` / `rrule=` value.
pub fn simple_schedule(kind: &str, value: &Value) -> Option<Schedule> {
    let (kind, value) = match kind {
        "cron" => (ScheduleKind::Cron, value.as_str()?.to_string()),
        "interval" => (ScheduleKind::Interval, format_number(value.as_seconds()?)),
        "rrule" => (ScheduleKind::Timetable, value.as_str()?.to_string()),
        _ => return None,
    };
    Some(Schedule {
        kind,
        value: Some(value),
        timezone: None,
        assets: Vec::new(),
        parameters: Default::default(),
    })
}

/// Every schedule a deployment call declares (`cron=`, `interval=`, `rrule=`, `schedule=`,
/// `schedules=[...]`), in that order; values that are not schedules come back as errors.
pub fn deployment_schedules(kwargs: &BTreeMap<String, Value>) -> (Vec<Schedule>, Vec<String>) {
    let mut out = Vec::new();
    let mut unread = Vec::new();
    for key in ["cron", "interval", "rrule"] {
        match kwargs.get(key) {
            None | Some(Value::None) => {}
            Some(Value::List(items)) => {
                for v in items {
                    match simple_schedule(key, v) {
                        Some(s) => out.push(s),
                        None => unread.push(key.to_string()),
                    }
                }
            }
            Some(v) => match simple_schedule(key, v) {
                Some(s) => out.push(s),
                None => unread.push(key.to_string()),
            },
        }
    }
    let objects: Vec<&Value> = match (kwargs.get("schedule"), kwargs.get("schedules")) {
        (s, Some(Value::List(items))) => s.into_iter().chain(items).collect(),
        (s, other) => s.into_iter().chain(other).collect(),
    };
    for v in objects {
        if matches!(v, Value::None) {
            continue;
        }
        match schedule_object(v) {
            Some(s) => out.push(s),
            None => unread.push("schedules".to_string()),
        }
    }
    (out, unread)
}

/// Parameter names that select a partition (a day, a date, a partition key).
const PARTITION_NAMES: &[&str] = &[
    "partition_key",
    "partition",
    "day",
    "date",
    "ds",
    "run_date",
    "logical_date",
    "business_date",
    "as_of",
    "as_of_date",
    "snapshot_date",
    "process_date",
    "target_date",
    "execution_date",
];

/// True when a flow parameter is the partition axis: a known name, a `*_date` / `*_day` name, or
/// a parameter annotated `date` / `datetime.date`.
pub fn is_partition_param(name: &str, annotation: Option<&str>) -> bool {
    PARTITION_NAMES.contains(&name)
        || name.ends_with("_date")
        || name.ends_with("_day")
        || matches!(annotation, Some("date" | "datetime.date"))
}

/// Prefect's default display name of a flow: the function name with `_` replaced by `-`.
pub fn default_flow_name(function: &str) -> String {
    function.replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::CallValue;

    fn call(func: &str, args: Vec<Value>, kwargs: &[(&str, Value)]) -> Value {
        Value::Call(CallValue {
            func: func.into(),
            args,
            kwargs: kwargs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        })
    }

    #[test]
    fn retry_delays_lists_and_backoff() {
        let mut p = Policy::default();
        apply_policy(&mut p, "retries", &Value::Int(3));
        apply_policy(
            &mut p,
            "retry_delay_seconds",
            &Value::List(vec![Value::Int(1), Value::Float(2.5)]),
        );
        assert_eq!(p.retry_delays, vec![1.0, 2.5]);
        let mut q = Policy::default();
        apply_policy(&mut q, "retries", &Value::Int(3));
        apply_policy(
            &mut q,
            "retry_delay_seconds",
            &call(
                "prefect.tasks.exponential_backoff",
                vec![],
                &[("backoff_factor", Value::Int(2))],
            ),
        );
        expand_backoff(&mut q);
        assert_eq!(q.backoff.as_ref().and_then(|b| b.factor), Some(2.0));
        assert_eq!(q.retry_delay, Some(2.0));
        assert_eq!(q.retry_delays, vec![2.0, 4.0, 8.0]);
        let mut r = Policy::default();
        apply_policy(&mut r, "retries", &Value::Str("three".into()));
        assert!(r.retries.is_none());
        assert_eq!(r.extra["retries"], Value::Str("three".into()));
    }

    #[test]
    fn schedules_from_objects_and_kwargs() {
        let cron = call(
            "prefect.schedules.Cron",
            vec![Value::Str("0 6 * * *".into())],
            &[("timezone", Value::Str("UTC".into()))],
        );
        let s = schedule_object(&cron).unwrap();
        assert_eq!(
            (s.kind, s.value.as_deref()),
            (ScheduleKind::Cron, Some("0 6 * * *"))
        );
        assert_eq!(s.timezone.as_deref(), Some("UTC"));
        assert!(s.parameters.is_empty());
        // A schedule's own run parameters are kept with it.
        let mut given = BTreeMap::new();
        given.insert("limit".to_string(), Value::Int(5));
        let with = call(
            "prefect.schedules.Interval",
            vec![Value::Duration(14400.0)],
            &[("parameters", Value::Dict(given.clone()))],
        );
        assert_eq!(schedule_object(&with).unwrap().parameters, given);
        let mut kw = BTreeMap::new();
        kw.insert("interval".to_string(), Value::Duration(3600.0));
        kw.insert(
            "schedules".to_string(),
            Value::List(vec![call(
                "prefect.client.schemas.schedules.IntervalSchedule",
                vec![],
                &[("interval", Value::Int(60))],
            )]),
        );
        let (all, unread) = deployment_schedules(&kw);
        assert!(unread.is_empty());
        assert_eq!(all[0].value.as_deref(), Some("3600"));
        assert_eq!(all[1].value.as_deref(), Some("60"));
    }

    #[test]
    fn partition_parameters() {
        assert!(is_partition_param("partition_key", None));
        assert!(is_partition_param("snapshot_day", None));
        assert!(is_partition_param("when", Some("date")));
        assert!(!is_partition_param("region", Some("str")));
    }
}
