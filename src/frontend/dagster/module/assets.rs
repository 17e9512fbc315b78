//! `@asset` and `@graph_asset`: one asset definition, its options and its dependencies.

use super::*;

impl<'s, 'a> ModuleReader<'_, 's, 'a>
where
    'a: 's,
{
    pub(super) fn new_asset(&mut self, def: &FunctionDef<'s>, definition: usize) -> AssetDef {
        let span = self.span(def.range);
        let mut node = Node::new("", NodeKind::Asset, span);
        node.callable = Some(def.to_callable(self.ctx.src));
        node.description = def.docstring();
        node.condition = self.guard(def);
        AssetDef::new(node, definition, false)
    }

    /// The condition of an asset whose body starts by returning None unless it holds
    /// (`if not cond: return None`, one such test per part, as orchmig writes a branch's arms):
    /// its work runs only when every part holds.
    fn guard(&self, def: &FunctionDef<'s>) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        for stmt in def.body {
            let ast::Stmt::If(i) = stmt else { break };
            let returns_none = matches!(
                i.body.as_slice(),
                [ast::Stmt::Return(r)] if r.value.as_deref().is_none_or(|v| v.is_none_literal_expr())
            );
            if !returns_none || !i.elif_else_clauses.is_empty() {
                break;
            }
            // `if not cond:` holds when `cond` does; any other test `t` when `not (t)` does.
            let part = match i.test.as_ref() {
                ast::Expr::UnaryOp(u) if u.op == ast::UnaryOp::Not => {
                    self.ctx.src.slice(u.operand.range()).trim().to_string()
                }
                t => format!("not ({})", self.ctx.src.slice(t.range()).trim()),
            };
            // Over several lines: in parentheses, on one line, so that it parses alone.
            let part = if part.contains('\n') {
                let joined: Vec<&str> = part.lines().map(str::trim).collect();
                format!("({})", joined.join(" "))
            } else {
                part
            };
            parts.push(part);
        }
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(
                parts
                    .iter()
                    .map(|p| format!("({p})"))
                    .collect::<Vec<_>>()
                    .join(" and "),
            ),
        }
    }

    /// Applies an option shared by `@asset`, `@multi_asset`, `AssetOut` and `AssetSpec`.
    pub(super) fn asset_option(
        &mut self,
        a: &mut AssetDef,
        key: &str,
        value: &Value,
        range: TextRange,
    ) {
        let problem = |this: &Self, a: &mut AssetDef, why: String| {
            a.opaque.push(this.opaque_at("unread_option", range, why));
            a.node.extra.insert(key.to_string(), value.clone());
        };
        match key {
            "group_name" => match value {
                Value::Str(s) => a.group = s.clone(),
                Value::None => {}
                other => problem(
                    self,
                    a,
                    format!("the group name `{}` is not literal", render(other)),
                ),
            },
            "description" => match value {
                Value::Str(s) => a.node.description = Some(s.clone()),
                Value::None => {}
                other => problem(
                    self,
                    a,
                    format!("the description `{}` is not literal", render(other)),
                ),
            },
            "owners" => match options::strings(value) {
                Ok(o) => {
                    a.node.policy.owner = (!o.is_empty()).then(|| o.join(","));
                    a.owners = o;
                }
                Err(why) => problem(self, a, why),
            },
            "tags" => match options::tag_map(value) {
                Ok(t) => {
                    a.node.tags = options::tag_strings(&t);
                    a.tags = t;
                }
                Err(why) => problem(self, a, why),
            },
            "kinds" | "compute_kind" => match options::strings(value) {
                Ok(k) => {
                    for kind in &k {
                        if !a.kinds.contains(kind) {
                            a.kinds.push(kind.clone());
                        }
                    }
                    a.node.extra.insert(key.to_string(), value.clone());
                }
                Err(why) => problem(self, a, why),
            },
            "partitions_def" => match value {
                Value::None => {}
                v => match partitions::from_value(v) {
                    Ok(p) => {
                        a.node.partitions = Some(p.partitions.clone());
                        if !p.extra.is_empty() {
                            a.node
                                .extra
                                .insert("partitions_options".into(), Value::Dict(p.extra.clone()));
                        }
                        a.partitions = Some(p);
                    }
                    Err(why) => problem(self, a, why),
                },
            },
            "io_manager_key" => match value {
                Value::Str(s) => a.node.io_manager = Some(s.clone()),
                Value::None => {}
                other => problem(
                    self,
                    a,
                    format!("the IO manager key `{}` is not literal", render(other)),
                ),
            },
            "retry_policy" => match value {
                Value::None => {}
                v => match options::retry_policy(v) {
                    Ok(p) => a.node.policy = a.node.policy.over(&p),
                    Err(why) => problem(self, a, why),
                },
            },
            "pool" => match value {
                Value::Str(s) => a.node.policy.pool = Some(s.clone()),
                Value::None => {}
                other => problem(
                    self,
                    a,
                    format!("the pool `{}` is not literal", render(other)),
                ),
            },
            "op_tags" => {
                if let Value::Dict(m) = value
                    && let Some(Value::Str(pool)) = m.get("dagster/concurrency_key")
                {
                    a.node.policy.pool = Some(pool.clone());
                }
                a.node.extra.insert(key.into(), value.clone());
            }
            _ => {
                a.node.extra.insert(key.into(), value.clone());
            }
        }
    }

    /// The key and partition mapping of an `ins` entry for a parameter.
    pub(super) fn asset_in(
        &self,
        param: &str,
        v: &Value,
    ) -> Result<(Vec<String>, Option<Value>), String> {
        match v {
            Value::Call(c) if api(&c.func) == Some("AssetIn") => {
                let key = c.args.first().or_else(|| c.kwargs.get("key"));
                let key = match key {
                    None | Some(Value::None) => {
                        let mut k = match c.kwargs.get("key_prefix") {
                            Some(p) => options::key_prefix(p)?,
                            None => Vec::new(),
                        };
                        k.push(param.to_string());
                        k
                    }
                    Some(k) => self
                        .value_keys(k, 0)?
                        .into_iter()
                        .next()
                        .map(|x| x.0)
                        .ok_or("an AssetIn without a key")?,
                };
                Ok((key, c.kwargs.get("partition_mapping").cloned()))
            }
            other => Ok((
                self.value_keys(other, 0)?
                    .into_iter()
                    .next()
                    .map(|x| x.0)
                    .ok_or("an input without a key")?,
                None,
            )),
        }
    }

    /// Data deps from the function's inputs (parameters and `ins=`).
    pub(super) fn input_deps(
        &mut self,
        def: &FunctionDef<'s>,
        ins: &BTreeMap<String, Value>,
        ins_range: Option<TextRange>,
        a: &mut AssetDef,
    ) {
        let span = self.span(def.range);
        let mut resources = Vec::new();
        let mut seen = HashSet::new();
        let params = self.params(def);
        let mut names: Vec<&str> = Vec::new();
        for (name, role) in &params {
            match role {
                Role::Input => names.push(name),
                Role::Resource => resources.push(Value::Str(name.to_string())),
                Role::Context | Role::Config => {}
            }
        }
        for name in ins.keys() {
            if !names.contains(&name.as_str()) {
                names.push(name.as_str());
            }
        }
        for name in names {
            if !seen.insert(name.to_string()) {
                continue;
            }
            let (key, mapping) = match ins.get(name) {
                Some(v) => match self.asset_in(name, v) {
                    Ok(x) => x,
                    Err(why) => {
                        let range = ins_range.unwrap_or(def.range);
                        a.opaque.push(self.opaque_at(
                            "unread_input",
                            range,
                            format!("the input `{name}` could not be read: {why}"),
                        ));
                        continue;
                    }
                },
                None => (vec![name.to_string()], None),
            };
            a.deps.push(Dep {
                key,
                kind: EdgeKind::Data,
                param: Some(name.to_string()),
                mapping,
                span,
            });
        }
        if !resources.is_empty() {
            a.node
                .extra
                .insert("resources".into(), Value::List(resources));
        }
        let mut in_options = BTreeMap::new();
        for (name, v) in ins {
            if let Value::Call(c) = v {
                let other: BTreeMap<String, Value> = c
                    .kwargs
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(k.as_str(), "key" | "key_prefix" | "partition_mapping")
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if !other.is_empty() {
                    in_options.insert(name.clone(), Value::Dict(other));
                }
            }
        }
        if !in_options.is_empty() {
            a.node.extra.insert("ins".into(), Value::Dict(in_options));
        }
    }

    pub(super) fn order_deps(&mut self, expr: &'s Expr, a: &mut AssetDef) {
        let obj = self.obj(expr);
        let span = self.span(expr.range());
        if let Value::List(items) = self.core.ev.eval(expr) {
            let mut meta = BTreeMap::new();
            for item in &items {
                if let Value::Call(c) = item
                    && api(&c.func) == Some("AssetDep")
                    && let Some(m) = c.kwargs.get("metadata")
                    && let Ok(keys) = self.value_keys(item, 0)
                {
                    for (k, _) in keys {
                        meta.insert(k.join("/"), m.clone());
                    }
                }
            }
            if !meta.is_empty() {
                a.node
                    .extra
                    .insert("dep_metadata".into(), Value::Dict(meta));
            }
        }
        match self.dep_list(&obj) {
            Ok(keys) => {
                for (key, mapping) in keys {
                    if let Some(d) = a.deps.iter_mut().find(|d| d.key == key) {
                        if d.mapping.is_none() {
                            d.mapping = mapping;
                        }
                        continue;
                    }
                    a.deps.push(Dep {
                        key,
                        kind: EdgeKind::Order,
                        param: None,
                        mapping,
                        span,
                    });
                }
            }
            Err(why) => a.opaque.push(self.opaque_at(
                "unread_deps",
                expr.range(),
                format!("the deps could not be read: {why}"),
            )),
        }
    }

    pub(super) fn finish_asset(&mut self, mut a: AssetDef, facts: &BodyFacts) -> usize {
        a.node.id = a.key.join("/");
        a.node.group = Some(a.group.clone());
        if !facts.uses.is_empty() {
            a.node.extra.insert(
                "uses".into(),
                Value::List(facts.uses.iter().cloned().map(Value::Str).collect()),
            );
        }
        let mut mappings = BTreeMap::new();
        for d in &a.deps {
            if let Some(m) = &d.mapping {
                mappings.insert(d.key.join("/"), m.clone());
            }
        }
        if !mappings.is_empty() {
            a.node
                .extra
                .insert("partition_mappings".into(), Value::Dict(mappings));
        }
        self.cat.assets.push(a);
        self.cat.assets.len() - 1
    }

    pub(super) fn next_definition(&mut self) -> usize {
        self.cat.definitions += 1;
        self.cat.definitions
    }

    pub(super) fn asset(
        &mut self,
        def: FunctionDef<'s>,
        call: Option<&'s ast::ExprCall>,
        flavor: Option<&str>,
    ) -> Obj {
        let definition = self.next_definition();
        let mut a = self.new_asset(&def, definition);
        a.node.flavor = flavor.map(str::to_string);
        let mut name = def.name.to_string();
        let mut prefix = Vec::new();
        let mut key = None;
        let mut ins = BTreeMap::new();
        let mut ins_range = None;
        let mut deps_expr = None;
        let mut specs_expr = None;
        for (k, e) in self.keywords(call) {
            match k {
                "name" => match self.core.ev.eval(e) {
                    Value::Str(s) => name = s,
                    other => a.opaque.push(self.opaque_at(
                        "dynamic_name",
                        e.range(),
                        format!("the asset name `{}` is not known statically; the function name is used", render(&other)),
                    )),
                },
                "key" => {
                    let obj = self.obj(e);
                    match self.one_key(&obj) {
                        Ok(k) => key = Some(k),
                        Err(why) => a.opaque.push(self.opaque_at(
                            "dynamic_key",
                            e.range(),
                            format!("the asset key could not be read ({why}); the function name is used"),
                        )),
                    }
                }
                "key_prefix" => match options::key_prefix(&self.core.ev.eval(e)) {
                    Ok(p) => prefix = p,
                    Err(why) => a.opaque.push(self.opaque_at("dynamic_key", e.range(), why)),
                },
                "ins" => {
                    ins_range = Some(e.range());
                    match self.core.ev.eval(e) {
                        Value::Dict(m) => ins = m,
                        other => a.opaque.push(self.opaque_at(
                            "unread_input",
                            e.range(),
                            format!("the ins `{}` are not a literal dict", render(&other)),
                        )),
                    }
                }
                "deps" | "non_argument_deps" => deps_expr = Some(e),
                "check_specs" => specs_expr = Some(e),
                _ => {
                    let v = self.core.ev.eval(e);
                    self.asset_option(&mut a, k, &v, e.range());
                }
            }
        }
        a.key = key.unwrap_or_else(|| {
            let mut k = prefix.clone();
            k.push(name.clone());
            k
        });
        self.input_deps(&def, &ins, ins_range, &mut a);
        if let Some(e) = deps_expr {
            self.order_deps(e, &mut a);
        }
        let facts = self.facts(&def);
        if flavor == Some("graph_asset") {
            let ops = self.graph_ops(&def);
            if !ops.is_empty() {
                // The ops' definitions as written, so that a port can carry them with the asset.
                let defs: Vec<Value> = ops
                    .iter()
                    .filter_map(|name| {
                        self.cat
                            .ops
                            .iter()
                            .find(|o| Some(o.name.as_str()) == name.as_str())
                    })
                    .filter_map(|o| o.node.callable.as_ref())
                    .map(|c| {
                        let text = self.ctx.src.text;
                        Value::Str(
                            text.get(c.span.start as usize..c.span.end as usize)
                                .unwrap_or("")
                                .to_string(),
                        )
                    })
                    .collect();
                a.node.extra.insert("graph_ops".into(), Value::List(ops));
                a.node
                    .extra
                    .insert("graph_op_defs".into(), Value::List(defs));
            }
        }
        let key = a.key.clone();
        let idx = self.finish_asset(a, &facts);
        if let Some(e) = specs_expr {
            let by = key.join("/");
            let checks = self.check_specs(e, &facts, None, Some(&key), Some(&by));
            self.cat.assets[idx].checks = checks;
        }
        Obj::Assets(vec![idx])
    }

    /// Names of the ops a graph-backed asset's body invokes.
    pub(super) fn graph_ops(&self, def: &FunctionDef<'s>) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        each_expr(def.body, &mut |e| {
            if let Expr::Call(c) = e
                && let Expr::Name(n) = &*c.func
                && let Some(Obj::Op(i)) = self.env_get(n.id.as_str())
            {
                let v = Value::Str(self.cat.ops[*i].name.clone());
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        });
        out
    }
}
