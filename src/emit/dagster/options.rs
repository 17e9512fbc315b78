//! The options of an `@dg.asset` decorator besides its key: inputs and deps, group,
//! description, partitions, retry policy, pool, owners, tags, and the options a Dagster source
//! set.

use super::check::check_specs;
use super::inputs::Wiring;
use super::keys::tag_pair;
use super::partition::partition_mapping;
use super::site::AssetSite;
use crate::emit::module::Imports;
use crate::emit::shared;
use crate::ir::{Framework, Value};
use crate::python::print::{self as python, Expr, identifier};
use crate::report::{Anchor, Fidelity, Ledger, Translations};

/// `@asset` options kept as written in a Dagster → Dagster port.
const ASSET_OPTIONS: &[&str] = &[
    "code_version",
    "kinds",
    "metadata",
    "op_tags",
    "key_prefix",
    "io_manager_key",
    "compute_kind",
];

/// `ins=` and `deps=`, with the claims of the partition mappings, inlets and outlets they carry.
pub(super) fn wiring_kwargs(
    s: &AssetSite,
    w: &mut Wiring,
    kw: &mut Vec<Expr>,
    at: &Anchor,
    ledger: &mut Ledger,
    table: &Translations,
) {
    let (plan, n) = (s.plan, s.step.node);
    let (ins, deps) = (std::mem::take(&mut w.ins), &w.deps);
    let mut mapped_inputs = w.mapped_inputs;
    if !ins.is_empty() {
        kw.push(Expr::kw("ins", Expr::Dict(ins)));
    }
    if !deps.is_empty() {
        let mut list = Vec::new();
        for (d, up) in deps {
            let id = plan.steps[*up].node.id.as_str();
            list.push(match partition_mapping(n, id) {
                Some(m) => {
                    mapped_inputs = true;
                    Expr::call(
                        "dg.AssetDep",
                        vec![Expr::raw(d.clone()), Expr::kw("partition_mapping", m)],
                    )
                }
                None => Expr::raw(d.clone()),
            });
        }
        kw.push(Expr::kw("deps", Expr::List(list)));
    }
    if mapped_inputs {
        ledger.consume_as(
            table,
            "extra",
            &format!("{}.partition_mappings", n.id),
            n.span,
            at.clone().then("partition_mapping="),
            Fidelity::Exact,
            "kept on the asset's inputs and deps".into(),
        );
    }
    if !n.inlets.is_empty() && !deps.is_empty() {
        ledger.consume(
            table,
            "assets.inlets",
            &n.id,
            n.span,
            at.clone().then("deps="),
        );
    }
    if !n.outlets.is_empty() {
        ledger.consume(table, "assets.outlets", &n.id, n.span, at.clone());
    }
}

/// `group_name=`, `description=` and `partitions_def=`.
pub(super) fn describe_kwargs(
    s: &AssetSite,
    kw: &mut Vec<Expr>,
    at: &Anchor,
    ledger: &mut Ledger,
    table: &Translations,
) {
    let (plan, partitions, n) = (s.plan, s.partitions, s.step.node);
    if let Some(g) = n.group.as_ref().filter(|g| !g.is_empty()) {
        kw.push(Expr::kw("group_name", Expr::str(&identifier(g))));
        if let Some(def) = plan.pipeline.groups.iter().find(|x| &x.id == g) {
            let id = match def.kind {
                crate::ir::GroupKind::TaskGroup => "group.task_group",
                crate::ir::GroupKind::SubFlow => "group.sub_flow",
                crate::ir::GroupKind::AssetGroup => "group.asset_group",
            };
            ledger.consume(table, id, &def.id, def.span, at.clone().then("group_name="));
        }
    }
    if let Some(d) = &n.description {
        kw.push(Expr::kw(
            "description",
            Expr::str(d.lines().next().unwrap_or("")),
        ));
    }
    if let Some(parts) = partitions {
        kw.push(Expr::kw("partitions_def", Expr::raw(parts.to_string())));
        if let Some(axis) = &n.partitions {
            let id = crate::report::partitions_id(axis);
            ledger.consume(table, id, &n.id, n.span, at.clone().then("partitions_def="));
        }
    }
}

/// `retry_policy=`, `pool=`, `owners=` and `tags=` from the step's effective policy.
pub(super) fn policy_kwargs(
    s: &AssetSite,
    kw: &mut Vec<Expr>,
    at: &Anchor,
    ledger: &mut Ledger,
    table: &Translations,
) {
    let (plan, n) = (s.plan, s.step.node);
    let pol = plan.pipeline.effective_policy(n);
    if let Some(r) = pol.retries {
        let mut args = vec![Expr::kw("max_retries", Expr::raw(r.to_string()))];
        let pipeline = plan.pipeline;
        let retry = at.clone().then("retry_policy=");
        let consume = |ledger: &mut Ledger,
                       field: &str,
                       needle: &str,
                       set: &dyn Fn(&crate::ir::Policy) -> bool| {
            let at = retry.clone().then(needle);
            shared::consume_policy(ledger, table, pipeline, n, field, at, set);
        };
        consume(ledger, "policy.retries", "max_retries=", &|x| {
            x.retries.is_some()
        });
        if let Some(d) = pol
            .retry_delay
            .or_else(|| pol.retry_delays.first().copied())
            .or_else(|| shared::implicit_retry_delay(plan.pipeline, &pol))
        {
            args.push(Expr::kw("delay", shared::seconds(d)));
            consume(ledger, "policy.retry_delay", "delay=", &|x| {
                x.retry_delay.is_some()
            });
            consume(ledger, "policy.retry_delays", "delay=", &|x| {
                !x.retry_delays.is_empty()
            });
        }
        if pol.backoff.is_some() {
            args.push(Expr::kw("backoff", Expr::raw("dg.Backoff.EXPONENTIAL")));
            consume(ledger, "policy.backoff", "backoff=", &|x| {
                x.backoff.is_some()
            });
            if shared::traps(
                pipeline,
                crate::emit::Target {
                    framework: Framework::Dagster,
                    version: 1,
                },
            )
            .contains(&"trap.backoff_curve")
            {
                let at = retry.clone().then("backoff=");
                ledger.consume(table, "trap.backoff_curve", &pipeline.id, pipeline.span, at);
            }
        }
        if pol.jitter.is_some() {
            args.push(Expr::kw("jitter", Expr::raw("dg.Jitter.PLUS_MINUS")));
            consume(ledger, "policy.jitter", "jitter=", &|x| x.jitter.is_some());
        }
        kw.push(Expr::kw("retry_policy", Expr::call("dg.RetryPolicy", args)));
    }
    if let Some(pool) = &pol.pool {
        kw.push(Expr::kw("pool", Expr::str(pool)));
        let at = at.clone().then("pool=");
        shared::consume_policy(ledger, table, plan.pipeline, n, "policy.pool", at, &|x| {
            x.pool.is_some()
        });
    }
    if let Some(o) = &pol.owner
        && (o.contains('@') || o.starts_with("team:"))
    {
        kw.push(Expr::kw("owners", Expr::List(vec![Expr::str(o)])));
        let at = at.clone().then("owners=");
        shared::consume_policy(ledger, table, plan.pipeline, n, "policy.owner", at, &|x| {
            x.owner.is_some()
        });
    }
    if !n.tags.is_empty() {
        kw.push(Expr::kw(
            "tags",
            Expr::Dict(n.tags.iter().map(|t| tag_pair(t)).collect()),
        ));
    }
}

/// What a Dagster source set on the asset and is kept: its own options, IO manager, check
/// specs and required resource keys.
pub(super) fn dagster_kwargs(
    s: &AssetSite,
    kw: &mut Vec<Expr>,
    at: &Anchor,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
) {
    let (plan, step, from) = (s.plan, s.step, s.from);
    let n = step.node;
    let facts = s.facts;
    if from == Framework::Dagster {
        kw.extend(shared::passthrough(
            ledger,
            table,
            &n.id,
            &n.extra,
            ASSET_OPTIONS,
            n.span,
            imports,
            at,
        ));
    }
    if from == Framework::Dagster
        && let Some(io) = &n.io_manager
    {
        kw.push(Expr::kw("io_manager_key", Expr::str(io)));
        let at = at.clone().then("io_manager_key=");
        ledger.consume(table, "io_manager", &n.id, n.span, at);
    }
    if from == Framework::Dagster {
        let specs = check_specs(plan.pipeline, step, facts);
        if !specs.is_empty() {
            kw.push(Expr::kw("check_specs", Expr::List(specs)));
        }
    }
    if from == Framework::Dagster
        && let Some(Value::List(keys)) = n.extra.get("required_resource_keys")
    {
        let keys: Vec<String> = keys
            .iter()
            .filter_map(Value::as_str)
            .map(python::string)
            .collect();
        kw.push(Expr::kw(
            "required_resource_keys",
            Expr::raw(format!("{{{}}}", keys.join(", "))),
        ));
        ledger.consume_as(
            table,
            "extra",
            &format!("{}.required_resource_keys", n.id),
            n.span,
            at.clone().then("required_resource_keys="),
            Fidelity::Exact,
            "kept".into(),
        );
    }
}
