//! `prefect.yaml` beside a flow file: its `deployments:` entries whose entrypoint is that file.

use std::collections::BTreeMap;
use std::path::Path;

use super::options;
use crate::ir::{Deployment, Diagnostic, Severity, Span, Value};

/// Largest `prefect.yaml` read (bigger files are reported, not parsed).
const MAX_YAML_BYTES: u64 = 4 * 1024 * 1024;

/// The deployments a `prefect.yaml` next to `path` declares for flows in that file, as
/// (flow function name, deployment) pairs; problems with the YAML become diagnostics.
pub fn deployments_beside(
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(String, Deployment)> {
    let file = Path::new(path);
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return Vec::new();
    };
    let yaml = dir.join("prefect.yaml");
    let Ok(meta) = std::fs::metadata(&yaml) else {
        return Vec::new();
    };
    let shown = yaml.display().to_string();
    if !meta.is_file() || meta.len() > MAX_YAML_BYTES {
        return Vec::new();
    }
    let text = match std::fs::read_to_string(&yaml) {
        Ok(t) => t,
        Err(e) => {
            diagnostics.push(warning(format!("cannot read {shown}: {e}")));
            return Vec::new();
        }
    };
    match parse(&text, &shown) {
        Ok(all) => all
            .into_iter()
            .filter(|(file, _, _)| Path::new(file).file_name() == Some(name))
            .map(|(_, function, d)| (function, d))
            .collect(),
        Err(message) => {
            diagnostics.push(warning(message));
            Vec::new()
        }
    }
}

fn warning(message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        code: "prefect-yaml".into(),
        line: None,
        span: None,
        message,
        help: Some("fix prefect.yaml (`prefect deploy --all` reads it too); the flow files were still read".into()),
    }
}

/// The deepest `[`/`{` nesting of YAML flow collections orchmig reads; a real prefect.yaml has
/// a handful of levels.
const MAX_FLOW_DEPTH: usize = 64;

/// The line and depth where flow brackets first nest deeper than [`MAX_FLOW_DEPTH`], if they do
/// (one linear pass; brackets inside quoted scalars and comments are not counted).
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (i, line) in text.lines().enumerate() {
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Some((i + 1, depth));
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

/// Every deployment of a `prefect.yaml` text as (entrypoint file, flow function, deployment).
pub fn parse(text: &str, shown: &str) -> Result<Vec<(String, String, Deployment)>, String> {
    if let Some((line, depth)) = too_deep(text) {
        return Err(format!(
            "{shown} nests brackets {depth} levels deep at line {line}, more than the \
             {MAX_FLOW_DEPTH} orchmig reads (a YAML parser takes quadratic time on such nesting)"
        ));
    }
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| format!("{shown} is not valid YAML: {e}"))?;
    let Some(list) = doc.get("deployments").and_then(|d| d.as_sequence()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in list {
        let Value::Dict(mut m) = to_value(entry, 0) else {
            continue;
        };
        let Some((file, function)) = m
            .get("entrypoint")
            .and_then(Value::as_str)
            .and_then(|ep| ep.rsplit_once(':'))
            .map(|(f, n)| (f.to_string(), n.to_string()))
        else {
            continue;
        };
        let name = m
            .remove("name")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| function.clone());
        let work_pool = match m.remove("work_pool") {
            Some(Value::Dict(mut pool)) => {
                let name = pool
                    .remove("name")
                    .and_then(|v| v.as_str().map(str::to_string));
                if !pool.is_empty() {
                    m.insert("work_pool".into(), Value::Dict(pool));
                }
                name
            }
            Some(Value::Str(s)) => Some(s),
            _ => None,
        };
        let mut schedules = Vec::new();
        for key in ["schedules", "schedule"] {
            match m.remove(key) {
                Some(Value::List(items)) => {
                    schedules.extend(items.iter().filter_map(options::schedule_object))
                }
                Some(v @ Value::Dict(_)) => schedules.extend(options::schedule_object(&v)),
                _ => {}
            }
        }
        let parameters = match m.remove("parameters") {
            Some(Value::Dict(p)) => p,
            _ => BTreeMap::new(),
        };
        let tags = m
            .remove("tags")
            .map(|v| v.string_list())
            .unwrap_or_default();
        m.insert("file".into(), Value::Str(shown.to_string()));
        out.push((
            file,
            function,
            Deployment {
                name,
                work_pool,
                schedule: schedules.first().cloned(),
                schedules: if schedules.len() > 1 {
                    schedules
                } else {
                    Vec::new()
                },
                parameters,
                tags,
                method: "prefect.yaml".into(),
                extra: m,
                span: Span::default(),
            },
        ));
    }
    Ok(out)
}

/// A YAML value as an IR value (keys that are not scalars are rendered as text).
fn to_value(v: &serde_yaml_ng::Value, depth: usize) -> Value {
    use serde_yaml_ng::Value as Y;
    if depth > 64 {
        return Value::Expr("…".into());
    }
    match v {
        Y::Null => Value::None,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .or_else(|| n.as_f64().map(Value::Float))
            .unwrap_or(Value::Expr(n.to_string())),
        Y::String(s) => Value::Str(s.clone()),
        Y::Sequence(items) => Value::List(items.iter().map(|x| to_value(x, depth + 1)).collect()),
        Y::Mapping(m) => Value::Dict(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s.clone(),
                        other => serde_yaml_ng::to_string(other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    };
                    (key, to_value(v, depth + 1))
                })
                .collect(),
        ),
        Y::Tagged(t) => to_value(&t.value, depth + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::ScheduleKind;

    #[test]
    fn reads_deployments_with_schedules_and_pools() {
        let text = "name: shop\ndeployments:\n- name: nightly\n  entrypoint: flows/etl.py:etl\n  parameters: {day: '2024-01-01'}\n  tags: [etl]\n  schedules:\n  - cron: '0 6 * * *'\n    timezone: UTC\n  - interval: 3600\n  work_pool:\n    name: local-proc\n    work_queue_name: default\n- name: other\n  entrypoint: other.py:main\n";
        let all = parse(text, "prefect.yaml").unwrap();
        assert_eq!(all.len(), 2);
        let (file, function, d) = &all[0];
        assert_eq!((file.as_str(), function.as_str()), ("flows/etl.py", "etl"));
        assert_eq!(d.work_pool.as_deref(), Some("local-proc"));
        let s = d.schedule.as_ref().unwrap();
        assert_eq!(
            (s.kind, s.timezone.as_deref()),
            (ScheduleKind::Cron, Some("UTC"))
        );
        assert_eq!(d.schedules.len(), 2);
        assert_eq!(d.parameters["day"], Value::Str("2024-01-01".into()));
        assert_eq!(d.tags, vec!["etl".to_string()]);
    }

    #[test]
    fn bad_yaml_is_an_error_not_a_panic() {
        assert!(parse("deployments: [", "prefect.yaml").is_err());
        assert!(parse("just text", "prefect.yaml").unwrap().is_empty());
    }
}
