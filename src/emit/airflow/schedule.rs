//! The schedule of a DAG: `schedule=` (cron, preset, interval, assets) and `start_date=`.

use super::asset::AssetConsts;
use super::names::sdk;
use crate::emit::module::Imports;
use crate::emit::{Target, shared};
use crate::ir::{Partitions, Pipeline, ScheduleKind};
use crate::python::print::{self as python, Expr};
use crate::report::{self, Anchor, Ledger, Translations};

/// `schedule=`, with the claims of the pipeline's schedule and of the time partitions it
/// stands for.
#[allow(clippy::too_many_arguments)]
pub(super) fn schedule_kwarg(
    p: &Pipeline,
    dag: &str,
    target: Target,
    assets: &AssetConsts,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
    kw: &mut Vec<Expr>,
) {
    let head = |needle: &str| Anchor::head(dag, needle);
    let at = p.span;
    let schedule = match &p.schedule {
        None => Expr::raw("None"),
        Some(s) => match s.kind {
            ScheduleKind::Cron
            | ScheduleKind::Preset
            | ScheduleKind::Once
            | ScheduleKind::Continuous => {
                let v = match s.kind {
                    ScheduleKind::Once => "@once".to_string(),
                    ScheduleKind::Continuous => "@continuous".to_string(),
                    _ => s.value.clone().unwrap_or_default(),
                };
                Expr::str(&v)
            }
            ScheduleKind::Interval => {
                imports.name("datetime", "timedelta");
                python::timedelta(
                    s.value
                        .as_deref()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(3600.0),
                )
            }
            ScheduleKind::Asset => {
                imports.name(sdk(target), "Asset");
                Expr::List(
                    s.assets
                        .iter()
                        .map(|a| assets.named(a, target, imports))
                        .collect(),
                )
            }
            ScheduleKind::Manual | ScheduleKind::Timetable => Expr::raw("None"),
        },
    };
    kw.push(Expr::kw("schedule", schedule));
    if let Some(s) = &p.schedule {
        ledger.consume(
            table,
            report::schedule_id(s.kind),
            &p.id,
            at,
            head("schedule="),
        );
        if shared::traps(p, target).contains(&"trap.logical_date") {
            ledger.consume(table, "trap.logical_date", &p.id, at, head("schedule="));
        }
        if s.timezone.is_some() {
            ledger.consume(table, "schedule.timezone", &p.id, at, head("start_date="));
        }
    }
    // Time partitions are the DAG's schedule and data interval.
    if let Some(parts @ Partitions::Time { .. }) = &p.partitions {
        ledger.consume(
            table,
            report::partitions_id(parts),
            &p.id,
            at,
            head("schedule="),
        );
    }
    for n in &p.nodes {
        if let Some(parts @ Partitions::Time { .. }) = &n.partitions {
            ledger.consume(
                table,
                report::partitions_id(parts),
                &n.id,
                n.span,
                head("schedule="),
            );
        }
    }
}

/// `start_date=` (a pendulum datetime in the schedule's timezone; the default partition key's
/// day when the source has none).
pub(super) fn start_date_kwarg(
    p: &Pipeline,
    dag: &str,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
    kw: &mut Vec<Expr>,
) {
    let head = |needle: &str| Anchor::head(dag, needle);
    let at = p.span;
    imports.module("pendulum");
    let tz = p
        .schedule
        .as_ref()
        .and_then(|s| s.timezone.clone())
        .or_else(|| p.start_date.as_ref().and_then(|d| d.tz.clone()));
    let start = match &p.start_date {
        Some(d) => {
            let mut d = d.clone();
            d.tz = d.tz.or(tz);
            python::datetime(&d)
        }
        None => {
            let key = shared::default_partition_key(p);
            let key = if key
                .get(..4)
                .is_some_and(|y| y.chars().all(|c| c.is_ascii_digit()))
            {
                key
            } else {
                "2024-01-01".to_string()
            };
            let mut parts = key.split('-').map(|x| x.parse::<i64>().unwrap_or(1));
            let d = crate::ir::DateTime {
                year: parts.next().unwrap_or(2024),
                month: parts.next().unwrap_or(1).clamp(1, 12) as u32,
                day: parts.next().unwrap_or(1).clamp(1, 28) as u32,
                hour: 0,
                minute: 0,
                second: 0,
                tz,
            };
            python::datetime(&d)
        }
    };
    kw.push(Expr::kw("start_date", start));
    if p.start_date.is_some() {
        ledger.consume(table, "start_date", &p.id, at, head("start_date="));
    }
}
