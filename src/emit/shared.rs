//! What every writer does the same way: bodies, policies as keyword arguments, and the ledger
//! entries of pipeline-level constructs.

use super::Target;
use super::module::Imports;
use super::plan::Step;
use super::rewrite::rewrite;
use crate::ir::{Framework, Node, NodeKind, Partitions, Pipeline, Value};
use crate::python::print::{self as python, Expr};
use crate::report::{self, Anchor, Fidelity, Ledger, Translations};

/// Operators whose work the Dagster and Prefect writers write as a body (any other operator's
/// step raises `NotImplementedError`: see [`unported_operator`]).
const PORTED_OPERATORS: &[&str] = &["BashOperator", "FileSensor"];

/// The class of a step's operator when no writer ports it to `target` (an Airflow port keeps
/// every operator as it is): the step is written to raise `NotImplementedError`, and its rows
/// are `none`.
pub fn unported_operator<'n>(n: &'n Node, target: &str) -> Option<&'n str> {
    let op = n.operator.as_ref()?;
    (n.callable.is_none()
        && !target.starts_with("airflow")
        && !PORTED_OPERATORS.contains(&op.class.as_str()))
    .then_some(op.class.as_str())
}

/// The asset ids a check's function checks: its own target, or, for one function of a
/// `@multi_asset_check`, the targets of every check it runs (in check order).
pub fn checked_steps<'p>(p: &'p Pipeline, c: &'p crate::ir::Check) -> Vec<&'p str> {
    let group = c.extra.get("multi_asset_check").and_then(Value::as_str);
    let mut out: Vec<&str> = Vec::new();
    for x in &p.checks {
        let same = match group {
            Some(g) => x.extra.get("multi_asset_check").and_then(Value::as_str) == Some(g),
            None => std::ptr::eq(x, c),
        };
        if same && !out.contains(&x.target.as_str()) {
            out.push(x.target.as_str());
        }
    }
    out
}

/// Consumes a node's kind, its operator category and its reader notes where its code is (`at`).
pub fn consume_node(ledger: &mut Ledger, table: &Translations, n: &Node, at: &Anchor) {
    let kind = report::node_construct(n);
    if let Some(class) = unported_operator(n, &ledger.target) {
        let why = format!(
            "{class} has no automatic port: the step raises NotImplementedError; port it by hand"
        );
        ledger.lose(table, kind, &n.id, n.span, why.clone());
        if let Some(category) = report::operator_category(class) {
            ledger.lose(table, category, &n.id, n.span, why);
        }
        consume_notes(ledger, table, &n.id, &n.extra, n.span, at);
        return;
    }
    // An Airflow port writes a branch (`@task.branch`, the short-circuit operator); the Prefect
    // writer consumes it where the flow tests the branch's result; the Dagster writer writes the
    // step as a plain step, so every downstream arm runs.
    let branching = matches!(kind, "node.branch" | "node.short_circuit");
    if branching && (ledger.target.starts_with("prefect") || ledger.target.starts_with("dagster")) {
        // Consumed by the Prefect writer at the flow's test of the result, by the Dagster writer
        // where the assets below it test it.
    } else if branching && !ledger.target.starts_with("airflow") {
        ledger.lose(
            table,
            kind,
            &n.id,
            n.span,
            "the branch is not kept: the step is written as a plain step and every downstream arm runs; port the condition by hand".into(),
        );
    } else {
        ledger.consume(table, kind, &n.id, n.span, at.clone());
    }
    // (A test of runs' states is the Dagster writer's: a failure hook; a test of results it
    // writes at the top of the asset, or says why not.)
    if let Some(c) = &n.condition
        && ledger.target.starts_with("dagster")
        && !n.condition_reads_states()
        && c.starts_with("except ")
    {
        ledger.lose(
            table,
            "node.condition",
            &n.id,
            n.span,
            if c.starts_with("except ") {
                format!("the step runs whether or not its try body raised (`{c}`): port the handler by hand")
            } else {
                format!("the step runs whether or not `{c}` holds: test the condition in the asset by hand")
            },
        );
    }
    // A sub-flow run as one step names its flow; whatever the target, the step runs its function.
    if n.flavor.as_deref() == Some(crate::ir::SUB_FLOW_STEP) && n.extra.contains_key("pipeline") {
        ledger.consume_as(
            table,
            "extra",
            &format!("{}.pipeline", n.id),
            n.span,
            at.clone(),
            Fidelity::Exact,
            "names the sub-flow whose function the step runs".into(),
        );
    }
    consume_notes(ledger, table, &n.id, &n.extra, n.span, at);
    if let Some(op) = &n.operator
        && let Some(category) = report::operator_category(&op.class)
    {
        ledger.consume(table, category, &n.id, n.span, at.clone());
    }
}

/// Keys readers put in `extra` to describe what they saw (not source arguments), and how the
/// writers treat them: (key, fidelity, note).
pub const READER_NOTES: &[(&str, Fidelity, &str)] = &[
    (
        "pipeline",
        Fidelity::Exact,
        "the called sub-flow is written as a flow and called",
    ),
    (
        "invocation",
        Fidelity::Approximate,
        "`.submit()` / `.map()` futures: a Prefect port submits every task; the other targets run a step when its upstreams are done (concurrency may differ)",
    ),
    (
        "run_logger",
        Fidelity::Exact,
        "logger use is rewritten in the body",
    ),
    (
        "uses",
        Fidelity::Exact,
        "body API use is listed as body entries",
    ),
    (
        "artifacts",
        Fidelity::Approximate,
        "artifacts are listed as body entries",
    ),
    (
        "role",
        Fidelity::Approximate,
        "setup/teardown roles become ordinary steps",
    ),
    (
        "dynamic_loop",
        Fidelity::None,
        "built in a loop over run-time data: written once",
    ),
    (
        "variant_of",
        Fidelity::Exact,
        "the variant is written as its own flow",
    ),
    (
        "allow_failure",
        Fidelity::Approximate,
        "allow_failure becomes ordering only",
    ),
    (
        "job_kind",
        Fidelity::Exact,
        "the job's kind decides how it is written",
    ),
    (
        "composition",
        Fidelity::Exact,
        "the op composition is carried by the nodes and edges",
    ),
    (
        "schedules",
        Fidelity::Approximate,
        "the first schedule is kept; the others are listed here",
    ),
];

/// Consumes the reader notes of a node or pipeline `extra` map under `prefix` at the code of
/// what they describe (`at`).
pub fn consume_notes(
    ledger: &mut Ledger,
    table: &Translations,
    prefix: &str,
    extra: &std::collections::BTreeMap<String, Value>,
    span: crate::ir::Span,
    at: &Anchor,
) {
    for (key, fidelity, note) in READER_NOTES {
        if extra.contains_key(*key) {
            let subject = format!("{prefix}.{key}");
            if *fidelity == Fidelity::None {
                ledger.lose(table, "extra", &subject, span, (*note).to_string());
            } else {
                ledger.consume_as(
                    table,
                    "extra",
                    &subject,
                    span,
                    at.clone(),
                    *fidelity,
                    (*note).to_string(),
                );
            }
        }
    }
}

/// Same-framework passthrough: literal `extra` options the target decorator accepts as they are.
#[allow(clippy::too_many_arguments)]
pub fn passthrough(
    ledger: &mut Ledger,
    table: &Translations,
    prefix: &str,
    extra: &std::collections::BTreeMap<String, Value>,
    allowed: &[&str],
    span: crate::ir::Span,
    imports: &mut Imports,
    at: &Anchor,
) -> Vec<Expr> {
    let mut out = Vec::new();
    for (k, v) in extra {
        if allowed.contains(&k.as_str()) && v.is_literal() && !matches!(v, Value::Call(_)) {
            if matches!(v, Value::Duration(_)) {
                imports.name("datetime", "timedelta");
            }
            out.push(Expr::kw(k, python::value(v)));
            ledger.consume_as(
                table,
                "extra",
                &format!("{prefix}.{k}"),
                span,
                at.clone().then(format!("{k}=")),
                Fidelity::Exact,
                "passed through as written".into(),
            );
        }
    }
    out
}

/// Consumes a node that calls a function already defined for another node: its policy is the
/// decorator's of `func` (`at` is where the call is), its body that function's.
pub fn consume_reused(
    ledger: &mut Ledger,
    table: &Translations,
    n: &Node,
    func: &str,
    at: &Anchor,
) {
    consume_node(ledger, table, n, at);
    for (f, kw) in policy_keywords(&n.policy) {
        ledger.consume(table, f, &n.id, n.span, Anchor::head(func, kw));
    }
    if let Some(c) = &n.callable {
        for api in report::body_apis(&c.body) {
            ledger.consume_as(
                table,
                api,
                &n.id,
                c.body_span,
                Anchor::head(func, format!("def {func}(")),
                Fidelity::Exact,
                "same function as its first call".into(),
            );
        }
    }
}

/// The set policy fields of a policy with the keyword a written policy has for each in any
/// target (`retries` is in `retries=`, `"retries":` and `RetryPolicy(max_retries=…)`).
fn policy_keywords(p: &crate::ir::Policy) -> Vec<(&'static str, &'static str)> {
    report::policy_fields(p)
        .into_iter()
        .filter_map(|f| {
            let kw = match f {
                "policy.retries" => "retries",
                "policy.retry_delay" | "policy.retry_delays" => "delay",
                "policy.timeout" => "timeout",
                "policy.pool" => "pool",
                "policy.owner" => "owner",
                _ => return None,
            };
            Some((f, kw))
        })
        .collect()
}

/// The semantic traps of porting `p` to `target`, as construct ids.
pub fn traps(p: &Pipeline, target: Target) -> Vec<&'static str> {
    let mut out = Vec::new();
    let foreign = p.framework != Some(target.framework);
    if let Some(s) = &p.schedule
        && matches!(
            s.kind,
            crate::ir::ScheduleKind::Cron | crate::ir::ScheduleKind::Preset
        )
        && foreign
    {
        out.push("trap.logical_date");
    }
    if (p.defaults.backoff.is_some() || p.nodes.iter().any(|n| n.policy.backoff.is_some()))
        && foreign
    {
        out.push("trap.backoff_curve");
    }
    if p.checks.iter().any(|c| c.blocking) && target.framework != Framework::Dagster {
        out.push("trap.blocking_check");
    }
    if p.framework == Some(Framework::Airflow)
        && p.catchup.is_none()
        && target.framework == Framework::Airflow
    {
        out.push("trap.catchup_default");
    }
    // A Prefect call that raises in the flow when it fails stops the flow: the reader orders
    // the runs after it, except where the graph cannot (its `unordered_raises`).
    if p.framework == Some(Framework::Prefect) && foreign && !p.unordered_raises.is_empty() {
        out.push("trap.fail_fast");
    }
    if foreign && quiet_failures(p, target.framework) {
        out.push("trap.final_state");
    }
    out
}

/// Whether a step of `p` can fail while `p`'s run still succeeds where the run of its port to
/// `to` would fail (exec::final_state): a Prefect run whose failure does not reach the flow
/// body (submitted and never resolved, `return_state=True`, caught), or an Airflow step that
/// runs after a failure (a leaf that succeeds then decides the DAG run) in a Dagster port, or
/// in a Prefect port that reads a branching task's result.
fn quiet_failures(p: &Pipeline, to: Framework) -> bool {
    match (p.framework, to) {
        (Some(Framework::Prefect), Framework::Airflow | Framework::Dagster) => p
            .nodes
            .iter()
            .any(|n| !n.is_generated() && !p.flow_raises.contains_key(&n.id)),
        (Some(Framework::Airflow), Framework::Dagster) => p.nodes.iter().any(runs_after_failure),
        // The Prefect port reads a branching task's result in the flow: when the task failed,
        // the flow raises there, where the DAG ran the steps waiting for failures.
        (Some(Framework::Airflow), Framework::Prefect) => {
            p.nodes
                .iter()
                .any(|n| matches!(n.kind, NodeKind::Branch | NodeKind::ShortCircuit))
                && p.nodes.iter().any(runs_after_failure)
        }
        _ => false,
    }
}

/// Whether an Airflow step's trigger rule runs it after an upstream failed (all_done,
/// one_failed, …), so a leaf that succeeds then can make the DAG run succeed.
fn runs_after_failure(n: &crate::ir::Node) -> bool {
    !matches!(
        n.trigger_rule.as_deref(),
        None | Some("all_success" | "none_failed" | "none_failed_min_one_success" | "all_skipped")
    )
}

/// A ledger for one pipeline's port: every construct of `p` and every semantic trap of the
/// port is pending from the start (a trap no writer handled is reported all the same).
pub fn ledger_for(file: &crate::ir::SourceFile, p: &Pipeline, target: Target) -> Ledger {
    let mut l = Ledger::for_pipeline(&file.path, p, target.framework.id());
    l.expect(traps(p, target).into_iter().map(|id| report::ConstructRef {
        id: id.into(),
        subject: p.id.clone(),
        span: p.span.into(),
    }));
    l
}

/// Consumes a policy field written at `at` for the node that set it and, when the value came
/// from the pipeline's defaults, for the defaults.
#[allow(clippy::too_many_arguments)]
pub fn consume_policy(
    ledger: &mut Ledger,
    table: &Translations,
    pipeline: &Pipeline,
    n: &Node,
    field: &str,
    at: Anchor,
    set: &dyn Fn(&crate::ir::Policy) -> bool,
) {
    if set(&n.policy) {
        ledger.consume(table, field, &n.id, n.span, at);
    } else if set(&pipeline.defaults) {
        ledger.consume(table, field, "defaults", pipeline.span, at);
    }
}

/// Whole seconds as an integer literal, fractions as a float literal.
pub fn seconds(s: f64) -> Expr {
    if s.fract() == 0.0 {
        Expr::raw(format!("{}", s as i64))
    } else {
        Expr::raw(python::float(s))
    }
}

/// A node's effective policy as Prefect `@task` keyword arguments, consumed at `at` (the
/// task's decorator).
pub fn prefect_policy(
    pipeline: &Pipeline,
    n: &Node,
    ledger: &mut Ledger,
    table: &Translations,
    at: &Anchor,
) -> Vec<Expr> {
    // Prefect has no DAG-wide defaults: the effective policy (task over groups over defaults) is written on each task.
    let effective = pipeline.effective_policy(n);
    let p = &effective;
    let mut kw = Vec::new();
    let consume = |ledger: &mut Ledger,
                   field: &str,
                   needle: &str,
                   set: &dyn Fn(&crate::ir::Policy) -> bool| {
        consume_policy(
            ledger,
            table,
            pipeline,
            n,
            field,
            at.clone().then(needle),
            set,
        );
    };
    if let Some(r) = p.retries {
        kw.push(Expr::kw("retries", Expr::raw(r.to_string())));
        consume(ledger, "policy.retries", "retries=", &|x| {
            x.retries.is_some()
        });
    }
    if !p.retry_delays.is_empty() {
        kw.push(Expr::kw(
            "retry_delay_seconds",
            Expr::List(p.retry_delays.iter().map(|d| seconds(*d)).collect()),
        ));
        consume(
            ledger,
            "policy.retry_delays",
            "retry_delay_seconds=",
            &|x| !x.retry_delays.is_empty(),
        );
        if p.retry_delay.is_some() {
            ledger.consume_as(
                table,
                "policy.retry_delay",
                &n.id,
                n.span,
                at.clone().then("retry_delay_seconds="),
                Fidelity::Exact,
                "kept as the list of delays".into(),
            );
        }
    } else if let Some(d) = p.retry_delay {
        kw.push(Expr::kw("retry_delay_seconds", seconds(d)));
        consume(ledger, "policy.retry_delay", "retry_delay_seconds=", &|x| {
            x.retry_delay.is_some()
        });
    } else if let Some(d) = implicit_retry_delay(pipeline, p) {
        kw.push(Expr::kw("retry_delay_seconds", seconds(d)));
    }
    if let Some(t) = p.timeout {
        kw.push(Expr::kw("timeout_seconds", seconds(t)));
        consume(ledger, "policy.timeout", "timeout_seconds=", &|x| {
            x.timeout.is_some()
        });
    }
    kw
}

/// The default partition key a generated pipeline starts from (the partitions' start).
pub fn default_partition_key(p: &Pipeline) -> String {
    let parts = p
        .partitions
        .as_ref()
        .or_else(|| p.nodes.iter().find_map(|n| n.partitions.as_ref()));
    match parts {
        Some(Partitions::Time { start, .. }) => {
            start.clone().unwrap_or_else(|| "2024-01-01".into())
        }
        Some(Partitions::Static { keys }) => keys.first().cloned().unwrap_or_default(),
        // Dagster's multi key: each dimension's key, dimensions sorted by name, joined by `|`.
        Some(Partitions::Multi { dimensions }) => {
            let mut dims: Vec<&(String, Partitions)> = dimensions.iter().collect();
            dims.sort_by(|a, b| a.0.cmp(&b.0));
            dims.iter()
                .map(|(_, axis)| match axis {
                    Partitions::Time { start, .. } => {
                        start.clone().unwrap_or_else(|| "2024-01-01".into())
                    }
                    Partitions::Static { keys } => keys.first().cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
                .join("|")
        }
        Some(Partitions::Parameter { name }) => p
            .params
            .iter()
            .find(|x| &x.name == name)
            .and_then(|x| x.default.as_ref())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        _ => p
            .start_date
            .as_ref()
            .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
            .unwrap_or_else(|| "2024-01-01".into()),
    }
}

/// A step's function signature and body for a target, with every body rewrite in the ledger.
#[allow(clippy::too_many_arguments)]
pub fn body_for(
    step: &Step,
    from: Framework,
    to: Framework,
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
    partition: Option<&str>,
    module: (Option<&Pipeline>, &[String]),
) -> (String, String, bool) {
    let n = step.node;
    if let Some(c) = &n.callable {
        // Parameters the caller no longer passes are bound first in the body.
        let mut source_body = c.body.clone();
        for (_, statement) in step.body_locals.iter().rev() {
            source_body = super::rewrite::insert_first(&source_body, statement);
        }
        for statement in step.body_prelude.iter().rev() {
            source_body = super::rewrite::insert_first(&source_body, statement);
        }
        // Airflow's run context (`**context`, `get_current_context()`) is built from the
        // target's run.
        let kwargs_name = c
            .params
            .iter()
            .find_map(|p| p.name.strip_prefix("**"))
            .filter(|_| from == Framework::Airflow && to != Framework::Airflow);
        let airflow_context = (from == Framework::Airflow && to != Framework::Airflow)
            .then(|| super::rewrite::airflow_context(&source_body, kwargs_name, to))
            .flatten();
        let bound_kwargs = kwargs_name.filter(|k| {
            airflow_context.is_some()
                && crate::python::parse::referenced_names(&c.body).is_some_and(|w| w.contains(*k))
        });
        if let Some(b) = &airflow_context {
            source_body = b.clone();
        }
        // Airflow has no partition key of its own: a static or multi partition key is a param.
        let keyed = to == Framework::Airflow && key_param(n);
        let mut rw = if keyed && source_body.contains("context.partition_key") {
            let mut rw = rewrite(
                &source_body.replace("context.partition_key", "partition_key"),
                from,
                to,
            );
            rw.partition_key = true;
            rw.uses
                .retain(|(construct, _, _)| *construct != "body.partition_key");
            rw.uses.push((
                "body.partition_key",
                Fidelity::Approximate,
                "the partition key is the DAG's `partition_key` param: one run per key".into(),
            ));
            rw
        } else {
            rewrite(&source_body, from, to)
        };
        // A multi-partition key keeps its keys by dimension.
        if let Some(Partitions::Multi { dimensions }) = &n.partitions
            && to != Framework::Dagster
            && rw.partition_key
            && (rw.body.contains("keys_by_dimension") || rw.body.contains("MultiPartitionKey"))
        {
            for name in ["dg.MultiPartitionKey", "dagster.MultiPartitionKey"] {
                rw.body = rw.body.replace(name, "_MultiPartitionKey");
            }
            let names: Vec<Expr> = dimensions.iter().map(|(d, _)| Expr::str(d)).collect();
            let call = Expr::call(
                "_multi_partition_key",
                vec![Expr::raw("partition_key"), Expr::Tuple(names)],
            );
            rw.body = format!(
                "partition_key = {}
{}",
                call.format(0, 0),
                rw.body
            );
            self::need(imports, helpers, "_multi_partition_key");
        }
        // Dagster resources and config become locals where the target has neither.
        let locals = if from == Framework::Dagster && to != Framework::Dagster {
            module
                .0
                .map_or_else(super::resources::Locals::default, |p| {
                    super::resources::locals(c, &rw.body, p, module.1)
                })
        } else {
            super::resources::Locals::default()
        };
        if !locals.dropped.is_empty() {
            rw.body = format!("{}\n{}", locals.prelude.join("\n"), locals.body);
            rw.uses_context = rw
                .body
                .split(|ch: char| !ch.is_alphanumeric() && ch != '_')
                .any(|w| w == "context");
            ledger.consume_as(
                table,
                "resource",
                &n.id,
                c.body_span,
                // The first local built in the body's prelude, else the dropped name's use.
                Anchor::body(
                    &step.func,
                    locals
                        .prelude
                        .first()
                        .and_then(|l| l.lines().next())
                        .map_or(locals.dropped[0].as_str(), str::trim),
                ),
                Fidelity::Approximate,
                format!(
                    "{} built in the body from the resource and config bindings",
                    locals.dropped.join(", ")
                ),
            );
        }
        if airflow_context.is_some() {
            let (helper, run) = match to {
                Framework::Dagster => (
                    "_airflow_context_dagster",
                    "the Dagster run (the logical date is the partition's start, else the scheduled tick, else now)",
                ),
                _ => (
                    "_airflow_context_prefect",
                    "the Prefect flow run (the logical date is its scheduled start; params are the flow's parameters)",
                ),
            };
            self::need(imports, helpers, helper);
            if to == Framework::Prefect {
                rw.uses_context = false;
            }
            let missing = airflow_context
                .as_deref()
                .map(super::rewrite::unported_airflow_context_keys)
                .unwrap_or_default();
            if missing.is_empty() {
                rw.uses.push((
                    "body.context",
                    Fidelity::Approximate,
                    format!("Airflow's context values (ds, logical_date, run_id, params, …) are built by `_airflow_context` from {run}; a key it does not build raises NotImplementedError"),
                ));
            } else {
                let names: Vec<String> = missing.iter().map(|k| format!("`{k}`")).collect();
                ledger.lose(
                    table,
                    "body.framework_call",
                    &n.id,
                    c.body_span,
                    format!("the body reads Airflow's context {}, which the target has no port of: `_airflow_context` raises NotImplementedError naming it; port it by hand", names.join(", ")),
                );
            }
        }
        // Body uses are consumed once the body is final, at the line that has them.
        let mut uses = rw.uses.clone();
        for need in &rw.needs {
            self::need(imports, helpers, need);
        }
        // What a Dagster body still reads of `context` comes from a stand-in built from the run.
        if rw.uses_context
            && from == Framework::Dagster
            && let Some((body, missing)) = super::rewrite::dagster_context(&rw.body, &n.id)
        {
            rw.body = body;
            rw.uses_context = false;
            let helper = match to {
                Framework::Airflow => "_dagster_context_airflow",
                _ => "_dagster_context_prefect",
            };
            self::need(imports, helpers, helper);
            if missing.is_empty() {
                uses.push((
                    "body.context",
                    Fidelity::Approximate,
                    format!("Dagster's context is a stand-in built from the run (`_dagster_context`: {})", super::rewrite::DAGSTER_CONTEXT_FIELDS.join(", ")),
                ));
            } else {
                let names: Vec<String> = missing.iter().map(|m| format!("`context.{m}`")).collect();
                ledger.lose(
                    table,
                    "body.framework_call",
                    &n.id,
                    c.body_span,
                    format!("the body reads {}, which the target has no port of: the stand-in raises NotImplementedError naming it; port it by hand", names.join(", ")),
                );
            }
        }
        if rw.uses_context {
            ledger.lose(
                table,
                "body.framework_call",
                &n.id,
                c.body_span,
                "the body still reads `context`, which the target does not pass: port it by hand"
                    .into(),
            );
        }
        let mut params: Vec<String> = c
            .params
            .iter()
            .filter(|p| to == Framework::Dagster || p.name != "context")
            .filter(|p| !locals.dropped.contains(&p.name))
            .filter(|p| !step.body_locals.iter().any(|(name, _)| *name == p.name))
            .filter(|p| bound_kwargs.is_none_or(|k| p.name.strip_prefix("**") != Some(k)))
            .map(param_text)
            .collect();
        if rw.partition_key {
            match (to, partition) {
                (Framework::Prefect, Some(_))
                    if !params.iter().any(|x| x.starts_with("partition_key")) =>
                {
                    params.push("partition_key=None".into());
                }
                (Framework::Airflow, _)
                    if keyed && !params.iter().any(|x| x.starts_with("partition_key")) =>
                {
                    params.push("partition_key=None".into());
                }
                (Framework::Airflow, _) if keyed => {}
                (Framework::Airflow, _) if rw.body.contains("data_interval_start") => {
                    for p in ["data_interval_start=None", "data_interval_end=None"] {
                        if !params.iter().any(|x| x == p) {
                            params.push(p.into());
                        }
                    }
                }
                (Framework::Airflow, _) if !params.iter().any(|x| x.starts_with("ds")) => {
                    params.push("ds=None".into())
                }
                _ => {}
            }
        }
        // Airflow fills a task's context arguments (`ds=None`) at run time; a Prefect flow
        // passes nothing, so the body fills them from the flow run's scheduled start.
        if from == Framework::Airflow && to == Framework::Prefect {
            let filled: Vec<(&str, &str)> = c
                .params
                .iter()
                .filter(|p| p.default.as_deref() == Some("None"))
                .filter(|p| !step.inputs.iter().any(|i| i.param == p.name))
                .filter_map(|p| {
                    AIRFLOW_CONTEXT_ARGS
                        .iter()
                        .find(|(name, _)| *name == p.name)
                        .copied()
                })
                .collect();
            if !filled.is_empty() {
                imports.name("prefect.runtime", "flow_run");
                let lines: String = filled
                    .iter()
                    .map(|(name, value)| format!("if {name} is None:\n    {name} = {value}\n"))
                    .collect();
                rw.body = format!("{lines}{}", rw.body);
                let names: Vec<String> = filled.iter().map(|(n, _)| format!("`{n}`")).collect();
                uses.push((
                    "body.context",
                    Fidelity::Approximate,
                    format!(
                        "{} filled from the flow run's scheduled start when not passed (Airflow passes the data interval's start: see the logical-date row)",
                        names.join(", ")
                    ),
                ));
            }
        }
        // Several outputs: a dict by output name, which the consumers index.
        if from == Framework::Dagster
            && to != Framework::Dagster
            && super::outputs::returns_by_name(n)
        {
            rw.body = super::outputs::return_by_name(&rw.body, &n.outputs);
        }
        // A `@task.bash` body returns its command: the target runs it in bash.
        if n.flavor.as_deref() == Some("bash") && from == Framework::Airflow && to != from {
            let date = if to == Framework::Prefect {
                imports.name("prefect.runtime", "flow_run");
                ", logical_date=flow_run.scheduled_start_time"
            } else {
                ""
            };
            rw.body = format!(
                "def _command():\n{}\n\nreturn _run_bash(_command(){date})\n",
                python::indent_body(&rw.body, 4).trim_end()
            );
            self::need(imports, helpers, "_run_bash");
            let dates = if to == Framework::Prefect {
                "the flow run's scheduled start"
            } else {
                "the current time"
            };
            uses.push((
                "body.context",
                Fidelity::Approximate,
                format!("the @task.bash command runs in bash (`_run_bash`): {{{{ ds }}}} / {{{{ ts }}}} dates from {dates}, any other Jinja raises; the value is the last line printed"),
            ));
        }
        let body = if n.kind == NodeKind::Sensor && to != Framework::Airflow {
            let names: Vec<String> = params
                .iter()
                .map(|p| p.split(['=', ':']).next().unwrap_or(p).trim().to_string())
                .collect();
            format!(
                "def _poke({}):\n{}\n\nresult = _poke({})\nif result is False:\n    raise RuntimeError(\"condition not met yet\")\nreturn result\n",
                params.join(", "),
                python::indent_body(&rw.body, 4).trim_end(),
                names.join(", ")
            )
        } else {
            rw.body.clone()
        };
        // A framework type in the return annotation (`PokeReturnValue`) does not exist in the target.
        let returns = c
            .returns
            .as_ref()
            .filter(|r| {
                from == to
                    || ![
                        "PokeReturnValue",
                        "MaterializeResult",
                        "AssetCheckResult",
                        "Output",
                    ]
                    .iter()
                    .any(|t| r.contains(t))
            })
            .map(|r| format!(" -> {r}"))
            .unwrap_or_default();
        let prefix = format!(
            "{}def {}",
            if c.is_async { "async " } else { "" },
            step.func
        );
        consume_uses(ledger, table, n, &step.func, &body, &uses);
        // A graph asset's ops are plain functions its body calls.
        if from == Framework::Dagster
            && to != Framework::Dagster
            && n.extra.contains_key("graph_ops")
        {
            ledger.consume_as(
                table,
                "extra",
                &format!("{}.graph_ops", n.id),
                c.body_span,
                Anchor::body(&step.func, "("),
                Fidelity::Approximate,
                "the graph's ops are plain functions this step calls: one task, no per-op retries, outputs or In/Out types".into(),
            );
        }
        if let Some(p) = module.0.filter(|_| to != Framework::Dagster) {
            consume_body_checks(ledger, table, p, n, &step.func, &body);
        }
        return (
            signature(&prefix, &params, &returns),
            python::indent_body(&body, 4).trim_end().to_string(),
            c.is_async,
        );
    }
    let body = operator_body(n, &step.func, imports, ledger, table);
    // Mapped operator arguments become the task's parameters.
    let mapped: Vec<String> = n
        .mapping
        .as_ref()
        .map(|m| {
            m.over
                .iter()
                .map(|a| a.param.clone())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    (
        format!("({})", mapped.join(", ")),
        python::indent_body(&body, 4).trim_end().to_string(),
        false,
    )
}

/// Consumes the framework API uses of a step's body at the first line of the final body
/// (`body`, of function `func`) that has what implements each; a use the body no longer has any
/// trace of is not claimed.
pub fn consume_uses(
    ledger: &mut Ledger,
    table: &Translations,
    n: &Node,
    func: &str,
    body: &str,
    uses: &[(&'static str, Fidelity, String)],
) {
    let Some(c) = &n.callable else { return };
    for (construct, fidelity, note) in uses {
        if *fidelity == Fidelity::None {
            ledger.lose(table, construct, &n.id, c.body_span, note.clone());
            continue;
        }
        let needle = use_needles(construct)
            .iter()
            .find(|w| body.contains(**w))
            .copied()
            .unwrap_or(construct);
        ledger.consume_as(
            table,
            construct,
            &n.id,
            c.body_span,
            Anchor::body(func, needle),
            *fidelity,
            note.clone(),
        );
    }
}

/// Consumes the checks of `p` on node `n` whose results the step's final body (`body`, of
/// function `func`) yields through `_check_result`, which raises when a check fails: the check
/// runs in the asset's task, and a failing one (even of severity `warn`) fails that task.
pub fn consume_body_checks(
    ledger: &mut Ledger,
    table: &Translations,
    p: &Pipeline,
    n: &Node,
    func: &str,
    body: &str,
) {
    if !body.contains("_check_result(") {
        return;
    }
    for c in p.checks.iter().filter(|c| c.target == n.id) {
        let needle = format!("check_name=\"{}\"", c.name);
        if !body.contains(&needle) {
            continue;
        }
        let at = Anchor::body(func, needle);
        ledger.consume_as(
            table,
            "check",
            &c.name,
            c.span,
            at.clone(),
            Fidelity::Approximate,
            "runs in the asset's task: `_check_result` raises when it fails, whatever its severity"
                .into(),
        );
        if c.blocking {
            let note = "a failed check fails the asset's task, so no downstream task runs (nor is \
                        the asset's own output kept)";
            ledger.consume_as(
                table,
                "check.blocking",
                &c.name,
                c.span,
                at.clone(),
                Fidelity::Approximate,
                note.into(),
            );
            ledger.consume_as(
                table,
                "trap.blocking_check",
                &p.id,
                p.span,
                at,
                Fidelity::Approximate,
                note.into(),
            );
        }
    }
}

/// What a body has where a framework API use is implemented, most specific first.
pub fn use_needles(construct: &str) -> &'static [&'static str] {
    match construct {
        "body.logger" => &[
            "getLogger(",
            "get_run_logger(",
            "get_dagster_logger(",
            "context.log",
            "log.",
        ],
        "body.partition_key" => &[
            "partition_key",
            "partition_time_window",
            "data_interval",
            "logical_date",
            // The DAG's `ds` (a partition key become the run's date).
            "= ds",
            ": ds",
            "(ds",
            ", ds",
        ],
        "body.context" => &[
            "_airflow_context(",
            "_run_bash(",
            "get_current_context(",
            "flow_run.",
            "task_run.",
            "prefect.runtime",
            "SimpleNamespace(",
            "context",
            "params",
        ],
        "body.output_metadata" => &[
            "add_output_metadata",
            "MaterializeResult",
            "create_markdown_artifact",
            "create_table_artifact",
            "metadata",
            "print(",
            "_dynamic_output(",
            "progress",
        ],
        "body.check_result" => &[
            "AssetCheckResult",
            "_check_result",
            "_poke_result(",
            "passed",
        ],
        "body.xcom" => &["xcom_pull"],
        "body.concurrency" => &[
            "_concurrency(",
            "_rate_limit(",
            "concurrency(",
            "rate_limit(",
        ],
        _ => &[],
    }
}

/// Airflow's context arguments a task may take with a `None` default, and how a Prefect port
/// fills each from the flow run's scheduled start (`flow_run` from `prefect.runtime`).
pub const AIRFLOW_CONTEXT_ARGS: &[(&str, &str)] = &[
    ("ds", "flow_run.scheduled_start_time.strftime(\"%Y-%m-%d\")"),
    (
        "ds_nodash",
        "flow_run.scheduled_start_time.strftime(\"%Y%m%d\")",
    ),
    ("ts", "flow_run.scheduled_start_time.isoformat()"),
    ("logical_date", "flow_run.scheduled_start_time"),
    ("execution_date", "flow_run.scheduled_start_time"),
    ("data_interval_start", "flow_run.scheduled_start_time"),
    ("data_interval_end", "flow_run.scheduled_start_time"),
];

/// A `def` signature after the function name, wrapped like black when `prefix(params) returns:`
/// does not fit (`prefix` is what precedes the parenthesis on the line, e.g. `def load`).
pub fn signature(prefix: &str, params: &[String], returns: &str) -> String {
    let call = Expr::Call(
        prefix.to_string(),
        params.iter().map(|p| Expr::raw(p.clone())).collect(),
    );
    let text = call.format(0, returns.len() + 1);
    format!("{}{returns}", &text[prefix.len()..])
}

/// The body of a step that was a classic operator without a Python callable.
fn operator_body(
    n: &Node,
    func: &str,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
) -> String {
    let Some(op) = &n.operator else {
        return "pass\n".into();
    };
    let arg = |k: &str| op.args.get(k);
    for k in op.args.keys() {
        let consumed = matches!(
            (op.class.as_str(), k.as_str()),
            ("BashOperator", "bash_command") | ("FileSensor", "filepath")
        );
        if consumed {
            let needle = if k == "filepath" {
                "os.path.exists"
            } else {
                "subprocess.run("
            };
            // A templated command's row says the template is not rendered.
            if !op.templated.iter().any(|t| t == k) {
                ledger.consume_as(
                    table,
                    "extra",
                    &format!("{}.{k}", n.id),
                    n.span,
                    Anchor::body(func, needle),
                    Fidelity::Approximate,
                    "used in the generated body".into(),
                );
            }
        }
    }
    match op.class.as_str() {
        "BashOperator" => {
            imports.module("subprocess");
            let mapped_cmd = n
                .mapping
                .as_ref()
                .is_some_and(|m| m.over.iter().any(|a| a.param == "bash_command"));
            let cmd = if mapped_cmd {
                Expr::raw("bash_command")
            } else {
                arg("bash_command").map_or_else(|| Expr::str("true"), python::value)
            };
            if op.templated.iter().any(|t| t == "bash_command") {
                ledger.consume_as(
                    table,
                    "extra",
                    &format!("{}.bash_command", n.id),
                    n.span,
                    Anchor::body(func, "subprocess.run("),
                    Fidelity::Approximate,
                    "the Jinja template is passed to the shell unrendered: replace {{ … }} by parameters"
                        .into(),
                );
            }
            let call = Expr::call(
                "subprocess.run",
                vec![
                    cmd,
                    Expr::kw("shell", Expr::raw("True")),
                    Expr::kw("check", Expr::raw("True")),
                ],
            );
            format!("{}\n", call.format(4, 0).replace("\n    ", "\n"))
        }
        "FileSensor" => {
            imports.module("os");
            let path = arg("filepath").map_or_else(|| Expr::str("."), python::value);
            let test = Expr::call("if not os.path.exists", vec![path]).format(0, 1);
            format!("{test}:\n    raise RuntimeError(\"waiting for the file\")\n")
        }
        _ => unported_body(op),
    }
}

/// The longest argument value a stub's message quotes whole.
const STUB_ARG_CHARS: usize = 60;

/// The body of a step whose operator has no port: it raises `NotImplementedError` naming the
/// operator class and its literal arguments, so a ported pipeline never succeeds silently.
fn unported_body(op: &crate::ir::Operator) -> String {
    let args: Vec<String> = op
        .args
        .iter()
        .map(|(k, v)| {
            let text = python::value(v).flat();
            let text = if text.chars().count() > STUB_ARG_CHARS {
                let cut: String = text.chars().take(STUB_ARG_CHARS).collect();
                format!("{cut}…")
            } else {
                text
            };
            format!("{k}={text}")
        })
        .collect();
    let message = format!(
        "orchmig has no port of {}({}): port this step by hand",
        op.class,
        args.join(", ")
    );
    let raise = Expr::call("raise NotImplementedError", vec![Expr::str(&message)]);
    format!("{}\n", raise.format(4, 0).replace("\n    ", "\n"))
}

/// The name a pipeline runs under in its framework, which a port keeps as its DAG id or job
/// name: a Prefect flow's declared name (`@flow(name=…)`, `.with_options(name=…)`; two flows
/// A schedule as a report names it: `cron 0 6 * * *`, `every 14400 s`.
pub fn schedule_text(s: &crate::ir::Schedule) -> String {
    let value = s.value.as_deref().unwrap_or("");
    let base = match s.kind {
        crate::ir::ScheduleKind::Interval => format!("every {value} s"),
        crate::ir::ScheduleKind::Cron => format!("cron {value}"),
        _ => value.to_string(),
    };
    match &s.timezone {
        Some(tz) => format!("{base} ({tz})"),
        None => base,
    }
}

/// Run parameters as a report names them: `limit=5, region="eu"`.
pub fn parameters_text(parameters: &std::collections::BTreeMap<String, Value>) -> String {
    parameters
        .iter()
        .map(|(k, v)| format!("{k}={}", python::value(v).flat()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `main` of two files named `ingest` and `report` would otherwise collide), else its id.
pub fn run_name(p: &Pipeline) -> &str {
    if p.framework == Some(Framework::Prefect) && !p.name.trim().is_empty() {
        &p.name
    } else {
        &p.id
    }
}

/// The delay a source framework applies to retries that name none: Airflow waits 5 minutes
/// (`[core] default_task_retry_delay`); Dagster and Prefect retry at once.
pub fn implicit_retry_delay(pipeline: &Pipeline, p: &crate::ir::Policy) -> Option<f64> {
    (pipeline.framework == Some(Framework::Airflow)
        && p.retries.is_some_and(|r| r > 0)
        && p.retry_delay.is_none()
        && p.retry_delays.is_empty())
    .then_some(300.0)
}

/// A parameter as written in a `def`: `name`, `name: ann`, `name=default`, `name: ann = default`.
pub fn param_text(p: &crate::ir::CallableParam) -> String {
    let ann = p
        .annotation
        .as_ref()
        .map(|a| format!(": {a}"))
        .unwrap_or_default();
    match &p.default {
        Some(d) if ann.is_empty() => format!("{}={d}", p.name),
        Some(d) => format!("{}{ann} = {d}", p.name),
        None => format!("{}{ann}", p.name),
    }
}

/// True when a step of a Dagster source is keyed by a static or multi partition key, which
/// Airflow (whose runs are keyed by a date) receives as the DAG's `partition_key` param.
pub fn key_param(n: &Node) -> bool {
    matches!(
        n.partitions,
        Some(Partitions::Static { .. } | Partitions::Multi { .. })
    ) && n
        .callable
        .as_ref()
        .is_some_and(|c| c.body.contains("context.partition_key"))
}

/// The helper functions of templates/common/helpers.py.j2 a rewritten body may call.
const HELPERS: &[&str] = &[
    "_check_result",
    "_poke_result",
    "_partition_window",
    "_multi_partition_key",
    "_outputs",
    "_run_bash",
    "_concurrency",
    "_airflow_context_dagster",
    "_airflow_context_prefect",
    "_dagster_context_airflow",
    "_dagster_context_prefect",
    "_chosen",
];

/// Provides what a rewritten body needs (`Rewritten::needs`): an import or a module helper.
pub fn need(imports: &mut Imports, helpers: &mut Vec<&'static str>, name: &'static str) {
    match name {
        "logging" => imports.module("logging"),
        "get_run_logger" => imports.name("prefect", "get_run_logger"),
        "get_dagster_logger" => imports.name("dagster", "get_dagster_logger"),
        "SimpleNamespace" => imports.name("types", "SimpleNamespace"),
        h if HELPERS.contains(&h) && !helpers.contains(&h) => helpers.push(h),
        _ => {}
    }
}

/// The decorators of a task whose Dagster body yields (outputs, materialisations, check
/// results): `@_runs_to_end` under them makes the generator a function that runs to the end and
/// returns what it yielded, since calling a generator outside Dagster would not run it.
pub fn runs_to_end(
    decorator: String,
    body: &str,
    from: Framework,
    to: Framework,
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
) -> String {
    if from == Framework::Dagster && to != Framework::Dagster && super::outputs::yields(body) {
        need(imports, helpers, "_outputs");
        imports.module("functools");
        return format!("{decorator}\n@_runs_to_end");
    }
    decorator
}

/// The function a check is written as, or `None` when an earlier check of the same
/// `@multi_asset_check` already wrote it (one function runs all of its checks).
pub fn check_function(
    c: &crate::ir::Check,
    written: &mut std::collections::BTreeSet<String>,
    taken: &mut std::collections::HashMap<String, usize>,
) -> Option<String> {
    match c.extra.get("multi_asset_check").and_then(Value::as_str) {
        Some(f) if !written.insert(f.to_string()) => None,
        Some(f) => Some(super::plan::unique(taken, &python::identifier(f))),
        None => Some(super::plan::unique(taken, &python::identifier(&c.name))),
    }
}

/// Consumes a check written as the validation task `func` (for a `@multi_asset_check`, the
/// one task that runs all of its checks); a check no task was written for stays pending.
pub fn consume_check(
    ledger: &mut Ledger,
    table: &Translations,
    c: &crate::ir::Check,
    func: Option<&str>,
) {
    let Some(func) = func else { return };
    let at = Anchor::head(func, format!("def {func}("));
    ledger.consume(table, "check", &c.name, c.span, at.clone());
    if let Some(f) = c.extra.get("multi_asset_check").and_then(Value::as_str) {
        ledger.consume_as(
            table,
            "check",
            f,
            c.span,
            at,
            Fidelity::Approximate,
            format!(
                "one task runs every check of the `@multi_asset_check` `{f}`; a failed one raises"
            ),
        );
    }
}

/// The task name of a check: its own, or its `@multi_asset_check` function's.
pub fn check_task_name(c: &crate::ir::Check) -> &str {
    c.extra
        .get("multi_asset_check")
        .and_then(Value::as_str)
        .unwrap_or(&c.name)
}
