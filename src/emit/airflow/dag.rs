//! The `@dag` function of a pipeline: its decorator (id, schedule, start date, catchup,
//! default args, params) and its signature.

use super::asset::AssetConsts;
use super::names::{airflow_key, sdk};
use super::policy::policy_kwargs;
use super::schedule::{schedule_kwarg, start_date_kwarg};
use crate::emit::module::Imports;
use crate::emit::{Target, shared};
use crate::ir::{Framework, Partitions, Pipeline, Value};
use crate::python::print::{self as python, Expr, identifier};
use crate::report::{self, Anchor, Fidelity, Ledger, Translations};

/// The `@dag(...)` decorator of a pipeline, with the claims of what it writes.
#[allow(clippy::too_many_arguments)]
pub(super) fn dag_decorator(
    p: &Pipeline,
    dag: &str,
    target: Target,
    assets: &AssetConsts,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
) -> String {
    let head = |needle: &str| Anchor::head(dag, needle);
    let at = p.span;
    ledger.consume(table, "pipeline", &p.id, at, head("@dag("));
    shared::consume_notes(ledger, table, "pipeline", &p.extra, at, &head("@dag("));
    let mut kw = vec![Expr::kw(
        "dag_id",
        Expr::str(&airflow_key(shared::run_name(p))),
    )];
    let time_parts = matches!(&p.partitions, Some(Partitions::Time { .. }))
        || p.nodes
            .iter()
            .any(|n| matches!(n.partitions, Some(Partitions::Time { .. })));
    schedule_kwarg(p, dag, target, assets, imports, ledger, table, &mut kw);
    start_date_kwarg(p, dag, imports, ledger, table, &mut kw);
    match p.catchup {
        // No catchup is what every target does without one.
        Some(false) => {
            ledger.consume(table, "catchup", &p.id, at, head("catchup="));
        }
        Some(true) => {
            ledger.consume(table, "catchup", &p.id, at, head("catchup="));
        }
        None => {}
    }
    if shared::traps(p, target).contains(&"trap.catchup_default") {
        ledger.consume(table, "trap.catchup_default", &p.id, at, head("catchup="));
    }
    let catchup = p.catchup.unwrap_or(time_parts);
    kw.push(Expr::kw(
        "catchup",
        Expr::raw(if catchup { "True" } else { "False" }),
    ));
    if let Some(d) = &p.description {
        kw.push(Expr::kw(
            "description",
            Expr::str(d.lines().next().unwrap_or("")),
        ));
        ledger.consume(
            table,
            "pipeline.description",
            &p.id,
            at,
            head("description="),
        );
    }
    if !p.tags.is_empty() {
        kw.push(Expr::kw(
            "tags",
            Expr::List(p.tags.iter().map(|t| Expr::str(t)).collect()),
        ));
        ledger.consume(table, "pipeline.tags", &p.id, at, head("tags="));
    }
    default_args(p, dag, target, imports, ledger, table, &mut kw);
    if let Some(t) = p.run_policy.timeout {
        imports.name("datetime", "timedelta");
        kw.push(Expr::kw("dagrun_timeout", python::timedelta(t)));
        ledger.consume(
            table,
            "run_policy.timeout",
            &p.id,
            at,
            head("dagrun_timeout="),
        );
    }
    params_kwarg(p, dag, target, imports, ledger, table, &mut kw);
    python::decorator("dag", kw)
}

/// `default_args=`: the pipeline's default policy and owner; the claims of its deployments
/// and of their schedules, which a DAG cannot have.
fn default_args(
    p: &Pipeline,
    dag: &str,
    target: Target,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
    kw: &mut Vec<Expr>,
) {
    let from = p.framework.unwrap_or(Framework::Airflow);
    let head = |needle: &str| Anchor::head(dag, needle);
    let at = p.span;
    let mut defaults = policy_kwargs(
        from,
        &p.defaults,
        "defaults",
        p.span,
        ledger,
        table,
        imports,
        &head("default_args="),
    );
    if p.defaults.backoff.is_some() && shared::traps(p, target).contains(&"trap.backoff_curve") {
        let at = head("default_args=").then("retry_exponential_backoff");
        ledger.consume(table, "trap.backoff_curve", &p.id, p.span, at);
    }
    for d in &p.deployments {
        ledger.consume(table, "deployment", &d.name, d.span, head("@dag("));
    }
    // A DAG has one schedule, and its scheduled runs take the params' defaults.
    for ds in p.deployment_schedules() {
        let what = shared::schedule_text(ds.schedule);
        if !ds.main {
            ledger.consume_as(
                table,
                "schedule.additional",
                &ds.subject(),
                ds.deployment.span,
                head("schedule="),
                Fidelity::Redesign,
                format!("an Airflow DAG has one schedule: `{what}` of deployment `{}` is not written; add a DAG for it", ds.deployment.name),
            );
        }
        if !ds.parameters.is_empty() {
            ledger.consume_as(
                table,
                "schedule.parameters",
                &ds.subject(),
                ds.deployment.span,
                head("@dag("),
                Fidelity::Redesign,
                format!("the runs of `{what}` take {}; the DAG's scheduled runs take its params' defaults: make them the defaults or trigger the runs with that conf", shared::parameters_text(&ds.parameters)),
            );
        }
    }
    if let Some(o) = &p.owner
        && p.defaults.owner.is_none()
    {
        defaults.push(Expr::kw("owner", Expr::str(o)));
        ledger.consume(
            table,
            "pipeline.owner",
            &p.id,
            at,
            head("default_args=").then("\"owner\""),
        );
    }
    if !defaults.is_empty() {
        let items = defaults
            .into_iter()
            .filter_map(|e| match e {
                Expr::Keyword(k, v) => Some((Expr::str(&k), *v)),
                _ => None,
            })
            .collect();
        kw.push(Expr::kw("default_args", Expr::Dict(items)));
    }
}

/// `params=`: typed Airflow params as `Param(...)` objects, and a Dagster source's partition
/// key as the `partition_key` param.
fn params_kwarg(
    p: &Pipeline,
    dag: &str,
    target: Target,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
    kw: &mut Vec<Expr>,
) {
    let from = p.framework.unwrap_or(Framework::Airflow);
    let head = |needle: &str| Anchor::head(dag, needle);
    // Typed Airflow params stay `Param(...)` objects in the DAG's params.
    let mut objects: Vec<(Expr, Expr)> = p
        .params
        .iter()
        .filter(|x| is_param_object(x))
        .map(|x| {
            (
                Expr::str(&x.name),
                x.default.as_ref().map_or(Expr::raw("None"), python::value),
            )
        })
        .collect();
    // A static or multi partition key is chosen per run: the `partition_key` param.
    if from == Framework::Dagster
        && let Some(axis) = p
            .nodes
            .iter()
            .filter(|n| shared::key_param(n))
            .find_map(|n| n.partitions.as_ref())
    {
        let mut args = vec![Expr::str(&shared::default_partition_key(p))];
        args.push(Expr::kw("type", Expr::str("string")));
        if let Partitions::Static { keys } = axis {
            args.push(Expr::kw(
                "enum",
                Expr::List(keys.iter().map(|k| Expr::str(k)).collect()),
            ));
        }
        objects.push((Expr::str("partition_key"), Expr::call("Param", args)));
        // The keyed steps' partitions and the job's own are all the one `partition_key` param.
        let keyed = p
            .nodes
            .iter()
            .filter(|n| shared::key_param(n))
            .filter_map(|n| Some((n.partitions.as_ref()?, n.id.as_str(), n.span)))
            .chain(
                p.partitions
                    .as_ref()
                    .map(|parts| (parts, p.id.as_str(), p.span)),
            );
        for (parts, subject, span) in keyed {
            ledger.consume_as(
                table,
                report::partitions_id(parts),
                subject,
                span,
                head("params=").then("\"partition_key\""),
                Fidelity::Approximate,
                "the partition key is the `partition_key` param: one run per key, the first by default".into(),
            );
        }
    }
    if !objects.is_empty() {
        imports.name(sdk(target), "Param");
        for prm in p.params.iter().filter(|x| is_param_object(x)) {
            ledger.consume(
                table,
                "param",
                &prm.name,
                p.span,
                head("params=").then(python::string(&prm.name)),
            );
        }
        kw.push(Expr::kw("params", Expr::Dict(objects)));
    }
}

/// An Airflow param declared as `Param(...)` (kept in `params=`, not as a function argument).
fn is_param_object(p: &crate::ir::Param) -> bool {
    p.default
        .as_ref()
        .is_some_and(|d| matches!(d, Value::Call(c) if c.func.ends_with("Param")))
}

/// The `@dag` function's signature: one argument per plain param, with its default.
pub(super) fn dag_signature(
    p: &Pipeline,
    name: &str,
    ledger: &mut Ledger,
    table: &Translations,
) -> String {
    let mut params = Vec::new();
    for prm in p.params.iter().filter(|x| !is_param_object(x)) {
        let default = prm
            .default
            .as_ref()
            .map(|v| python::value(v).flat())
            .unwrap_or_else(|| "None".into());
        params.push(format!("{}={default}", identifier(&prm.name)));
        // What is written is an argument of the @dag function (Airflow makes it a DAG param with
        // its default), not the table's `params={…}`.
        ledger.consume_as(
            table,
            "param",
            &prm.name,
            p.span,
            Anchor::head(name, format!("{}=", identifier(&prm.name))),
            Fidelity::Exact,
            "an argument of the @dag function with its default (Airflow makes it a DAG param)"
                .into(),
        );
    }
    shared::signature(&format!("def {name}"), &params, "")
}
