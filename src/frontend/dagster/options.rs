//! Dagster option values (evaluated) → IR fields: retry policies, tags, keys, resources.

use std::collections::BTreeMap;

use super::names::api;
use super::partitions::render;
use crate::ir::{Backoff, Policy, Resource, Span, Value};

/// The policy of a `RetryPolicy(max_retries=1, delay=None, backoff=None, jitter=None)` call.
pub fn retry_policy(value: &Value) -> Result<Policy, String> {
    let Value::Call(c) = value else {
        return Err(format!(
            "the retry policy `{}` is not a literal RetryPolicy(...)",
            render(value)
        ));
    };
    if api(&c.func) != Some("RetryPolicy") {
        return Err(format!("`{}` is not a RetryPolicy", c.func));
    }
    const POS: [&str; 4] = ["max_retries", "delay", "backoff", "jitter"];
    let get = |name: &str| {
        c.kwargs.get(name).or_else(|| {
            POS.iter()
                .position(|p| *p == name)
                .and_then(|i| c.args.get(i))
        })
    };
    let mut policy = Policy::default();
    match get("max_retries") {
        None => policy.retries = Some(1),
        Some(v) => match v.as_int() {
            Some(n) if n >= 0 => policy.retries = u32::try_from(n).ok(),
            _ => {
                policy.extra.insert("max_retries".into(), v.clone());
            }
        },
    }
    match get("delay") {
        None | Some(Value::None) => {}
        Some(v) => match v.as_seconds() {
            Some(s) => policy.retry_delay = Some(s),
            None => {
                policy.extra.insert("delay".into(), v.clone());
            }
        },
    }
    match get("backoff") {
        None | Some(Value::None) => {}
        Some(v) => match member(v).as_deref() {
            Some("EXPONENTIAL") => {
                policy.backoff = Some(Backoff {
                    kind: "exponential".into(),
                    factor: Some(2.0),
                })
            }
            Some("LINEAR") => {
                policy.backoff = Some(Backoff {
                    kind: "linear".into(),
                    factor: None,
                })
            }
            _ => {
                policy.extra.insert("backoff".into(), v.clone());
            }
        },
    }
    match get("jitter") {
        None | Some(Value::None) => {}
        Some(v) => match member(v) {
            Some(m) => policy.jitter = Some(m.to_ascii_lowercase()),
            None => {
                policy.extra.insert("jitter".into(), v.clone());
            }
        },
    }
    Ok(policy)
}

/// The member name of an enum attribute as evaluated (`dg.Backoff.EXPONENTIAL` → `EXPONENTIAL`).
pub fn member(value: &Value) -> Option<String> {
    match value {
        Value::Expr(e) => e.rsplit('.').next().map(str::to_string),
        _ => None,
    }
}

/// Tags of a `tags=` dict as `key=value` (`key` alone when the value is empty).
pub fn tag_strings(tags: &BTreeMap<String, String>) -> Vec<String> {
    tags.iter()
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect()
}

/// A `tags=` dict with literal string values; `Err` when it is not one.
pub fn tag_map(value: &Value) -> Result<BTreeMap<String, String>, String> {
    let Value::Dict(map) = value else {
        return Err(format!(
            "the tags `{}` are not a literal dict",
            render(value)
        ));
    };
    map.iter()
        .map(|(k, v)| match v {
            Value::Str(s) => Ok((k.clone(), s.clone())),
            other => Ok((
                k.clone(),
                crate::python::literal::python_str(other)
                    .ok_or_else(|| format!("the tag `{k}` has a value that is not literal"))?,
            )),
        })
        .collect()
}

/// Strings of a literal list or set (`owners=`, `kinds=`, `required_resource_keys=`).
pub fn strings(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::List(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`{}` is not a literal string", render(v)))
            })
            .collect(),
        Value::Str(s) => Ok(vec![s.clone()]),
        other => Err(format!("`{}` is not a literal list", render(other))),
    }
}

/// A key prefix (`"a"` or `["a", "b"]`).
pub fn key_prefix(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::None => Ok(Vec::new()),
        other => strings(other),
    }
}

/// A key path from a literal coercible: `"a"`, `["a", "b"]`, `AssetKey(...)`.
pub fn literal_key(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Str(s) => Some(vec![s.clone()]),
        Value::List(items) if !items.is_empty() => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect(),
        Value::Call(c) if api(&c.func) == Some("AssetKey") => {
            let path = c.args.first().or_else(|| c.kwargs.get("path"))?;
            literal_key(path)
        }
        Value::Call(c) if api(&c.func) == Some("AssetKey.from_user_string") => c
            .args
            .first()
            .and_then(Value::as_str)
            .map(|s| s.split('/').map(str::to_string).collect()),
        _ => None,
    }
}

/// A resource bound by key: class as written and literal arguments.
pub fn resource(key: &str, value: &Value, span: Span) -> Resource {
    let (class, args) = match value {
        Value::Call(c) => {
            let mut args: BTreeMap<String, Value> = c.kwargs.clone();
            for (i, a) in c.args.iter().enumerate() {
                args.insert(format!("_{i}"), a.clone());
            }
            (Some(c.func.clone()), args)
        }
        Value::Expr(e) => (Some(e.clone()), BTreeMap::new()),
        other => (Some(render(other)), BTreeMap::new()),
    };
    Resource {
        key: key.to_string(),
        class,
        args,
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::CallValue;

    fn call(func: &str, args: Vec<Value>, kwargs: &[(&str, Value)]) -> Value {
        Value::Call(CallValue {
            func: func.into(),
            args,
            kwargs: kwargs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        })
    }

    #[test]
    fn retry_policies() {
        let p = retry_policy(&call(
            "dagster.RetryPolicy",
            vec![Value::Int(3), Value::Int(10)],
            &[
                ("backoff", Value::Expr("dg.Backoff.EXPONENTIAL".into())),
                ("jitter", Value::Expr("dg.Jitter.PLUS_MINUS".into())),
            ],
        ))
        .unwrap();
        assert_eq!(p.retries, Some(3));
        assert_eq!(p.retry_delay, Some(10.0));
        assert_eq!(p.backoff.unwrap().kind, "exponential");
        assert_eq!(p.jitter.as_deref(), Some("plus_minus"));
        let default = retry_policy(&call("dagster.RetryPolicy", vec![], &[])).unwrap();
        assert_eq!(default.retries, Some(1));
        assert!(retry_policy(&Value::Int(3)).is_err());
    }

    #[test]
    fn keys() {
        assert_eq!(literal_key(&Value::Str("a".into())), Some(vec!["a".into()]));
        let k = call(
            "dagster.AssetKey",
            vec![Value::List(vec![
                Value::Str("erp".into()),
                Value::Str("x".into()),
            ])],
            &[],
        );
        assert_eq!(literal_key(&k), Some(vec!["erp".into(), "x".into()]));
        assert_eq!(literal_key(&Value::Expr("f()".into())), None);
    }
}
