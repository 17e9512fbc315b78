//! Partitions definitions (module-level names shared by equal definitions) and partition mappings.

use crate::ir::{Framework, Partitions, Pipeline, Value};
use crate::python::print::{Expr, identifier};
use crate::report::{Anchor, Fidelity, Ledger, Scope, Translations};

/// The partition mapping a Dagster source set on the asset's dependency on `upstream`.
pub(super) fn partition_mapping(n: &crate::ir::Node, upstream: &str) -> Option<Expr> {
    match n.extra.get("partition_mappings") {
        Some(Value::Dict(m)) => m
            .get(upstream)
            .filter(|v| v.is_literal())
            .map(crate::emit::partitions::dagster_value),
        _ => None,
    }
}

/// A module-level partitions definition: its name, its expression on one line (to find an
/// equal one), and its text as written.
pub(super) type PartitionsConst = (String, String, String);

/// The partitions definition of a pipeline (a module-level name), if it has one.
pub(super) fn partitions_def(
    p: &Pipeline,
    from: Framework,
    defs: &mut Vec<PartitionsConst>,
    ledger: &mut Ledger,
    table: &Translations,
) -> Option<String> {
    let parts = p
        .partitions
        .clone()
        .or_else(|| p.nodes.iter().find_map(|n| n.partitions.clone()));
    let expr = match &parts {
        Some(
            axis @ (Partitions::Time { .. }
            | Partitions::Static { .. }
            | Partitions::Dynamic { name: Some(_) }
            | Partitions::Multi { .. }),
        ) => crate::emit::partitions::definition(axis)?,
        Some(Partitions::Dynamic { name: None }) => Expr::call(
            "dg.DynamicPartitionsDefinition",
            vec![Expr::kw("name", Expr::str(&p.id))],
        ),
        Some(Partitions::Parameter { name }) => {
            // A date-like partition parameter with a date default becomes daily partitions.
            let default = p
                .params
                .iter()
                .find(|x| &x.name == name)
                .and_then(|x| x.default.as_ref())
                .and_then(Value::as_str)
                .map(str::to_string)?;
            if default.len() != 10 || default.as_bytes().get(4) != Some(&b'-') {
                return None;
            }
            ledger.consume_as(
                table,
                "partitions.parameter",
                &p.id,
                p.span,
                Anchor::at(Scope::Module).then("dg.DailyPartitionsDefinition("),
                Fidelity::Approximate,
                format!("the `{name}` parameter becomes daily partitions starting {default}"),
            );
            Expr::call(
                "dg.DailyPartitionsDefinition",
                vec![Expr::kw("start_date", Expr::str(&default))],
            )
        }
        None => {
            // Airflow catchup over a daily schedule is time partitioning.
            let daily = p
                .schedule
                .as_ref()
                .and_then(|s| s.cron())
                .is_some_and(|c| c.starts_with("0 0 ") || c.split(' ').nth(2) == Some("*"));
            if from == Framework::Airflow && p.catchup == Some(true) && daily {
                let start = p
                    .start_date
                    .as_ref()
                    .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
                    .unwrap_or_else(|| "2024-01-01".into());
                ledger.consume_as(
                    table,
                    "catchup",
                    &p.id,
                    p.span,
                    Anchor::at(Scope::Module).then("dg.DailyPartitionsDefinition("),
                    Fidelity::Approximate,
                    "catchup becomes daily partitions with a partitioned schedule".into(),
                );
                Expr::call(
                    "dg.DailyPartitionsDefinition",
                    vec![Expr::kw("start_date", Expr::str(&start))],
                )
            } else {
                return None;
            }
        }
    };
    Some(register(defs, &p.id, &expr))
}

/// The module-level name of a partitions definition: an equal definition already written is
/// reused, else a new `<PIPELINE>_PARTITIONS` is added to `defs`.
fn register(defs: &mut Vec<PartitionsConst>, pipeline: &str, expr: &Expr) -> String {
    let flat = expr.flat();
    if let Some((name, _, _)) = defs.iter().find(|(_, f, _)| *f == flat) {
        return name.clone();
    }
    let name = unique_const(
        defs,
        &format!("{}_PARTITIONS", identifier(pipeline).to_uppercase()),
    );
    let text = expr.format_lead(0, name.len() + 3, 0);
    defs.push((name.clone(), flat, text));
    name
}

/// `name`, or `name_2`, `name_3`, … when another definition already has it.
fn unique_const(defs: &[PartitionsConst], name: &str) -> String {
    let mut candidate = name.to_string();
    let mut k = 2;
    while defs.iter().any(|(n, _, _)| *n == candidate) {
        candidate = format!("{name}_{k}");
        k += 1;
    }
    candidate
}

/// The partitions definition of one asset of a Dagster source: its own axis (assets of one
/// job or group may be partitioned differently, or not at all).
pub(super) fn node_partitions(
    node: &crate::ir::Node,
    pipeline: &str,
    defs: &mut Vec<PartitionsConst>,
) -> Option<String> {
    let expr = crate::emit::partitions::definition(node.partitions.as_ref()?)?;
    Some(register(defs, pipeline, &expr))
}
