//! `Definitions(...)`: what a module registers, and `Definitions.merge`.

use super::*;

impl<'s, 'a> ModuleReader<'_, 's, 'a>
where
    'a: 's,
{
    pub(super) fn definitions(&mut self, c: &'s ast::ExprCall) -> Obj {
        let mut d = DefsDef {
            span: self.span(c.range()),
            ..DefsDef::default()
        };
        let positional = [
            "assets",
            "schedules",
            "sensors",
            "jobs",
            "resources",
            "executor",
            "loggers",
            "asset_checks",
            "metadata",
        ];
        for (k, e) in self.arguments(Some(c), &positional) {
            match k {
                "resources" => match self.core.ev.eval(e) {
                    Value::Dict(m) => {
                        for (key, v) in m {
                            let span = self.span(e.range());
                            let mut r = options::resource(&key, &v, span);
                            r.class = r.class.map(|c| self.qualify_text(&c));
                            d.resources.push(r);
                        }
                    }
                    Value::None => {}
                    other => self.add_file_opaque(
                        "unread_resources",
                        e.range(),
                        format!("the resources `{}` are not a literal dict", render(&other)),
                    ),
                },
                "assets" | "asset_checks" | "jobs" | "schedules" | "sensors" => {
                    let obj = self.obj(e);
                    let mut items = Vec::new();
                    flatten(obj, &mut items);
                    for item in items {
                        self.register(&mut d, k, item, e.range());
                    }
                }
                _ => {
                    d.extra.insert(k.to_string(), self.core.ev.eval(e));
                }
            }
        }
        self.cat.defs.push(d);
        Obj::Defs(self.cat.defs.len() - 1)
    }

    pub(super) fn register(&mut self, d: &mut DefsDef, list: &str, item: Obj, range: TextRange) {
        let item = match item {
            Obj::Value(Value::Expr(name)) if is_identifier(&name) => match self.lookup(&name) {
                Some(o) => o.clone(),
                None => Obj::Value(Value::Expr(name)),
            },
            other => other,
        };
        match item {
            Obj::Assets(idxs) => d.assets.extend(idxs),
            Obj::Spec(i) => d.assets.push(i),
            Obj::Checks(idxs) => d.checks.extend(idxs),
            Obj::Job(j) => d.jobs.push(j),
            Obj::Graph(g) => {
                let graph = self.cat.graphs[g].clone();
                let j = self.new_job(graph.name.clone(), JobKind::Ops(graph.def), range);
                self.cat.jobs.push(j);
                d.jobs.push(self.cat.jobs.len() - 1);
            }
            Obj::Schedule(s) => d.schedules.push(s),
            Obj::Sensor(s) => d.sensors.push(s),
            Obj::Loaded => d.loads_modules = true,
            Obj::Unknown => {}
            other => {
                let shown = match &other {
                    Obj::Value(v) => render(v),
                    _ => "this entry".into(),
                };
                self.add_file_opaque(
                    "unread_definition",
                    range,
                    format!(
                        "`{shown}` in Definitions({list}=...) is not a definition orchmig can read"
                    ),
                );
            }
        }
    }

    pub(super) fn merge_definitions(&mut self, parts: &[Obj], range: TextRange) -> Obj {
        let mut merged = DefsDef {
            span: self.span(range),
            ..DefsDef::default()
        };
        for p in parts {
            match p {
                Obj::Defs(i) => {
                    let d = self.cat.defs[*i].clone();
                    merged.assets.extend(d.assets);
                    merged.loads_modules |= d.loads_modules;
                    merged.checks.extend(d.checks);
                    merged.jobs.extend(d.jobs);
                    merged.schedules.extend(d.schedules);
                    merged.sensors.extend(d.sensors);
                    merged.resources.extend(d.resources);
                    merged.extra.extend(d.extra);
                }
                _ => self.add_file_opaque(
                    "unread_definition",
                    range,
                    "Definitions.merge of something that is not a Definitions built in this file"
                        .into(),
                ),
            }
        }
        self.cat.defs.push(merged);
        Obj::Defs(self.cat.defs.len() - 1)
    }
}
