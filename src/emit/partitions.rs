//! IR partition axes written as Dagster partitions definitions, and Dagster API values
//! (partition mappings, …) written with the module's `dg.` alias.

use crate::ir::{Partitions, Value};
use crate::python::print::{self as python, Expr};

/// Dagster's key format of hourly windows.
const HOURLY_FMT: &str = "%Y-%m-%d-%H:%M";
/// Dagster's key format of daily, weekly and monthly windows.
const DATE_FMT: &str = "%Y-%m-%d";

/// The `dg.*PartitionsDefinition(...)` of a partition axis; `None` for a partition parameter,
/// which is not a Dagster partitions definition by itself.
pub fn definition(parts: &Partitions) -> Option<Expr> {
    Some(match parts {
        Partitions::Time {
            granularity,
            start,
            end,
            timezone,
            fmt,
            cron,
        } => time_window(
            granularity,
            start.as_deref().unwrap_or("2024-01-01"),
            end.as_deref(),
            timezone.as_deref(),
            fmt.as_deref(),
            cron.as_deref(),
        ),
        Partitions::Static { keys } => Expr::call(
            "dg.StaticPartitionsDefinition",
            vec![Expr::List(keys.iter().map(|k| Expr::str(k)).collect())],
        ),
        Partitions::Dynamic { name } => Expr::call(
            "dg.DynamicPartitionsDefinition",
            vec![Expr::kw("name", Expr::str(name.as_deref()?))],
        ),
        Partitions::Multi { dimensions } => {
            let dims: Option<Vec<(Expr, Expr)>> = dimensions
                .iter()
                .map(|(name, axis)| Some((Expr::str(name), definition(axis)?)))
                .collect();
            Expr::call("dg.MultiPartitionsDefinition", vec![Expr::Dict(dims?)])
        }
        Partitions::Parameter { .. } => return None,
    })
}

/// A time-window definition: the standard class of its cadence when the cron is that cadence
/// with offsets, else `TimeWindowPartitionsDefinition` with the cron, start, end and format.
fn time_window(
    granularity: &str,
    start: &str,
    end: Option<&str>,
    timezone: Option<&str>,
    fmt: Option<&str>,
    cron: Option<&str>,
) -> Expr {
    let default_fmt = if granularity == "hourly" {
        HOURLY_FMT
    } else {
        DATE_FMT
    };
    let class = match granularity {
        "hourly" => Some("dg.HourlyPartitionsDefinition"),
        "daily" => Some("dg.DailyPartitionsDefinition"),
        "weekly" => Some("dg.WeeklyPartitionsDefinition"),
        "monthly" => Some("dg.MonthlyPartitionsDefinition"),
        _ => None,
    };
    let offsets = match (class, cron) {
        (Some(_), None) => Some(Vec::new()),
        (Some(_), Some(c)) => offsets(granularity, c),
        _ => None,
    };
    let (Some(class), Some(offsets)) = (class, offsets) else {
        let mut kw = Vec::new();
        if let Some(c) = cron {
            kw.push(Expr::kw("cron_schedule", Expr::str(c)));
        }
        kw.push(Expr::kw("start", Expr::str(start)));
        if let Some(e) = end {
            kw.push(Expr::kw("end", Expr::str(e)));
        }
        kw.push(Expr::kw("fmt", Expr::str(fmt.unwrap_or(default_fmt))));
        if let Some(tz) = timezone {
            kw.push(Expr::kw("timezone", Expr::str(tz)));
        }
        return Expr::call("dg.TimeWindowPartitionsDefinition", kw);
    };
    let mut kw = vec![Expr::kw("start_date", Expr::str(start))];
    if let Some(e) = end {
        kw.push(Expr::kw("end_date", Expr::str(e)));
    }
    for (name, v) in offsets {
        kw.push(Expr::kw(name, Expr::raw(v.to_string())));
    }
    if let Some(tz) = timezone {
        kw.push(Expr::kw("timezone", Expr::str(tz)));
    }
    if let Some(f) = fmt.filter(|f| *f != default_fmt) {
        kw.push(Expr::kw("fmt", Expr::str(f)));
    }
    Expr::call(class, kw)
}

/// The non-default offsets of a standard cadence whose windows start on `cron`; `None` when the
/// cron is not that cadence (Dagster's `cron_schedule_from_schedule_type_and_offsets`, reversed).
fn offsets(granularity: &str, cron: &str) -> Option<Vec<(&'static str, i64)>> {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = fields.as_slice() else {
        return None;
    };
    let num = |f: &str| f.parse::<i64>().ok();
    let any = |f: &str| f == "*";
    let (minute, hour, day, default_day) = match granularity {
        "hourly" if any(hour) && any(dom) && any(month) && any(dow) => (num(minute)?, 0, 0, 0),
        "daily" if any(dom) && any(month) && any(dow) => (num(minute)?, num(hour)?, 0, 0),
        "weekly" if any(dom) && any(month) => (num(minute)?, num(hour)?, num(dow)?, 0),
        "monthly" if any(month) && any(dow) => (num(minute)?, num(hour)?, num(dom)?, 1),
        _ => return None,
    };
    let mut out = Vec::new();
    if minute != 0 {
        out.push(("minute_offset", minute));
    }
    if hour != 0 {
        out.push(("hour_offset", hour));
    }
    if day != default_day {
        out.push(("day_offset", day));
    }
    Some(out)
}

/// A Dagster API value (`dagster.TimeWindowPartitionMapping(...)` as the reader resolved it)
/// written with the module's `dg.` alias; other values as [`python::value`] writes them.
pub fn dagster_value(v: &Value) -> Expr {
    match v {
        Value::Call(c) => {
            let mut args: Vec<Expr> = c.args.iter().map(dagster_value).collect();
            args.extend(c.kwargs.iter().map(|(k, v)| Expr::kw(k, dagster_value(v))));
            let name = match c.func.strip_prefix("dagster.") {
                Some(rest) => format!("dg.{}", rest.rsplit('.').next().unwrap_or(rest)),
                None => c.func.clone(),
            };
            Expr::call(&name, args)
        }
        Value::List(items) => Expr::List(items.iter().map(dagster_value).collect()),
        Value::Dict(m) => Expr::Dict(
            m.iter()
                .map(|(k, v)| (Expr::str(k), dagster_value(v)))
                .collect(),
        ),
        other => python::value(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(granularity: &str, cron: &str, fmt: &str) -> Partitions {
        Partitions::Time {
            granularity: granularity.into(),
            start: Some("2024-07-01-00:00".into()),
            end: Some("2030-01-01-00:00".into()),
            timezone: Some("Asia/Singapore".into()),
            fmt: Some(fmt.into()),
            cron: Some(cron.into()),
        }
    }

    #[test]
    fn a_custom_cron_is_a_time_window_definition_with_its_format() {
        let e = definition(&time("cron", "0 */6 * * *", HOURLY_FMT)).unwrap();
        assert_eq!(
            e.flat(),
            "dg.TimeWindowPartitionsDefinition(cron_schedule=\"0 */6 * * *\", \
             start=\"2024-07-01-00:00\", end=\"2030-01-01-00:00\", fmt=\"%Y-%m-%d-%H:%M\", \
             timezone=\"Asia/Singapore\")"
        );
    }

    #[test]
    fn a_standard_cadence_keeps_its_class_and_offsets() {
        let e = definition(&time("daily", "30 6 * * *", DATE_FMT)).unwrap();
        assert_eq!(
            e.flat(),
            "dg.DailyPartitionsDefinition(start_date=\"2024-07-01-00:00\", \
             end_date=\"2030-01-01-00:00\", minute_offset=30, hour_offset=6, \
             timezone=\"Asia/Singapore\")"
        );
        let e = definition(&time("monthly", "0 0 1 * *", "%Y-%m")).unwrap();
        assert!(e.flat().starts_with("dg.MonthlyPartitionsDefinition("));
        assert!(e.flat().ends_with("fmt=\"%Y-%m\")"), "{}", e.flat());
        assert!(!e.flat().contains("day_offset"));
    }

    #[test]
    fn a_daily_cadence_on_an_hourly_cron_is_a_time_window() {
        let e = definition(&time("daily", "0 * * * *", DATE_FMT)).unwrap();
        assert!(e.flat().starts_with("dg.TimeWindowPartitionsDefinition("));
    }

    #[test]
    fn multi_partitions_write_each_dimension() {
        let multi = Partitions::Multi {
            dimensions: vec![
                ("date".into(), time("daily", "0 0 * * *", DATE_FMT)),
                (
                    "region".into(),
                    Partitions::Static {
                        keys: vec!["eu".into(), "us".into()],
                    },
                ),
            ],
        };
        let e = definition(&multi).unwrap().flat();
        assert!(
            e.starts_with("dg.MultiPartitionsDefinition({\"date\": dg.DailyPartitionsDefinition(")
        );
        assert!(e.ends_with("\"region\": dg.StaticPartitionsDefinition([\"eu\", \"us\"])})"));
    }

    #[test]
    fn dagster_calls_use_the_module_alias() {
        let v = Value::Call(crate::ir::CallValue {
            func: "dagster.TimeWindowPartitionMapping".into(),
            args: vec![],
            kwargs: [("start_offset".to_string(), Value::Int(-1))].into(),
        });
        assert_eq!(
            dagster_value(&v).flat(),
            "dg.TimeWindowPartitionMapping(start_offset=-1)"
        );
    }
}
