//! Asset keys and selections: what a module-level expression names as assets (`deps=`,
//! `AssetKey`, `AssetSelection` and its methods and operators).

use super::*;

impl<'s, 'a> ModuleReader<'_, 's, 'a>
where
    'a: 's,
{
    /// The keys one dependency-like object stands for (a multi-asset stands for all of its
    /// keys), with a partition mapping when it is an `AssetDep`.
    pub(super) fn dep_item(&self, obj: &Obj, depth: usize) -> Result<KeyDeps, String> {
        if depth > MAX_LOOKUP {
            return Err("too many indirections".into());
        }
        match obj {
            Obj::Assets(idxs) => Ok(idxs
                .iter()
                .map(|&i| (self.cat.assets[i].key.clone(), None))
                .collect()),
            Obj::Spec(i) => Ok(vec![(self.cat.assets[*i].key.clone(), None)]),
            Obj::List(items)
                if !items.is_empty()
                    && items.iter().all(|x| matches!(x, Obj::Value(Value::Str(_)))) =>
            {
                Ok(vec![(
                    items
                        .iter()
                        .filter_map(|x| match x {
                            Obj::Value(Value::Str(s)) => Some(s.clone()),
                            _ => None,
                        })
                        .collect(),
                    None,
                )])
            }
            Obj::Value(v) => self.value_keys(v, depth + 1),
            _ => Err("not an asset, key or spec".into()),
        }
    }

    pub(super) fn value_keys(&self, v: &Value, depth: usize) -> Result<KeyDeps, String> {
        if depth > MAX_LOOKUP {
            return Err("too many indirections".into());
        }
        if let Some(k) = literal_key(v) {
            return Ok(vec![(k, None)]);
        }
        match v {
            Value::Expr(name) if is_identifier(name) => match self.lookup(name) {
                Some(o) => self.dep_item(o, depth + 1),
                None => Err(format!("`{name}` is not defined in this file")),
            },
            Value::Call(c) if api(&c.func) == Some("AssetDep") => {
                let asset = c
                    .args
                    .first()
                    .or_else(|| c.kwargs.get("asset"))
                    .ok_or("AssetDep without an asset")?;
                let mapping = c.kwargs.get("partition_mapping").cloned();
                Ok(self
                    .value_keys(asset, depth + 1)?
                    .into_iter()
                    .map(|(k, _)| (k, mapping.clone()))
                    .collect())
            }
            Value::Call(c) if matches!(api(&c.func), Some("AssetSpec" | "SourceAsset")) => {
                let key = c
                    .args
                    .first()
                    .or_else(|| c.kwargs.get("key"))
                    .and_then(literal_key)
                    .ok_or("an AssetSpec without a literal key")?;
                Ok(vec![(key, None)])
            }
            other => Err(format!("`{}` is not a literal asset key", render(other))),
        }
    }

    /// The keys of a `deps=` list.
    pub(super) fn dep_list(&self, obj: &Obj) -> Result<KeyDeps, String> {
        match obj {
            Obj::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.dep_item(item, 0)?);
                }
                Ok(out)
            }
            Obj::Value(Value::List(items)) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.value_keys(item, 0)?);
                }
                Ok(out)
            }
            Obj::Value(Value::None) => Ok(Vec::new()),
            other => self.dep_item(other, 0),
        }
    }

    /// The one key an `asset=` argument names.
    pub(super) fn one_key(&self, obj: &Obj) -> Result<Vec<String>, String> {
        let mut keys = self.dep_item(obj, 0)?;
        match keys.len() {
            1 => Ok(keys.remove(0).0),
            _ => Err("it names several assets".into()),
        }
    }

    /// An object coerced to an asset selection (strings, lists of names or assets, selections).
    pub fn selection_of(&self, obj: &Obj) -> Result<Selection, String> {
        match obj {
            Obj::Selection(s) => Ok(s.clone()),
            Obj::Value(Value::Str(s)) => selection::parse(s),
            Obj::Value(Value::Expr(name)) if is_identifier(name) => match self.lookup(name) {
                Some(o) if !matches!(o, Obj::Value(Value::Expr(_))) => self.selection_of(o),
                _ => Err(format!(
                    "the selection `{name}` is not defined in this file"
                )),
            },
            Obj::Value(Value::List(items)) => {
                let objs: Vec<Obj> = items.iter().cloned().map(Obj::Value).collect();
                self.selection_of(&Obj::List(objs))
            }
            Obj::List(items) => {
                if items.is_empty() {
                    return Ok(Selection::Keys(Vec::new()));
                }
                if items.iter().all(|x| matches!(x, Obj::Value(Value::Str(_)))) {
                    let mut parts = Vec::new();
                    for x in items {
                        if let Obj::Value(Value::Str(s)) = x {
                            parts.push(selection::parse(s)?);
                        }
                    }
                    return Ok(parts
                        .into_iter()
                        .reduce(Selection::or)
                        .unwrap_or(Selection::Keys(Vec::new())));
                }
                let mut keys = Vec::new();
                for x in items {
                    keys.extend(self.dep_item(x, 0)?.into_iter().map(|(k, _)| k));
                }
                Ok(Selection::Keys(keys))
            }
            Obj::Assets(_) | Obj::Spec(_) => Ok(Selection::Keys(
                self.dep_item(obj, 0)?.into_iter().map(|(k, _)| k).collect(),
            )),
            Obj::Value(v) => Err(format!(
                "the selection `{}` is not one orchmig resolves statically",
                render(v)
            )),
            _ => Err("this is not an asset selection".into()),
        }
    }

    pub(super) fn selection_call(&mut self, method: &str, c: &'s ast::ExprCall) -> Obj {
        let args: Vec<Obj> = self.elements(&c.arguments.args);
        let strs = |args: &[Obj]| -> Option<Vec<String>> {
            args.iter()
                .map(|a| match a {
                    Obj::Value(Value::Str(s)) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        };
        let kw = |name: &str| {
            c.arguments
                .keywords
                .iter()
                .find(|k| k.arg.as_deref() == Some(name))
                .map(|k| &k.value)
        };
        let sel = match method {
            "all" => Some(Selection::All),
            "assets" => {
                let mut keys = Vec::new();
                let mut ok = true;
                for a in &args {
                    match self.dep_item(a, 0) {
                        Ok(ks) => keys.extend(ks.into_iter().map(|(k, _)| k)),
                        Err(_) => ok = false,
                    }
                }
                ok.then_some(Selection::Keys(keys))
            }
            "keys" => {
                let mut keys = Vec::new();
                let mut ok = true;
                for a in &args {
                    match a {
                        Obj::Value(Value::Str(s)) => keys.push(user_key(s)),
                        other => match self.dep_item(other, 0) {
                            Ok(ks) => keys.extend(ks.into_iter().map(|(k, _)| k)),
                            Err(_) => ok = false,
                        },
                    }
                }
                ok.then_some(Selection::Keys(keys))
            }
            "groups" => strs(&args).map(Selection::Groups),
            "key_prefixes" => {
                let mut out = Vec::new();
                let mut ok = true;
                for a in &args {
                    match a {
                        Obj::Value(Value::Str(s)) => out.push(vec![s.clone()]),
                        Obj::List(_) | Obj::Value(Value::List(_)) => match self.dep_item(a, 0) {
                            Ok(ks) => out.extend(ks.into_iter().map(|(k, _)| k)),
                            Err(_) => ok = false,
                        },
                        _ => ok = false,
                    }
                }
                ok.then_some(Selection::KeyPrefixes(out))
            }
            "tag" => {
                let key = args
                    .first()
                    .cloned()
                    .or_else(|| kw("key").map(|e| Obj::Value(self.core.ev.eval(e))));
                let value = args
                    .get(1)
                    .cloned()
                    .or_else(|| kw("value").map(|e| Obj::Value(self.core.ev.eval(e))));
                match (key, value) {
                    (Some(Obj::Value(Value::Str(k))), Some(Obj::Value(Value::Str(v)))) => {
                        Some(Selection::Tag(k, v))
                    }
                    _ => None,
                }
            }
            "tag_string" => match args.first() {
                Some(Obj::Value(Value::Str(s))) => Some(match s.split_once('=') {
                    Some((k, v)) => Selection::Tag(k.into(), v.into()),
                    None => Selection::Tag(s.clone(), String::new()),
                }),
                _ => None,
            },
            "kind" => match args.first() {
                Some(Obj::Value(Value::Str(s))) => Some(Selection::Kind(s.clone())),
                _ => None,
            },
            "owner" => match args.first() {
                Some(Obj::Value(Value::Str(s))) => Some(Selection::Owner(s.clone())),
                _ => None,
            },
            "from_string" => match args.first() {
                Some(Obj::Value(Value::Str(s))) => selection::parse(s).ok(),
                _ => None,
            },
            "from_coercible" => args.first().and_then(|a| self.selection_of(a).ok()),
            _ => None,
        };
        match sel {
            Some(s) => Obj::Selection(s),
            None => Obj::Value(Value::Expr(self.ctx.src.slice(c.range()).to_string())),
        }
    }

    pub(super) fn selection_method(
        &mut self,
        base: Selection,
        method: &str,
        c: &'s ast::ExprCall,
    ) -> Obj {
        let arg = |i: usize, name: &str| -> Option<Value> {
            c.arguments
                .args
                .get(i)
                .or_else(|| {
                    c.arguments
                        .keywords
                        .iter()
                        .find(|k| k.arg.as_deref() == Some(name))
                        .map(|k| &k.value)
                })
                .map(|e| self.core.ev.eval(e))
        };
        let depth = arg(0, "depth")
            .and_then(|v| v.as_int())
            .map(|d| d.max(0) as u32);
        let include_self = arg(1, "include_self")
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        let of = Box::new(base.clone());
        Obj::Selection(match method {
            "downstream" => Selection::Downstream {
                of,
                depth,
                include_self,
            },
            "upstream" => Selection::Upstream {
                of,
                depth,
                include_self,
            },
            "sinks" => Selection::Sinks(of),
            "roots" | "sources" => Selection::Roots(of),
            "required_multi_asset_neighbors" => Selection::RequiredNeighbors(of),
            "materializable" => base,
            "without_checks" => Selection::WithoutChecks(of),
            _ => {
                return Obj::Value(Value::Expr(self.ctx.src.slice(c.range()).to_string()));
            }
        })
    }
}
