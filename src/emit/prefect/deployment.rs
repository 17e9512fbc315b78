//! Deployments: the `serve` / `to_deployment` call of a flow, with its schedules, parameters
//! and tags.

use crate::emit::module::Imports;
use crate::emit::{Target, shared};
use crate::ir::{Pipeline, ScheduleKind, Value};
use crate::python::print::{self as python, Expr};
use crate::report::{self, Anchor, Fidelity, Ledger, Translations};

/// The deployment of a flow: the flow name and keyword arguments of its `serve` call.
pub(super) fn deployment(
    p: &Pipeline,
    fname: &str,
    target: Target,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
) -> Vec<(String, Vec<Expr>)> {
    // The deployment's call: `flow.serve(` alone, `flow.to_deployment(` when served together.
    let main = |needle: &str| Anchor::statement("if __name__", format!("{fname}.")).then(needle);
    let at = p.span;
    let mut out = Vec::new();
    let mut kwargs = vec![Expr::kw(
        "name",
        Expr::str(
            &p.deployments
                .first()
                .map_or_else(|| p.id.replace('_', "-"), |d| d.name.clone()),
        ),
    )];
    if let Some(s) = &p.schedule {
        let tz = s.timezone.clone();
        match (s.kind, s.cron()) {
            (ScheduleKind::Cron | ScheduleKind::Preset, Some(cron)) => {
                imports.name("prefect.schedules", "Cron");
                let mut args = vec![Expr::str(&cron)];
                if let Some(tz) = &tz {
                    args.push(Expr::kw("timezone", Expr::str(tz)));
                }
                kwargs.push(Expr::kw(
                    "schedules",
                    Expr::List(vec![Expr::call("Cron", args)]),
                ));
                ledger.consume(table, report::schedule_id(s.kind), &p.id, at, main("Cron("));
                if tz.is_some() {
                    ledger.consume(table, "schedule.timezone", &p.id, at, main("timezone="));
                }
                if shared::traps(p, target).contains(&"trap.logical_date") {
                    ledger.consume(table, "trap.logical_date", &p.id, at, main("Cron("));
                }
            }
            (ScheduleKind::Interval, _) => {
                let secs = s.value.clone().unwrap_or_else(|| "3600".into());
                kwargs.push(Expr::kw("interval", Expr::raw(secs)));
                ledger.consume(
                    table,
                    report::schedule_id(s.kind),
                    &p.id,
                    at,
                    main("interval="),
                );
            }
            // A deployment without a schedule runs when asked.
            (ScheduleKind::Manual, _) => {
                ledger.consume(table, report::schedule_id(s.kind), &p.id, at, main(""));
            }
            _ => {}
        }
    }
    if p.catchup == Some(false) {
        // No catchup is what Prefect does: the deployment runs only its own schedule.
        ledger.consume_as(
            table,
            "catchup",
            &p.id,
            at,
            main(""),
            Fidelity::Exact,
            "no catchup, as in the source".into(),
        );
    }
    if let Some(d) = p.deployments.first()
        && !d.parameters.is_empty()
    {
        kwargs.push(Expr::kw(
            "parameters",
            python::value(&Value::Dict(d.parameters.clone())),
        ));
    }
    let mut tags = p.tags.clone();
    if let Some(owner) = &p.owner {
        tags.push(format!("owner:{owner}"));
    }
    if let Some(d) = p.deployments.first() {
        for t in &d.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
    }
    if !tags.is_empty() {
        kwargs.push(Expr::kw(
            "tags",
            Expr::List(tags.iter().map(|t| Expr::str(t)).collect()),
        ));
        if !p.tags.is_empty() {
            ledger.consume(table, "pipeline.tags", &p.id, at, main("tags="));
        }
        if let Some(owner) = &p.owner {
            let tag = python::string(&format!("owner:{owner}"));
            ledger.consume(table, "pipeline.owner", &p.id, at, main("tags=").then(tag));
        }
    }
    for d in &p.deployments {
        ledger.consume(table, "deployment", &d.name, d.span, main(""));
    }
    out.push((fname.to_string(), kwargs));
    out
}
