//! Op jobs of a Dagster source, written back as the source wrote them (ops, graphs, the job).

use super::schedule::Triggers;
use super::state::ModuleState;
use crate::emit::module::FunctionCtx;
use crate::emit::plan::{Plan, Step};
use crate::emit::rewrite::rewrite;
use crate::emit::shared;
use crate::ir::{Framework, Pipeline, Value};
use crate::python::print::{self as python, identifier};
use crate::report::{Anchor, Fidelity, Ledger, Scope, Translations};

/// The graphs and job function of a Dagster op job as written, and the job function's name.
pub(super) fn op_composition(p: &Pipeline, from: Framework) -> Option<(Vec<String>, String)> {
    if from != Framework::Dagster || p.extra.get("job_kind").and_then(Value::as_str) != Some("ops")
    {
        return None;
    }
    let Some(Value::List(items)) = p.extra.get("composition") else {
        return None;
    };
    let texts: Vec<String> = items
        .iter()
        .filter_map(|v| v.as_str().map(|t| t.trim_end().to_string()))
        .collect();
    let job = texts.last()?;
    let name = if job.starts_with('@') || job.starts_with("def ") {
        job.split("def ")
            .nth(1)?
            .split('(')
            .next()?
            .trim()
            .to_string()
    } else {
        // `job = graph.to_job(...)`
        job.split(" = ").next()?.trim().to_string()
    };
    Some((texts, name))
}

/// The keyword a Dagster decorator or job has for a policy field, as the source wrote it.
fn verbatim_keyword(field: &str) -> Option<&'static str> {
    Some(match field {
        "policy.retries" => "max_retries=",
        "policy.retry_delay" => "delay=",
        "policy.backoff" => "backoff=",
        "policy.jitter" => "jitter=",
        "policy.timeout" => "dagster/max_runtime",
        "policy.priority" => "dagster/priority",
        "policy.pool" => "pool=",
        "policy.owner" => "owners=",
        _ => return None,
    })
}

/// Consumes the fields of `pol` that `text` (a decorator or job copied as the source wrote it)
/// has, at `at` then the field's keyword; a field the text does not have stays pending.
fn consume_verbatim_policy(
    ledger: &mut Ledger,
    table: &Translations,
    pol: &crate::ir::Policy,
    subject: &str,
    span: crate::ir::Span,
    text: &str,
    at: &Anchor,
) {
    for f in crate::report::policy_fields(pol) {
        if let Some(kw) = verbatim_keyword(f).filter(|kw| text.contains(kw)) {
            ledger.consume(table, f, subject, span, at.clone().then(kw));
        }
    }
}

/// Consumes what an op job copied as the source wrote it carries (`texts`: the graphs and the
/// job, `job`: the job's text at `at`): description, tags, run config, the op retry policy,
/// partitions, resources, and the mapped and collected calls of its graph.
fn consume_op_job(
    ledger: &mut Ledger,
    table: &Translations,
    p: &Pipeline,
    texts: &[String],
    job: &str,
    at: &Anchor,
) {
    let span = p.span;
    let kw = |k: &str| job.contains(k).then(|| at.clone().then(k));
    if p.description.is_some()
        && let Some(a) = kw("description=")
    {
        ledger.consume(table, "pipeline.description", &p.id, span, a);
    }
    if !p.tags.is_empty()
        && let Some(a) = kw("tags=")
    {
        ledger.consume(table, "pipeline.tags", &p.id, span, a);
    }
    if let Some(parts) = &p.partitions
        && let Some(a) = kw("partitions_def=")
    {
        ledger.consume(table, crate::report::partitions_id(parts), &p.id, span, a);
    }
    consume_verbatim_policy(ledger, table, &p.defaults, "defaults", span, job, at);
    if p.extra.contains_key("config")
        && let Some(a) = kw("config=")
    {
        let note = "run config written as in the source".to_string();
        let subject = "pipeline.config";
        ledger.consume_as(table, "extra", subject, span, a, Fidelity::Exact, note);
    }
    if let Some(g) = p.extra.get("graph").and_then(Value::as_str) {
        let graph = identifier(g);
        if texts.iter().any(|t| t.contains(&format!("def {graph}("))) {
            let a = Anchor::at(Scope::Head(graph));
            let note = "the graph written as in the source".to_string();
            ledger.consume_as(
                table,
                "extra",
                "pipeline.graph",
                span,
                a,
                Fidelity::Exact,
                note,
            );
        }
    }
    for g in &p.groups {
        let graph = identifier(&g.id);
        if texts.iter().any(|t| t.contains(&format!("def {graph}("))) {
            let a = Anchor::at(Scope::Head(graph));
            let id = match g.kind {
                crate::ir::GroupKind::TaskGroup => "group.task_group",
                crate::ir::GroupKind::SubFlow => "group.sub_flow",
                crate::ir::GroupKind::AssetGroup => "group.asset_group",
            };
            ledger.consume(table, id, &g.id, g.span, a);
        }
    }
    for r in &p.resources {
        if let Some(a) = kw(&format!("\"{}\"", r.key)) {
            ledger.consume(table, "resource", &r.key, r.span, a);
        }
    }
    // A mapped or collected op: the graph line that maps or collects it, as the source wrote it.
    let lines: Vec<&str> = texts.iter().flat_map(|t| t.lines()).collect();
    for n in &p.nodes {
        let Some(c) = &n.callable else { continue };
        let call =
            |l: &&&str| l.contains(&format!("({}", c.name)) || l.contains(&format!("{}(", c.name));
        let line = |what: &str| {
            lines
                .iter()
                .find(|l| l.contains(what) && call(l))
                .map(|l| Anchor::at(Scope::Module).then(l.trim()))
        };
        if n.mapping.is_some()
            && let Some(a) = line(".map(")
        {
            ledger.consume(table, "mapping", &n.id, n.span, a);
        }
        if n.extra.contains_key("collects")
            && let Some(a) = line(".collect()")
        {
            let note = "collected as in the source".to_string();
            let subject = format!("{}.collects", n.id);
            ledger.consume_as(table, "extra", &subject, n.span, a, Fidelity::Exact, note);
        }
    }
}

/// The readers of an op's optional outputs, in an op job written back as such: the op keeps
/// its `Out(is_required=False)` (its decorator is written as in the source), so Dagster skips
/// them as before; a reader whose op's decorator does not say so is lost.
fn consume_optional_readers(ledger: &mut Ledger, table: &Translations, p: &Pipeline) {
    for id in crate::ir::optional::readers(p) {
        let Some(n) = p.nodes.iter().find(|n| n.id == id) else {
            continue;
        };
        let op = p
            .edges
            .iter()
            .filter(|e| e.to == id)
            .find_map(|e| {
                p.nodes
                    .iter()
                    .find(|u| u.id == e.from && crate::ir::optional::reads_optional(e, u))
            })
            .and_then(|u| u.callable.as_ref());
        match op {
            Some(c) => ledger.consume(
                table,
                "node.optional_output",
                id,
                n.span,
                Anchor::at(Scope::Head(c.name.clone())).then("is_required=False"),
            ),
            None => ledger.lose(
                table,
                "node.optional_output",
                id,
                n.span,
                "the op whose optional output it reads is not written as a function: keep its `Out(is_required=False)` by hand".into(),
            ),
        };
    }
}

/// An op function with its decorators as written.
fn op_function(step: &Step) -> Option<FunctionCtx> {
    let c = step.node.callable.as_ref()?;
    let decorator = if c.decorators.is_empty() {
        "@dg.op".to_string()
    } else {
        c.decorators
            .iter()
            .map(|d| format!("@{d}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let params: Vec<String> = c.params.iter().map(shared::param_text).collect();
    let returns = c
        .returns
        .as_ref()
        .map(|r| format!(" -> {r}"))
        .unwrap_or_default();
    let prefix = format!("{}def {}", if c.is_async { "async " } else { "" }, c.name);
    Some(FunctionCtx {
        decorator,
        name: c.name.clone(),
        signature: shared::signature(&prefix, &params, &returns),
        body: python::indent_body(&c.body, 4).trim_end().to_string(),
        is_async: c.is_async,
    })
}

/// `partitions_def=<name>` in a decorator as written, pointed at `name`.
fn rename_partitions_def(text: &str, name: &str) -> String {
    let key = "partitions_def=";
    let Some(at) = text.find(key) else {
        return text.to_string();
    };
    let start = at + key.len();
    let len = text[start..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(text.len() - start);
    format!("{}{name}{}", &text[..start], &text[start + len..])
}

/// Writes an op job of the source as it was written: its ops (an op already written is not
/// written again), graphs and job, then the job's schedule and sensors.
pub(super) fn write_op_job(
    m: &mut ModuleState,
    plan: &Plan,
    partitions: Option<&str>,
    texts: Vec<String>,
    job_fn: String,
    ledger: &mut Ledger,
) {
    let (table, from, p) = (m.table, m.from, plan.pipeline);
    for step in &plan.steps {
        let op = op_function(step).filter(|op| {
            !m.assets
                .iter()
                .any(|a| a.name == op.name && a.decorator == op.decorator)
        });
        let name = step.node.callable.as_ref().map(|c| c.name.clone());
        if let (Some(c), Some(name)) = (&step.node.callable, &name) {
            let uses = rewrite(&c.body, from, from).uses;
            shared::consume_uses(ledger, table, step.node, name, &c.body, &uses);
        }
        if let Some(op) = op {
            let at = Anchor::at(Scope::Head(op.name.clone()));
            shared::consume_node(ledger, table, step.node, &at);
            let n = step.node;
            let head = &op.decorator;
            consume_verbatim_policy(ledger, table, &n.policy, &n.id, n.span, head, &at);
            for k in n.extra.keys() {
                let kw = match k.as_str() {
                    "dynamic_outputs" => "dg.DynamicOut(".to_string(),
                    _ => format!("{k}="),
                };
                if head.contains(&kw) {
                    ledger.consume_as(
                        table,
                        "extra",
                        &format!("{}.{k}", n.id),
                        n.span,
                        at.clone().then(kw),
                        Fidelity::Exact,
                        "written as in the source".into(),
                    );
                }
            }
            m.assets.push(op);
        } else if let Some(name) = &name {
            let at = Anchor::at(Scope::Head(name.clone()));
            shared::consume_reused(ledger, table, step.node, name, &at);
        }
    }
    // The partitions definition is written under the writer's name.
    let written: Vec<String> = texts
        .into_iter()
        .map(|t| match partitions {
            Some(name) => rename_partitions_def(&t, name),
            None => t,
        })
        .collect();
    m.jobs.extend(written.iter().cloned());
    m.job_names.push(job_fn.clone());
    let job_text = written.last().cloned().unwrap_or_default();
    let job_at = if job_text.starts_with('@') || job_text.starts_with("def ") {
        Anchor::at(Scope::Head(job_fn.clone()))
    } else {
        Anchor::at(Scope::Statement(format!("{job_fn} = ")))
    };
    ledger.consume(table, "pipeline", &p.id, p.span, job_at.clone());
    shared::consume_notes(ledger, table, "pipeline", &p.extra, p.span, &job_at);
    consume_op_job(ledger, table, p, &written, &job_text, &job_at);
    consume_optional_readers(ledger, table, p);
    let triggers = Triggers {
        schedules: &mut m.schedules,
        sensors: &mut m.sensors,
        statements: &mut m.jobs,
        run_config: None,
    };
    triggers.add(p, &job_fn, partitions, from, &mut m.names, ledger, table);
}
