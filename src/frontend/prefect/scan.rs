//! What a task or flow body uses of Prefect's runtime API: the run logger, artifacts,
//! `prefect.runtime` fields, pauses. Found by walking every expression of the body.

use crate::python::ast::{Expr, Stmt};
use std::collections::BTreeMap;

use super::names::{Symbol, classify};
use crate::ir::Value;
use crate::python::imports::ImportMap;
use crate::python::visit::each_expr;

/// The runtime API a body uses, as `extra` entries: `run_logger`, `artifacts`, `runtime`, `pauses`.
pub fn runtime_uses(body: &[Stmt], imports: &ImportMap) -> BTreeMap<String, Value> {
    let mut logger = false;
    let mut artifacts: Vec<Value> = Vec::new();
    let mut runtime: Vec<String> = Vec::new();
    let mut pauses = false;
    each_expr(body, &mut |e| match e {
        Expr::Call(c) => {
            let Some(q) = imports.qualify(&c.func) else {
                return;
            };
            match classify(&q) {
                Some(Symbol::RunLogger) => logger = true,
                Some(Symbol::Artifact(kind)) => {
                    let mut m = BTreeMap::new();
                    m.insert("kind".to_string(), Value::Str(kind.into()));
                    if let Some(key) = c
                        .arguments
                        .keywords
                        .iter()
                        .find(|k| k.arg.as_deref() == Some("key"))
                        && let Some(s) = crate::python::str_literal(&key.value)
                    {
                        m.insert("key".to_string(), Value::Str(s.to_string()));
                    }
                    artifacts.push(Value::Dict(m));
                }
                Some(Symbol::Pause) => pauses = true,
                _ => {}
            }
        }
        Expr::Attribute(_) => {
            if let Some(q) = imports.qualify(e)
                && let Some(rest) = q.strip_prefix("prefect.runtime.")
            {
                let mut parts = rest.split('.');
                if let (Some(object), Some(field)) = (parts.next(), parts.next()) {
                    let used = format!("{object}.{field}");
                    if !runtime.contains(&used) {
                        runtime.push(used);
                    }
                }
            }
        }
        _ => {}
    });
    let mut out = BTreeMap::new();
    if logger {
        out.insert("run_logger".to_string(), Value::Bool(true));
    }
    if !artifacts.is_empty() {
        out.insert("artifacts".to_string(), Value::List(artifacts));
    }
    if !runtime.is_empty() {
        out.insert(
            "runtime".to_string(),
            Value::List(runtime.into_iter().map(Value::Str).collect()),
        );
    }
    if pauses {
        out.insert("pauses".to_string(), Value::Bool(true));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_logger_artifacts_and_runtime() {
        let text = "from prefect import get_run_logger\nfrom prefect.artifacts import create_markdown_artifact\nfrom prefect.runtime import flow_run\ndef body():\n    log = get_run_logger()\n    create_markdown_artifact(key='daily-report', markdown='# hi')\n    print(flow_run.name)\n";
        let suite = crate::python::parse::parse_suite(text).unwrap();
        let imports = ImportMap::from_suite(&suite);
        let Stmt::FunctionDef(f) = &suite[3] else {
            panic!()
        };
        let uses = runtime_uses(&f.body, &imports);
        assert_eq!(uses["run_logger"], Value::Bool(true));
        let Value::List(arts) = &uses["artifacts"] else {
            panic!()
        };
        let Value::Dict(a) = &arts[0] else { panic!() };
        assert_eq!(a["kind"], Value::Str("markdown".into()));
        assert_eq!(a["key"], Value::Str("daily-report".into()));
        assert_eq!(
            uses["runtime"],
            Value::List(vec![Value::Str("flow_run.name".into())])
        );
    }
}
