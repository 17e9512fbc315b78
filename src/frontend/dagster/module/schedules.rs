//! Schedules and sensors: `ScheduleDefinition`, partitioned schedules, `@schedule`, `@sensor`
//! and their kinds.

use super::*;

impl<'s, 'a> ModuleReader<'_, 's, 'a>
where
    'a: 's,
{
    pub(super) fn new_schedule(&self, kind: &'static str, range: TextRange) -> ScheduleDef {
        ScheduleDef {
            name: None,
            cron: ScheduleCron::Given(None),
            timezone: None,
            job: None,
            job_name: None,
            kind,
            extra: BTreeMap::new(),
            opaque: Vec::new(),
            span: self.span(range),
        }
    }

    pub(super) fn schedule_option(&mut self, s: &mut ScheduleDef, k: &'s str, e: &'s Expr) {
        match k {
            "name" => {
                if let Value::Str(n) = self.core.ev.eval(e) {
                    s.name = Some(n);
                }
            }
            "cron_schedule" => match self.core.ev.eval(e) {
                Value::Str(c) => {
                    if let ScheduleCron::FromPartitions(o, _) = s.cron {
                        s.cron = ScheduleCron::FromPartitions(o, Some(c));
                    } else {
                        s.cron = ScheduleCron::Given(Some(c));
                    }
                }
                Value::List(items) => {
                    let crons: Vec<String> = items
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect();
                    s.extra.insert(
                        "cron_schedules".into(),
                        Value::List(crons.iter().cloned().map(Value::Str).collect()),
                    );
                    s.cron = ScheduleCron::Given(crons.first().cloned());
                }
                other => s.opaque.push(self.opaque_at(
                    "dynamic_cron",
                    e.range(),
                    format!("the cron `{}` is not known statically", render(&other)),
                )),
            },
            "execution_timezone" => {
                if let Value::Str(tz) = self.core.ev.eval(e) {
                    s.timezone = Some(tz);
                }
            }
            "job" | "target" => match self.job_target(e) {
                Ok(j) => s.job = Some(j),
                Err(why) => s
                    .opaque
                    .push(self.opaque_at("unread_target", e.range(), why)),
            },
            "job_name" => {
                if let Value::Str(n) = self.core.ev.eval(e) {
                    s.job_name = Some(n);
                }
            }
            "minute_of_hour" | "hour_of_day" | "day_of_week" | "day_of_month" => {
                let v = self.core.ev.eval(e).as_int();
                if let ScheduleCron::FromPartitions(mut o, c) = s.cron.clone() {
                    match k {
                        "minute_of_hour" => o.minute_of_hour = v,
                        "hour_of_day" => o.hour_of_day = v,
                        "day_of_week" => o.day_of_week = v,
                        _ => o.day_of_month = v,
                    }
                    s.cron = ScheduleCron::FromPartitions(o, c);
                }
            }
            _ => {
                s.extra.insert(k.to_string(), self.core.ev.eval(e));
            }
        }
    }

    pub(super) fn schedule_definition(&mut self, c: &'s ast::ExprCall) -> Obj {
        let mut s = self.new_schedule("schedule_definition", c.range());
        for (k, e) in self.arguments(Some(c), &["name"]) {
            self.schedule_option(&mut s, k, e);
        }
        self.cat.schedules.push(s);
        Obj::Schedule(self.cat.schedules.len() - 1)
    }

    pub(super) fn partitioned_schedule(&mut self, c: &'s ast::ExprCall) -> Obj {
        let mut s = self.new_schedule("partitioned_job", c.range());
        s.cron = ScheduleCron::FromPartitions(ScheduleOverrides::default(), None);
        for (k, e) in self.arguments(Some(c), &["job", "description", "name"]) {
            self.schedule_option(&mut s, k, e);
        }
        self.cat.schedules.push(s);
        Obj::Schedule(self.cat.schedules.len() - 1)
    }

    pub(super) fn schedule_fn(
        &mut self,
        def: FunctionDef<'s>,
        call: Option<&'s ast::ExprCall>,
    ) -> Obj {
        let mut s = self.new_schedule("schedule_function", def.range);
        s.name = Some(def.name.to_string());
        for (k, e) in self.arguments(call, &["cron_schedule"]) {
            self.schedule_option(&mut s, k, e);
        }
        s.opaque.push(self.opaque_at(
            "schedule_function",
            def.range,
            format!(
                "the @schedule function `{}` computes each tick's run requests (partition, config, tags) in code; its cron and job are kept, its body is not modelled",
                def.name
            ),
        ));
        self.cat.schedules.push(s);
        Obj::Schedule(self.cat.schedules.len() - 1)
    }

    pub(super) fn sensor_fn(
        &mut self,
        def: FunctionDef<'s>,
        call: Option<&'s ast::ExprCall>,
        kind: &'static str,
    ) -> Obj {
        let span = self.span(def.range);
        let mut s = SensorDef {
            trigger: SensorTrigger {
                name: def.name.to_string(),
                kind: kind.to_string(),
                asset: None,
                interval: None,
                callable: Some(def.to_callable(self.ctx.src)),
                span,
            },
            jobs: Vec::new(),
            job_names: Vec::new(),
            selection: None,
            extra: BTreeMap::new(),
        };
        let positional: &[&'s str] = if kind == "asset_sensor" {
            &["asset_key"]
        } else {
            &["job_name"]
        };
        for (k, e) in self.arguments(call, positional) {
            match k {
                "name" => {
                    if let Value::Str(n) = self.core.ev.eval(e) {
                        s.trigger.name = n;
                    }
                }
                "minimum_interval_seconds" => s.trigger.interval = self.core.ev.eval(e).as_f64(),
                "asset_key" => {
                    let obj = self.obj(e);
                    match self.one_key(&obj) {
                        Ok(k) => s.trigger.asset = Some(k.join("/")),
                        Err(why) => self.add_file_opaque("unread_sensor", e.range(), why),
                    }
                }
                "job" | "request_job" => match self.job_target(e) {
                    Ok(j) => s.jobs.push(j),
                    Err(why) => self.add_file_opaque("unread_target", e.range(), why),
                },
                "jobs" | "request_jobs" | "monitored_jobs" => match self.obj(e) {
                    Obj::List(items) => {
                        for item in items {
                            match item {
                                Obj::Job(j) => s.jobs.push(j),
                                _ => self.add_file_opaque(
                                    "unread_target",
                                    e.range(),
                                    "a job of this sensor is not defined in this file".into(),
                                ),
                            }
                        }
                    }
                    _ => self.add_file_opaque(
                        "unread_target",
                        e.range(),
                        "the sensor's jobs are not a literal list".into(),
                    ),
                },
                "job_name" => {
                    if let Value::Str(n) = self.core.ev.eval(e) {
                        s.job_names.push(n);
                    }
                }
                "asset_selection" | "target" => {
                    let obj = self.obj(e);
                    match obj {
                        Obj::Job(j) => s.jobs.push(j),
                        other => match self.selection_of(&other) {
                            Ok(sel) => s.selection = Some(sel),
                            Err(why) => self.add_file_opaque("unread_target", e.range(), why),
                        },
                    }
                }
                _ => {
                    s.extra.insert(k.to_string(), self.core.ev.eval(e));
                }
            }
        }
        self.cat.sensors.push(s);
        Obj::Sensor(self.cat.sensors.len() - 1)
    }
}
