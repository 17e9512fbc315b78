//! Airflow keyword arguments → IR fields: policies, sensors, schedules, params.

use crate::ir::{AssetRef, Backoff, Param, Policy, Schedule, ScheduleKind, SensorSpec, Value};

/// Applies one BaseOperator / default_args keyword to a policy; false when the key is not a policy key.
pub fn apply_policy(policy: &mut Policy, key: &str, value: &Value) -> bool {
    let mut unmodelled = false;
    match key {
        "retries" => match value.as_int() {
            Some(n) if n >= 0 => policy.retries = Some(n as u32),
            _ => unmodelled = true,
        },
        "retry_delay" => match value.as_seconds() {
            Some(s) => policy.retry_delay = Some(s),
            None => unmodelled = true,
        },
        "retry_exponential_backoff" => match value {
            Value::Bool(true) => {
                policy.backoff = Some(Backoff {
                    kind: "exponential".into(),
                    factor: Some(2.0),
                })
            }
            Value::Bool(false) => {}
            v => match v.as_f64() {
                Some(f) if f > 0.0 => {
                    policy.backoff = Some(Backoff {
                        kind: "exponential".into(),
                        factor: Some(f),
                    })
                }
                Some(_) => {}
                None => unmodelled = true,
            },
        },
        "max_retry_delay" => match value.as_seconds() {
            Some(s) => policy.max_retry_delay = Some(s),
            None => unmodelled = true,
        },
        "execution_timeout" => match value {
            Value::None => {}
            v => match v.as_seconds() {
                Some(s) => policy.timeout = Some(s),
                None => unmodelled = true,
            },
        },
        "sla" => match value.as_seconds() {
            Some(s) => policy.sla = Some(s),
            None => unmodelled = true,
        },
        "pool" => match value.as_str() {
            Some(s) => policy.pool = Some(s.to_string()),
            None => unmodelled = true,
        },
        "pool_slots" => match value.as_int() {
            Some(n) => policy.pool_slots = Some(n),
            None => unmodelled = true,
        },
        "priority_weight" => match value.as_int() {
            Some(n) => policy.priority = Some(n),
            None => unmodelled = true,
        },
        "queue" => match value.as_str() {
            Some(s) => policy.queue = Some(s.to_string()),
            None => unmodelled = true,
        },
        "owner" => match value.as_str() {
            Some(s) => policy.owner = Some(s.to_string()),
            None => unmodelled = true,
        },
        "trigger_rule" => match trigger_rule(value) {
            Some(s) => policy.trigger_rule = Some(s),
            None => unmodelled = true,
        },
        _ => return false,
    }
    if unmodelled {
        policy.extra.insert(key.to_string(), value.clone());
    }
    true
}

/// A policy from a `default_args` dict; keys that are not policy keys go to `extra`.
pub fn policy_from_default_args(value: &Value) -> Policy {
    let mut policy = Policy::default();
    if let Value::Dict(map) = value {
        for (k, v) in map {
            if !apply_policy(&mut policy, k, v) {
                policy.extra.insert(k.clone(), v.clone());
            }
        }
    } else if !matches!(value, Value::None) {
        policy.extra.insert("default_args".into(), value.clone());
    }
    policy
}

/// A trigger rule's name from a string or `TriggerRule.X`.
pub fn trigger_rule(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.clone()),
        Value::Expr(e) => e
            .rsplit_once("TriggerRule.")
            .map(|(_, r)| r.to_ascii_lowercase()),
        _ => None,
    }
}

/// Applies one sensor keyword; false when it is not a sensor key.
pub fn apply_sensor(sensor: &mut SensorSpec, key: &str, value: &Value) -> bool {
    match key {
        "mode" => sensor.mode = value.as_str().map(str::to_string),
        "poke_interval" => sensor.poke_interval = value.as_seconds(),
        "timeout" => sensor.timeout = value.as_seconds(),
        "deferrable" => sensor.deferrable = value.as_bool().unwrap_or(false),
        _ => return false,
    }
    true
}

/// Asset references from an `outlets=` / `inlets=` value.
pub fn assets(value: &Value) -> Vec<AssetRef> {
    let items: Vec<&Value> = match value {
        Value::List(v) => v.iter().collect(),
        other => vec![other],
    };
    items.into_iter().filter_map(asset).collect()
}

/// One asset reference from `Asset(...)` / `Dataset(...)`.
pub fn asset(value: &Value) -> Option<AssetRef> {
    let Value::Call(c) = value else { return None };
    let class = c.func.rsplit('.').next().unwrap_or(&c.func);
    let positional = |i: usize| c.args.get(i).and_then(Value::as_str).map(str::to_string);
    match class {
        "Asset" | "AssetAlias" => {
            let name = c
                .kwargs
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| positional(0));
            let uri = c
                .kwargs
                .get("uri")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| positional(1));
            Some(AssetRef {
                name: name.or_else(|| uri.clone()),
                uri,
            })
        }
        "Dataset" => {
            let uri = c
                .kwargs
                .get("uri")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| positional(0));
            Some(AssetRef {
                name: uri.clone(),
                uri,
            })
        }
        _ => None,
    }
}

/// The schedule of a `schedule=` (or legacy `schedule_interval=` / `timetable=`) value.
pub fn schedule(value: &Value, timezone: Option<String>) -> Schedule {
    let make = |kind, value: Option<String>| Schedule {
        kind,
        value,
        timezone: timezone.clone(),
        assets: Vec::new(),
        parameters: Default::default(),
    };
    match value {
        Value::None => make(ScheduleKind::Manual, None),
        Value::Str(s) if s == "@once" => make(ScheduleKind::Once, None),
        Value::Str(s) if s == "@continuous" => make(ScheduleKind::Continuous, None),
        Value::Str(s) if s.starts_with('@') => make(ScheduleKind::Preset, Some(s.clone())),
        Value::Str(s) => make(ScheduleKind::Cron, Some(s.clone())),
        Value::Duration(secs) => make(ScheduleKind::Interval, Some(format_seconds(*secs))),
        Value::List(items) => {
            let names: Vec<String> = items
                .iter()
                .filter_map(asset)
                .filter_map(|a| a.name)
                .collect();
            if names.len() == items.len() && !names.is_empty() {
                asset_schedule(names, timezone)
            } else {
                make(ScheduleKind::Timetable, Some(render(value)))
            }
        }
        Value::Call(c) => {
            let class = c.func.rsplit('.').next().unwrap_or(&c.func);
            let tz = c
                .kwargs
                .get("timezone")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or(timezone.clone());
            let cron = c
                .args
                .first()
                .or_else(|| c.kwargs.get("cron"))
                .and_then(Value::as_str);
            match (class, cron) {
                ("CronTriggerTimetable" | "CronDataIntervalTimetable", Some(cron)) => Schedule {
                    kind: if cron.starts_with('@') {
                        ScheduleKind::Preset
                    } else {
                        ScheduleKind::Cron
                    },
                    value: Some(cron.to_string()),
                    timezone: tz,
                    assets: Vec::new(),
                    parameters: Default::default(),
                },
                ("DeltaTriggerTimetable" | "DeltaDataIntervalTimetable", _) => {
                    match c
                        .args
                        .first()
                        .or_else(|| c.kwargs.get("delta"))
                        .and_then(Value::as_seconds)
                    {
                        Some(secs) => make(ScheduleKind::Interval, Some(format_seconds(secs))),
                        None => make(ScheduleKind::Timetable, Some(render(value))),
                    }
                }
                ("Asset" | "Dataset" | "AssetAlias", _) => {
                    match asset(value).and_then(|a| a.name) {
                        Some(name) => asset_schedule(vec![name], timezone),
                        None => make(ScheduleKind::Timetable, Some(render(value))),
                    }
                }
                _ => make(ScheduleKind::Timetable, Some(render(value))),
            }
        }
        other => make(ScheduleKind::Timetable, Some(render(other))),
    }
}

/// An asset-triggered schedule over names.
pub fn asset_schedule(mut names: Vec<String>, timezone: Option<String>) -> Schedule {
    names.sort();
    names.dedup();
    Schedule {
        kind: ScheduleKind::Asset,
        value: Some(names.join(",")),
        timezone,
        assets: names,
        parameters: Default::default(),
    }
}

fn format_seconds(secs: f64) -> String {
    if secs.fract() == 0.0 {
        format!("{}", secs as i64)
    } else {
        format!("{secs}")
    }
}

/// Source-like text of a value for opaque schedules.
fn render(value: &Value) -> String {
    match value {
        Value::Expr(e) => e.clone(),
        Value::Call(c) => c.func.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// DAG params from a `params=` dict (plain values or `Param(...)`).
pub fn params(value: &Value) -> Vec<Param> {
    let Value::Dict(map) = value else {
        return Vec::new();
    };
    map.iter()
        .map(|(name, v)| match v {
            Value::Call(c) if c.func.ends_with("Param") => Param {
                name: name.clone(),
                r#type: c.kwargs.get("type").map(|t| match t {
                    Value::List(v) => v
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("|"),
                    other => other.as_str().unwrap_or("").to_string(),
                }),
                default: c
                    .args
                    .first()
                    .cloned()
                    .or_else(|| c.kwargs.get("default").cloned()),
                description: c
                    .kwargs
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            },
            other => Param {
                name: name.clone(),
                r#type: None,
                default: Some(other.clone()),
                description: None,
            },
        })
        .collect()
}
