//! Schedule arithmetic: the next run times of a cron, preset or interval schedule in the
//! pipeline's time zone (`--schedule-preview`), and the logical dates of a backfill range.
//!
//! Cron evaluation uses the `croner` crate (POSIX/Vixie semantics: day-of-month and day-of-week
//! are OR-ed, ranges, steps, names) with `chrono-tz` zones, rather than a hand-written matcher:
//! DST gaps and folds and the day-of-month/day-of-week rule are where home-made cron code errs.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::str::FromStr;

use crate::ir::{Pipeline, ScheduleKind};

/// Most keys a range may expand to, so a typo cannot start a run of millions of partitions.
pub const MAX_KEYS: usize = 100_000;

/// Parses an IANA zone name; `None` is UTC.
pub fn zone(name: Option<&str>) -> Result<Tz, String> {
    match name {
        None => Ok(Tz::UTC),
        Some(n) => Tz::from_str(n).map_err(|_| format!("unknown time zone `{n}`")),
    }
}

/// The zone a pipeline's schedule runs in: the schedule's, else its partitions', else its
/// start date's, else UTC.
pub fn pipeline_zone(p: &Pipeline) -> Result<Tz, String> {
    let from_parts = match p.partition_definition() {
        Some(crate::ir::Partitions::Time { timezone, .. }) => timezone.clone(),
        _ => None,
    };
    let name = p
        .schedule
        .as_ref()
        .and_then(|s| s.timezone.clone())
        .or(from_parts)
        .or_else(|| p.start_date.as_ref().and_then(|d| d.tz.clone()));
    zone(name.as_deref())
}

/// A parsed five-field cron expression.
pub fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    croner::Cron::from_str(expr.trim()).map_err(|e| format!("cannot read the cron `{expr}`: {e}"))
}

/// A local wall-clock time in a zone (a time skipped by a DST change moves an hour later).
pub fn localize(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Tz>> {
    tz.from_local_datetime(&naive).earliest().or_else(|| {
        tz.from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
    })
}

/// Parses a date or date-time as a user or a pipeline writes it (`2024-03-01`,
/// `2024-03-01T06:00`, `2024-03-01 06:00:00`, `2024-03-01-06:00`), optionally with a strftime format tried first.
pub fn parse_naive(text: &str, fmt: Option<&str>) -> Option<NaiveDateTime> {
    let text = text.trim();
    let mut formats: Vec<&str> = fmt.into_iter().collect();
    formats.extend([
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d-%H:%M",
    ]);
    for f in &formats {
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, f) {
            return Some(dt);
        }
        if let Ok(d) = NaiveDate::parse_from_str(text, f) {
            return d.and_hms_opt(0, 0, 0);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0);
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.naive_local())
}

/// True when a cron fires at most once a day at a fixed time (its keys are dates).
pub fn is_daily_or_coarser(expr: &str) -> bool {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    fields.len() == 5
        && fields[..2]
            .iter()
            .all(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

/// The kind of time a pipeline's schedule fires on.
pub enum Fires {
    /// A cron expression (presets expanded).
    Cron(String),
    /// A fixed interval from an anchor.
    Every {
        /// The interval.
        seconds: i64,
        /// The first run (the start date, if any).
        anchor: Option<NaiveDateTime>,
    },
}

/// How a pipeline's schedule fires, or why it has no run times.
pub fn fires(p: &Pipeline) -> Result<Fires, String> {
    let Some(s) = &p.schedule else {
        return Err(format!("pipeline `{}` has no schedule", p.id));
    };
    match s.kind {
        ScheduleKind::Cron | ScheduleKind::Preset => s.cron().map(Fires::Cron).ok_or_else(|| {
            format!(
                "the schedule `{}` is not a cron or a known preset",
                s.value.clone().unwrap_or_default()
            )
        }),
        ScheduleKind::Interval => {
            let seconds = s
                .value
                .as_deref()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 1.0)
                .ok_or_else(|| "the interval schedule has no usable length".to_string())?;
            let anchor = p.start_date.as_ref().and_then(|d| {
                NaiveDate::from_ymd_opt(d.year as i32, d.month, d.day)
                    .and_then(|x| x.and_hms_opt(d.hour, d.minute, d.second))
            });
            Ok(Fires::Every {
                seconds: seconds as i64,
                anchor,
            })
        }
        other => Err(format!(
            "pipeline `{}` is not time-scheduled (its schedule is {})",
            p.id,
            serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        )),
    }
}

/// The next `n` run times strictly after `from`, in the pipeline's zone.
pub fn preview(p: &Pipeline, from: DateTime<Utc>, n: usize) -> Result<Vec<DateTime<Tz>>, String> {
    let tz = pipeline_zone(p)?;
    let from = from.with_timezone(&tz);
    let n = n.min(MAX_KEYS);
    match fires(p)? {
        Fires::Cron(expr) => {
            let cron = parse_cron(&expr)?;
            Ok(cron.iter_after(from).take(n).collect())
        }
        Fires::Every { seconds, anchor } => {
            let anchor = anchor.and_then(|a| localize(tz, a)).unwrap_or(from);
            let step = Duration::seconds(seconds);
            let mut t = anchor;
            if t <= from {
                let behind = (from - t).num_seconds() / seconds + 1;
                t += Duration::seconds(behind.saturating_mul(seconds));
            }
            let mut out = Vec::new();
            while out.len() < n {
                out.push(t);
                t += step;
            }
            Ok(out)
        }
    }
}

/// Logical dates of the runs a schedule makes between `start` and `end` (inclusive, compared
/// as keys), as keys: dates for daily-or-coarser crons, `YYYY-MM-DDTHH:MM` otherwise.
pub fn fire_keys(p: &Pipeline, start: &str, end: &str) -> Result<Vec<String>, String> {
    let tz = pipeline_zone(p)?;
    let (a, b) = range(start, end, None)?;
    let from = localize(tz, a - Duration::days(1))
        .ok_or("the start does not exist in the pipeline's zone")?;
    match fires(p)? {
        Fires::Cron(expr) => {
            let cron = parse_cron(&expr)?;
            let fmt = if is_daily_or_coarser(&expr) {
                "%Y-%m-%d"
            } else {
                "%Y-%m-%dT%H:%M"
            };
            collect_keys(cron.iter_from(from, croner::Direction::Forward), fmt, a, b)
        }
        Fires::Every { seconds, anchor } => {
            let anchor = anchor.and_then(|x| localize(tz, x)).unwrap_or(from);
            let mut t = anchor;
            if t < from {
                let behind = (from - t).num_seconds().div_euclid(seconds);
                t += Duration::seconds(behind.saturating_mul(seconds));
            }
            let fmt = if seconds % 86_400 == 0 {
                "%Y-%m-%d"
            } else {
                "%Y-%m-%dT%H:%M"
            };
            let times =
                std::iter::successors(Some(t), move |x| Some(*x + Duration::seconds(seconds)));
            collect_keys(times, fmt, a, b)
        }
    }
}

/// Formats run or window start times as keys and keeps those whose key lies in `[a, b]`.
pub fn collect_keys(
    times: impl Iterator<Item = DateTime<Tz>>,
    fmt: &str,
    a: NaiveDateTime,
    b: NaiveDateTime,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (seen, t) in times.enumerate() {
        if seen > MAX_KEYS * 10 {
            return Err(format!("the range has more than {MAX_KEYS} runs"));
        }
        let key = t.format(fmt).to_string();
        let at = parse_naive(&key, Some(fmt)).unwrap_or_else(|| t.naive_local());
        if at > b {
            break;
        }
        if at >= a && out.last() != Some(&key) {
            out.push(key);
        }
        if out.len() > MAX_KEYS {
            return Err(format!("the range has more than {MAX_KEYS} runs"));
        }
    }
    Ok(out)
}

/// Parses both ends of a range; the end may not be before the start.
pub fn range(
    start: &str,
    end: &str,
    fmt: Option<&str>,
) -> Result<(NaiveDateTime, NaiveDateTime), String> {
    let a = parse_naive(start, fmt)
        .ok_or_else(|| format!("`{start}` is not a date or a partition key"))?;
    let b =
        parse_naive(end, fmt).ok_or_else(|| format!("`{end}` is not a date or a partition key"))?;
    if b < a {
        return Err(format!("the range ends ({end}) before it starts ({start})"));
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Schedule;

    fn scheduled(kind: ScheduleKind, value: &str, tz: Option<&str>) -> Pipeline {
        Pipeline {
            id: "p".into(),
            schedule: Some(Schedule {
                kind,
                value: Some(value.into()),
                timezone: tz.map(str::to_string),
                assets: Vec::new(),
                parameters: Default::default(),
            }),
            ..Pipeline::default()
        }
    }

    #[test]
    fn previews_a_cron_in_its_zone_across_dst() {
        let p = scheduled(ScheduleKind::Cron, "30 2 * * *", Some("Europe/Paris"));
        let from = Utc.with_ymd_and_hms(2024, 3, 29, 12, 0, 0).unwrap();
        let t: Vec<String> = preview(&p, from, 3)
            .unwrap()
            .iter()
            .map(|t| t.to_rfc3339())
            .collect();
        // 2024-03-31 02:30 does not exist in Paris (clocks jump 02:00 → 03:00).
        assert_eq!(t[0], "2024-03-30T02:30:00+01:00");
        assert_eq!(t[2], "2024-04-01T02:30:00+02:00");
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn dom_and_dow_are_ored_like_vixie_cron() {
        let p = scheduled(ScheduleKind::Cron, "0 0 13 * 5", None);
        let from = Utc.with_ymd_and_hms(2024, 9, 1, 0, 0, 0).unwrap();
        let days: Vec<u32> = preview(&p, from, 3)
            .unwrap()
            .iter()
            .map(chrono::Datelike::day)
            .collect();
        assert_eq!(days, vec![6, 13, 20]);
    }

    #[test]
    fn presets_intervals_and_fire_keys() {
        let p = scheduled(ScheduleKind::Preset, "@daily", None);
        assert_eq!(
            fire_keys(&p, "2024-03-01", "2024-03-03").unwrap(),
            vec!["2024-03-01", "2024-03-02", "2024-03-03"]
        );
        let p = scheduled(ScheduleKind::Interval, "21600", None);
        assert_eq!(
            fire_keys(&p, "2024-03-01", "2024-03-01T12:00").unwrap(),
            vec!["2024-03-01T00:00", "2024-03-01T06:00", "2024-03-01T12:00"]
        );
        let p = scheduled(ScheduleKind::Manual, "", None);
        assert!(fires(&p).is_err());
        assert!(range("2024-03-02", "2024-03-01", None).is_err());
        assert!(zone(Some("Mars/Olympus")).is_err());
    }
}
