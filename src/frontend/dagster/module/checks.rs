//! `@asset_check`, `@multi_asset_check` and the check specs of an asset.

use super::*;

impl<'s, 'a> ModuleReader<'_, 's, 'a>
where
    'a: 's,
{
    /// Checks from `AssetCheckSpec(...)` items; `callable` is the checking function, if any.
    pub(super) fn check_specs(
        &mut self,
        e: &'s Expr,
        facts: &BodyFacts,
        callable: Option<&FunctionDef<'s>>,
        default_asset: Option<&[String]>,
        evaluated_by: Option<&str>,
    ) -> Vec<usize> {
        let items = match self.obj(e) {
            Obj::List(items) => items,
            other => vec![other],
        };
        let span = self.span(e.range());
        let mut out = Vec::new();
        for item in items {
            let Obj::Value(Value::Call(c)) = &item else {
                self.add_file_opaque(
                    "unread_check",
                    e.range(),
                    "a check spec is not a literal AssetCheckSpec(...)".into(),
                );
                continue;
            };
            if api(&c.func) != Some("AssetCheckSpec") {
                self.add_file_opaque(
                    "unread_check",
                    e.range(),
                    format!("`{}` is not an AssetCheckSpec", c.func),
                );
                continue;
            }
            let name = c
                .args
                .first()
                .or_else(|| c.kwargs.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let asset = match c.kwargs.get("asset") {
                Some(v) => self
                    .value_keys(v, 0)
                    .ok()
                    .and_then(|k| k.into_iter().next())
                    .map(|k| k.0),
                None => default_asset.map(<[String]>::to_vec),
            };
            let (Some(name), Some(asset)) = (name, asset) else {
                self.add_file_opaque(
                    "unread_check",
                    e.range(),
                    "a check spec's name or asset is not literal".into(),
                );
                continue;
            };
            let mut extra = BTreeMap::new();
            for (k, v) in &c.kwargs {
                if !matches!(k.as_str(), "name" | "asset" | "blocking" | "description") {
                    extra.insert(k.clone(), v.clone());
                }
            }
            if let Some(by) = evaluated_by {
                extra.insert("evaluated_by".into(), Value::Str(by.to_string()));
            }
            let severity = facts
                .severities
                .get(&Some(name.clone()))
                .cloned()
                .unwrap_or_else(|| "error".into());
            self.cat.checks.push(CheckDef {
                check: Check {
                    name,
                    target: asset.join("/"),
                    severity: Some(severity),
                    blocking: c
                        .kwargs
                        .get("blocking")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    description: c
                        .kwargs
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    callable: callable.map(|d| d.to_callable(self.ctx.src)),
                    extra,
                    span,
                },
                asset,
            });
            out.push(self.cat.checks.len() - 1);
        }
        out
    }

    pub(super) fn asset_check(
        &mut self,
        def: FunctionDef<'s>,
        call: Option<&'s ast::ExprCall>,
    ) -> Obj {
        let span = self.span(def.range);
        let facts = self.facts(&def);
        let mut name = def.name.to_string();
        let mut asset = None;
        let mut description = def.docstring();
        let mut blocking = false;
        let mut extra = BTreeMap::new();
        for (k, e) in self.keywords(call) {
            match k {
                "asset" => {
                    let obj = self.obj(e);
                    match self.one_key(&obj) {
                        Ok(key) => asset = Some(key),
                        Err(why) => self.add_file_opaque(
                            "unread_check",
                            e.range(),
                            format!("the asset of check `{name}` could not be read: {why}"),
                        ),
                    }
                }
                "name" => {
                    if let Value::Str(s) = self.core.ev.eval(e) {
                        name = s;
                    }
                }
                "description" => {
                    if let Value::Str(s) = self.core.ev.eval(e) {
                        description = Some(s);
                    }
                }
                "blocking" => blocking = self.core.ev.eval(e).as_bool().unwrap_or(false),
                _ => {
                    extra.insert(k.to_string(), self.core.ev.eval(e));
                }
            }
        }
        if !facts.uses.is_empty() {
            extra.insert(
                "uses".into(),
                Value::List(facts.uses.iter().cloned().map(Value::Str).collect()),
            );
        }
        let Some(asset) = asset else {
            self.add_file_opaque(
                "unread_check",
                def.range,
                format!("the asset check `{name}` names no asset orchmig can read"),
            );
            return Obj::Unknown;
        };
        let severity = if facts.severities.values().any(|s| s == "warn") {
            "warn"
        } else {
            "error"
        };
        self.cat.checks.push(CheckDef {
            check: Check {
                name,
                target: asset.join("/"),
                severity: Some(severity.into()),
                blocking,
                description,
                callable: Some(def.to_callable(self.ctx.src)),
                extra,
                span,
            },
            asset,
        });
        Obj::Checks(vec![self.cat.checks.len() - 1])
    }

    pub(super) fn multi_asset_check(
        &mut self,
        def: FunctionDef<'s>,
        call: Option<&'s ast::ExprCall>,
    ) -> Obj {
        let facts = self.facts(&def);
        let mut checks = Vec::new();
        let mut extra = BTreeMap::new();
        for (k, e) in self.keywords(call) {
            if k == "specs" {
                checks = self.check_specs(e, &facts, Some(&def), None, None);
            } else {
                extra.insert(k.to_string(), self.core.ev.eval(e));
            }
        }
        extra.insert("multi_asset_check".into(), Value::Str(def.name.to_string()));
        for &c in &checks {
            for (k, v) in &extra {
                self.cat.checks[c]
                    .check
                    .extra
                    .entry(k.clone())
                    .or_insert_with(|| v.clone());
            }
        }
        if checks.is_empty() {
            self.add_file_opaque(
                "unread_check",
                def.range,
                "this multi-asset check declares no spec orchmig can read".into(),
            );
        }
        Obj::Checks(checks)
    }
}
