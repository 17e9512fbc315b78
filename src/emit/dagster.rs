//! The Dagster 1.x writer: steps become software-defined assets (quality steps become asset
//! checks, no-op steps are folded), pipelines become asset jobs with schedules, and everything is
//! registered in one `Definitions`.

use std::collections::{BTreeMap, HashMap, HashSet};

use indexmap::IndexSet;
use serde::Serialize;

use super::guards::Guard;
use super::module::{FunctionCtx, Imports};
use super::multi_asset::members as multi_members;
use super::plan::{Names, Plan, Source, Step, unique};
use super::rewrite::rewrite;
use super::template;
use super::{Target, Writer, shared};
use crate::ir::{Framework, Node, NodeKind, Partitions, Pipeline, ScheduleKind, SourceFile, Value};
use crate::python::print::{self as python, Expr, identifier};
use crate::report::{Anchor, Fidelity, Ledger, Scope, Translations};

#[derive(Serialize)]
struct ModuleCtx {
    header: String,
    imports: Vec<String>,
    support: String,
    gap: &'static str,
    helpers: Vec<&'static str>,
    definitions: Vec<String>,
    assets: Vec<FunctionCtx>,
    jobs: Vec<String>,
    defs: String,
}

/// Writes a Dagster module.
pub struct DagsterWriter;

/// Words that mark a step as a data-quality step (it becomes an asset check).
const QUALITY_WORDS: &[&str] = &[
    "check",
    "validate",
    "validation",
    "quality",
    "assert",
    "verify",
];

impl Writer for DagsterWriter {
    fn write(
        &self,
        file: &SourceFile,
        target: Target,
        table: &Translations,
    ) -> Result<(String, Vec<Ledger>), String> {
        let mut imports = Imports::default();
        imports.module("dagster as dg");
        let mut helpers: Vec<&'static str> = Vec::new();
        let mut assets: Vec<FunctionCtx> = Vec::new();
        let mut checks: Vec<String> = Vec::new();
        // Ordered sets: a pipeline of 100,000 steps looks names up 100,000 times.
        let mut asset_names: IndexSet<String> = IndexSet::new();
        let mut definitions: Vec<String> = Vec::new();
        let mut jobs: Vec<String> = Vec::new();
        let mut job_names: Vec<String> = Vec::new();
        let mut schedules: Vec<String> = Vec::new();
        let mut sensors: Vec<String> = Vec::new();
        let mut resources: BTreeMap<String, Expr> = BTreeMap::new();
        let mut ledgers = Vec::new();
        let mut names = Names::for_module(Framework::Dagster, file);
        let mut parts_defs: Vec<PartitionsConst> = Vec::new();
        // Asset function → the name of its partitions definition.
        let mut asset_parts: BTreeMap<String, String> = BTreeMap::new();
        let from = file.framework.unwrap_or(Framework::Airflow);
        // Asset keys of the whole module: an asset may read one that another job materialises.
        let file_assets: std::collections::BTreeSet<&str> = file
            .pipelines
            .iter()
            .flat_map(|p| &p.nodes)
            .filter(|n| matches!(n.kind, NodeKind::Asset | NodeKind::ExternalAsset))
            .map(|n| n.id.as_str())
            .collect();
        // (function, step id) → asset function: the same step of several pipelines (flow
        // variants, a sub-flow's job) is one asset.
        let mut by_step: BTreeMap<(String, String), String> = BTreeMap::new();
        for p in &file.pipelines {
            let mut ledger = shared::ledger_for(file, p, target);
            let mut plan = Plan::new(p, &mut names);
            plan.bind_run_loggers(target.framework);
            // Every step is its own asset: a function called at several places in one pipeline
            // gets one asset function per call (a function shared with an earlier pipeline is reused).
            let mut seen: HashSet<String> = HashSet::new();
            for s in &mut plan.steps {
                // The assets of one multi-asset are one function.
                if seen.contains(&s.func) && multi_members(file, s.node).len() > 1 {
                    s.defines = false;
                    continue;
                }
                if seen.contains(&s.func) {
                    let key = (s.func.clone(), s.node.id.clone());
                    if let Some(f) = by_step.get(&key) {
                        s.func = f.clone();
                        s.defines = false;
                    } else {
                        s.func = unique(&mut names.taken, &identifier(&s.node.id));
                        s.defines = true;
                        by_step.insert(key, s.func.clone());
                    }
                }
                seen.insert(s.func.clone());
            }
            let partitions = partitions_def(p, from, &mut parts_defs, &mut ledger, table);
            if let Some((texts, job_fn)) = op_composition(p, from) {
                // An op job of the source stays an op job: ops, graphs and the job as written.
                for step in &plan.steps {
                    let op = op_function(step).filter(|op| {
                        !assets
                            .iter()
                            .any(|a| a.name == op.name && a.decorator == op.decorator)
                    });
                    let name = step.node.callable.as_ref().map(|c| c.name.clone());
                    if let (Some(c), Some(name)) = (&step.node.callable, &name) {
                        let uses = rewrite(&c.body, from, from).uses;
                        shared::consume_uses(&mut ledger, table, step.node, name, &c.body, &uses);
                    }
                    if let Some(op) = op {
                        let at = Anchor::at(Scope::Head(op.name.clone()));
                        shared::consume_node(&mut ledger, table, step.node, &at);
                        let n = step.node;
                        let head = &op.decorator;
                        consume_verbatim_policy(
                            &mut ledger,
                            table,
                            &n.policy,
                            &n.id,
                            n.span,
                            head,
                            &at,
                        );
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
                        assets.push(op);
                    } else if let Some(name) = &name {
                        let at = Anchor::at(Scope::Head(name.clone()));
                        shared::consume_reused(&mut ledger, table, step.node, name, &at);
                    }
                }
                // The partitions definition is written under the writer's name.
                let written: Vec<String> = texts
                    .into_iter()
                    .map(|t| match &partitions {
                        Some(name) => rename_partitions_def(&t, name),
                        None => t,
                    })
                    .collect();
                jobs.extend(written.iter().cloned());
                job_names.push(job_fn.clone());
                let job_text = written.last().cloned().unwrap_or_default();
                let job_at = if job_text.starts_with('@') || job_text.starts_with("def ") {
                    Anchor::at(Scope::Head(job_fn.clone()))
                } else {
                    Anchor::at(Scope::Statement(format!("{job_fn} = ")))
                };
                ledger.consume(table, "pipeline", &p.id, p.span, job_at.clone());
                shared::consume_notes(&mut ledger, table, "pipeline", &p.extra, p.span, &job_at);
                consume_op_job(&mut ledger, table, p, &written, &job_text, &job_at);
                consume_optional_readers(&mut ledger, table, p);
                let triggers = Triggers {
                    schedules: &mut schedules,
                    sensors: &mut sensors,
                    statements: &mut jobs,
                    run_config: None,
                };
                triggers.add(
                    p,
                    &job_fn,
                    partitions.as_deref(),
                    from,
                    &mut names,
                    &mut ledger,
                    table,
                );
                ledger.finish(table);
                ledgers.push(ledger);
                continue;
            }
            // Which steps are written as what.
            // A function an earlier pipeline wrote as an asset stays that asset here.
            let facts = StepFacts::new(&plan);
            let roles: Vec<Role> = plan
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    if !s.defines && asset_names.contains(&s.func) {
                        Role::Asset
                    } else {
                        facts.roles[i]
                    }
                })
                .collect();
            let mut selection: IndexSet<String> = IndexSet::new();
            // Steps meant for a failure, written as failure hooks of the job (never as assets
            // that would run after every success).
            let hooked = failure_hooks(p, &plan, &roles);
            let mut hooks: Vec<String> = Vec::new();
            for (i, step) in plan.steps.iter().enumerate() {
                if hooked.contains(&i) {
                    let n = step.node;
                    let takes_values = step.inputs.iter().any(|x| {
                        matches!(
                            x.source,
                            Source::Step(_) | Source::Steps(_) | Source::Param(_)
                        )
                    });
                    if !takes_values {
                        ledger.consume_as(
                            table,
                            crate::report::node_construct(n),
                            &n.id,
                            n.span,
                            Anchor::at(Scope::Head(step.func.clone())),
                            Fidelity::Redesign,
                            "a @dg.failure_hook with the step's body, attached to the job".into(),
                        );
                    }
                    let mut a = asset(
                        &plan,
                        step,
                        &[],
                        &facts,
                        from,
                        None,
                        &file_assets,
                        &mut imports,
                        &mut helpers,
                        &mut ledger,
                        table,
                    );
                    // A hook gets only its context: a body that needs an upstream's value is not
                    // written at all (as an asset it would run after every success).
                    let hookable = !takes_values && a.signature.starts_with("()");
                    let at = Anchor::at(Scope::Head(step.func.clone()));
                    let (fidelity, note) = if hookable {
                        (
                            Fidelity::Redesign,
                            "a @dg.failure_hook of the job: it runs after a step of the job fails (once per failed step, whichever step), never after a success",
                        )
                    } else {
                        (
                            Fidelity::None,
                            "not written: as an asset it would run after every success, and a failure hook gets no upstream value; call it from a failure hook or a run-failure sensor by hand",
                        )
                    };
                    let present = [
                        ("trigger_rule", n.trigger_rule.is_some()),
                        ("node.condition", n.condition.is_some()),
                    ];
                    for (construct, _) in present.iter().filter(|(_, p)| *p) {
                        ledger.consume_as(
                            table,
                            construct,
                            &n.id,
                            n.span,
                            at.clone(),
                            fidelity,
                            note.to_string(),
                        );
                    }
                    if hookable {
                        a.decorator = "@dg.failure_hook".into();
                        a.signature = "(context: dg.HookContext)".into();
                        assets.push(a);
                        hooks.push(step.func.clone());
                    }
                    continue;
                }
                match roles[i] {
                    Role::Folded => {
                        // Folded: its dependencies pass through to its neighbours; no code.
                    }
                    Role::Spec => {
                        if step.defines && !asset_names.contains(&step.func) {
                            definitions.push(asset_spec(step));
                            asset_names.insert(step.func.clone());
                        }
                        ledger.consume_as(
                            table,
                            crate::report::node_construct(step.node),
                            &step.node.id,
                            step.node.span,
                            Anchor::statement(&format!("{} = ", step.func), "dg.AssetSpec("),
                            Fidelity::Exact,
                            "an external asset: `dg.AssetSpec`".into(),
                        );
                    }
                    Role::Check(_) if !step.defines && checks.contains(&step.func) => {
                        // Written by an earlier pipeline (a variant of this flow).
                        let at = Anchor::at(Scope::Head(step.func.clone()));
                        shared::consume_reused(&mut ledger, table, step.node, &step.func, &at);
                    }
                    Role::Check(target_step) => {
                        let fname = step.func.clone();
                        let asset_fn = plan.steps[target_step].func.clone();
                        let (sig, body) = check_body(
                            &plan,
                            step,
                            target_step,
                            from,
                            &mut imports,
                            &mut helpers,
                            &mut ledger,
                            table,
                        );
                        let deco = Expr::call(
                            "dg.asset_check",
                            vec![
                                Expr::kw("asset", Expr::raw(asset_fn)),
                                Expr::kw("name", Expr::str(&key_name(&step.node.id))),
                            ],
                        );
                        assets.push(FunctionCtx {
                            decorator: format!("@{}", deco.format_lead(0, 1, 0)),
                            name: fname.clone(),
                            signature: sig,
                            body,
                            is_async: false,
                        });
                        let at = Anchor::at(Scope::Head(fname.clone()));
                        checks.push(fname);
                        ledger.consume_as(
                            table,
                            crate::report::node_construct(step.node),
                            &step.node.id,
                            step.node.span,
                            at.clone(),
                            Fidelity::Redesign,
                            format!(
                                "a quality step: re-modelled as an asset check on `{}`",
                                plan.steps[target_step].node.id
                            ),
                        );
                        shared::consume_node(&mut ledger, table, step.node, &at);
                    }
                    Role::Asset => {
                        if step.defines {
                            // A Dagster source's assets keep their own partitions.
                            let own = if from == Framework::Dagster {
                                node_partitions(step.node, &p.id, &mut parts_defs)
                            } else {
                                partitions.clone()
                            };
                            if let Some(name) = &own {
                                asset_parts.insert(step.func.clone(), name.clone());
                            }
                            let a = asset(
                                &plan,
                                step,
                                &multi_members(file, step.node),
                                &facts,
                                from,
                                own.as_deref(),
                                &file_assets,
                                &mut imports,
                                &mut helpers,
                                &mut ledger,
                                table,
                            );
                            assets.push(a);
                            asset_names.insert(step.func.clone());
                        } else {
                            let at = Anchor::at(Scope::Head(step.func.clone()));
                            shared::consume_reused(&mut ledger, table, step.node, &step.func, &at);
                        }
                        selection.insert(step.func.clone());
                    }
                }
            }
            let mut multi_checks = std::collections::BTreeSet::new();
            let mut multi_fns: BTreeMap<String, String> = BTreeMap::new();
            if plan
                .steps
                .iter()
                .any(|s| s.defines && reads_params(&plan, s))
            {
                definitions.push(config_class(p, &mut ledger, table));
            } else if let Some(reader) = plan.steps.iter().find(|s| reads_params(&plan, s)) {
                // Every asset that reads them is another pipeline's (a flow variant's): their
                // run config carries the parameters.
                for prm in &p.params {
                    ledger.consume_as(
                        table,
                        "param",
                        &prm.name,
                        p.span,
                        Anchor::body(&reader.func, "config"),
                        Fidelity::Approximate,
                        "read by assets this job shares with another pipeline: set it in their run config (its default is that pipeline's)".into(),
                    );
                }
            }
            for c in &p.checks {
                // The checks of one `@multi_asset_check` are one function, written once.
                if let Some(f) = c.extra.get("multi_asset_check").and_then(Value::as_str)
                    && let Some(cb) = &c.callable
                {
                    if multi_checks.insert(f.to_string()) {
                        let specs: Vec<Expr> = p
                            .checks
                            .iter()
                            .filter(|x| {
                                x.extra.get("multi_asset_check").and_then(Value::as_str) == Some(f)
                            })
                            .map(|c| check_spec(c, super::multi_asset::key_expr(&c.target), false))
                            .collect();
                        let fname = unique(&mut names.taken, &identifier(f));
                        let rw = rewrite(&cb.body, from, Framework::Dagster);
                        assets.push(FunctionCtx {
                            decorator: python::decorator(
                                "dg.multi_asset_check",
                                vec![Expr::kw("specs", Expr::List(specs))],
                            ),
                            name: fname.clone(),
                            signature: shared::signature(&format!("def {fname}"), &[], ""),
                            body: python::indent_body(&rw.body, 4).trim_end().to_string(),
                            is_async: false,
                        });
                        multi_fns.insert(f.to_string(), fname.clone());
                        checks.push(fname);
                    }
                    if let Some(fname) = multi_fns.get(f) {
                        let at = Anchor::head(fname, "dg.multi_asset_check(");
                        ledger.consume_as(
                            table,
                            "extra",
                            &format!("{}.multi_asset_check", c.name),
                            c.span,
                            at.clone(),
                            Fidelity::Exact,
                            "written back as one `@dg.multi_asset_check`".into(),
                        );
                        ledger.consume(table, "check", &c.name, c.span, at.clone());
                        if c.blocking {
                            let at = at.then("blocking=True");
                            ledger.consume(table, "check.blocking", &c.name, c.span, at);
                        }
                    }
                    continue;
                }
                if let (Some(cb), Some(t)) = (
                    &c.callable,
                    plan.steps.iter().find(|s| s.node.id == c.target),
                ) {
                    let fname = unique(&mut names.taken, &identifier(&c.name));
                    let rw = rewrite(&cb.body, from, Framework::Dagster);
                    let params: Vec<String> = cb
                        .params
                        .iter()
                        .map(|x| match &x.annotation {
                            Some(a) if from == Framework::Dagster => format!("{}: {a}", x.name),
                            _ => x.name.clone(),
                        })
                        .collect();
                    // One asset of a multi-asset is named by its key, not by the function.
                    let asset = if multi_members(file, t.node).len() > 1 {
                        super::multi_asset::key_expr(&t.node.id)
                    } else {
                        Expr::raw(t.func.clone())
                    };
                    let mut kw = vec![Expr::kw("asset", asset)];
                    if key_name(&c.name) != fname {
                        kw.push(Expr::kw("name", Expr::str(&key_name(&c.name))));
                    }
                    if c.blocking {
                        kw.push(Expr::kw("blocking", Expr::raw("True")));
                    }
                    if let Some(d) = &c.description {
                        kw.push(Expr::kw("description", Expr::str(d)));
                    }
                    // A check the source partitioned evaluates its asset's partition, not all of them.
                    if c.extra.contains_key("partitions_def")
                        && let Some(parts) = asset_parts.get(&t.func)
                    {
                        kw.push(Expr::kw("partitions_def", Expr::raw(parts.clone())));
                        ledger.consume_as(
                            table,
                            "extra",
                            &format!("{}.partitions_def", c.name),
                            c.span,
                            Anchor::head(&fname, "partitions_def="),
                            Fidelity::Exact,
                            "the check keeps its asset's partitions".into(),
                        );
                    }
                    let at = Anchor::head(&fname, "@dg.asset_check(");
                    ledger.consume(table, "check", &c.name, c.span, at.clone());
                    if c.blocking {
                        let at = at.then("blocking=True");
                        ledger.consume(table, "check.blocking", &c.name, c.span, at);
                    }
                    assets.push(FunctionCtx {
                        decorator: python::decorator("dg.asset_check", kw),
                        name: fname.clone(),
                        signature: shared::signature(&format!("def {fname}"), &params, ""),
                        body: python::indent_body(&rw.body, 4).trim_end().to_string(),
                        is_async: false,
                    });
                    checks.push(fname);
                } else if from == Framework::Dagster
                    && let Some(by) = evaluated_by(c)
                    && plan
                        .steps
                        .iter()
                        .any(|s| s.node.id == by && asset_names.contains(&s.func))
                    && let Some(s) = plan.steps.iter().find(|s| s.node.id == by)
                {
                    let at = Anchor::head(&s.func, "check_specs=");
                    ledger.consume_as(
                        table,
                        "check",
                        &c.name,
                        c.span,
                        at.clone(),
                        Fidelity::Exact,
                        format!(
                            "an `AssetCheckSpec` in the `check_specs` of `{by}`, which yields its result"
                        ),
                    );
                    if c.blocking {
                        let at = at.then("blocking=True");
                        ledger.consume(table, "check.blocking", &c.name, c.span, at);
                    }
                }
            }
            for r in &p.resources {
                let call = super::resources::resource_call(r, Framework::Dagster);
                resources.insert(r.key.clone(), call);
                let at = Anchor::statement("defs = ", "resources=").then(python::string(&r.key));
                ledger.consume(table, "resource", &r.key, r.span, at);
            }
            // A pipeline that was a job (or any non-Dagster pipeline) becomes an asset job.
            let is_job = from != Framework::Dagster || p.extra.contains_key("job_kind");
            if is_job && !selection.is_empty() {
                let var = unique(
                    &mut names.taken,
                    &format!("{}_job", identifier(&p.id)).replace("_job_job", "_job"),
                );
                // Dagster names are `[A-Za-z0-9_]+` and not its reserved words: a dag_id such as
                // `sales-daily.v2` or `class` would fail at load.
                // A job and an asset (an op) of one name clash in Dagster's repository.
                let mut job_name = key_name(shared::run_name(p));
                if file
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
                if let Some(parts) = &partitions {
                    kw.push(Expr::kw("partitions_def", Expr::raw(parts.clone())));
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
                jobs.push(format!("{var} = {}", call.format_lead(0, var.len() + 3, 0)));
                let job = |needle: &str| Anchor::statement(&format!("{var} = "), needle);
                ledger.consume(
                    table,
                    "pipeline",
                    &p.id,
                    p.span,
                    job("dg.define_asset_job("),
                );
                shared::consume_notes(&mut ledger, table, "pipeline", &p.extra, p.span, &job(""));
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
                job_names.push(var.clone());
                // (Only deployments' schedules take run config: no work for other pipelines.)
                let configured = if p.deployments.is_empty() {
                    ConfiguredAssets::default()
                } else {
                    ConfiguredAssets::new(&plan)
                };
                let main_config = p
                    .deployment_schedules()
                    .into_iter()
                    .find(|ds| ds.main)
                    .and_then(|ds| configured.run_config(&ds.parameters));
                let triggers = Triggers {
                    schedules: &mut schedules,
                    sensors: &mut sensors,
                    statements: &mut jobs,
                    run_config: main_config,
                };
                triggers.add(
                    p,
                    &var,
                    partitions.as_deref(),
                    from,
                    &mut names,
                    &mut ledger,
                    table,
                );
                let triggers = Triggers {
                    schedules: &mut schedules,
                    sensors: &mut sensors,
                    statements: &mut jobs,
                    run_config: None,
                };
                triggers.add_deployment_schedules(
                    p,
                    &var,
                    partitions.as_deref(),
                    &configured,
                    &mut names,
                    &mut ledger,
                    table,
                );
            }
            if selection.is_empty() && !ledger.has("pipeline", &p.id) {
                // Nothing of it is written (every step a folded no-op): no claim at `defs`.
                ledger.lose(
                    table,
                    "pipeline",
                    &p.id,
                    p.span,
                    "no step of it is written (each was a no-op folded into its neighbours), so no asset, op or job is: the port has nothing of this pipeline".into(),
                );
            } else if !ledger.has("pipeline", &p.id) {
                // Assets without a job: the pipeline is the assets in `Definitions`.
                let at = Anchor::statement("defs = ", "dg.Definitions(");
                ledger.consume(table, "pipeline", &p.id, p.span, at.clone());
                shared::consume_notes(&mut ledger, table, "pipeline", &p.extra, p.span, &at);
            }
            ledger.finish(table);
            ledgers.push(ledger);
        }
        for (name, _, text) in &parts_defs {
            definitions.push(format!("{name} = {text}"));
        }
        let mut kw = Vec::new();
        let assets_list: Vec<String> = asset_names.into_iter().collect();
        for (key, names) in [
            ("assets", &assets_list),
            ("asset_checks", &checks),
            ("jobs", &job_names),
            ("schedules", &schedules),
            ("sensors", &sensors),
        ] {
            if !names.is_empty() {
                kw.push(Expr::kw(
                    key,
                    Expr::List(names.iter().map(|a| Expr::raw(a.clone())).collect()),
                ));
            }
        }
        if !resources.is_empty() {
            kw.push(Expr::kw(
                "resources",
                Expr::Dict(
                    resources
                        .into_iter()
                        .map(|(k, v)| (Expr::str(&k), v))
                        .collect(),
                ),
            ));
        }
        let defs = format!(
            "defs = {}",
            Expr::call("dg.Definitions", kw).format_lead(0, 7, 0)
        );
        let mut emitted = String::new();
        for a in &assets {
            emitted.push_str(&a.decorator);
            emitted.push_str(&a.signature);
            emitted.push_str(&a.body);
        }
        emitted.push_str(&jobs.join("\n"));
        emitted.push_str(&defs);
        let mut own: Vec<&str> = vec!["dg"];
        own.extend(assets.iter().map(|a| a.name.as_str()));
        let support =
            super::module::support(file, &emitted, Framework::Dagster, &own, &mut imports);
        support.report_foreign(&mut ledgers, table);
        if emitted.contains("get_dagster_logger()") && !emitted.contains("dg.get_dagster_logger()")
        {
            imports.name("dagster", "get_dagster_logger");
        }
        let ctx = ModuleCtx {
            header: super::module::header(&file.path, &target.label()),
            imports: imports.lines(),
            gap: support.gap(),
            support: support.code,
            helpers,
            definitions: blocks(&definitions),
            assets,
            jobs: blocks(&jobs),
            defs,
        };
        let text = super::templates::render("dagster/module.py.j2", &ctx)?;
        Ok((text, ledgers))
    }
}

/// How a step is written in Dagster.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// A software-defined asset.
    Asset,
    /// An asset check on the asset of another step.
    Check(usize),
    /// An external asset (`dg.AssetSpec`): declared, never materialised here.
    Spec,
    /// Not written; dependencies pass through.
    Folded,
}

/// What the role, key and upstream rules ask of a whole plan, computed once per plan (asking
/// it of every step for every step made large pipelines quadratic).
struct StepFacts {
    /// Per step: its role by [`role`] alone (without the earlier-pipeline override).
    roles: Vec<Role>,
    /// Per step: the upstream a data input from it reads, through folded steps (the first of its
    /// frontier: data edges first, then order edges, depth first).
    resolved: Vec<Option<usize>>,
    /// Per step: every asset it stands for as an upstream — itself, or, for a folded step (a
    /// no-op join, a check), every asset reached through folded steps, in order. An order edge
    /// from a folded join must wait for all of its upstreams, not the first one only.
    frontier: Vec<Vec<usize>>,
    /// `identifier(node id)` → the first step function with that key, and whether another
    /// function has the same key.
    keys: HashMap<String, (String, bool)>,
    /// Per step: when its work runs, over the results of an Airflow pipeline's branches and
    /// short-circuits (by step index); `Always` everywhere else.
    guards: Vec<Guard>,
    /// Whether the guards of a pipeline that branches were written (within their budget).
    guarded: bool,
    /// Each step's index, by its node.
    step_of: HashMap<*const Node, usize>,
    /// Each step's index, by its node's id (the first step of an id).
    step_by_id: HashMap<String, usize>,
}

impl StepFacts {
    fn new(plan: &Plan) -> StepFacts {
        let mut read: HashSet<*const crate::ir::Node> = HashSet::new();
        for o in &plan.steps {
            for i in &o.inputs {
                if let Source::Step(j) = i.source {
                    read.insert(plan.steps[j].node);
                }
            }
            for &j in &o.after {
                read.insert(plan.steps[j].node);
            }
        }
        let roles: Vec<Role> = plan
            .steps
            .iter()
            .map(|s| role(s, read.contains(&(s.node as *const _))))
            .collect();
        let frontier = frontiers(plan, &roles);
        let resolved = frontier.iter().map(|f| f.first().copied()).collect();
        let mut keys: HashMap<String, (String, bool)> = HashMap::new();
        for st in &plan.steps {
            let key = key_name(&st.node.id);
            match keys.get_mut(&key) {
                Some((first, other)) => *other |= *first != st.func,
                None => {
                    keys.insert(key, (st.func.clone(), false));
                }
            }
        }
        let (guards, guarded) = step_guards(plan);
        StepFacts {
            roles,
            resolved,
            frontier,
            keys,
            guarded,
            guards,
            step_of: plan
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| (std::ptr::from_ref(s.node), i))
                .collect(),
            step_by_id: plan
                .steps
                .iter()
                .enumerate()
                .rev()
                .map(|(i, s)| (s.node.id.clone(), i))
                .collect(),
        }
    }
}

/// A condition as an asset tests it: (flow local, the step feeding it) pairs, the flow
/// parameters it reads, and the early-return text.
type ConditionTest = (Vec<(String, usize)>, Vec<String>, String);

/// A Prefect flow's condition on a call, as the asset tests it: the flow locals it reads with the
/// step that feeds each, the flow parameters it reads (bound first), and the early return
/// (`    if not (cond):\n        return None\n`). `None` when it reads another name, a local
/// the asset already takes from another step, or does not fit the line.
fn prefect_condition(
    plan: &Plan,
    step: &Step,
    facts: &StepFacts,
    cond: &str,
) -> Option<ConditionTest> {
    let p = plan.pipeline;
    let words = crate::python::parse::referenced_names(cond)?;
    let mut reads = Vec::new();
    let mut bound = Vec::new();
    let mut names: Vec<&String> = words.iter().collect();
    names.sort();
    for name in names {
        if let Some(id) = step.node.condition_reads.get(name.as_str()) {
            let j = *facts.step_by_id.get(id)?;
            // The asset's own parameter of that name must be the same step's value.
            let taken = step.inputs.iter().find(|i| i.param == *name);
            if let Some(i) = taken
                && !matches!(i.source, Source::Step(k) if k == j || facts.resolved[k] == Some(j))
            {
                return None;
            }
            reads.push((name.clone(), j));
        } else if p.params.iter().any(|x| x.name == *name) {
            bound.push(name.clone());
        } else if !matches!(
            name.as_str(),
            "len" | "bool" | "isinstance" | "str" | "int" | "None" | "True" | "False"
        ) {
            return None;
        }
    }
    let trimmed = cond.trim();
    let test = match trimmed
        .strip_prefix("not (")
        .and_then(|r| r.strip_suffix(')'))
    {
        Some(inner) if crate::python::parse::parse_expression(inner).is_some() => {
            format!("if {inner}:")
        }
        _ if trimmed.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !trimmed.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            format!("if not {trimmed}:")
        }
        _ => format!("if not ({trimmed}):"),
    };
    (4 + test.chars().count() <= python::LINE_LENGTH && !test.contains('\n'))
        .then(|| (reads, bound, format!("    {test}\n        return None\n")))
}

/// Each step's guard (see [`StepFacts::guards`]), its atoms renumbered from node indices to step
/// indices, and whether the pipeline branches and its guards are within their budget (`Always`
/// for every step otherwise).
fn step_guards(plan: &Plan) -> (Vec<Guard>, bool) {
    let p = plan.pipeline;
    let always = || vec![Guard::Always; plan.steps.len()];
    if !super::guards::has_branches(p) {
        return (always(), false);
    }
    let Some(by_node) = super::guards::guards(p) else {
        return (always(), false);
    };
    if p.framework != Some(Framework::Airflow) {
        return (always(), true);
    }
    let step_of: HashMap<&str, usize> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.node.id.as_str(), i))
        .collect();
    let node_of: HashMap<*const Node, usize> = p
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (std::ptr::from_ref(n), i))
        .collect();
    let node_step: Vec<Option<usize>> = p
        .nodes
        .iter()
        .map(|n| step_of.get(n.id.as_str()).copied())
        .collect();
    let guards = plan
        .steps
        .iter()
        .map(|s| {
            node_of
                .get(&std::ptr::from_ref(s.node))
                .and_then(|&i| by_node[i].renumber(&|u| node_step[u]))
                .unwrap_or(Guard::Always)
        })
        .collect();
    (guards, true)
}

/// [`StepFacts::frontier`] of every step, in one pass over the steps (upstream first; an
/// upstream that comes later, on a cycle, adds nothing).
fn frontiers(plan: &Plan, roles: &[Role]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::with_capacity(plan.steps.len());
    for (j, s) in plan.steps.iter().enumerate() {
        if matches!(roles[j], Role::Asset | Role::Spec) {
            out.push(vec![j]);
            continue;
        }
        let ups = s
            .inputs
            .iter()
            .filter_map(|i| match i.source {
                Source::Step(k) => Some(k),
                _ => None,
            })
            .chain(s.after.iter().copied());
        let mut mine: Vec<usize> = Vec::new();
        let mut seen: HashSet<usize> = HashSet::new();
        for k in ups {
            for &a in out.get(k).map(Vec::as_slice).unwrap_or(&[]) {
                if seen.insert(a) {
                    mine.push(a);
                }
            }
        }
        out.push(mine);
    }
    out
}

/// The steps a Dagster port writes as failure hooks: asset steps meant for a failure (an
/// Airflow `one_failed`/`all_failed` rule, a Prefect test of `state.is_failed()`) that nothing
/// reads; one whose body needs an upstream's value is not written at all.
fn failure_hooks(p: &Pipeline, plan: &Plan, roles: &[Role]) -> std::collections::BTreeSet<usize> {
    let read: std::collections::BTreeSet<usize> = plan
        .steps
        .iter()
        .flat_map(|s| {
            s.inputs
                .iter()
                .flat_map(|i| match &i.source {
                    Source::Step(j) => vec![*j],
                    Source::Steps(js) => js.clone(),
                    _ => Vec::new(),
                })
                .chain(s.after.iter().copied())
                .chain(s.extra_upstreams.iter().copied())
                .collect::<Vec<_>>()
        })
        .collect();
    plan.steps
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            let n = s.node;
            let rule = n
                .trigger_rule
                .clone()
                .or_else(|| p.effective_policy(n).trigger_rule);
            let for_failure = matches!(rule.as_deref(), Some("one_failed" | "all_failed"))
                || (n.condition_reads_states()
                    && n.condition
                        .as_deref()
                        .is_some_and(|c| c.contains("is_failed")));
            for_failure
                && s.defines
                && matches!(roles[*i], Role::Asset)
                && !read.contains(i)
                && n.mapping.is_none()
        })
        .map(|(i, _)| i)
        .collect()
}

/// A step's role; `has_down` says whether another step reads its node.
fn role(s: &Step, has_down: bool) -> Role {
    let n = s.node;
    if n.kind == NodeKind::ExternalAsset {
        return Role::Spec;
    }
    if matches!(n.kind, NodeKind::Empty | NodeKind::SubPipeline)
        || (n.callable.is_none() && n.operator.is_none())
    {
        return Role::Folded;
    }
    let ups: Vec<usize> = s
        .inputs
        .iter()
        .filter_map(|i| {
            if let Source::Step(j) = i.source {
                Some(j)
            } else {
                None
            }
        })
        .collect();
    let id = n.id.to_lowercase();
    let quality = QUALITY_WORDS.iter().any(|w| {
        id.split(|c: char| !c.is_alphanumeric()).any(|x| {
            x.strip_prefix(w)
                .is_some_and(|rest| ["", "s", "es", "d", "ed", "ing", "er", "ers"].contains(&rest))
        })
    });
    if n.kind != NodeKind::Asset
        && quality
        && ups.len() == 1
        && !has_down
        && n.callable.is_some()
        && n.mapping.is_none()
    {
        return Role::Check(ups[0]);
    }
    Role::Asset
}

fn tag_pair(t: &str) -> (Expr, Expr) {
    let (k, v) = t
        .split_once('=')
        .or_else(|| t.split_once(':'))
        .unwrap_or((t, ""));
    (
        Expr::str(&tag_text(k, true)),
        Expr::str(&tag_text(v, false)),
    )
}

/// A tag key or value as Dagster accepts it: letters, digits, `_`, `-` and `.` (a key may have
/// one `/` namespace), at most 63 characters a section; anything else becomes `_`. A Prefect tag
/// such as `team lead` or `a:b` fails at load otherwise.
fn tag_text(s: &str, key: bool) -> String {
    let mut slash = false;
    let clean: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else if c == '/' && key && !slash {
                slash = true;
                c
            } else {
                '_'
            }
        })
        .collect();
    clean
        .split('/')
        .map(|part| part.chars().take(63).collect::<String>())
        .collect::<Vec<_>>()
        .join("/")
}

/// `dg.AssetIn(...)` naming an upstream asset by the key it is written with.
fn asset_in(plan: &Plan, facts: &StepFacts, up: usize, from: Framework) -> Expr {
    let id = &plan.steps[up].node.id;
    if from == Framework::Dagster && id.contains('/') {
        Expr::call(
            "dg.AssetIn",
            vec![Expr::kw(
                "key",
                Expr::List(id.split('/').map(Expr::str).collect()),
            )],
        )
    } else {
        Expr::call(
            "dg.AssetIn",
            vec![Expr::str(&asset_key(facts, &plan.steps[up]))],
        )
    }
}

/// Names Dagster refuses for an asset or op besides Python's keywords
/// (`dagster._core.definitions.utils.DISALLOWED_NAMES`): `@dg.asset(name="type")` fails at load.
const DAGSTER_DISALLOWED: &[&str] = &[
    "arg_dict",
    "bool",
    "conf",
    "config",
    "context",
    "dict",
    "float",
    "input",
    "input_arg_dict",
    "int",
    "meta",
    "output",
    "output_arg_dict",
    "str",
    "type",
];

/// A node id as a name Dagster accepts: an identifier, and none of Dagster's disallowed names.
fn key_name(id: &str) -> String {
    let key = identifier(id);
    if DAGSTER_DISALLOWED.contains(&key.as_str()) {
        key + "_"
    } else {
        key
    }
}

/// The asset key a step is written with: its node id, unless another step of the module's
/// pipelines already has that id with a different function (then its unique function name).
fn asset_key(facts: &StepFacts, step: &Step) -> String {
    let key = key_name(&step.node.id);
    let clash = facts
        .keys
        .get(&key)
        .is_some_and(|(first, other)| *other || *first != step.func);
    if clash
        || step.func.starts_with(&format!("{key}_"))
            && step.func[key.len() + 1..]
                .chars()
                .all(|c| c.is_ascii_digit())
    {
        step.func.clone()
    } else {
        key
    }
}

/// Whether an asset reads the Airflow run parameters (a `params` argument, or `{{ params.x }}`
/// in its shell command): it then takes the pipeline's config class.
fn reads_params(plan: &Plan, step: &Step) -> bool {
    let p = plan.pipeline;
    if p.params.is_empty() {
        return false;
    }
    // A Prefect flow parameter the step is passed (the partition parameter is the partition key).
    if p.framework == Some(Framework::Prefect) {
        let partition = p.partition_parameter();
        // (A parameter the call's condition tests counts too.)
        let tested = step.node.condition.as_deref().is_some_and(|c| {
            p.params.iter().any(|prm| {
                Some(prm.name.as_str()) != partition
                    && config_field(&prm.name)
                    && super::inline::mentions(c, &prm.name)
            })
        });
        return tested
            || step.inputs.iter().any(|i| match &i.source {
                Source::Param(name) => Some(name.as_str()) != partition && config_field(name),
                Source::Literal(Value::Expr(e)) => p.params.iter().any(|prm| {
                    Some(prm.name.as_str()) != partition
                        && config_field(&prm.name)
                        && super::inline::mentions(e, &prm.name)
                }),
                _ => false,
            });
    }
    if p.framework != Some(Framework::Airflow) {
        return false;
    }
    // A `params` argument, or the params of the run context (`context["params"]`).
    let takes = step.node.callable.as_ref().is_some_and(|c| {
        c.params.iter().any(|x| x.name == "params")
            || ["[\"params\"]", "['params']"]
                .iter()
                .any(|k| c.body.contains(k))
    });
    takes
        || template::shell_command(plan, step, &|n| n.to_string())
            .is_some_and(|r| !template::params(&r).is_empty())
}

/// The name of a pipeline's run config class (`CustomerChurnReportConfig`).
fn config_class_name(p: &Pipeline) -> String {
    let mut name: String = identifier(&p.id)
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    name.push_str("Config");
    // `1st_run` must not give `1stRunConfig`, which is no identifier.
    identifier(&name)
}

/// The run config class of a pipeline's params (Airflow params, Prefect flow parameters): one
/// field per param, its default kept (a Prefect partition parameter is the partition key).
fn config_class(p: &Pipeline, ledger: &mut Ledger, table: &Translations) -> String {
    let name = config_class_name(p);
    let prefect = p.framework == Some(Framework::Prefect);
    let what = if prefect {
        "flow parameters"
    } else {
        "Airflow params"
    };
    let mut text = format!(
        "class {name}(dg.Config):\n    {}\n\n",
        python::docstring(&format!("The run parameters of {} ({what}).", p.id))
    );
    for prm in &p.params {
        if p.partition_parameter() == Some(prm.name.as_str())
            || (prefect && !config_field(&prm.name))
        {
            continue;
        }
        let by_type = match prm.r#type.as_deref() {
            Some("integer" | "int") => Some("int".to_string()),
            Some("number" | "float") => Some("float".to_string()),
            Some("string" | "str") => Some("str".to_string()),
            Some("boolean" | "bool") => Some("bool".to_string()),
            // A Prefect annotation of builtin types (`list[str]`, `dict[str, int] | None`).
            Some(t) if prefect && builtin_annotation(t) => Some(t.to_string()),
            _ => None,
        };
        let ann = by_type.or(match &prm.default {
            Some(Value::Int(_)) => Some("int".into()),
            Some(Value::Float(_)) => Some("float".into()),
            Some(Value::Bool(_)) => Some("bool".into()),
            Some(Value::Str(_)) => Some("str".into()),
            Some(Value::List(_)) => Some("list".into()),
            Some(Value::Dict(_)) => Some("dict".into()),
            _ => None,
        });
        let field = match (ann, &prm.default) {
            (Some(t), Some(d)) if *d != Value::None => {
                format!(
                    "{}: {t} = {}",
                    identifier(&prm.name),
                    python::value(d).flat()
                )
            }
            (Some(t), _) => format!("{}: {t} | None = None", identifier(&prm.name)),
            (None, _) => format!("{}: str | None = None", identifier(&prm.name)),
        };
        text.push_str(&format!("    {field}\n"));
        ledger.consume_as(
            table,
            "param",
            &prm.name,
            p.span,
            Anchor::statement(&format!("class {name}"), format!("{}:", identifier(&prm.name))),
            Fidelity::Approximate,
            if prefect {
                format!(
                    "a field of `{name}` (dg.Config) with its default: each asset that reads it takes the config (set per asset in the run config)"
                )
            } else {
                format!(
                    "a field of `{name}` (dg.Config) with its default: each asset that reads it takes the config (set per asset in the run config); Param's schema checks are not kept"
                )
            },
        );
    }
    text.trim_end().to_string()
}

/// Whether a flow parameter can be a field of a `dg.Config` class: pydantic warns when a field
/// shadows one of the model's own attributes (`schema`, `json`, `model_dump`, …), so such a
/// parameter keeps its default as a constant instead.
fn config_field(name: &str) -> bool {
    const TAKEN: &[&str] = &[
        "construct",
        "copy",
        "dict",
        "from_orm",
        "json",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "to_config_schema",
        "to_fields_dict",
        "update_forward_refs",
        "validate",
    ];
    !name.starts_with("model_") && !name.starts_with('_') && !TAKEN.contains(&name)
}

/// Whether an annotation names builtin types only (`list[str]`, `dict[str, int] | None`), so a
/// Config field can carry it as written.
fn builtin_annotation(t: &str) -> bool {
    const BUILTINS: &[&str] = &[
        "int", "float", "str", "bool", "list", "dict", "tuple", "set", "None", "Any",
    ];
    t.len() <= 200
        && t.split(|c: char| "[], |".contains(c))
            .filter(|w| !w.is_empty())
            .all(|w| BUILTINS.contains(&w) && w != "Any")
}

#[allow(clippy::too_many_arguments)]
fn asset(
    plan: &Plan,
    step: &Step,
    members: &[&Node],
    facts: &StepFacts,
    from: Framework,
    partitions: Option<&str>,
    file_assets: &std::collections::BTreeSet<&str>,
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
) -> FunctionCtx {
    let n = step.node;
    let at = Anchor::at(Scope::Head(step.func.clone()));
    shared::consume_node(ledger, table, n, &at);
    // A branch is kept in the tests of the assets below it, when they could be written.
    if matches!(n.kind, NodeKind::Branch | NodeKind::ShortCircuit) {
        let kind = crate::report::node_id(n.kind);
        if facts.guarded {
            ledger.consume(table, kind, &n.id, n.span, at.clone());
        } else {
            ledger.lose(
                table,
                kind,
                &n.id,
                n.span,
                "the pipeline's branches are past the guard budget: every asset below it does its work; port the condition by hand".into(),
            );
        }
    }
    let mut kw: Vec<Expr> = Vec::new();
    let multi = members.len() > 1;
    if multi {
        // The keys are the outs' or specs' (below).
    } else if from == Framework::Dagster && n.id.contains('/') {
        // Keep the asset key path: `key_prefix` plus the last component as the name.
        let parts: Vec<&str> = n.id.split('/').collect();
        let (last, prefix) = parts.split_last().unwrap_or((&"", &[]));
        kw.push(Expr::kw(
            "key_prefix",
            Expr::List(prefix.iter().map(|x| Expr::str(x)).collect()),
        ));
        if *last != step.func {
            kw.push(Expr::kw("name", Expr::str(last)));
        }
    } else if asset_key(facts, step) != step.func {
        kw.push(Expr::kw("name", Expr::str(&asset_key(facts, step))));
    }
    // A pipeline parameter's value in an asset: the partition key or its default.
    let config = reads_params(plan, step).then(|| config_class_name(plan.pipeline));
    let param_value = |name: &str| {
        // A Prefect flow parameter is a field of the run config.
        if from == Framework::Prefect
            && config.is_some()
            && config_field(name)
            && plan.pipeline.params.iter().any(|x| x.name == name)
            && plan.pipeline.partition_parameter() != Some(name)
        {
            return format!("config.{}", identifier(name));
        }
        let default = plan
            .pipeline
            .params
            .iter()
            .find(|x| x.name == name)
            .and_then(|x| x.default.clone());
        let is_partition = plan.pipeline.partition_parameter() == Some(name);
        if is_partition && partitions.is_some() {
            "context.partition_key".to_string()
        } else {
            default.map_or_else(|| "None".into(), |v| python::value(&v).flat())
        }
    };
    let mut ins: Vec<(Expr, Expr)> = Vec::new();
    let mut data_params: Vec<String> = Vec::new();
    let mut prelude: Vec<String> = Vec::new();
    // Order-only upstreams: function name and step.
    let mut deps: Vec<(String, usize)> = Vec::new();
    // Whether a partition mapping of the source is written on an input or a dep.
    let mut mapped_inputs = false;
    // A templated shell command reads the run config, the logical date and upstream values.
    let shell = template::shell_command(plan, step, &|n| format!("config.{n}"));
    let mut shell_body = None;
    if let Some(r) = &shell {
        template::record(
            r,
            n,
            ledger,
            table,
            (
                "the partition's start (the current time when unpartitioned)",
                "the run config",
            ),
            Anchor::at(Scope::Body(step.func.clone())),
        );
        for (func, j) in template::upstream_steps(plan, r) {
            if let Some(up) = facts.resolved[j]
                && plan.steps[up].func == func
                && !data_params.contains(&func)
            {
                data_params.push(func);
            }
        }
        // Every partitioning but static, dynamic and multi keys is a time window here.
        let time_window = !matches!(
            plan.pipeline.partitions.as_ref().or(n.partitions.as_ref()),
            Some(Partitions::Static { .. } | Partitions::Dynamic { .. } | Partitions::Multi { .. })
        );
        let date = if partitions.is_some() && time_window {
            "context.partition_time_window.start"
        } else {
            imports.name("datetime", "datetime");
            imports.name("datetime", "timezone");
            "datetime.now(timezone.utc)"
        };
        shell_body = Some(template::shell_body(r, date));
    }
    let param_names: Vec<String> = match &config {
        Some(_) if from == Framework::Airflow => plan
            .pipeline
            .params
            .iter()
            .map(|x| x.name.clone())
            .collect(),
        _ => Vec::new(),
    };
    for input in &step.inputs {
        match &input.source {
            Source::Step(j) => match facts.resolved[*j] {
                Some(up) => {
                    let up_name = plan.steps[up].func.clone();
                    let param = if input.param.is_empty() {
                        up_name.clone()
                    } else {
                        input.param.clone()
                    };
                    let mapping = partition_mapping(n, &plan.steps[up].node.id);
                    mapped_inputs |= mapping.is_some();
                    // One key of an upstream's returned dict (an Airflow `multiple_outputs`
                    // task): the whole value comes in once, the body's parameter is its key.
                    if input.output.is_some()
                        && mapping.is_none()
                        && crate::ir::multi_asset_output(plan.steps[up].node).is_none()
                    {
                        if !data_params.contains(&up_name) {
                            ins.push((Expr::str(&up_name), asset_in(plan, facts, up, from)));
                            data_params.push(up_name.clone());
                        }
                        prelude.push(format!(
                            "{param} = {}",
                            input.select(Expr::raw(up_name.clone())).flat()
                        ));
                        continue;
                    }
                    if let Some(m) = mapping {
                        let mut input = asset_in(plan, facts, up, from);
                        if let Expr::Call(_, args) = &mut input {
                            args.push(Expr::kw("partition_mapping", m));
                        }
                        ins.push((Expr::str(&param), input));
                    } else if param != up_name
                        || plan.steps[up].node.id.contains('/')
                        || crate::ir::multi_asset_output(plan.steps[up].node).is_some()
                    {
                        ins.push((Expr::str(&param), asset_in(plan, facts, up, from)));
                    }
                    data_params.push(param);
                }
                None => prelude.push(format!("{} = None", input.param)),
            },
            Source::Steps(list) => {
                // One input per upstream asset, gathered into the list the body expects.
                let mut parts = Vec::new();
                for (k, j) in list.iter().enumerate() {
                    if let Some(up) = facts.resolved[*j] {
                        let name = format!("{}_{k}", input.param);
                        ins.push((Expr::str(&name), asset_in(plan, facts, up, from)));
                        data_params.push(name.clone());
                        parts.push(name);
                    }
                }
                prelude.push(format!("{} = [{}]", input.param, parts.join(", ")));
            }
            // An asset of another job in this module, read by name (Dagster resolves it).
            Source::Literal(Value::None)
                if !input.mapped
                    && file_assets.contains(input.param.as_str())
                    && n.inlets
                        .iter()
                        .any(|a| a.name.as_deref() == Some(&input.param)) =>
            {
                data_params.push(input.param.clone());
            }
            Source::Literal(v) => {
                // Pipeline parameters the expression reads are bound first (a mapped one's too:
                // the asset's loop reads them).
                if let Value::Expr(e) = v {
                    for prm in &plan.pipeline.params {
                        let bound = prelude
                            .iter()
                            .any(|l| l.starts_with(&format!("{} = ", prm.name)));
                        if !bound && super::inline::mentions(e, &prm.name) {
                            prelude.push(format!("{} = {}", prm.name, param_value(&prm.name)));
                        }
                    }
                }
                if !input.mapped {
                    prelude.push(format!("{} = {}", input.param, python::value(v).flat()))
                }
            }
            Source::Param(name) => {
                let local = if input.param.is_empty() {
                    name
                } else {
                    &input.param
                };
                prelude.push(format!("{local} = {}", param_value(name)));
            }
        }
    }
    // Resource parameters: Dagster binds them by key.
    if from == Framework::Dagster
        && let Some(c) = &n.callable
    {
        for prm in &c.params {
            if plan.pipeline.resources.iter().any(|r| r.key == prm.name)
                && !data_params.contains(&prm.name)
            {
                data_params.push(prm.name.clone());
            }
        }
    }
    // Parameters with defaults that nothing feeds (Airflow's `ds=None`, `params=None`, …) keep
    // their default as a local value; the logical date becomes the partition key.
    if let Some(c) = &n.callable {
        for prm in &c.params {
            let fed = step.inputs.iter().any(|i| i.param == prm.name);
            if fed || prm.name.starts_with('*') || prm.name == "context" {
                continue;
            }
            // Airflow's `params` reads the run config (bound whole only where the body needs it).
            if prm.name == "params" && config.is_some() {
                prelude.push("params = config.model_dump()".into());
                continue;
            }
            if let Some(default) = &prm.default {
                let value = match (prm.name.as_str(), partitions) {
                    ("ds" | "logical_date" | "partition_key", Some(_)) => {
                        "context.partition_key".to_string()
                    }
                    // Airflow's context arguments come from the Dagster run.
                    (name, _)
                        if from == Framework::Airflow
                            && default == "None"
                            && shared::AIRFLOW_CONTEXT_ARGS.iter().any(|(a, _)| *a == name) =>
                    {
                        shared::need(imports, helpers, "_airflow_context_dagster");
                        ledger.consume_as(
                            table,
                            "body.context",
                            &n.id,
                            c.body_span,
                            Anchor::body(&step.func, "_airflow_context("),
                            Fidelity::Approximate,
                            format!("`{name}` is built from the Dagster run by `_airflow_context` (the logical date is the partition's start, else the scheduled tick, else now)"),
                        );
                        format!(
                            "_airflow_context(context)[{}]",
                            crate::python::print::string(name)
                        )
                    }
                    _ => default.clone(),
                };
                prelude.push(format!("{} = {value}", prm.name));
            }
        }
    }
    for &a in step.after.iter().chain(&step.extra_upstreams) {
        for &up in &facts.frontier[a] {
            if !deps.iter().any(|(f, _)| *f == plan.steps[up].func)
                && !data_params.contains(&plan.steps[up].func)
            {
                deps.push((plan.steps[up].func.clone(), up));
            }
        }
    }
    // A guarded step reads the results of the branches its guard tests (instead of only
    // waiting for them).
    // (A failure step becomes a failure hook, which runs only when a step failed.)
    let failure_rule = matches!(n.trigger_rule.as_deref(), Some("one_failed" | "all_failed"));
    let guard = facts
        .step_of
        .get(&std::ptr::from_ref(step.node))
        .map(|&k| &facts.guards[k])
        .filter(|g| **g != Guard::Always && !failure_rule);
    if let Some(g) = guard {
        for j in g.reads() {
            let name = plan.steps[j].func.clone();
            if !data_params.contains(&name) {
                ins.push((Expr::str(&name), asset_in(plan, facts, j, from)));
                data_params.push(name.clone());
            }
            deps.retain(|(f, _)| *f != name);
        }
    }
    // A Prefect call under an `if`: the asset tests the condition first, reading what it reads.
    let mut condition_test: Option<String> = None;
    if let Some(cond) = n.condition.as_deref().filter(|c| {
        from == Framework::Prefect
            && !failure_rule
            && !c.starts_with("except ")
            && !n.condition_reads_states()
    }) {
        match prefect_condition(plan, step, facts, cond) {
            Some((reads, bound, test)) => {
                for (local, j) in reads {
                    if !data_params.contains(&local) {
                        ins.push((Expr::str(&local), asset_in(plan, facts, j, from)));
                        data_params.push(local);
                    }
                    deps.retain(|(f, _)| *f != plan.steps[j].func);
                }
                let binds: String = bound
                    .iter()
                    .map(|name| format!("    {name} = {}\n", param_value(name)))
                    .collect();
                condition_test = Some(format!("{binds}{test}"));
                ledger.consume_as(
                    table,
                    "node.condition",
                    &n.id,
                    n.span,
                    Anchor::body(&step.func, "return None"),
                    Fidelity::Approximate,
                    format!("`{cond}` is tested at the top of the asset, which reads what it reads: when it does not hold, the asset materialises None (Prefect made no call)"),
                );
            }
            None => {
                ledger.lose(
                    table,
                    "node.condition",
                    &n.id,
                    n.span,
                    format!("the step runs whether or not `{cond}` holds (it reads more than the flow's results and parameters): test the condition in the asset by hand"),
                );
            }
        }
    }
    if !ins.is_empty() {
        kw.push(Expr::kw("ins", Expr::Dict(ins)));
    }
    if !deps.is_empty() {
        let mut list = Vec::new();
        for (d, up) in &deps {
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
                super::Target {
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
    if from == Framework::Dagster {
        kw.extend(shared::passthrough(
            ledger,
            table,
            &n.id,
            &n.extra,
            ASSET_OPTIONS,
            n.span,
            imports,
            &at,
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
    let deco = if multi {
        super::multi_asset::decorator(kw, members, ledger, table, &at)
    } else {
        python::decorator("dg.asset", kw)
    };
    let (body, uses_context) = asset_body(
        step,
        from,
        &prelude,
        (shell_body.as_deref(), &param_names),
        imports,
        helpers,
        ledger,
        table,
    );
    let body = match &condition_test {
        Some(test) => format!("{test}{body}"),
        None => body,
    };
    // The guard decides whether the work runs; the asset materialises None when it does not.
    let body = match guard {
        Some(g) => {
            let tests = g.early_returns(&|j| plan.steps[j].func.clone(), 4);
            if tests.contains("_chosen(") {
                shared::need(imports, helpers, "_chosen");
            }
            format!("{tests}{body}")
        }
        None => body,
    };
    // Inputs from a guarded upstream may be None.
    let maybe_none: Vec<String> = step
        .inputs
        .iter()
        .filter_map(|i| match i.source {
            Source::Step(j) => facts.resolved[j]
                .filter(|&up| facts.guards[up] != Guard::Always)
                .map(|up| {
                    if i.param.is_empty() {
                        plan.steps[up].func.clone()
                    } else {
                        i.param.clone()
                    }
                }),
            _ => None,
        })
        .collect();
    let mut params: Vec<String> = Vec::new();
    if uses_context
        || prelude
            .iter()
            .any(|l| l.contains("context.") || l.contains("(context)"))
    {
        params.push("context: dg.AssetExecutionContext".into());
    }
    // A mapped input holds the list of elements.
    let mapped: Vec<&str> = step
        .inputs
        .iter()
        .filter(|i| i.mapped)
        .map(|i| i.param.as_str())
        .collect();
    params.extend(data_params.iter().map(|p| {
        n.callable
            .as_ref()
            .and_then(|c| c.params.iter().find(|x| &x.name == p))
            .and_then(|x| x.annotation.clone())
            .map(|a| {
                if mapped.contains(&p.as_str()) {
                    format!("list[{a}]")
                } else {
                    a
                }
            })
            .filter(|a| !a.contains("Context"))
            .filter(|_| !maybe_none.contains(p))
            .map_or_else(|| p.clone(), |a| format!("{p}: {a}"))
    }));
    // Airflow params: the pipeline's run config class.
    if let Some(class) = &config {
        params.insert(
            usize::from(params.first().is_some_and(|p| p.starts_with("context"))),
            format!("config: {class}"),
        );
    }
    // A Dagster run-config parameter stays one (`config: ScoringConfig`).
    if from == Framework::Dagster
        && let Some(cfg) = n.callable.as_ref().and_then(|c| {
            c.params
                .iter()
                .find(|x| x.name == "config" && x.annotation.is_some())
        })
    {
        params.insert(
            usize::from(params.first().is_some_and(|p| p.starts_with("context"))),
            format!("config: {}", cfg.annotation.as_deref().unwrap_or("")),
        );
    }
    // A mapped asset returns the list of results, whatever one call returns; a guarded one may
    // return None.
    let returns = n
        .callable
        .as_ref()
        .filter(|_| n.mapping.is_none() && guard.is_none() && condition_test.is_none())
        .and_then(|c| c.returns.clone())
        .filter(|r| {
            from == Framework::Dagster
                || !["PokeReturnValue", "Output"].iter().any(|t| r.contains(t))
        })
        .map(|r| format!(" -> {r}"))
        .unwrap_or_default();
    let prefix = format!("def {}", step.func);
    FunctionCtx {
        decorator: deco,
        name: step.func.clone(),
        signature: shared::signature(&prefix, &params, &returns),
        body,
        is_async: n.callable.as_ref().is_some_and(|c| c.is_async),
    }
}

/// The partition mapping a Dagster source set on the asset's dependency on `upstream`.
fn partition_mapping(n: &crate::ir::Node, upstream: &str) -> Option<Expr> {
    match n.extra.get("partition_mappings") {
        Some(Value::Dict(m)) => m
            .get(upstream)
            .filter(|v| v.is_literal())
            .map(super::partitions::dagster_value),
        _ => None,
    }
}

/// The step whose body yields a check's result (`check_specs=` on its asset), if any.
fn evaluated_by(c: &crate::ir::Check) -> Option<&str> {
    c.extra.get("evaluated_by").and_then(Value::as_str)
}

/// `dg.AssetCheckSpec(...)` of each check the asset of `step` evaluates itself (the source's
/// `check_specs=`; the body yields their `AssetCheckResult`s).
fn check_specs(p: &Pipeline, step: &Step, facts: &StepFacts) -> Vec<Expr> {
    p.checks
        .iter()
        .filter(|c| c.callable.is_none() && evaluated_by(c) == Some(step.node.id.as_str()))
        .map(|c| {
            let asset = if c.target.contains('/') {
                Expr::List(c.target.split('/').map(Expr::str).collect())
            } else if c.target == step.node.id {
                Expr::str(&asset_key(facts, step))
            } else {
                Expr::str(&c.target)
            };
            check_spec(c, asset, true)
        })
        .collect()
}

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

/// The body of an asset: non-edge parameters assigned first, mapping expanded to a loop.
#[allow(clippy::too_many_arguments)]
fn asset_body(
    step: &Step,
    from: Framework,
    prelude: &[String],
    (shell, params): (Option<&str>, &[String]),
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
) -> (String, bool) {
    let n = step.node;
    let (_, inner, _) = shared::body_for(
        step,
        from,
        Framework::Dagster,
        imports,
        helpers,
        ledger,
        table,
        None,
        (None, &[]),
    );
    // A rendered shell command replaces the operator's body; Airflow params read the config.
    let inner = match shell {
        Some(b) => python::indent_body(b, 4).trim_end().to_string(),
        None if !params.is_empty() => super::rewrite::airflow_params(&inner, params, "config.")
            .0
            .replace(
                "_airflow_context(context)",
                "_airflow_context(context, config.model_dump())",
            ),
        None => inner,
    };
    let uses_context = inner
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == "context");
    let mut text = String::new();
    if let Some(m) = &n.mapping {
        // One call per element, inside the asset.
        let mut params: Vec<String> = n
            .callable
            .as_ref()
            .map(|c| {
                c.params
                    .iter()
                    .filter(|p| p.name != "context")
                    .map(|p| p.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        if n.callable.is_none() {
            params = m
                .over
                .iter()
                .map(|a| a.param.clone())
                .filter(|p| !p.is_empty())
                .collect();
        }
        text.push_str(&format!("def _one({}):\n{inner}\n\n", params.join(", ")));
        for l in prelude {
            text.push_str(l);
            text.push('\n');
        }
        let first = m.over.first();
        // Names in scope for each call: the prelude's locals and the asset's unmapped inputs.
        let defined: Vec<&str> = prelude
            .iter()
            .filter_map(|l| l.split(" = ").next())
            .chain(
                step.inputs
                    .iter()
                    .filter(|i| !i.mapped && matches!(i.source, Source::Step(_)))
                    .map(|i| i.param.as_str()),
            )
            .collect();
        // Nothing mapped (`.map(x=unmapped(…))`, which Prefect refuses at run time): no call.
        let items_expr = match (first, first.and_then(|a| a.literal.clone())) {
            (_, Some(v)) => python::value(&v),
            (Some(a), None) if !a.param.is_empty() => Expr::raw(a.param.clone()),
            _ => Expr::raw("[]"),
        };
        let zipped: Vec<&crate::ir::MappedArg> =
            m.over.iter().filter(|a| !a.param.is_empty()).collect();
        let mut items_expr = items_expr;
        let (call, target) = if m.kwargs {
            ("_one(**row)".to_string(), "row".to_string())
        } else if zipped.len() > 1 {
            // Several iterables: Prefect's `.map(a, b)` pairs them element-wise (zip), Airflow's
            // `expand(x=…, y=…)` runs every combination (itertools.product).
            let pairing = if from == Framework::Prefect {
                "zip"
            } else {
                imports.module("itertools");
                "itertools.product"
            };
            items_expr = Expr::call(
                pairing,
                zipped
                    .iter()
                    .map(|a| {
                        a.literal
                            .as_ref()
                            .map_or_else(|| Expr::raw(a.param.clone()), python::value)
                    })
                    .collect(),
            );
            let over: Vec<&str> = zipped.iter().map(|a| a.param.as_str()).collect();
            let args: Vec<String> = params
                .iter()
                .filter(|p| over.contains(&p.as_str()) || defined.contains(&p.as_str()))
                .map(|p| format!("{p}={p}"))
                .collect();
            (format!("_one({})", args.join(", ")), over.join(", "))
        } else {
            let over = first.map(|a| a.param.clone()).unwrap_or_default();
            let args: Vec<String> = params
                .iter()
                .filter(|p| **p == over || defined.contains(&p.as_str()))
                .map(|p| {
                    if *p == over {
                        format!("{p}=item")
                    } else {
                        format!("{p}={p}")
                    }
                })
                .collect();
            (format!("_one({})", args.join(", ")), "item".to_string())
        };
        let mut items = items_expr.flat();
        // An assignment expression may not be a comprehension's iterable (CPython refuses the
        // module): such a collection is bound to a local first.
        if items.contains(":=") {
            text.push_str(&format!("_items = {items}\n"));
            items = "_items".into();
            items_expr = Expr::raw("_items");
        }
        let one_line = format!("return [{call} for {target} in {items}]");
        let inner = format!("{call} for {target} in {items}");
        if 4 + one_line.len() <= python::LINE_LENGTH {
            text.push_str(&one_line);
        } else if 8 + inner.len() <= python::LINE_LENGTH {
            text.push_str(&format!("return [\n    {inner}\n]"));
        } else {
            let lead = format!("for {target} in ");
            text.push_str(&format!(
                "return [\n    {call}\n    {lead}{}\n]",
                items_expr
                    .format_lead(8, lead.len(), 0)
                    .replace("\n        ", "\n    ")
            ));
        }
        text.push('\n');
        ledger.consume_as(
            table,
            "mapping",
            &n.id,
            n.span,
            Anchor::body(&step.func, "for "),
            Fidelity::Approximate,
            "mapped calls run in a loop inside one asset (no per-element retries)".into(),
        );
        return (
            python::indent_body(&text, 4).trim_end().to_string(),
            uses_context,
        );
    }
    // A docstring stays the body's first statement, before the locals.
    let inner = match leading_docstring(&inner) {
        Some((doc, rest)) if !prelude.is_empty() => {
            text.push_str(&doc);
            text.push('\n');
            rest
        }
        _ => inner,
    };
    // A local the body never reads is not written (ruff F841).
    let read = |name: &str, rest: &[String]| {
        std::iter::once(inner.as_str())
            .chain(rest.iter().map(String::as_str))
            .any(|t| super::inline::mentions(t, name))
    };
    for (i, l) in prelude.iter().enumerate() {
        let name = l.split(" = ").next().unwrap_or("");
        if read(name, &prelude[i + 1..]) {
            text.push_str(&format!("    {l}\n"));
        }
    }
    // A nested function after the locals is set apart by a blank line (as ruff formats it).
    if !text.is_empty() && inner.trim_start().starts_with("def ") {
        text.push('\n');
    }
    text.push_str(&inner);
    (text.trim_end().to_string(), uses_context)
}

/// A body's leading docstring and the rest, both indented as the body is; `None` when it does
/// not start with one.
fn leading_docstring(inner: &str) -> Option<(String, String)> {
    use crate::python::ast::{Ranged, Stmt};
    let text = crate::python::source::dedent(inner);
    let suite = crate::python::parse::parse_body_text(&text)?;
    let (first, second) = (suite.first()?, suite.get(1)?);
    let Stmt::Expr(e) = first else { return None };
    if !e.value.is_string_literal_expr() {
        return None;
    }
    let doc = text.get(..usize::from(first.range().end()))?;
    let rest = text.get(usize::from(second.range().start())..)?;
    let rest = rest.trim_end();
    Some((
        python::indent_body(doc, 4).trim_end().to_string(),
        python::indent_body(rest, 4).trim_end().to_string(),
    ))
}

#[allow(clippy::too_many_arguments)]
fn check_body(
    plan: &Plan,
    step: &Step,
    target: usize,
    from: Framework,
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
) -> (String, String) {
    let (_, inner, _) = shared::body_for(
        step,
        from,
        Framework::Dagster,
        imports,
        helpers,
        ledger,
        table,
        None,
        (None, &[]),
    );
    let param = step
        .inputs
        .iter()
        .find(|i| i.source == Source::Step(target))
        .map_or_else(|| plan.steps[target].func.clone(), |i| i.param.clone());
    let asset_name = plan.steps[target].func.clone();
    // The step raised on failure; as a check it passes when it does not raise.
    let nested: String = inner
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("    {l}\n")
            }
        })
        .collect();
    let body = format!(
        "    def _check({param}):\n{nested}\n    _check({asset_name})\n    return dg.AssetCheckResult(passed=True)"
    );
    (format!("({asset_name})"), body)
}

/// `dg.AssetCheckSpec(name, asset=…, blocking, description)` of one check, with its other literal
/// options when `with_options` (an asset's `check_specs`; a `@multi_asset_check` keeps only these).
fn check_spec(c: &crate::ir::Check, asset: Expr, with_options: bool) -> Expr {
    let mut args = vec![Expr::str(&c.name), Expr::kw("asset", asset)];
    if c.blocking {
        args.push(Expr::kw("blocking", Expr::raw("True")));
    }
    if let Some(d) = &c.description {
        args.push(Expr::kw("description", Expr::str(d)));
    }
    if with_options {
        for (k, v) in &c.extra {
            if k != "evaluated_by" && v.is_literal() {
                args.push(Expr::kw(k, super::partitions::dagster_value(v)));
            }
        }
    }
    Expr::call("dg.AssetCheckSpec", args)
}

/// A module-level partitions definition: its name, its expression on one line (to find an
/// equal one), and its text as written.
type PartitionsConst = (String, String, String);

/// The partitions definition of a pipeline (a module-level name), if it has one.
fn partitions_def(
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
        ) => super::partitions::definition(axis)?,
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
fn node_partitions(
    node: &crate::ir::Node,
    pipeline: &str,
    defs: &mut Vec<PartitionsConst>,
) -> Option<String> {
    let expr = super::partitions::definition(node.partitions.as_ref()?)?;
    Some(register(defs, pipeline, &expr))
}

/// The period of an interval schedule in whole seconds, when it is one.
fn interval_seconds(s: &crate::ir::Schedule) -> Option<i64> {
    let secs: f64 = s.value.as_deref()?.parse().ok()?;
    (secs.is_finite() && secs >= 1.0 && secs.fract() == 0.0 && secs < 1e12).then_some(secs as i64)
}

/// The cron that fires every `secs` seconds exactly, if one does: a period that divides the
/// hour or the day, a day, a week (`*/7` minutes would restart at each hour, `*/2` days at each
/// month).
fn interval_cron(secs: i64) -> Option<String> {
    let (minutes, hours) = (secs / 60, secs / 3600);
    Some(match secs {
        60 => "* * * * *".into(),
        _ if secs % 60 == 0 && minutes < 60 && 60 % minutes == 0 => format!("*/{minutes} * * * *"),
        3600 => "0 * * * *".into(),
        _ if secs % 3600 == 0 && hours < 24 && 24 % hours == 0 => format!("0 */{hours} * * *"),
        86_400 => "0 0 * * *".into(),
        604_800 => "0 0 * * 0".into(),
        _ => return None,
    })
}

/// A sensor that requests a run of `job` every `secs` seconds: the interval schedule of a
/// pipeline whose period no cron has (10 s, 90 minutes, 2 days): `(name, statement)`.
fn interval_sensor(p: &Pipeline, job: &str, secs: i64, names: &mut Names) -> (String, String) {
    let var = unique(
        &mut names.taken,
        &format!("{}_every_{secs}s", identifier(&p.id)),
    );
    let kw = vec![
        Expr::kw("job", Expr::raw(job.to_string())),
        Expr::kw("minimum_interval_seconds", Expr::raw(secs.to_string())),
        Expr::kw(
            "default_status",
            Expr::raw("dg.DefaultSensorStatus.RUNNING"),
        ),
    ];
    let text = format!(
        "{}\ndef {var}():\n    return dg.RunRequest()",
        python::decorator("dg.sensor", kw)
    );
    (var, text)
}

/// The schedule of a job: `(name, statement)`.
#[allow(clippy::too_many_arguments)]
fn schedule(
    p: &Pipeline,
    s: &crate::ir::Schedule,
    job: &str,
    partitions: Option<&str>,
    run_config: Option<&Expr>,
    names: &mut Names,
    ledger: &mut Ledger,
    table: &Translations,
) -> Option<(String, String)> {
    let var = unique(&mut names.taken, &format!("{}_schedule", identifier(&p.id)));
    let cron = match s.kind {
        ScheduleKind::Cron | ScheduleKind::Preset => s.cron()?,
        // An interval no cron has is an interval sensor (see `interval_sensor`).
        ScheduleKind::Interval => interval_cron(interval_seconds(s)?)?,
        _ => return None,
    };
    let mut kw = vec![
        Expr::kw("job", Expr::raw(job.to_string())),
        Expr::kw("cron_schedule", Expr::str(&cron)),
    ];
    if let Some(tz) = &s.timezone {
        kw.push(Expr::kw("execution_timezone", Expr::str(tz)));
    }
    // Airflow DAGs and Prefect deployment schedules run once deployed; Dagster's stop by default.
    let running = p.framework != Some(Framework::Dagster);
    if running {
        kw.push(Expr::kw(
            "default_status",
            Expr::raw("dg.DefaultScheduleStatus.RUNNING"),
        ));
    }
    let parts = p
        .partitions
        .as_ref()
        .or_else(|| p.nodes.iter().find_map(|n| n.partitions.as_ref()));
    let time_partitioned = partitions.is_some()
        && matches!(
            parts,
            Some(Partitions::Time { .. }) | Some(Partitions::Parameter { .. }) | None
        );
    if let Some(defn) = partitions.filter(|_| time_partitioned && !cadence_fits(parts, &cron)) {
        // The cron is not the partition cadence: a schedule function picks the partition of its tick.
        ledger.consume_as(
            table,
            crate::report::schedule_id(s.kind),
            &p.id,
            p.span,
            Anchor::head(&var, "cron_schedule="),
            Fidelity::Exact,
            format!(
                "`{cron}` is not the partition cadence: a schedule function requests the last partition at each tick"
            ),
        );
        let decorator = python::decorator("dg.schedule", kw);
        let lookup = Expr::call(
            &format!("{defn}.get_last_partition_key"),
            vec![Expr::kw(
                "current_time",
                Expr::raw("context.scheduled_execution_time"),
            )],
        );
        let text = format!(
            "{decorator}\ndef {var}(context: dg.ScheduleEvaluationContext):\n    key = {}\n    return dg.RunRequest(run_key=key, partition_key=key)",
            lookup.format_lead(4, 10, 0),
        );
        return Some((var, text));
    }
    let call = if time_partitioned {
        // Time-partitioned jobs are scheduled by the partition cadence; only the time of day is set.
        let mut args = vec![Expr::raw(job.to_string())];
        let fields: Vec<&str> = cron.split_whitespace().collect();
        let numeric = |f: &str| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit());
        if let [minute, hour, dom, _, dow] = fields.as_slice() {
            for (name, field) in [
                ("minute_of_hour", minute),
                ("hour_of_day", hour),
                ("day_of_month", dom),
                ("day_of_week", dow),
            ] {
                // A cron field may have leading zeros (`07`); a Python int literal may not.
                if numeric(field)
                    && let Ok(n) = field.parse::<u32>()
                {
                    args.push(Expr::kw(name, Expr::raw(n.to_string())));
                }
            }
        }
        if running {
            args.push(Expr::kw(
                "default_status",
                Expr::raw("dg.DefaultScheduleStatus.RUNNING"),
            ));
        }
        Expr::call("dg.build_schedule_from_partitioned_job", args)
    } else if partitions.is_some() {
        Expr::call(
            "dg.build_schedule_from_partitioned_job",
            kw.into_iter()
                .map(|k| match k {
                    Expr::Keyword(name, v) if name == "job" => *v,
                    other => other,
                })
                .collect(),
        )
    } else {
        if let Some(rc) = run_config {
            kw.push(Expr::kw("run_config", rc.clone()));
        }
        // A job's second schedule needs a name of its own (the default is the job's).
        if !p.schedule.as_ref().is_some_and(|own| std::ptr::eq(own, s)) {
            kw.insert(0, Expr::kw("name", Expr::str(&var)));
        }
        Expr::call("dg.ScheduleDefinition", kw)
    };
    Some((
        var.clone(),
        format!("{var} = {}", call.format_lead(0, var.len() + 3, 0)),
    ))
}

/// True when `build_schedule_from_partitioned_job` can express `cron`: its fixed fields are those
/// the partition cadence leaves free (minute of an hourly cadence; minute and hour of a daily one…).
fn cadence_fits(parts: Option<&Partitions>, cron: &str) -> bool {
    let granularity = match parts {
        Some(Partitions::Time { granularity, .. }) => granularity.as_str(),
        _ => "daily",
    };
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = fields.as_slice() else {
        return false;
    };
    let numeric = |f: &str| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit());
    let any = |f: &str| f == "*";
    match granularity {
        "hourly" => numeric(minute) && any(hour) && any(dom) && any(month) && any(dow),
        "daily" => numeric(minute) && numeric(hour) && any(dom) && any(month) && any(dow),
        "weekly" => numeric(minute) && numeric(hour) && any(dom) && any(month) && numeric(dow),
        "monthly" => numeric(minute) && numeric(hour) && numeric(dom) && any(month) && any(dow),
        _ => false,
    }
}

/// Module-level statements as one block: a function (a schedule) is set off by two blank lines.
fn blocks(lines: &[String]) -> Vec<String> {
    let is_def = |l: &str| l.starts_with('@') || l.starts_with("def ") || l.starts_with("class ");
    let mut out = String::new();
    let mut prev_def = false;
    for l in lines {
        if !out.is_empty() {
            out.push_str(if prev_def || is_def(l) {
                "\n\n\n"
            } else {
                "\n"
            });
        }
        out.push_str(l);
        prev_def = is_def(l);
    }
    if out.is_empty() {
        Vec::new()
    } else {
        vec![out]
    }
}

/// `name = dg.AssetSpec(key, ...)` for an external asset.
fn asset_spec(step: &Step) -> String {
    let n = step.node;
    let key = if n.id.contains('/') {
        Expr::call(
            "dg.AssetKey",
            vec![Expr::List(n.id.split('/').map(Expr::str).collect())],
        )
    } else {
        Expr::str(&n.id)
    };
    let mut args = vec![key];
    if let Some(g) = n
        .group
        .as_ref()
        .filter(|g| !g.is_empty() && *g != "default")
    {
        args.push(Expr::kw("group_name", Expr::str(g)));
    }
    if let Some(d) = &n.description {
        args.push(Expr::kw(
            "description",
            Expr::str(d.lines().next().unwrap_or("")),
        ));
    }
    let var = &step.func;
    format!(
        "{var} = {}",
        Expr::call("dg.AssetSpec", args).format_lead(0, var.len() + 3, 0)
    )
}

/// A Dagster sensor of the source, re-targeted at the job it triggers (its body is Dagster code).
fn sensor(
    t: &crate::ir::SensorTrigger,
    job: &str,
    from: Framework,
    names: &mut Names,
) -> Option<String> {
    let c = t.callable.as_ref().filter(|_| from == Framework::Dagster)?;
    let name = identifier(&t.name);
    names.taken.entry(name.clone()).or_insert(1);
    let mut kw = Vec::new();
    let decorator = if t.kind == "asset_sensor" {
        let key = t.asset.as_deref()?;
        let key = if key.contains('/') {
            Expr::List(key.split('/').map(Expr::str).collect())
        } else {
            Expr::str(key)
        };
        kw.push(Expr::kw("asset_key", Expr::call("dg.AssetKey", vec![key])));
        "dg.asset_sensor"
    } else if t.kind == "sensor" {
        "dg.sensor"
    } else {
        return None;
    };
    kw.push(Expr::kw("job", Expr::raw(job.to_string())));
    if let Some(i) = t.interval {
        kw.push(Expr::kw("minimum_interval_seconds", shared::seconds(i)));
    }
    let params: Vec<String> = c
        .params
        .iter()
        .map(|p| match &p.annotation {
            Some(a) => format!("{}: {a}", p.name),
            None => p.name.clone(),
        })
        .collect();
    Some(format!(
        "{}\n{}def {name}{}:\n{}",
        python::decorator(decorator, kw),
        if c.is_async { "async " } else { "" },
        shared::signature(&format!("def {name}"), &params, ""),
        python::indent_body(&c.body, 4).trim_end()
    ))
}

/// The graphs and job function of a Dagster op job as written, and the job function's name.
fn op_composition(p: &Pipeline, from: Framework) -> Option<(Vec<String>, String)> {
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

/// An op function with its decorators as written.
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

/// The assets of a pipeline that take its run config class, and the fields it has.
#[derive(Default)]
struct ConfiguredAssets {
    /// Function (op) names of the assets that take the config.
    functions: Vec<String>,
    /// The config class's fields.
    fields: Vec<String>,
    /// The parameter that is the partition key, if any.
    partition: Option<String>,
}

impl ConfiguredAssets {
    /// The assets of `plan` written here that read the pipeline's params.
    fn new(plan: &Plan) -> ConfiguredAssets {
        let p = plan.pipeline;
        let functions = plan
            .steps
            .iter()
            .filter(|s| s.defines && reads_params(plan, s))
            .map(|s| s.func.clone())
            .collect();
        let fields = p
            .params
            .iter()
            .filter(|x| p.partition_parameter() != Some(x.name.as_str()))
            .map(|x| x.name.clone())
            .collect();
        let partition = p.partition_parameter().map(str::to_string);
        ConfiguredAssets {
            functions,
            fields,
            partition,
        }
    }

    /// `{"ops": {asset: {"config": {...}}}}` for the given parameters the config has, if any.
    fn run_config(&self, parameters: &BTreeMap<String, Value>) -> Option<Expr> {
        let values: Vec<(Expr, Expr)> = parameters
            .iter()
            .filter(|(k, _)| self.fields.contains(k))
            .map(|(k, v)| (Expr::str(k), python::value(v)))
            .collect();
        if values.is_empty() || self.functions.is_empty() {
            return None;
        }
        let ops = self
            .functions
            .iter()
            .map(|f| {
                let config = Expr::Dict(vec![(Expr::str("config"), Expr::Dict(values.clone()))]);
                (Expr::str(f), config)
            })
            .collect();
        Some(Expr::Dict(vec![(Expr::str("ops"), Expr::Dict(ops))]))
    }

    /// The parameters of `given` no asset reads (the partition key is read: see `partition`).
    fn unread(&self, given: &BTreeMap<String, Value>) -> Vec<String> {
        given
            .keys()
            .filter(|k| self.partition.as_ref() != Some(*k))
            .filter(|k| self.functions.is_empty() || !self.fields.contains(k))
            .cloned()
            .collect()
    }
}

/// Where a job's schedule and sensors go: their names for `Definitions`, their statements.
struct Triggers<'a> {
    schedules: &'a mut Vec<String>,
    sensors: &'a mut Vec<String>,
    statements: &'a mut Vec<String>,
    /// The run config of the schedule's runs (a Prefect schedule's parameters).
    run_config: Option<Expr>,
}

impl Triggers<'_> {
    /// Writes the further schedules of a Prefect pipeline's deployments as ScheduleDefinitions of
    /// its job, and each schedule's run parameters as the run config of the assets that read them.
    #[allow(clippy::too_many_arguments)]
    fn add_deployment_schedules(
        self,
        p: &Pipeline,
        job: &str,
        partitions: Option<&str>,
        configured: &ConfiguredAssets,
        names: &mut Names,
        ledger: &mut Ledger,
        table: &Translations,
    ) {
        let main_name = self.schedules.last().cloned();
        for d in &p.deployments {
            ledger.consume_as(
                table,
                "deployment",
                &d.name,
                d.span,
                Anchor::statement("defs = ", "dg.Definitions("),
                Fidelity::Approximate,
                "the module's Definitions (a code location), with a schedule per deployment schedule"
                    .into(),
            );
        }
        let at_job = Anchor::statement(&format!("{job} = "), "dg.define_asset_job(");
        for ds in p.deployment_schedules() {
            let what = shared::schedule_text(ds.schedule);
            let subject = ds.subject();
            let span = ds.deployment.span;
            // A row of this schedule.
            let row = |ledger: &mut Ledger, construct: &str, at: Anchor, fidelity, note: String| {
                ledger.consume_as(table, construct, &subject, span, at, fidelity, note);
            };
            let run_config = configured.run_config(&ds.parameters);
            let written = if ds.main {
                main_name.clone().filter(|_| run_config.is_some())
            } else {
                let made = if partitions.is_some() {
                    Err(
                        "the job is partitioned, so add a schedule that picks the partition of each tick by hand",
                    )
                } else {
                    schedule(
                        p,
                        ds.schedule,
                        job,
                        None,
                        run_config.as_ref(),
                        names,
                        ledger,
                        table,
                    )
                    .ok_or("no cron fires at that cadence, so add a sensor for it by hand")
                };
                match made {
                    Ok((name, text)) => {
                        ledger.consume(
                            table,
                            "schedule.additional",
                            &subject,
                            span,
                            Anchor::statement(&format!("{name} = "), "cron_schedule="),
                        );
                        self.schedules.push(name.clone());
                        self.statements.push(text);
                        Some(name)
                    }
                    Err(why) => {
                        row(
                            ledger,
                            "schedule.additional",
                            at_job.clone(),
                            Fidelity::Redesign,
                            format!(
                                "`{what}` of deployment `{}` is not written: {why}",
                                ds.deployment.name
                            ),
                        );
                        None
                    }
                }
            };
            if ds.parameters.is_empty() {
                continue;
            }
            // The partition parameter is the partition key: the schedule picks it per tick.
            if let Some(key) = configured
                .partition
                .as_ref()
                .and_then(|k| ds.parameters.get(k).map(|v| (k, v)))
            {
                row(
                    ledger,
                    "schedule.parameters",
                    at_job.clone(),
                    Fidelity::Approximate,
                    format!(
                        "`{}` is the partition key: the runs of `{what}` take each tick's partition, not {}={}",
                        key.0,
                        key.0,
                        python::value(key.1).flat()
                    ),
                );
                continue;
            }
            let unread = configured.unread(&ds.parameters);
            match written.filter(|_| run_config.is_some()) {
                Some(name) if unread.is_empty() => {
                    ledger.consume(
                        table,
                        "schedule.parameters",
                        &subject,
                        span,
                        Anchor::statement(&format!("{name} = "), "run_config="),
                    );
                }
                Some(name) => {
                    row(
                        ledger,
                        "schedule.parameters",
                        Anchor::statement(&format!("{name} = "), "run_config="),
                        Fidelity::Approximate,
                        format!(
                            "the run config of the assets that read them; no asset reads {}",
                            unread.join(", ")
                        ),
                    );
                }
                None if !ds.main => {
                    row(
                        ledger,
                        "schedule.parameters",
                        at_job.clone(),
                        Fidelity::Redesign,
                        format!(
                            "the runs of `{what}` take {}: that schedule is not written (see its row)",
                            shared::parameters_text(&ds.parameters)
                        ),
                    );
                }
                None if unread.len() == ds.parameters.len() => {
                    row(
                        ledger,
                        "schedule.parameters",
                        at_job.clone(),
                        Fidelity::Approximate,
                        format!(
                            "no asset reads {}: the runs of `{what}` need no run config",
                            unread.join(", ")
                        ),
                    );
                }
                None => {
                    row(
                        ledger,
                        "schedule.parameters",
                        at_job.clone(),
                        Fidelity::Redesign,
                        format!(
                            "the runs of `{what}` take {}, which this partitioned schedule does not pass: set them in its run config by hand",
                            shared::parameters_text(&ds.parameters)
                        ),
                    );
                }
            }
        }
    }

    /// Writes the schedule and the sensors of pipeline `p` for the job `job`.
    #[allow(clippy::too_many_arguments)]
    fn add(
        self,
        p: &Pipeline,
        job: &str,
        partitions: Option<&str>,
        from: Framework,
        names: &mut Names,
        ledger: &mut Ledger,
        table: &Translations,
    ) {
        let interval = p
            .schedule
            .as_ref()
            .filter(|s| s.kind == ScheduleKind::Interval)
            .and_then(interval_seconds)
            .filter(|&secs| interval_cron(secs).is_none());
        if let Some(secs) = interval {
            let (name, text) = interval_sensor(p, job, secs, names);
            let at = Anchor::head(&name, "minimum_interval_seconds=");
            ledger.consume_as(
                table,
                "schedule.interval",
                &p.id,
                p.span,
                at.clone(),
                Fidelity::Approximate,
                format!("no cron fires every {secs} s: a sensor requests a run at that minimum interval (the sensor daemon's tick sets the precision)"),
            );
            consume_no_catchup(ledger, table, p, at, "the sensor requests only new runs");
            self.sensors.push(name);
            self.statements.push(text);
        } else if let Some((name, text)) = p.schedule.as_ref().and_then(|s| {
            schedule(
                p,
                s,
                job,
                partitions,
                self.run_config.as_ref(),
                names,
                ledger,
                table,
            )
        }) {
            let at = |needle: &str| {
                if text.starts_with('@') {
                    Anchor::head(&name, needle)
                } else {
                    Anchor::statement(&format!("{name} = "), needle)
                }
            };
            // A time-partitioned job's schedule is its partition cadence at the cron's time.
            let by_partitions = !text.contains("cron_schedule=");
            let cron = if by_partitions {
                "build_schedule_from_partitioned_job("
            } else {
                "cron_schedule="
            };
            if let Some(s) = &p.schedule {
                let id = crate::report::schedule_id(s.kind);
                if by_partitions {
                    ledger.consume_as(
                        table,
                        id,
                        &p.id,
                        p.span,
                        at(cron),
                        Fidelity::Exact,
                        "the partition cadence at the cron's minute and hour".into(),
                    );
                } else {
                    ledger.consume(table, id, &p.id, p.span, at(cron));
                }
                match &s.timezone {
                    Some(_) if text.contains("execution_timezone=") => {
                        let tz = at("execution_timezone=");
                        ledger.consume(table, "schedule.timezone", &p.id, p.span, tz);
                    }
                    // The partitioned schedule keeps the partitions' timezone, UTC by default.
                    Some(tz) if tz == "UTC" || tz == "Etc/UTC" => {
                        ledger.consume_as(
                            table,
                            "schedule.timezone",
                            &p.id,
                            p.span,
                            at(cron),
                            Fidelity::Exact,
                            "UTC, the timezone of the partitions the schedule follows".into(),
                        );
                    }
                    _ => {}
                }
                let target = super::Target {
                    framework: Framework::Dagster,
                    version: 1,
                };
                if shared::traps(p, target).contains(&"trap.logical_date") {
                    ledger.consume(table, "trap.logical_date", &p.id, p.span, at(cron));
                }
            }
            // A Dagster schedule runs only its own ticks: no catchup, as the source asks.
            consume_no_catchup(
                ledger,
                table,
                p,
                at(cron),
                "the schedule runs only its own ticks",
            );
            self.schedules.push(name);
            self.statements.push(text);
        } else {
            let at = Anchor::at(Scope::Module).then(format!("{job} = "));
            if let Some(s) = p
                .schedule
                .as_ref()
                .filter(|s| s.kind == ScheduleKind::Manual)
            {
                // A job without a schedule runs when it is launched, as the source's did.
                let id = crate::report::schedule_id(s.kind);
                ledger.consume(table, id, &p.id, p.span, at.clone());
            }
            consume_no_catchup(
                ledger,
                table,
                p,
                at,
                "the job runs only when it is launched",
            );
        }
        for t in &p.sensors {
            if let Some(text) = sensor(t, job, from, names) {
                let at = Anchor::at(Scope::Module).then(format!("def {}(", identifier(&t.name)));
                ledger.consume(table, "sensor_trigger", &t.name, t.span, at);
                self.sensors.push(identifier(&t.name));
                self.statements.push(text);
            }
        }
    }
}

/// `catchup=False` in the source: exact where `at` is, since what Dagster runs (`how`) has no
/// catchup either.
fn consume_no_catchup(
    ledger: &mut Ledger,
    table: &Translations,
    p: &Pipeline,
    at: Anchor,
    how: &str,
) {
    if p.catchup == Some(false) {
        ledger.consume_as(
            table,
            "catchup",
            &p.id,
            p.span,
            at,
            Fidelity::Exact,
            format!("no catchup, as in the source: {how}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{builtin_annotation, config_field, interval_cron};

    #[test]
    fn flow_parameters_become_config_fields_unless_pydantic_reserves_the_name() {
        assert!(config_field("stores") && config_field("batch_id"));
        for taken in ["schema", "json", "model_name", "_private"] {
            assert!(!config_field(taken), "{taken}");
        }
        assert!(builtin_annotation("list[str]") && builtin_annotation("dict[str, int] | None"));
        assert!(!builtin_annotation("pd.DataFrame") && !builtin_annotation("Any"));
    }

    #[test]
    fn an_interval_is_a_cron_only_when_the_cron_fires_at_exactly_that_period() {
        assert_eq!(interval_cron(60).as_deref(), Some("* * * * *"));
        assert_eq!(interval_cron(900).as_deref(), Some("*/15 * * * *"));
        assert_eq!(interval_cron(3600).as_deref(), Some("0 * * * *"));
        assert_eq!(interval_cron(21_600).as_deref(), Some("0 */6 * * *"));
        assert_eq!(interval_cron(86_400).as_deref(), Some("0 0 * * *"));
        assert_eq!(interval_cron(604_800).as_deref(), Some("0 0 * * 0"));
        // `*/7` restarts at each hour, `0 */5` at each day, `*/2` days at each month; below a
        // minute or off the minute no cron fires at all: these become interval sensors.
        for secs in [10, 90, 420, 5_400, 18_000, 172_800, 1_209_600] {
            assert_eq!(interval_cron(secs), None, "{secs} s");
        }
    }
}
