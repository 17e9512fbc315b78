//! Asset jobs: `dg.define_asset_job` over a pipeline's assets, with its schedules and sensors.

use indexmap::IndexSet;

use super::config::ConfiguredAssets;
use super::keys::{key_name, tag_pair};
use super::schedule::Triggers;
use super::state::ModuleState;
use crate::emit::plan::{Plan, unique};
use crate::emit::shared;
use crate::python::print::{Expr, identifier};
use crate::report::{Anchor, Ledger};

/// Writes the asset job of a pipeline over `selection` (with its failure `hooks`), then its
/// schedule, sensors and deployments' schedules.
pub(super) fn write_asset_job(
    m: &mut ModuleState,
    plan: &Plan,
    partitions: Option<&str>,
    selection: &IndexSet<String>,
    hooks: &[String],
    ledger: &mut Ledger,
) {
    let (table, from, p) = (m.table, m.from, plan.pipeline);
    let var = unique(
        &mut m.names.taken,
        &format!("{}_job", identifier(&p.id)).replace("_job_job", "_job"),
    );
    // Dagster names are `[A-Za-z0-9_]+` and not its reserved words: a dag_id such as
    // `sales-daily.v2` or `class` would fail at load.
    // A job and an asset (an op) of one name clash in Dagster's repository.
    let mut job_name = key_name(shared::run_name(p));
    if m.file
        .pipelines
        .iter()
        .flat_map(|q| &q.nodes)
        .any(|n| key_name(&n.id) == job_name)
    {
        job_name.push_str("_job");
    }
    let mut kw = vec![
        Expr::kw("name", Expr::str(&job_name)),
        Expr::kw(
            "selection",
            Expr::List(selection.iter().map(|s| Expr::raw(s.clone())).collect()),
        ),
    ];
    if let Some(d) = &p.description {
        kw.push(Expr::kw(
            "description",
            Expr::str(d.lines().next().unwrap_or("")),
        ));
    }
    if let Some(parts) = partitions {
        kw.push(Expr::kw("partitions_def", Expr::raw(parts.to_string())));
    }
    if !p.tags.is_empty() {
        kw.push(Expr::kw(
            "tags",
            Expr::Dict(p.tags.iter().map(|t| tag_pair(t)).collect()),
        ));
    }
    if !hooks.is_empty() {
        kw.push(Expr::kw(
            "hooks",
            Expr::raw(format!("{{{}}}", hooks.join(", "))),
        ));
    }
    let call = Expr::call("dg.define_asset_job", kw);
    m.jobs
        .push(format!("{var} = {}", call.format_lead(0, var.len() + 3, 0)));
    let job = |needle: &str| Anchor::statement(&format!("{var} = "), needle);
    ledger.consume(
        table,
        "pipeline",
        &p.id,
        p.span,
        job("dg.define_asset_job("),
    );
    shared::consume_notes(ledger, table, "pipeline", &p.extra, p.span, &job(""));
    if p.description.is_some() {
        let at = job("description=");
        ledger.consume(table, "pipeline.description", &p.id, p.span, at);
    }
    if !p.tags.is_empty() {
        ledger.consume(table, "pipeline.tags", &p.id, p.span, job("tags="));
    }
    if let Some(parts) = p.partitions.as_ref().filter(|_| partitions.is_some()) {
        let id = crate::report::partitions_id(parts);
        ledger.consume(table, id, &p.id, p.span, job("partitions_def="));
    }
    m.job_names.push(var.clone());
    // (Only deployments' schedules take run config: no work for other pipelines.)
    let configured = if p.deployments.is_empty() {
        ConfiguredAssets::default()
    } else {
        ConfiguredAssets::new(plan)
    };
    let main_config = p
        .deployment_schedules()
        .into_iter()
        .find(|ds| ds.main)
        .and_then(|ds| configured.run_config(&ds.parameters));
    let triggers = Triggers {
        schedules: &mut m.schedules,
        sensors: &mut m.sensors,
        statements: &mut m.jobs,
        run_config: main_config,
    };
    triggers.add(p, &var, partitions, from, &mut m.names, ledger, table);
    let triggers = Triggers {
        schedules: &mut m.schedules,
        sensors: &mut m.sensors,
        statements: &mut m.jobs,
        run_config: None,
    };
    triggers.add_deployment_schedules(
        p,
        &var,
        partitions,
        &configured,
        &mut m.names,
        ledger,
        table,
    );
}
