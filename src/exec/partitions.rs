//! Partition keys of a pipeline: the default key, a `--partition` key's check, and the keys of a
//! `--backfill START..END` range, for time (hourly/daily/weekly/monthly/cron), static, dynamic,
//! multi and parameter partitions, and for scheduled pipelines without partitions.

use chrono::Duration;

use super::schedule::{self, collect_keys, localize, parse_cron, parse_naive, zone};
use crate::ir::{Partitions, Pipeline};

/// The cron and key format of a time partition definition.
fn time_shape(granularity: &str, cron: Option<&str>, fmt: Option<&str>) -> (String, String) {
    let cron = cron.map(str::to_string).unwrap_or_else(|| {
        match granularity {
            "hourly" => "0 * * * *",
            "weekly" => "0 0 * * 0",
            "monthly" => "0 0 1 * *",
            _ => "0 0 * * *",
        }
        .to_string()
    });
    let fmt = fmt.map(str::to_string).unwrap_or_else(|| {
        if granularity == "hourly"
            || (granularity == "cron" && !schedule::is_daily_or_coarser(&cron))
        {
            "%Y-%m-%d-%H:%M".to_string()
        } else {
            "%Y-%m-%d".to_string()
        }
    });
    (cron, fmt)
}

/// Keys of one partition definition between two keys (inclusive).
fn keys_of(def: &Partitions, p: &Pipeline, start: &str, end: &str) -> Result<Vec<String>, String> {
    match def {
        Partitions::Time {
            granularity,
            start: first,
            end: last,
            timezone,
            fmt,
            cron,
        } => {
            let tz = zone(timezone.as_deref())?;
            let (cron, fmt) = time_shape(granularity, cron.as_deref(), fmt.as_deref());
            let (mut a, mut b) = schedule::range(start, end, Some(&fmt))?;
            if let Some(f) = first.as_deref().and_then(|f| parse_naive(f, Some(&fmt))) {
                a = a.max(f);
            }
            if let Some(l) = last.as_deref().and_then(|l| parse_naive(l, Some(&fmt))) {
                // The definition's end is exclusive.
                b = b.min(l - Duration::seconds(1));
            }
            if b < a {
                return Ok(Vec::new());
            }
            let c = parse_cron(&cron)?;
            let from = localize(tz, a - Duration::days(1))
                .ok_or("the start does not exist in the partitions' zone")?;
            collect_keys(c.iter_from(from, croner::Direction::Forward), &fmt, a, b)
        }
        Partitions::Static { keys } => {
            let i = keys.iter().position(|k| k == start).ok_or_else(|| {
                format!(
                    "`{start}` is not one of the partition keys ({})",
                    keys.join(", ")
                )
            })?;
            let j = keys.iter().position(|k| k == end).ok_or_else(|| {
                format!(
                    "`{end}` is not one of the partition keys ({})",
                    keys.join(", ")
                )
            })?;
            if j < i {
                return Err(format!(
                    "`{end}` comes before `{start}` in the partition keys"
                ));
            }
            Ok(keys[i..=j].to_vec())
        }
        Partitions::Dynamic { name } => Err(format!(
            "dynamic partitions{} have no keys to enumerate: run them one by one with --partition KEY",
            name.as_deref()
                .map(|n| format!(" `{n}`"))
                .unwrap_or_default()
        )),
        Partitions::Multi { dimensions } => {
            let mut dims: Vec<&(String, Partitions)> = dimensions.iter().collect();
            dims.sort_by(|x, y| x.0.cmp(&y.0));
            let a: Vec<&str> = start.split('|').collect();
            let b: Vec<&str> = end.split('|').collect();
            if a.len() != dims.len() || b.len() != dims.len() {
                return Err(format!(
                    "multi-partition keys have {} parts joined by `|` ({})",
                    dims.len(),
                    dims.iter()
                        .map(|d| d.0.as_str())
                        .collect::<Vec<_>>()
                        .join("|")
                ));
            }
            let mut out: Vec<String> = vec![String::new()];
            for (i, (_, d)) in dims.iter().enumerate() {
                let keys = keys_of(d, p, a[i], b[i])?;
                let mut next = Vec::new();
                for prefix in &out {
                    for k in &keys {
                        next.push(if prefix.is_empty() && i == 0 {
                            k.clone()
                        } else {
                            format!("{prefix}|{k}")
                        });
                    }
                }
                if next.len() > schedule::MAX_KEYS {
                    return Err(format!(
                        "the range has more than {} partitions",
                        schedule::MAX_KEYS
                    ));
                }
                out = next;
            }
            Ok(out)
        }
        Partitions::Parameter { .. } => {
            if p.schedule.as_ref().and_then(|s| s.cron()).is_some() {
                schedule::fire_keys(p, start, end)
            } else {
                daily(start, end)
            }
        }
    }
}

/// Calendar dates from `start` to `end` inclusive.
fn daily(start: &str, end: &str) -> Result<Vec<String>, String> {
    let (a, b) = schedule::range(start, end, None)?;
    let mut out = Vec::new();
    let mut d = a.date();
    while d <= b.date() {
        out.push(d.format("%Y-%m-%d").to_string());
        d += Duration::days(1);
        if out.len() > schedule::MAX_KEYS {
            return Err(format!(
                "the range has more than {} days",
                schedule::MAX_KEYS
            ));
        }
    }
    Ok(out)
}

/// The keys a `--backfill START..END` runs, in order.
pub fn backfill_keys(p: &Pipeline, start: &str, end: &str) -> Result<Vec<String>, String> {
    match p.partition_definition() {
        Some(def) => keys_of(def, p, start, end),
        None => schedule::fire_keys(p, start, end).map_err(|e| {
            format!("{e}; a backfill needs partitions or a time schedule to enumerate")
        }),
    }
}

/// Checks a `--partition KEY` against the definition (any key for dynamic and parameter partitions).
pub fn check_key(p: &Pipeline, key: &str) -> Result<(), String> {
    match p.partition_definition() {
        None | Some(Partitions::Dynamic { .. }) | Some(Partitions::Parameter { .. }) => Ok(()),
        Some(def) => {
            let keys = keys_of(def, p, key, key)?;
            if keys.iter().any(|k| k == key) {
                Ok(())
            } else {
                Err(format!(
                    "`{key}` is not a partition key of pipeline `{}`",
                    p.id
                ))
            }
        }
    }
}

/// The partition a run without `--partition` uses: the first key of the definition
/// (the same default the ported code starts from); `None` for unpartitioned pipelines.
pub fn default_key(p: &Pipeline) -> Option<String> {
    let def = p.partition_definition()?;
    first_key(def, p)
}

fn first_key(def: &Partitions, p: &Pipeline) -> Option<String> {
    match def {
        Partitions::Time { start, .. } => {
            let start = start.clone()?;
            keys_of(def, p, &start, &start)
                .ok()
                .and_then(|k| k.into_iter().next())
                .or(Some(start))
        }
        Partitions::Static { keys } => keys.first().cloned(),
        Partitions::Dynamic { .. } => None,
        Partitions::Multi { dimensions } => {
            let mut dims: Vec<&(String, Partitions)> = dimensions.iter().collect();
            dims.sort_by(|x, y| x.0.cmp(&y.0));
            let parts: Option<Vec<String>> = dims.iter().map(|(_, d)| first_key(d, p)).collect();
            parts.map(|v| v.join("|"))
        }
        Partitions::Parameter { name } => p
            .params
            .iter()
            .find(|x| &x.name == name)
            .and_then(|x| x.default.as_ref())
            .and_then(|v| v.as_str().map(str::to_string)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(granularity: &str, start: &str, cron: Option<&str>, fmt: Option<&str>) -> Pipeline {
        Pipeline {
            id: "p".into(),
            partitions: Some(Partitions::Time {
                granularity: granularity.into(),
                start: Some(start.into()),
                end: None,
                timezone: Some("Europe/Paris".into()),
                fmt: fmt.map(str::to_string),
                cron: cron.map(str::to_string),
            }),
            ..Pipeline::default()
        }
    }

    #[test]
    fn daily_hourly_weekly_monthly_keys() {
        let p = time("daily", "2024-03-01", Some("0 2 * * *"), None);
        let k = backfill_keys(&p, "2024-02-20", "2024-03-03").unwrap();
        assert_eq!(k, vec!["2024-03-01", "2024-03-02", "2024-03-03"]);
        assert_eq!(default_key(&p).as_deref(), Some("2024-03-01"));
        let p = time("hourly", "2024-05-01-00:00", None, Some("%Y-%m-%d-%H:%M"));
        let k = backfill_keys(&p, "2024-05-01-22:00", "2024-05-02-01:00").unwrap();
        assert_eq!(
            k,
            vec![
                "2024-05-01-22:00",
                "2024-05-01-23:00",
                "2024-05-02-00:00",
                "2024-05-02-01:00"
            ]
        );
        let p = time("weekly", "2024-01-01", Some("0 0 * * 1"), None);
        assert_eq!(
            backfill_keys(&p, "2024-01-01", "2024-01-21").unwrap(),
            vec!["2024-01-01", "2024-01-08", "2024-01-15"]
        );
        let p = time("monthly", "2024-01-01", None, None);
        assert_eq!(
            backfill_keys(&p, "2024-01-01", "2024-03-31").unwrap(),
            vec!["2024-01-01", "2024-02-01", "2024-03-01"]
        );
        assert!(check_key(&p, "2024-02-01").is_ok());
        assert!(check_key(&p, "2024-02-02").is_err());
        assert!(check_key(&p, "not a date").is_err());
    }

    #[test]
    fn static_multi_dynamic_keys() {
        let mut p = Pipeline {
            partitions: Some(Partitions::Static {
                keys: vec!["emea".into(), "amer".into(), "apac".into()],
            }),
            ..Pipeline::default()
        };
        assert_eq!(
            backfill_keys(&p, "amer", "apac").unwrap(),
            vec!["amer", "apac"]
        );
        assert!(backfill_keys(&p, "apac", "emea").is_err());
        assert!(check_key(&p, "mars").is_err());
        p.partitions = Some(Partitions::Multi {
            dimensions: vec![
                (
                    "region".into(),
                    Partitions::Static {
                        keys: vec!["eu".into(), "us".into()],
                    },
                ),
                (
                    "date".into(),
                    Partitions::Time {
                        granularity: "daily".into(),
                        start: Some("2024-06-01".into()),
                        end: None,
                        timezone: None,
                        fmt: None,
                        cron: None,
                    },
                ),
            ],
        });
        assert_eq!(
            backfill_keys(&p, "2024-06-01|eu", "2024-06-02|us").unwrap(),
            vec![
                "2024-06-01|eu",
                "2024-06-01|us",
                "2024-06-02|eu",
                "2024-06-02|us"
            ]
        );
        assert_eq!(default_key(&p).as_deref(), Some("2024-06-01|eu"));
        p.partitions = Some(Partitions::Dynamic {
            name: Some("v".into()),
        });
        assert!(backfill_keys(&p, "a", "b").is_err());
        assert!(check_key(&p, "anything").is_ok());
        assert_eq!(default_key(&p), None);
    }
}
