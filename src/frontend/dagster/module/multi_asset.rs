//! `@multi_asset` (its outs and specs) and `AssetSpec`.

use super::*;

impl<'s, 'a> ModuleReader<'_, 's, 'a>
where
    'a: 's,
{
    pub(super) fn multi_asset(
        &mut self,
        def: FunctionDef<'s>,
        call: Option<&'s ast::ExprCall>,
    ) -> Obj {
        let definition = self.next_definition();
        let mut common = self.new_asset(&def, definition);
        let mut op_name = def.name.to_string();
        let mut outs: Vec<(String, Value, TextRange)> = Vec::new();
        let mut specs: Vec<Obj> = Vec::new();
        let mut ins = BTreeMap::new();
        let mut ins_range = None;
        let mut deps_expr = None;
        let mut specs_checks = None;
        let mut internal: Option<(Value, TextRange)> = None;
        let mut options: Vec<(&'s str, Value, TextRange)> = Vec::new();
        for (k, e) in self.keywords(call) {
            match k {
                "name" => {
                    if let Value::Str(s) = self.core.ev.eval(e) {
                        op_name = s;
                    }
                }
                "outs" => match self.ordered_dict(e) {
                    Some(items) => outs = items,
                    None => common.opaque.push(self.opaque_at(
                        "unread_outs",
                        e.range(),
                        format!(
                            "the outs `{}` are not a literal dict",
                            self.ctx.src.slice(e.range())
                        ),
                    )),
                },
                "specs" => match self.obj(e) {
                    Obj::List(items) => specs = items,
                    other => specs = vec![other],
                },
                "ins" => {
                    ins_range = Some(e.range());
                    if let Value::Dict(m) = self.core.ev.eval(e) {
                        ins = m;
                    }
                }
                "deps" => deps_expr = Some(e),
                "check_specs" => specs_checks = Some(e),
                "internal_asset_deps" => internal = Some((self.core.ev.eval(e), e.range())),
                "group_name" => {
                    let v = self.core.ev.eval(e);
                    self.asset_option(&mut common, k, &v, e.range());
                }
                _ => options.push((k, self.core.ev.eval(e), e.range())),
            }
        }
        for (k, v, r) in &options {
            self.asset_option(&mut common, k, v, *r);
        }
        common
            .node
            .extra
            .insert("multi_asset".into(), Value::Str(op_name.clone()));
        self.input_deps(&def, &ins, ins_range, &mut common);
        if let Some(e) = deps_expr {
            self.order_deps(e, &mut common);
        }
        let facts = self.facts(&def);
        let mut members: Vec<AssetDef> = Vec::new();
        for (name, v, range) in outs {
            let a = self.out_member(&common, name, &v, range);
            members.push(a);
        }
        for spec in &specs {
            let Obj::Spec(i) = spec else {
                common.opaque.push(self.opaque_at(
                    "unread_spec",
                    def.range,
                    "a spec of this multi-asset is not a literal AssetSpec".into(),
                ));
                continue;
            };
            members.push(spec_member(&common, &self.cat.assets[*i]));
        }
        if let Some((v, range)) = internal {
            self.restrict_internal_deps(&mut members, &mut common, v, range);
        }
        if members.is_empty() {
            members.push(common.clone());
            if let Some(m) = members.last_mut() {
                m.key = vec![op_name.clone()];
            }
        }
        // Every asset of the multi-asset lists the outputs of the function they share.
        if members.len() > 1 {
            let names: Vec<String> = members.iter().map(output_name).collect();
            for a in &mut members {
                a.node.outputs = names.clone();
            }
        }
        let mut idxs = Vec::new();
        for a in members {
            idxs.push(self.finish_asset(a, &facts));
        }
        if let Some(e) = specs_checks
            && let Some(&first) = idxs.first()
        {
            let by = self.cat.assets[first].key.join("/");
            let checks = self.check_specs(e, &facts, None, None, Some(&by));
            self.cat.assets[first].checks = checks;
        }
        Obj::Assets(idxs)
    }

    /// One asset of a multi-asset from its `outs` entry (an `AssetOut` gives its key and options).
    fn out_member(
        &mut self,
        common: &AssetDef,
        name: String,
        v: &Value,
        range: TextRange,
    ) -> AssetDef {
        let mut a = common.clone();
        let mut key = vec![name.clone()];
        if let Value::Call(c) = v
            && api(&c.func) == Some("AssetOut")
        {
            let mut prefix = Vec::new();
            let mut explicit = None;
            for (k, val) in &c.kwargs {
                match k.as_str() {
                    "key_prefix" => prefix = options::key_prefix(val).unwrap_or_default(),
                    "key" => explicit = literal_key(val),
                    "is_required" | "dagster_type" => {
                        a.node.extra.insert(k.clone(), val.clone());
                    }
                    _ => self.asset_option(&mut a, k, val, range),
                }
            }
            if let Some(p) = c.args.first() {
                prefix = options::key_prefix(p).unwrap_or_default();
            }
            key = explicit.unwrap_or_else(|| {
                let mut k = prefix;
                k.push(name.clone());
                k
            });
        }
        a.node
            .extra
            .insert("output".into(), Value::Str(name.clone()));
        a.key = key;
        a
    }

    /// `internal_asset_deps=`: each output keeps only the upstream keys listed for it.
    fn restrict_internal_deps(
        &self,
        members: &mut [AssetDef],
        common: &mut AssetDef,
        v: Value,
        range: TextRange,
    ) {
        match v {
            Value::Dict(m) => {
                for a in members.iter_mut() {
                    let out = a
                        .node
                        .extra
                        .get("output")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| a.key.join("/"));
                    if let Some(allowed) = m.get(&out) {
                        let allowed: Vec<Vec<String>> = match allowed {
                            Value::List(items) => items
                                .iter()
                                .filter_map(|x| self.value_keys(x, 0).ok())
                                .flatten()
                                .map(|x| x.0)
                                .collect(),
                            _ => Vec::new(),
                        };
                        a.deps.retain(|d| allowed.contains(&d.key));
                    }
                }
            }
            other => common.opaque.push(self.opaque_at(
                "unread_internal_deps",
                range,
                format!(
                    "internal_asset_deps `{}` is not a literal dict",
                    render(&other)
                ),
            )),
        }
    }

    pub(super) fn asset_spec(&mut self, c: &'s ast::ExprCall) -> Obj {
        let definition = self.next_definition();
        let span = self.span(c.range());
        let mut a = AssetDef::new(
            Node::new("", NodeKind::ExternalAsset, span),
            definition,
            true,
        );
        let args = self.arguments(Some(c), &["key"]);
        for (k, e) in args {
            match k {
                "key" => {
                    let obj = self.obj(e);
                    match self.one_key(&obj) {
                        Ok(key) => a.key = key,
                        Err(why) => a.opaque.push(self.opaque_at(
                            "dynamic_key",
                            e.range(),
                            format!("the spec's key could not be read: {why}"),
                        )),
                    }
                }
                "deps" => self.order_deps(e, &mut a),
                _ => {
                    let v = self.core.ev.eval(e);
                    self.asset_option(&mut a, k, &v, e.range());
                }
            }
        }
        if a.key.is_empty() {
            a.key = vec![format!("<spec at line {}>", span.line)];
        }
        let idx = self.finish_asset(a, &BodyFacts::default());
        Obj::Spec(idx)
    }
}

/// The output name of one asset of a multi-asset: its `outs` key, else (a spec) its key as
/// Dagster names the output (`a/b` → `a__b`).
fn output_name(a: &AssetDef) -> String {
    a.node
        .extra
        .get("output")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| a.key.join("__"))
}

/// One asset of a multi-asset from one of its `specs`: the spec's key, group, metadata, owners,
/// tags, kinds, partitions and deps over the multi-asset's own options.
fn spec_member(common: &AssetDef, base: &AssetDef) -> AssetDef {
    let mut a = common.clone();
    a.key = base.key.clone();
    if base.group != "default" {
        a.group = base.group.clone();
    }
    for (k, v) in &base.node.extra {
        a.node.extra.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if base.node.description.is_some() {
        a.node.description = base.node.description.clone();
    }
    if !base.owners.is_empty() {
        a.owners = base.owners.clone();
        a.node.policy.owner = base.node.policy.owner.clone();
    }
    if !base.tags.is_empty() {
        a.tags = base.tags.clone();
        a.node.tags = base.node.tags.clone();
    }
    for k in &base.kinds {
        if !a.kinds.contains(k) {
            a.kinds.push(k.clone());
        }
    }
    if base.partitions.is_some() {
        a.partitions = base.partitions.clone();
        a.node.partitions = base.node.partitions.clone();
    }
    for d in &base.deps {
        if !a.deps.iter().any(|x| x.key == d.key) {
            a.deps.push(d.clone());
        }
    }
    a.opaque.extend(base.opaque.clone());
    a
}
