//! A policy as BaseOperator keyword arguments (`retries`, `retry_delay`, `pool`, …).

use crate::emit::module::Imports;
use crate::ir::{Framework, Policy};
use crate::python::print::{self as python, Expr};
use crate::report::{Anchor, Ledger, Translations};

/// A policy as BaseOperator keyword arguments.
#[allow(clippy::too_many_arguments)]
pub(super) fn policy_kwargs(
    from: Framework,
    p: &Policy,
    subject: &str,
    span: crate::ir::Span,
    ledger: &mut Ledger,
    table: &Translations,
    imports: &mut Imports,
    at: &Anchor,
) -> Vec<Expr> {
    let mut kw = Vec::new();
    let consume = |ledger: &mut Ledger, field: &str, needle: &str| {
        ledger.consume(table, field, subject, span, at.clone().then(needle));
    };
    if let Some(r) = p.retries {
        kw.push(Expr::kw("retries", Expr::raw(r.to_string())));
        consume(ledger, "policy.retries", "retries");
    }
    let mut delay = p.retry_delay.or_else(|| p.retry_delays.first().copied());
    // Dagster and Prefect retry at once unless told otherwise; Airflow would wait 5 minutes.
    if delay.is_none() && from != Framework::Airflow && p.retries.is_some_and(|r| r > 0) {
        delay = Some(0.0);
    }
    if let Some(d) = delay {
        imports.name("datetime", "timedelta");
        kw.push(Expr::kw("retry_delay", python::timedelta(d)));
        if p.retry_delay.is_some() {
            consume(ledger, "policy.retry_delay", "retry_delay");
        }
    }
    if !p.retry_delays.is_empty() {
        consume(ledger, "policy.retry_delays", "retry_delay");
    }
    if let Some(b) = &p.backoff {
        kw.push(Expr::kw(
            "retry_exponential_backoff",
            Expr::raw(python::float(b.factor.unwrap_or(2.0))),
        ));
        consume(ledger, "policy.backoff", "retry_exponential_backoff");
    }
    if let Some(m) = p.max_retry_delay {
        imports.name("datetime", "timedelta");
        kw.push(Expr::kw("max_retry_delay", python::timedelta(m)));
        consume(ledger, "policy.max_retry_delay", "max_retry_delay");
    }
    if let Some(t) = p.timeout {
        imports.name("datetime", "timedelta");
        kw.push(Expr::kw("execution_timeout", python::timedelta(t)));
        consume(ledger, "policy.timeout", "execution_timeout");
    }
    if let Some(pool) = &p.pool {
        kw.push(Expr::kw("pool", Expr::str(pool)));
        consume(ledger, "policy.pool", "pool");
    }
    if let Some(s) = p.pool_slots {
        kw.push(Expr::kw("pool_slots", Expr::raw(s.to_string())));
        consume(ledger, "policy.pool_slots", "pool_slots");
    }
    if let Some(pr) = p.priority {
        kw.push(Expr::kw("priority_weight", Expr::raw(pr.to_string())));
        consume(ledger, "policy.priority", "priority_weight");
    }
    if let Some(q) = &p.queue {
        kw.push(Expr::kw("queue", Expr::str(q)));
        consume(ledger, "policy.queue", "queue");
    }
    if let Some(o) = &p.owner {
        kw.push(Expr::kw("owner", Expr::str(o)));
        consume(ledger, "policy.owner", "owner");
    }
    kw
}
