//! Schedules of a job: its own schedule (cron, interval, partitioned), its sensors, and the
//! further schedules of a Prefect pipeline's deployments.

use super::config::ConfiguredAssets;
use super::sensor::{interval_sensor, sensor};
use crate::emit::plan::{Names, unique};
use crate::emit::shared;
use crate::ir::{Framework, Partitions, Pipeline, ScheduleKind};
use crate::python::print::{self as python, Expr, identifier};
use crate::report::{Anchor, Fidelity, Ledger, Scope, Translations};

/// The period of an interval schedule in whole seconds, when it is one.
fn interval_seconds(s: &crate::ir::Schedule) -> Option<i64> {
    let secs: f64 = s.value.as_deref()?.parse().ok()?;
    (secs.is_finite() && secs >= 1.0 && secs.fract() == 0.0 && secs < 1e12).then_some(secs as i64)
}

/// The cron that fires every `secs` seconds exactly, if one does: a period that divides the
/// hour or the day, a day, a week (`*/7` minutes would restart at each hour, `*/2` days at each
/// month).
fn interval_cron(secs: i64) -> Option<String> {
    let (minutes, hours) = (secs / 60, secs / 3600);
    Some(match secs {
        60 => "* * * * *".into(),
        _ if secs % 60 == 0 && minutes < 60 && 60 % minutes == 0 => format!("*/{minutes} * * * *"),
        3600 => "0 * * * *".into(),
        _ if secs % 3600 == 0 && hours < 24 && 24 % hours == 0 => format!("0 */{hours} * * *"),
        86_400 => "0 0 * * *".into(),
        604_800 => "0 0 * * 0".into(),
        _ => return None,
    })
}

/// The schedule of a job: `(name, statement)`.
#[allow(clippy::too_many_arguments)]
fn schedule(
    p: &Pipeline,
    s: &crate::ir::Schedule,
    job: &str,
    partitions: Option<&str>,
    run_config: Option<&Expr>,
    names: &mut Names,
    ledger: &mut Ledger,
    table: &Translations,
) -> Option<(String, String)> {
    let var = unique(&mut names.taken, &format!("{}_schedule", identifier(&p.id)));
    let cron = match s.kind {
        ScheduleKind::Cron | ScheduleKind::Preset => s.cron()?,
        // An interval no cron has is an interval sensor (see `interval_sensor`).
        ScheduleKind::Interval => interval_cron(interval_seconds(s)?)?,
        _ => return None,
    };
    let mut kw = vec![
        Expr::kw("job", Expr::raw(job.to_string())),
        Expr::kw("cron_schedule", Expr::str(&cron)),
    ];
    if let Some(tz) = &s.timezone {
        kw.push(Expr::kw("execution_timezone", Expr::str(tz)));
    }
    // Airflow DAGs and Prefect deployment schedules run once deployed; Dagster's stop by default.
    let running = p.framework != Some(Framework::Dagster);
    if running {
        kw.push(Expr::kw(
            "default_status",
            Expr::raw("dg.DefaultScheduleStatus.RUNNING"),
        ));
    }
    let parts = p
        .partitions
        .as_ref()
        .or_else(|| p.nodes.iter().find_map(|n| n.partitions.as_ref()));
    let time_partitioned = partitions.is_some()
        && matches!(
            parts,
            Some(Partitions::Time { .. }) | Some(Partitions::Parameter { .. }) | None
        );
    if let Some(defn) = partitions.filter(|_| time_partitioned && !cadence_fits(parts, &cron)) {
        // The cron is not the partition cadence: a schedule function picks the partition of its tick.
        ledger.consume_as(
            table,
            crate::report::schedule_id(s.kind),
            &p.id,
            p.span,
            Anchor::head(&var, "cron_schedule="),
            Fidelity::Exact,
            format!(
                "`{cron}` is not the partition cadence: a schedule function requests the last partition at each tick"
            ),
        );
        let decorator = python::decorator("dg.schedule", kw);
        let lookup = Expr::call(
            &format!("{defn}.get_last_partition_key"),
            vec![Expr::kw(
                "current_time",
                Expr::raw("context.scheduled_execution_time"),
            )],
        );
        let text = format!(
            "{decorator}\ndef {var}(context: dg.ScheduleEvaluationContext):\n    key = {}\n    return dg.RunRequest(run_key=key, partition_key=key)",
            lookup.format_lead(4, 10, 0),
        );
        return Some((var, text));
    }
    let call = if time_partitioned {
        // Time-partitioned jobs are scheduled by the partition cadence; only the time of day is set.
        let mut args = vec![Expr::raw(job.to_string())];
        let fields: Vec<&str> = cron.split_whitespace().collect();
        let numeric = |f: &str| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit());
        if let [minute, hour, dom, _, dow] = fields.as_slice() {
            for (name, field) in [
                ("minute_of_hour", minute),
                ("hour_of_day", hour),
                ("day_of_month", dom),
                ("day_of_week", dow),
            ] {
                // A cron field may have leading zeros (`07`); a Python int literal may not.
                if numeric(field)
                    && let Ok(n) = field.parse::<u32>()
                {
                    args.push(Expr::kw(name, Expr::raw(n.to_string())));
                }
            }
        }
        if running {
            args.push(Expr::kw(
                "default_status",
                Expr::raw("dg.DefaultScheduleStatus.RUNNING"),
            ));
        }
        Expr::call("dg.build_schedule_from_partitioned_job", args)
    } else if partitions.is_some() {
        Expr::call(
            "dg.build_schedule_from_partitioned_job",
            kw.into_iter()
                .map(|k| match k {
                    Expr::Keyword(name, v) if name == "job" => *v,
                    other => other,
                })
                .collect(),
        )
    } else {
        if let Some(rc) = run_config {
            kw.push(Expr::kw("run_config", rc.clone()));
        }
        // A job's second schedule needs a name of its own (the default is the job's).
        if !p.schedule.as_ref().is_some_and(|own| std::ptr::eq(own, s)) {
            kw.insert(0, Expr::kw("name", Expr::str(&var)));
        }
        Expr::call("dg.ScheduleDefinition", kw)
    };
    Some((
        var.clone(),
        format!("{var} = {}", call.format_lead(0, var.len() + 3, 0)),
    ))
}

/// True when `build_schedule_from_partitioned_job` can express `cron`: its fixed fields are those
/// the partition cadence leaves free (minute of an hourly cadence; minute and hour of a daily one…).
fn cadence_fits(parts: Option<&Partitions>, cron: &str) -> bool {
    let granularity = match parts {
        Some(Partitions::Time { granularity, .. }) => granularity.as_str(),
        _ => "daily",
    };
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = fields.as_slice() else {
        return false;
    };
    let numeric = |f: &str| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit());
    let any = |f: &str| f == "*";
    match granularity {
        "hourly" => numeric(minute) && any(hour) && any(dom) && any(month) && any(dow),
        "daily" => numeric(minute) && numeric(hour) && any(dom) && any(month) && any(dow),
        "weekly" => numeric(minute) && numeric(hour) && any(dom) && any(month) && numeric(dow),
        "monthly" => numeric(minute) && numeric(hour) && numeric(dom) && any(month) && any(dow),
        _ => false,
    }
}

/// Where a job's schedule and sensors go: their names for `Definitions`, their statements.
pub(super) struct Triggers<'a> {
    /// The schedules, for `Definitions`.
    pub(super) schedules: &'a mut Vec<String>,
    /// The sensors, for `Definitions`.
    pub(super) sensors: &'a mut Vec<String>,
    /// The module-level statements they are written as.
    pub(super) statements: &'a mut Vec<String>,
    /// The run config of the schedule's runs (a Prefect schedule's parameters).
    pub(super) run_config: Option<Expr>,
}

impl Triggers<'_> {
    /// Writes the further schedules of a Prefect pipeline's deployments as ScheduleDefinitions of
    /// its job, and each schedule's run parameters as the run config of the assets that read them.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_deployment_schedules(
        self,
        p: &Pipeline,
        job: &str,
        partitions: Option<&str>,
        configured: &ConfiguredAssets,
        names: &mut Names,
        ledger: &mut Ledger,
        table: &Translations,
    ) {
        let main_name = self.schedules.last().cloned();
        for d in &p.deployments {
            ledger.consume_as(
                table,
                "deployment",
                &d.name,
                d.span,
                Anchor::statement("defs = ", "dg.Definitions("),
                Fidelity::Approximate,
                "the module's Definitions (a code location), with a schedule per deployment schedule"
                    .into(),
            );
        }
        let at_job = Anchor::statement(&format!("{job} = "), "dg.define_asset_job(");
        for ds in p.deployment_schedules() {
            let what = shared::schedule_text(ds.schedule);
            let subject = ds.subject();
            let span = ds.deployment.span;
            // A row of this schedule.
            let row = |ledger: &mut Ledger, construct: &str, at: Anchor, fidelity, note: String| {
                ledger.consume_as(table, construct, &subject, span, at, fidelity, note);
            };
            let run_config = configured.run_config(&ds.parameters);
            let written = if ds.main {
                main_name.clone().filter(|_| run_config.is_some())
            } else {
                let made = if partitions.is_some() {
                    Err(
                        "the job is partitioned, so add a schedule that picks the partition of each tick by hand",
                    )
                } else {
                    schedule(
                        p,
                        ds.schedule,
                        job,
                        None,
                        run_config.as_ref(),
                        names,
                        ledger,
                        table,
                    )
                    .ok_or("no cron fires at that cadence, so add a sensor for it by hand")
                };
                match made {
                    Ok((name, text)) => {
                        ledger.consume(
                            table,
                            "schedule.additional",
                            &subject,
                            span,
                            Anchor::statement(&format!("{name} = "), "cron_schedule="),
                        );
                        self.schedules.push(name.clone());
                        self.statements.push(text);
                        Some(name)
                    }
                    Err(why) => {
                        row(
                            ledger,
                            "schedule.additional",
                            at_job.clone(),
                            Fidelity::Redesign,
                            format!(
                                "`{what}` of deployment `{}` is not written: {why}",
                                ds.deployment.name
                            ),
                        );
                        None
                    }
                }
            };
            if ds.parameters.is_empty() {
                continue;
            }
            // The partition parameter is the partition key: the schedule picks it per tick.
            if let Some(key) = configured
                .partition
                .as_ref()
                .and_then(|k| ds.parameters.get(k).map(|v| (k, v)))
            {
                row(
                    ledger,
                    "schedule.parameters",
                    at_job.clone(),
                    Fidelity::Approximate,
                    format!(
                        "`{}` is the partition key: the runs of `{what}` take each tick's partition, not {}={}",
                        key.0,
                        key.0,
                        python::value(key.1).flat()
                    ),
                );
                continue;
            }
            let unread = configured.unread(&ds.parameters);
            match written.filter(|_| run_config.is_some()) {
                Some(name) if unread.is_empty() => {
                    ledger.consume(
                        table,
                        "schedule.parameters",
                        &subject,
                        span,
                        Anchor::statement(&format!("{name} = "), "run_config="),
                    );
                }
                Some(name) => {
                    row(
                        ledger,
                        "schedule.parameters",
                        Anchor::statement(&format!("{name} = "), "run_config="),
                        Fidelity::Approximate,
                        format!(
                            "the run config of the assets that read them; no asset reads {}",
                            unread.join(", ")
                        ),
                    );
                }
                None if !ds.main => {
                    row(
                        ledger,
                        "schedule.parameters",
                        at_job.clone(),
                        Fidelity::Redesign,
                        format!(
                            "the runs of `{what}` take {}: that schedule is not written (see its row)",
                            shared::parameters_text(&ds.parameters)
                        ),
                    );
                }
                None if unread.len() == ds.parameters.len() => {
                    row(
                        ledger,
                        "schedule.parameters",
                        at_job.clone(),
                        Fidelity::Approximate,
                        format!(
                            "no asset reads {}: the runs of `{what}` need no run config",
                            unread.join(", ")
                        ),
                    );
                }
                None => {
                    row(
                        ledger,
                        "schedule.parameters",
                        at_job.clone(),
                        Fidelity::Redesign,
                        format!(
                            "the runs of `{what}` take {}, which this partitioned schedule does not pass: set them in its run config by hand",
                            shared::parameters_text(&ds.parameters)
                        ),
                    );
                }
            }
        }
    }

    /// Writes the schedule and the sensors of pipeline `p` for the job `job`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add(
        self,
        p: &Pipeline,
        job: &str,
        partitions: Option<&str>,
        from: Framework,
        names: &mut Names,
        ledger: &mut Ledger,
        table: &Translations,
    ) {
        let interval = p
            .schedule
            .as_ref()
            .filter(|s| s.kind == ScheduleKind::Interval)
            .and_then(interval_seconds)
            .filter(|&secs| interval_cron(secs).is_none());
        if let Some(secs) = interval {
            let (name, text) = interval_sensor(p, job, secs, names);
            let at = Anchor::head(&name, "minimum_interval_seconds=");
            ledger.consume_as(
                table,
                "schedule.interval",
                &p.id,
                p.span,
                at.clone(),
                Fidelity::Approximate,
                format!("no cron fires every {secs} s: a sensor requests a run at that minimum interval (the sensor daemon's tick sets the precision)"),
            );
            consume_no_catchup(ledger, table, p, at, "the sensor requests only new runs");
            self.sensors.push(name);
            self.statements.push(text);
        } else if let Some((name, text)) = p.schedule.as_ref().and_then(|s| {
            schedule(
                p,
                s,
                job,
                partitions,
                self.run_config.as_ref(),
                names,
                ledger,
                table,
            )
        }) {
            let at = |needle: &str| {
                if text.starts_with('@') {
                    Anchor::head(&name, needle)
                } else {
                    Anchor::statement(&format!("{name} = "), needle)
                }
            };
            // A time-partitioned job's schedule is its partition cadence at the cron's time.
            let by_partitions = !text.contains("cron_schedule=");
            let cron = if by_partitions {
                "build_schedule_from_partitioned_job("
            } else {
                "cron_schedule="
            };
            if let Some(s) = &p.schedule {
                let id = crate::report::schedule_id(s.kind);
                if by_partitions {
                    ledger.consume_as(
                        table,
                        id,
                        &p.id,
                        p.span,
                        at(cron),
                        Fidelity::Exact,
                        "the partition cadence at the cron's minute and hour".into(),
                    );
                } else {
                    ledger.consume(table, id, &p.id, p.span, at(cron));
                }
                match &s.timezone {
                    Some(_) if text.contains("execution_timezone=") => {
                        let tz = at("execution_timezone=");
                        ledger.consume(table, "schedule.timezone", &p.id, p.span, tz);
                    }
                    // The partitioned schedule keeps the partitions' timezone, UTC by default.
                    Some(tz) if tz == "UTC" || tz == "Etc/UTC" => {
                        ledger.consume_as(
                            table,
                            "schedule.timezone",
                            &p.id,
                            p.span,
                            at(cron),
                            Fidelity::Exact,
                            "UTC, the timezone of the partitions the schedule follows".into(),
                        );
                    }
                    _ => {}
                }
                let target = crate::emit::Target {
                    framework: Framework::Dagster,
                    version: 1,
                };
                if shared::traps(p, target).contains(&"trap.logical_date") {
                    ledger.consume(table, "trap.logical_date", &p.id, p.span, at(cron));
                }
            }
            // A Dagster schedule runs only its own ticks: no catchup, as the source asks.
            consume_no_catchup(
                ledger,
                table,
                p,
                at(cron),
                "the schedule runs only its own ticks",
            );
            self.schedules.push(name);
            self.statements.push(text);
        } else {
            let at = Anchor::at(Scope::Module).then(format!("{job} = "));
            if let Some(s) = p
                .schedule
                .as_ref()
                .filter(|s| s.kind == ScheduleKind::Manual)
            {
                // A job without a schedule runs when it is launched, as the source's did.
                let id = crate::report::schedule_id(s.kind);
                ledger.consume(table, id, &p.id, p.span, at.clone());
            }
            consume_no_catchup(
                ledger,
                table,
                p,
                at,
                "the job runs only when it is launched",
            );
        }
        for t in &p.sensors {
            if let Some(text) = sensor(t, job, from, names) {
                let at = Anchor::at(Scope::Module).then(format!("def {}(", identifier(&t.name)));
                ledger.consume(table, "sensor_trigger", &t.name, t.span, at);
                self.sensors.push(identifier(&t.name));
                self.statements.push(text);
            }
        }
    }
}

/// `catchup=False` in the source: exact where `at` is, since what Dagster runs (`how`) has no
/// catchup either.
fn consume_no_catchup(
    ledger: &mut Ledger,
    table: &Translations,
    p: &Pipeline,
    at: Anchor,
    how: &str,
) {
    if p.catchup == Some(false) {
        ledger.consume_as(
            table,
            "catchup",
            &p.id,
            p.span,
            at,
            Fidelity::Exact,
            format!("no catchup, as in the source: {how}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::interval_cron;

    #[test]
    fn an_interval_is_a_cron_only_when_the_cron_fires_at_exactly_that_period() {
        assert_eq!(interval_cron(60).as_deref(), Some("* * * * *"));
        assert_eq!(interval_cron(900).as_deref(), Some("*/15 * * * *"));
        assert_eq!(interval_cron(3600).as_deref(), Some("0 * * * *"));
        assert_eq!(interval_cron(21_600).as_deref(), Some("0 */6 * * *"));
        assert_eq!(interval_cron(86_400).as_deref(), Some("0 0 * * *"));
        assert_eq!(interval_cron(604_800).as_deref(), Some("0 0 * * 0"));
        // `*/7` restarts at each hour, `0 */5` at each day, `*/2` days at each month; below a
        // minute or off the minute no cron fires at all: these become interval sensors.
        for secs in [10, 90, 420, 5_400, 18_000, 172_800, 1_209_600] {
            assert_eq!(interval_cron(secs), None, "{secs} s");
        }
    }
}
