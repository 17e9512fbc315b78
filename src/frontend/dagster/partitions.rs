//! Dagster partitions definitions (evaluated calls) → IR partitions, with the cadence details
//! Dagster derives schedules from.

use std::collections::BTreeMap;

use super::names::api;
use crate::ir::{CallValue, DateTime, Partitions, Value};

/// The cadence of a Dagster time-window partitions definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// One window per hour.
    Hourly,
    /// One window per day.
    Daily,
    /// One window per week.
    Weekly,
    /// One window per month.
    Monthly,
}

impl Cadence {
    fn name(self) -> &'static str {
        match self {
            Cadence::Hourly => "hourly",
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
        }
    }
}

/// Offsets of a time-window definition, as Dagster keeps them for `get_cron_schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offsets {
    /// The cadence, when it is one of the four standard ones.
    pub cadence: Option<Cadence>,
    /// Minute of the hour windows start at.
    pub minute: i64,
    /// Hour of the day windows start at.
    pub hour: i64,
    /// Day of the week (weekly) or month (monthly) windows start at.
    pub day: i64,
}

/// A partitions definition as read: the IR form plus what the IR does not model.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionsDef {
    /// The IR partitions (time windows carry start/end in their key format, the derived cron,
    /// and the time zone, `UTC` when not given, as Dagster defaults it).
    pub partitions: Partitions,
    /// Offsets, for time windows.
    pub offsets: Option<Offsets>,
    /// Arguments with no IR field (`end_offset`, `exclusions`, `partition_fn`, …).
    pub extra: BTreeMap<String, Value>,
}

const HOURLY_FMT: &str = "%Y-%m-%d-%H:%M";
const DATE_FMT: &str = "%Y-%m-%d";

/// The argument at a position or under a keyword.
fn arg<'v>(c: &'v CallValue, pos: &[&str], name: &str) -> Option<&'v Value> {
    c.kwargs.get(name).or_else(|| {
        pos.iter()
            .position(|p| *p == name)
            .and_then(|i| c.args.get(i))
    })
}

/// Reads a partitions definition from an evaluated value; `Err` says why it cannot be read.
pub fn from_value(value: &Value) -> Result<PartitionsDef, String> {
    let Value::Call(c) = value else {
        return Err(format!(
            "the partitions definition `{}` is not a literal call",
            render(value)
        ));
    };
    let name = api(&c.func).unwrap_or(c.func.as_str());
    match name {
        "HourlyPartitionsDefinition" => time_window(
            c,
            &[
                "start_date",
                "end_date",
                "minute_offset",
                "timezone",
                "fmt",
                "end_offset",
                "exclusions",
            ],
            Cadence::Hourly,
        ),
        "DailyPartitionsDefinition" => time_window(
            c,
            &[
                "start_date",
                "end_date",
                "minute_offset",
                "hour_offset",
                "timezone",
                "fmt",
                "end_offset",
                "exclusions",
            ],
            Cadence::Daily,
        ),
        "WeeklyPartitionsDefinition" => time_window(c, WEEKLY_MONTHLY, Cadence::Weekly),
        "MonthlyPartitionsDefinition" => time_window(c, WEEKLY_MONTHLY, Cadence::Monthly),
        "TimeWindowPartitionsDefinition" => custom_window(c),
        "StaticPartitionsDefinition" => {
            let keys = arg(c, &["partition_keys"], "partition_keys")
                .ok_or("StaticPartitionsDefinition without partition keys")?;
            let Value::List(items) = keys else {
                return Err(format!(
                    "the static partition keys `{}` are not a literal list",
                    render(keys)
                ));
            };
            let keys: Option<Vec<String>> = items
                .iter()
                .map(|k| k.as_str().map(str::to_string))
                .collect();
            let keys = keys.ok_or("a static partition key is not a literal string")?;
            Ok(PartitionsDef {
                partitions: Partitions::Static { keys },
                offsets: None,
                extra: BTreeMap::new(),
            })
        }
        "DynamicPartitionsDefinition" => {
            let mut extra = BTreeMap::new();
            if let Some(f) = arg(c, &["partition_fn", "name"], "partition_fn") {
                extra.insert("partition_fn".into(), f.clone());
            }
            Ok(PartitionsDef {
                partitions: Partitions::Dynamic {
                    name: arg(c, &["partition_fn", "name"], "name")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                },
                offsets: None,
                extra,
            })
        }
        "MultiPartitionsDefinition" => {
            let dims = arg(c, &["partitions_defs"], "partitions_defs")
                .ok_or("MultiPartitionsDefinition without dimensions")?;
            let Value::Dict(map) = dims else {
                return Err(format!(
                    "the dimensions `{}` are not a literal dict",
                    render(dims)
                ));
            };
            let mut dimensions = Vec::new();
            let mut extra = BTreeMap::new();
            let mut offsets = None;
            for (dim, v) in map {
                let inner = from_value(v)?;
                offsets = offsets.or(inner.offsets);
                if !inner.extra.is_empty() {
                    extra.insert(
                        dim.clone(),
                        Value::Dict(inner.extra.clone().into_iter().collect()),
                    );
                }
                dimensions.push((dim.clone(), inner.partitions));
            }
            Ok(PartitionsDef {
                partitions: Partitions::Multi { dimensions },
                offsets,
                extra,
            })
        }
        _ => Err(format!(
            "`{}` is not a partitions definition orchmig knows",
            c.func
        )),
    }
}

const WEEKLY_MONTHLY: &[&str] = &[
    "start_date",
    "end_date",
    "minute_offset",
    "hour_offset",
    "day_offset",
    "timezone",
    "fmt",
    "end_offset",
    "exclusions",
];

fn int_arg(c: &CallValue, pos: &[&str], name: &str, default: i64) -> Result<i64, String> {
    match arg(c, pos, name) {
        None | Some(Value::None) => Ok(default),
        Some(v) => v
            .as_int()
            .ok_or_else(|| format!("`{name}` = `{}` is not a literal integer", render(v))),
    }
}

fn str_arg(c: &CallValue, pos: &[&str], name: &str) -> Result<Option<String>, String> {
    match arg(c, pos, name) {
        None | Some(Value::None) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.clone())),
        Some(v) => Err(format!(
            "`{name}` = `{}` is not a literal string",
            render(v)
        )),
    }
}

fn time_window(c: &CallValue, pos: &[&str], cadence: Cadence) -> Result<PartitionsDef, String> {
    let fmt = str_arg(c, pos, "fmt")?.unwrap_or_else(|| {
        if cadence == Cadence::Hourly {
            HOURLY_FMT.to_string()
        } else {
            DATE_FMT.to_string()
        }
    });
    let minute = int_arg(c, pos, "minute_offset", 0)?;
    let hour = int_arg(c, pos, "hour_offset", 0)?;
    let day = int_arg(
        c,
        pos,
        "day_offset",
        if cadence == Cadence::Monthly { 1 } else { 0 },
    )?;
    let offsets = Offsets {
        cadence: Some(cadence),
        minute,
        hour,
        day,
    };
    let start = arg(c, pos, "start_date")
        .ok_or("a time-window partitions definition without start_date")?;
    let end = arg(c, pos, "end_date");
    finish_window(
        c,
        pos,
        cadence.name(),
        cron_of(offsets),
        offsets,
        &fmt,
        start,
        end,
    )
}

fn custom_window(c: &CallValue) -> Result<PartitionsDef, String> {
    const POS: &[&str] = &[
        "start",
        "fmt",
        "end",
        "schedule_type",
        "timezone",
        "end_offset",
        "minute_offset",
        "hour_offset",
        "day_offset",
        "cron_schedule",
        "exclusions",
    ];
    let fmt = str_arg(c, POS, "fmt")?.ok_or("TimeWindowPartitionsDefinition without fmt")?;
    let cadence = match arg(c, POS, "schedule_type") {
        None | Some(Value::None) => None,
        Some(v) => Some(match render(v).rsplit('.').next().unwrap_or("") {
            "HOURLY" => Cadence::Hourly,
            "DAILY" => Cadence::Daily,
            "WEEKLY" => Cadence::Weekly,
            "MONTHLY" => Cadence::Monthly,
            other => return Err(format!("unknown schedule type `{other}`")),
        }),
    };
    let offsets = Offsets {
        cadence,
        minute: int_arg(c, POS, "minute_offset", 0)?,
        hour: int_arg(c, POS, "hour_offset", 0)?,
        day: int_arg(
            c,
            POS,
            "day_offset",
            if cadence == Some(Cadence::Monthly) {
                1
            } else {
                0
            },
        )?,
    };
    let (granularity, cron) = match (str_arg(c, POS, "cron_schedule")?, cadence) {
        (Some(cron), _) => ("cron", cron),
        (None, Some(cad)) => (cad.name(), cron_of(offsets)),
        (None, None) => {
            return Err(
                "TimeWindowPartitionsDefinition needs cron_schedule or schedule_type".into(),
            );
        }
    };
    let start = arg(c, POS, "start").ok_or("TimeWindowPartitionsDefinition without start")?;
    let end = arg(c, POS, "end");
    finish_window(c, POS, granularity, cron, offsets, &fmt, start, end)
}

#[allow(clippy::too_many_arguments)]
fn finish_window(
    c: &CallValue,
    pos: &[&str],
    granularity: &str,
    cron: String,
    offsets: Offsets,
    fmt: &str,
    start: &Value,
    end: Option<&Value>,
) -> Result<PartitionsDef, String> {
    let timezone = str_arg(c, pos, "timezone")?.unwrap_or_else(|| "UTC".to_string());
    let start = time_text(start, fmt)?;
    let end = match end {
        None | Some(Value::None) => None,
        Some(v) => Some(time_text(v, fmt)?),
    };
    let mut extra = BTreeMap::new();
    let end_offset = int_arg(c, pos, "end_offset", 0)?;
    if end_offset != 0 {
        extra.insert("end_offset".into(), Value::Int(end_offset));
    }
    if let Some(x) = arg(c, pos, "exclusions").filter(|v| !matches!(v, Value::None)) {
        extra.insert("exclusions".into(), x.clone());
    }
    Ok(PartitionsDef {
        partitions: Partitions::Time {
            granularity: granularity.to_string(),
            start: Some(start),
            end,
            timezone: Some(timezone),
            fmt: Some(fmt.to_string()),
            cron: Some(cron),
        },
        offsets: Some(offsets),
        extra,
    })
}

/// A start or end as text in the key format (strings are kept as written).
fn time_text(value: &Value, fmt: &str) -> Result<String, String> {
    match value {
        Value::Str(s) => Ok(s.clone()),
        Value::DateTime(dt) => Ok(strftime(dt, fmt).unwrap_or_else(|| dt.iso())),
        other => Err(format!(
            "the partition start/end `{}` is not a literal date",
            render(other)
        )),
    }
}

/// Formats a datetime with the strftime codes Dagster key formats use; `None` for others.
pub fn strftime(dt: &DateTime, fmt: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        match chars.next()? {
            'Y' => out.push_str(&format!("{:04}", dt.year)),
            'm' => out.push_str(&format!("{:02}", dt.month)),
            'd' => out.push_str(&format!("{:02}", dt.day)),
            'H' => out.push_str(&format!("{:02}", dt.hour)),
            'M' => out.push_str(&format!("{:02}", dt.minute)),
            'S' => out.push_str(&format!("{:02}", dt.second)),
            '%' => out.push('%'),
            _ => return None,
        }
    }
    Some(out)
}

/// The cron of a standard cadence with offsets (Dagster's `cron_schedule_from_schedule_type_and_offsets`).
fn cron_of(o: Offsets) -> String {
    match o.cadence {
        Some(Cadence::Hourly) => format!("{} * * * *", o.minute),
        Some(Cadence::Daily) | None => format!("{} {} * * *", o.minute, o.hour),
        Some(Cadence::Weekly) => format!("{} {} * * {}", o.minute, o.hour, o.day),
        Some(Cadence::Monthly) => format!("{} {} {} * *", o.minute, o.hour, o.day),
    }
}

/// Overrides of `build_schedule_from_partitioned_job`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScheduleOverrides {
    /// `minute_of_hour`.
    pub minute_of_hour: Option<i64>,
    /// `hour_of_day`.
    pub hour_of_day: Option<i64>,
    /// `day_of_week`.
    pub day_of_week: Option<i64>,
    /// `day_of_month`.
    pub day_of_month: Option<i64>,
}

/// The cron and time zone of a schedule built from a partitioned job, as Dagster derives them;
/// `None` when the partitions have no time axis (static partitions need an explicit cron).
pub fn partitioned_schedule(
    def: &PartitionsDef,
    o: ScheduleOverrides,
) -> Option<(String, Option<String>)> {
    let time = match &def.partitions {
        Partitions::Multi { dimensions } => dimensions
            .iter()
            .map(|d| &d.1)
            .find(|p| matches!(p, Partitions::Time { .. }))?,
        other => other,
    };
    let (cron, tz, offsets) = match time {
        Partitions::Time { cron, timezone, .. } => (cron.clone()?, timezone.clone(), def.offsets?),
        _ => return None,
    };
    if o == ScheduleOverrides::default() {
        return Some((cron, tz));
    }
    let cadence = offsets.cadence?;
    let minute = o.minute_of_hour.unwrap_or(offsets.minute);
    let hour = match o.hour_of_day {
        Some(h) if cadence != Cadence::Hourly => h,
        _ => offsets.hour,
    };
    let day = match cadence {
        Cadence::Monthly => {
            o.day_of_month
                .unwrap_or(if offsets.day == 0 { 1 } else { offsets.day })
        }
        Cadence::Weekly => o.day_of_week.unwrap_or(offsets.day),
        _ => 0,
    };
    Some((
        cron_of(Offsets {
            cadence: Some(cadence),
            minute,
            hour,
            day,
        }),
        tz,
    ))
}

/// Source-like text of a value, for messages.
pub fn render(value: &Value) -> String {
    match value {
        Value::Expr(e) => e.clone(),
        Value::Str(s) => format!("{s:?}"),
        Value::Call(c) => format!("{}(…)", c.func),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    #[test]
    fn daily_with_offsets_and_zone() {
        let v = call(
            "dagster.DailyPartitionsDefinition",
            vec![],
            &[
                ("start_date", s("2024-03-01")),
                ("hour_offset", Value::Int(2)),
                ("timezone", s("Europe/Paris")),
            ],
        );
        let d = from_value(&v).unwrap();
        assert_eq!(
            d.partitions,
            Partitions::Time {
                granularity: "daily".into(),
                start: Some("2024-03-01".into()),
                end: None,
                timezone: Some("Europe/Paris".into()),
                fmt: Some("%Y-%m-%d".into()),
                cron: Some("0 2 * * *".into()),
            }
        );
        let o = ScheduleOverrides {
            minute_of_hour: Some(30),
            hour_of_day: Some(6),
            ..Default::default()
        };
        assert_eq!(
            partitioned_schedule(&d, o),
            Some(("30 6 * * *".into(), Some("Europe/Paris".into())))
        );
    }

    #[test]
    fn hourly_defaults_and_positional_start() {
        let v = call(
            "dagster.HourlyPartitionsDefinition",
            vec![s("2024-05-01-00:00")],
            &[],
        );
        let d = from_value(&v).unwrap();
        let Partitions::Time {
            cron,
            fmt,
            timezone,
            ..
        } = &d.partitions
        else {
            panic!("{d:?}")
        };
        assert_eq!(cron.as_deref(), Some("0 * * * *"));
        assert_eq!(fmt.as_deref(), Some("%Y-%m-%d-%H:%M"));
        assert_eq!(timezone.as_deref(), Some("UTC"));
        let o = ScheduleOverrides {
            minute_of_hour: Some(15),
            ..Default::default()
        };
        assert_eq!(
            partitioned_schedule(&d, o).map(|x| x.0),
            Some("15 * * * *".into())
        );
    }

    #[test]
    fn monthly_and_weekly_days() {
        let m = from_value(&call(
            "dagster.MonthlyPartitionsDefinition",
            vec![s("2024-01-01")],
            &[],
        ))
        .unwrap();
        let o = ScheduleOverrides {
            day_of_month: Some(3),
            hour_of_day: Some(1),
            ..Default::default()
        };
        assert_eq!(
            partitioned_schedule(&m, o).map(|x| x.0),
            Some("0 1 3 * *".into())
        );
        let w = from_value(&call(
            "dagster.WeeklyPartitionsDefinition",
            vec![s("2024-01-01")],
            &[("day_offset", Value::Int(1))],
        ))
        .unwrap();
        assert_eq!(
            partitioned_schedule(&w, ScheduleOverrides::default()).map(|x| x.0),
            Some("0 0 * * 1".into())
        );
    }

    #[test]
    fn custom_window_with_datetime_start() {
        let start = Value::DateTime(DateTime {
            year: 2024,
            month: 7,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            tz: None,
        });
        let v = call(
            "dagster.TimeWindowPartitionsDefinition",
            vec![],
            &[
                ("cron_schedule", s("0 */6 * * *")),
                ("start", start),
                ("fmt", s("%Y-%m-%d-%H:%M")),
                ("end_offset", Value::Int(1)),
            ],
        );
        let d = from_value(&v).unwrap();
        let Partitions::Time {
            granularity, start, ..
        } = &d.partitions
        else {
            panic!()
        };
        assert_eq!(granularity, "cron");
        assert_eq!(start.as_deref(), Some("2024-07-01-00:00"));
        assert_eq!(d.extra["end_offset"], Value::Int(1));
    }

    #[test]
    fn static_dynamic_multi() {
        let st = call(
            "dagster.StaticPartitionsDefinition",
            vec![Value::List(vec![s("eu"), s("us")])],
            &[],
        );
        assert_eq!(
            from_value(&st).unwrap().partitions,
            Partitions::Static {
                keys: vec!["eu".into(), "us".into()]
            }
        );
        let dy = call(
            "dagster.DynamicPartitionsDefinition",
            vec![],
            &[("name", s("files"))],
        );
        assert_eq!(
            from_value(&dy).unwrap().partitions,
            Partitions::Dynamic {
                name: Some("files".into())
            }
        );
        let multi = call(
            "dagster.MultiPartitionsDefinition",
            vec![Value::Dict(
                [
                    ("region".to_string(), st.clone()),
                    (
                        "date".to_string(),
                        call(
                            "dagster.DailyPartitionsDefinition",
                            vec![s("2024-06-01")],
                            &[],
                        ),
                    ),
                ]
                .into_iter()
                .collect(),
            )],
            &[],
        );
        let Partitions::Multi { dimensions } = from_value(&multi).unwrap().partitions else {
            panic!()
        };
        let names: Vec<&str> = dimensions.iter().map(|d| d.0.as_str()).collect();
        assert_eq!(names, ["date", "region"]);
        let m = from_value(&multi).unwrap();
        assert_eq!(
            partitioned_schedule(&m, ScheduleOverrides::default()).map(|x| x.0),
            Some("0 0 * * *".into())
        );
    }

    #[test]
    fn unreadable_partitions_say_why() {
        assert!(from_value(&Value::Expr("make_parts()".into())).is_err());
        let st = call(
            "dagster.StaticPartitionsDefinition",
            vec![Value::Expr("load_keys()".into())],
            &[],
        );
        assert!(from_value(&st).unwrap_err().contains("load_keys()"));
    }
}
