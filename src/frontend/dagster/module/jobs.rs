//! Ops and jobs: `@op`, `@graph`, `@job`, `graph.to_job` and `define_asset_job`.

use super::*;

impl<'s, 'a> ModuleReader<'_, 's, 'a>
where
    'a: 's,
{
    pub(super) fn op(&mut self, def: FunctionDef<'s>, call: Option<&'s ast::ExprCall>) -> Obj {
        let span = self.span(def.range);
        let mut name = def.name.to_string();
        let mut node = Node::new("", NodeKind::Op, span);
        node.callable = Some(def.to_callable(self.ctx.src));
        node.description = def.docstring();
        let mut outputs = vec![("result".to_string(), false)];
        for (k, e) in self.keywords(call) {
            let v = self.core.ev.eval(e);
            match k {
                "name" => {
                    if let Value::Str(s) = &v {
                        name = s.clone();
                    }
                }
                "description" => {
                    if let Value::Str(s) = &v {
                        node.description = Some(s.clone());
                    }
                }
                "retry_policy" => match options::retry_policy(&v) {
                    Ok(p) => node.policy = p,
                    Err(why) => {
                        self.add_file_opaque("unread_option", e.range(), why);
                        node.extra.insert(k.into(), v);
                    }
                },
                "tags" => match options::tag_map(&v) {
                    Ok(t) => {
                        if let Some(pool) = t.get("dagster/concurrency_key") {
                            node.policy.pool = Some(pool.clone());
                        }
                        node.tags = options::tag_strings(&t);
                    }
                    Err(_) => {
                        node.extra.insert(k.into(), v);
                    }
                },
                "pool" => match &v {
                    Value::Str(s) => node.policy.pool = Some(s.clone()),
                    _ => {
                        node.extra.insert(k.into(), v);
                    }
                },
                "out" => {
                    match &v {
                        Value::Call(c) => {
                            outputs = vec![("result".into(), api(&c.func) == Some("DynamicOut"))];
                            if let Some(Value::Str(io)) = c.kwargs.get("io_manager_key") {
                                node.io_manager = Some(io.clone());
                            }
                        }
                        Value::Dict(_) => {
                            let outs = self.ordered_dict(e).unwrap_or_default();
                            node.optional_outputs = outs
                                .iter()
                                .filter(|(_, o, _)| not_required(o))
                                .map(|(n, _, _)| n.clone())
                                .collect();
                            outputs = outs
                                .into_iter()
                                .map(|(n, o, _)| {
                                    let dynamic = matches!(&o, Value::Call(c) if api(&c.func) == Some("DynamicOut"));
                                    (n, dynamic)
                                })
                                .collect();
                        }
                        _ => {}
                    }
                    node.extra.insert(k.into(), v);
                }
                _ => {
                    node.extra.insert(k.into(), v);
                }
            }
        }
        if outputs.len() > 1 {
            node.outputs = outputs.iter().map(|o| o.0.clone()).collect();
        } else {
            // One output has no name to test: only named outputs are modelled as optional.
            node.optional_outputs.clear();
        }
        let dynamic: Vec<Value> = outputs
            .iter()
            .filter(|o| o.1)
            .map(|o| Value::Str(o.0.clone()))
            .collect();
        if !dynamic.is_empty() {
            node.extra
                .insert("dynamic_outputs".into(), Value::List(dynamic));
        }
        let facts = self.facts(&def);
        if !facts.uses.is_empty() {
            node.extra.insert(
                "uses".into(),
                Value::List(facts.uses.iter().cloned().map(Value::Str).collect()),
            );
        }
        let mut resources = Vec::new();
        let mut inputs = Vec::new();
        for (p, role) in self.params(&def) {
            match role {
                Role::Input => inputs.push(p.to_string()),
                Role::Resource => resources.push(Value::Str(p.to_string())),
                _ => {}
            }
        }
        if !resources.is_empty() {
            node.extra
                .insert("resources".into(), Value::List(resources));
        }
        node.id = name.clone();
        self.cat.ops.push(OpDef {
            name,
            node,
            inputs,
            outputs,
        });
        Obj::Op(self.cat.ops.len() - 1)
    }

    /// Shared options of `@job`, `graph.to_job` and `define_asset_job`.
    pub(super) fn job_option(&mut self, j: &mut JobDef<'s>, k: &str, e: &'s Expr) {
        let v = self.core.ev.eval(e);
        match k {
            "description" => match &v {
                Value::Str(s) => j.description = Some(s.clone()),
                _ => {
                    j.extra.insert(k.into(), v);
                }
            },
            "tags" | "run_tags" => match options::tag_map(&v) {
                Ok(t) => j.tags.extend(options::tag_strings(&t)),
                Err(why) => {
                    j.opaque
                        .push(self.opaque_at("unread_option", e.range(), why));
                    j.extra.insert(k.into(), v);
                }
            },
            "owners" => match options::strings(&v) {
                Ok(o) => j.owners = o,
                Err(_) => {
                    j.extra.insert(k.into(), v);
                }
            },
            "partitions_def" => match &v {
                Value::None => {}
                other => match partitions::from_value(other) {
                    Ok(p) => j.partitions = Some(p),
                    Err(why) => {
                        j.opaque
                            .push(self.opaque_at("unread_partitions", e.range(), why));
                        j.extra.insert(k.into(), v);
                    }
                },
            },
            "op_retry_policy" => match options::retry_policy(&v) {
                Ok(p) => j.defaults = p,
                Err(why) => {
                    j.opaque
                        .push(self.opaque_at("unread_option", e.range(), why));
                    j.extra.insert(k.into(), v);
                }
            },
            "resource_defs" => match &v {
                Value::Dict(m) => {
                    let span = self.span(e.range());
                    for (key, r) in m {
                        let mut r = options::resource(key, r, span);
                        r.class = r.class.map(|c| self.qualify_text(&c));
                        j.resources.push(r);
                    }
                }
                _ => {
                    j.extra.insert(k.into(), v);
                }
            },
            _ => {
                j.extra.insert(k.into(), v);
            }
        }
    }

    pub(super) fn new_job(&self, name: String, kind: JobKind<'s>, range: TextRange) -> JobDef<'s> {
        JobDef {
            name,
            kind,
            description: None,
            tags: Vec::new(),
            owners: Vec::new(),
            partitions: None,
            defaults: Policy::default(),
            resources: Vec::new(),
            extra: BTreeMap::new(),
            opaque: Vec::new(),
            span: self.span(range),
        }
    }

    pub(super) fn job(&mut self, def: FunctionDef<'s>, call: Option<&'s ast::ExprCall>) -> Obj {
        let mut j = self.new_job(def.name.to_string(), JobKind::Ops(def), def.range);
        j.description = def.docstring();
        let args = self.keywords(call);
        self.add_op_job(j, args)
    }

    /// Applies a `@job`/`to_job` call's arguments (`name=` and the job options) to an op job
    /// and adds it to the catalog.
    fn add_op_job(&mut self, mut j: JobDef<'s>, args: Vec<(&'s str, &'s Expr)>) -> Obj {
        for (k, e) in args {
            if k == "name" {
                if let Value::Str(s) = self.core.ev.eval(e) {
                    j.name = s;
                }
                continue;
            }
            self.job_option(&mut j, k, e);
        }
        self.cat.jobs.push(j);
        Obj::Job(self.cat.jobs.len() - 1)
    }

    pub(super) fn graph_to_job(&mut self, g: usize, c: &'s ast::ExprCall) -> Obj {
        let graph = self.cat.graphs[g].clone();
        let mut j = self.new_job(graph.name.clone(), JobKind::Ops(graph.def), c.range());
        j.description = graph.description.clone();
        j.extra
            .insert("graph".into(), Value::Str(graph.name.clone()));
        let args = self.arguments(Some(c), &["name"]);
        self.add_op_job(j, args)
    }

    pub(super) fn define_asset_job(&mut self, c: &'s ast::ExprCall) -> Obj {
        let mut j = self.new_job(String::new(), JobKind::Assets(Ok(None)), c.range());
        let mut named = false;
        for (k, e) in self.arguments(Some(c), &["name", "selection"]) {
            match k {
                "name" => match self.core.ev.eval(e) {
                    Value::Str(s) => {
                        j.name = s;
                        named = true;
                    }
                    other => j.opaque.push(self.opaque_at(
                        "dynamic_name",
                        e.range(),
                        format!("the job name `{}` is not known statically", render(&other)),
                    )),
                },
                "selection" => {
                    let obj = self.obj(e);
                    j.kind = JobKind::Assets(match obj {
                        Obj::Value(Value::None) => Ok(None),
                        other => self.selection_of(&other).map(Some).map_err(|why| {
                            format!(
                                "the selection `{}` could not be resolved: {why}",
                                self.ctx.src.slice(e.range())
                            )
                        }),
                    });
                }
                _ => self.job_option(&mut j, k, e),
            }
        }
        if !named {
            j.name = self.ctx.src.slice(c.range()).chars().take(40).collect();
        }
        self.cat.jobs.push(j);
        Obj::Job(self.cat.jobs.len() - 1)
    }

    pub(super) fn job_target(&mut self, e: &'s Expr) -> Result<usize, String> {
        match self.obj(e) {
            Obj::Job(j) => Ok(j),
            Obj::Graph(g) => {
                let graph = self.cat.graphs[g].clone();
                let j = self.new_job(graph.name.clone(), JobKind::Ops(graph.def), e.range());
                self.cat.jobs.push(j);
                Ok(self.cat.jobs.len() - 1)
            }
            _ => Err(format!(
                "`{}` is not a job defined in this file",
                self.ctx.src.slice(e.range())
            )),
        }
    }
}

/// Whether an `out=` entry is an `Out(is_required=False)` (or a `DynamicOut`, which Dagster
/// never requires either, left out here: its consumers are mapped, not skipped).
fn not_required(o: &Value) -> bool {
    matches!(o, Value::Call(c)
        if api(&c.func) == Some("Out")
            && c.kwargs.get("is_required") == Some(&Value::Bool(false)))
}
