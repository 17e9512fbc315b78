//! The `@flow` function of a pipeline: its decorator and its signature.

use crate::emit::module::Imports;
use crate::emit::shared;
use crate::ir::{Framework, Pipeline, Value};
use crate::python::print::{self as python, Expr, identifier};
use crate::report::{Anchor, Fidelity, Ledger, Translations};

/// `@flow` options passed through unchanged in a Prefect → Prefect port.
const FLOW_OPTIONS: &[&str] = &[
    "version",
    "validate_parameters",
    "persist_result",
    "flow_run_name",
    "cache_result_in_memory",
];

/// The `@flow(...)` decorator of a pipeline, with the claims of what it writes.
pub(super) fn flow_decorator(
    p: &Pipeline,
    flow: &str,
    ledger: &mut Ledger,
    table: &Translations,
    imports: &mut Imports,
) -> String {
    let head = |needle: &str| Anchor::head(flow, needle);
    ledger.consume(table, "pipeline", &p.id, p.span, head("@flow("));
    shared::consume_notes(ledger, table, "pipeline", &p.extra, p.span, &head("@flow("));
    let mut kwargs = vec![Expr::kw("name", Expr::str(&p.name))];
    if let Some(d) = &p.description {
        kwargs.push(Expr::kw(
            "description",
            Expr::str(d.lines().next().unwrap_or("")),
        ));
        ledger.consume(
            table,
            "pipeline.description",
            &p.id,
            p.span,
            head("description="),
        );
    }
    if let Some(r) = p.run_policy.retries {
        kwargs.push(Expr::kw("retries", Expr::raw(r.to_string())));
        ledger.consume(table, "run_policy.retries", &p.id, p.span, head("retries="));
        if let Some(d) = p.run_policy.retry_delay {
            kwargs.push(Expr::kw(
                "retry_delay_seconds",
                Expr::raw(python::float(d).trim_end_matches(".0").to_string()),
            ));
        }
    }
    if let Some(t) = p.run_policy.timeout {
        kwargs.push(Expr::kw(
            "timeout_seconds",
            Expr::raw(python::float(t).trim_end_matches(".0").to_string()),
        ));
        ledger.consume(
            table,
            "run_policy.timeout",
            &p.id,
            p.span,
            head("timeout_seconds="),
        );
    }
    if let Some(lp) = p.extra.get("log_prints").and_then(Value::as_bool) {
        kwargs.push(Expr::kw(
            "log_prints",
            Expr::raw(if lp { "True" } else { "False" }),
        ));
        ledger.consume_as(
            table,
            "extra",
            "pipeline.log_prints",
            p.span,
            head("log_prints="),
            Fidelity::Exact,
            "log_prints kept".into(),
        );
    }
    if p.framework == Some(Framework::Prefect) {
        kwargs.extend(shared::passthrough(
            ledger,
            table,
            "pipeline",
            &p.extra,
            FLOW_OPTIONS,
            p.span,
            imports,
            &head("@flow("),
        ));
    }
    python::decorator("flow", kwargs)
}

/// The flow function's signature: its parameters (and the partition parameter) with defaults.
pub(super) fn flow_signature(
    p: &Pipeline,
    name: &str,
    partition: Option<&str>,
    ledger: &mut Ledger,
    table: &Translations,
) -> String {
    let mut params: Vec<String> = Vec::new();
    for prm in &p.params {
        let default = prm
            .default
            .as_ref()
            .map(|v| python::value(v).flat())
            .unwrap_or_else(|| "None".into());
        let ann = prm
            .r#type
            .as_deref()
            .filter(|t| matches!(*t, "str" | "int" | "float" | "bool"));
        params.push(match ann {
            Some(t) => format!("{}: {t} = {default}", identifier(&prm.name)),
            None => format!("{}={default}", identifier(&prm.name)),
        });
        let at = Anchor::head(name, identifier(&prm.name));
        ledger.consume(table, "param", &prm.name, p.span, at);
    }
    if let Some(pk) = partition
        && !p.params.iter().any(|x| x.name == pk)
    {
        let default = shared::default_partition_key(p);
        params.push(format!("{pk}: str = {}", python::string(&default)));
    }
    shared::signature(&format!("def {name}"), &params, "")
}
