//! The Airflow 3 writer (and the Airflow 2 profile): module-level `@task` functions wired in
//! one `@dag` function per pipeline; classic operators are kept as operators.

use std::collections::BTreeMap;

use serde::Serialize;

use super::module::{FunctionCtx, Imports, PipelineCtx};
use super::plan::{Input, Names, Plan, Source, Step, unique};
use super::rewrite::rewrite;
use super::{Target, Writer, shared};
use crate::ir::{
    AssetRef, Framework, GroupKind, NodeKind, Partitions, Pipeline, Policy, ScheduleKind,
    SourceFile, Value,
};
use crate::python::print::{self as python, Expr, identifier};
use crate::report::{self, Anchor, Fidelity, Ledger, Scope, Translations};

#[derive(Serialize)]
struct ModuleCtx {
    header: String,
    imports: Vec<String>,
    support: String,
    gap: &'static str,
    helpers: Vec<&'static str>,
    assets: Vec<String>,
    tasks: Vec<FunctionCtx>,
    dags: Vec<PipelineCtx>,
}

/// Writes an Airflow module.
pub struct AirflowWriter;

/// Where the SDK names come from in a profile.
fn sdk(target: Target) -> &'static str {
    if target.version >= 3 {
        "airflow.sdk"
    } else {
        "airflow.decorators"
    }
}

impl Writer for AirflowWriter {
    fn write(
        &self,
        file: &SourceFile,
        target: Target,
        table: &Translations,
    ) -> Result<(String, Vec<Ledger>), String> {
        let mut imports = Imports::default();
        imports.name(sdk(target), "dag");
        let mut helpers: Vec<&'static str> = Vec::new();
        let mut tasks = Vec::new();
        let mut dags = Vec::new();
        let mut ledgers = Vec::new();
        let mut names = Names::for_module(Framework::Airflow, file);
        let from = file.framework.unwrap_or(Framework::Airflow);
        // The decorator policy of each task function, to see what a later call overrides.
        let mut decorated: BTreeMap<String, Vec<Expr>> = BTreeMap::new();
        let mut decorated_rule: BTreeMap<String, Option<String>> = BTreeMap::new();
        let config = super::resources::config_classes(&file.support);
        let assets = AssetConsts::new(file);
        for p in &file.pipelines {
            let mut ledger = shared::ledger_for(file, p, target);
            let dag_name = unique(&mut names.taken, &identifier(&p.id));
            let mut plan = Plan::new(p, &mut names);
            plan.bind_run_loggers(target.framework);
            // A Prefect flow's calls under conditions: short-circuit gates, except handlers.
            let conditions = if from == Framework::Prefect {
                let module: std::collections::HashSet<String> = file
                    .support
                    .iter()
                    .flat_map(|i| i.binds.iter().cloned())
                    .collect();
                super::guards::prefect_conditions(p, &module)
            } else {
                super::guards::Conditions::default()
            };
            for &k in &conditions.tolerant {
                if let Some(step) = plan.steps.iter_mut().find(|s| s.node.id == p.nodes[k].id) {
                    step.trigger_rule = Some("none_failed".into());
                }
            }
            for &(k, rule) in &conditions.rules {
                let n = &p.nodes[k];
                if let Some(step) = plan.steps.iter_mut().find(|s| s.node.id == n.id) {
                    step.trigger_rule = Some(rule.into());
                    // In the task's decorator, or in the call's override(…) for a reused task.
                    let at = if step.defines {
                        Anchor::head(&step.func, "trigger_rule=")
                    } else {
                        Anchor::body(&dag_name, "trigger_rule=").then(python::string(rule))
                    };
                    let note = format!(
                        "trigger_rule=\"{rule}\": the flow's `{}` tests the states of every run the step waits for",
                        n.condition.as_deref().unwrap_or("")
                    );
                    ledger.consume_as(
                        table,
                        "node.condition",
                        &n.id,
                        n.span,
                        at.clone(),
                        Fidelity::Approximate,
                        note,
                    );
                    // The tested runs' `return_state=True`: their state is what the rule reads.
                    for id in n.condition_reads.values() {
                        if let Some(t) = p.nodes.iter().find(|x| &x.id == id)
                            && t.extra.contains_key("return_state")
                        {
                            ledger.consume_as(
                                table,
                                "extra",
                                &format!("{id}.return_state"),
                                t.span,
                                at.clone(),
                                Fidelity::Exact,
                                format!(
                                    "the run's state, which the trigger rule of {} reads",
                                    n.id
                                ),
                            );
                        }
                    }
                    if n.trigger_rule.is_some() {
                        ledger.consume_as(
                            table,
                            "trigger_rule",
                            &n.id,
                            n.span,
                            at,
                            Fidelity::Approximate,
                            format!("written as {rule}, which the state test amounts to"),
                        );
                    }
                }
            }
            let mut body = Body::default();
            let written = |g: &crate::ir::Group| {
                p.nodes
                    .iter()
                    .any(|n| group_chain(p, n.group.as_deref()).contains(&g.id))
            };
            for g in p.groups.iter().filter(|g| written(g)) {
                if matches!(g.kind, GroupKind::TaskGroup | GroupKind::SubFlow) {
                    let parent = g.parent.as_deref().filter(|x| {
                        p.groups.iter().any(|y| {
                            y.id == *x
                                && matches!(y.kind, GroupKind::TaskGroup | GroupKind::SubFlow)
                        })
                    });
                    let at = Anchor::body(&dag_name, "TaskGroup(").then(format!(
                        "group_id={}",
                        python::string(label_in(parent, &g.id))
                    ));
                    let id = if g.kind == GroupKind::TaskGroup {
                        "group.task_group"
                    } else {
                        "group.sub_flow"
                    };
                    ledger.consume(table, id, &g.id, g.span, at);
                }
                let mut scratch = Ledger::new(&file.path, &p.id, "airflow");
                let kwargs = policy_kwargs(
                    from,
                    &g.policy,
                    &g.id,
                    g.span,
                    &mut scratch,
                    table,
                    &mut imports,
                    &Anchor::at(Scope::Head(String::new())),
                );
                let items = kwargs
                    .into_iter()
                    .filter_map(|e| match e {
                        Expr::Keyword(k, v) => Some((Expr::str(&k), *v)),
                        _ => None,
                    })
                    .collect();
                body.group_defaults.insert(g.id.clone(), items);
            }
            // A task that reads an optional output of a Dagster op skips when it is missing.
            let optional_readers = crate::ir::optional::readers(p);
            let preludes: Vec<Vec<String>> = plan
                .steps
                .iter()
                .map(|s| optional_skips(&plan, s, target, &mut imports))
                .collect();
            for (s, prelude) in plan.steps.iter_mut().zip(preludes) {
                s.body_prelude = prelude;
            }
            for step in &plan.steps {
                let label = task_label(p, step);
                if optional_readers.contains(step.node.id.as_str()) {
                    if step.defines && !step.body_prelude.is_empty() {
                        ledger.consume(
                            table,
                            "node.optional_output",
                            &step.node.id,
                            step.node.span,
                            Anchor::body(&step.func, "AirflowSkipException("),
                        );
                    } else {
                        ledger.lose(
                            table,
                            "node.optional_output",
                            &step.node.id,
                            step.node.span,
                            "the task runs whether or not the optional outputs it reads were produced (its function is another call's): skip it by hand".into(),
                        );
                    }
                }
                // Where the step is: its task function, or its call or operator in the dag body.
                let node_at =
                    if step.node.operator.is_some() || step.node.kind == NodeKind::SubPipeline {
                        Anchor::body(&dag_name, format!("task_id={}", python::string(&label)))
                    } else if step.defines {
                        Anchor::at(Scope::Head(step.func.clone()))
                    } else if label != step.func {
                        Anchor::body(&dag_name, format!("task_id={}", python::string(&label)))
                    } else {
                        Anchor::body(&dag_name, format!("{}(", step.func))
                    };
                if step.node.kind != NodeKind::ExternalAsset
                    && (step.node.callable.is_some()
                        || step.node.operator.is_some()
                        || step.node.kind == NodeKind::SubPipeline)
                {
                    if step.defines || step.node.operator.is_some() {
                        shared::consume_node(&mut ledger, table, step.node, &node_at);
                    }
                    if step.node.mapping.is_some() {
                        let at = Anchor::body(
                            &dag_name,
                            format!(
                                "{}.",
                                if step.node.operator.is_some() {
                                    step.node.operator.as_ref().map_or("", |o| o.class.as_str())
                                } else {
                                    step.func.as_str()
                                }
                            ),
                        )
                        .then(".expand");
                        match step.inputs.iter().find_map(|i| mapped_param(p, i)) {
                            Some(prm) => ledger.consume_as(
                                table,
                                "mapping",
                                &step.node.id,
                                step.node.span,
                                at,
                                Fidelity::Approximate,
                                format!("mapped over the default of the `{}` parameter: Airflow cannot map over a DAG param, so a run's own value is not used", prm.name),
                            ),
                            None => ledger.consume(table, "mapping", &step.node.id, step.node.span, at),
                        };
                    }
                }
                if let (Some(c), Some(_)) = (&step.node.callable, &step.node.operator) {
                    // A python_callable stays the operator's callable, unchanged.
                    for api in report::body_apis(&c.body) {
                        let needle = shared::use_needles(api)
                            .iter()
                            .find(|w| c.body.contains(**w))
                            .copied()
                            .unwrap_or(api);
                        ledger.consume_as(
                            table,
                            api,
                            &step.node.id,
                            c.body_span,
                            Anchor::body(&step.func, needle),
                            Fidelity::Exact,
                            "kept in the python_callable".into(),
                        );
                    }
                }
                if step.node.callable.is_some() && step.node.operator.is_none() {
                    if step.defines {
                        tasks.push(task_def(
                            step,
                            from,
                            target,
                            &assets,
                            (Some(p), &config),
                            &mut imports,
                            &mut helpers,
                            &mut ledger,
                            table,
                        ));
                    } else {
                        shared::consume_reused(&mut ledger, table, step.node, &step.func, &node_at);
                    }
                }
                // What a reused task changes of its function's policy (`override(retries=…)`).
                let mut scratch = Ledger::new(&file.path, &p.id, "airflow");
                let own = policy_kwargs(
                    from,
                    &step.node.policy,
                    &step.node.id,
                    step.node.span,
                    &mut scratch,
                    table,
                    &mut imports,
                    &Anchor::at(Scope::Head(String::new())),
                );
                let overrides: Vec<Expr> = if step.defines {
                    decorated.insert(step.func.clone(), own);
                    decorated_rule.insert(step.func.clone(), step.trigger_rule.clone());
                    Vec::new()
                } else {
                    let base = decorated.get(&step.func).cloned().unwrap_or_default();
                    let mut o: Vec<Expr> =
                        own.iter().filter(|e| !base.contains(e)).cloned().collect();
                    if base
                        .iter()
                        .any(|e| matches!(e, Expr::Keyword(k, _) if k == "retries"))
                        && !own
                            .iter()
                            .any(|e| matches!(e, Expr::Keyword(k, _) if k == "retries"))
                    {
                        o.push(Expr::kw("retries", Expr::raw("0")));
                    }
                    // A policy the call overrides is written in `override(…)`, not in the head.
                    for e in &o {
                        let Expr::Keyword(k, _) = e else { continue };
                        let field = match k.as_str() {
                            "retries" => "policy.retries",
                            "retry_delay" => "policy.retry_delay",
                            "execution_timeout" => "policy.timeout",
                            "pool" => "policy.pool",
                            "owner" => "policy.owner",
                            _ => continue,
                        };
                        let at = node_at.clone().then(format!("{k}="));
                        ledger.repoint(field, &step.node.id, at);
                    }
                    // A call's own trigger rule (an except handler's one_failed).
                    let base_rule = decorated_rule.get(&step.func).cloned().flatten();
                    if step.trigger_rule != base_rule {
                        let rule = step.trigger_rule.as_deref().unwrap_or("all_success");
                        o.push(Expr::kw("trigger_rule", Expr::str(rule)));
                        if step.node.trigger_rule.is_some() {
                            let at = node_at.clone().then("trigger_rule=");
                            ledger.consume(
                                table,
                                "trigger_rule",
                                &step.node.id,
                                step.node.span,
                                at,
                            );
                        }
                    }
                    o
                };
                let stmt = step_statement(
                    &dag_name,
                    file,
                    p,
                    &plan,
                    step,
                    &overrides,
                    target,
                    &assets,
                    &mut imports,
                    &mut ledger,
                    table,
                );
                if stmt.is_some() && !group_chain(p, step.node.group.as_deref()).is_empty() {
                    imports.name(sdk(target), "TaskGroup");
                }
                body.push(p, step, stmt);
            }
            let mut multi_checks = std::collections::BTreeSet::new();
            let mut check_fns: BTreeMap<String, String> = BTreeMap::new();
            for c in &p.checks {
                let function = shared::check_function(c, &mut multi_checks, &mut names.taken);
                if let (Some(cb), Some(fname)) = (&c.callable, function) {
                    check_fns.insert(shared::check_task_name(c).to_string(), fname.clone());
                    let rw = rewrite(&cb.body, from, Framework::Airflow);

                    for n in &rw.needs {
                        shared::need(&mut imports, &mut helpers, n);
                    }
                    let params: Vec<String> = cb
                        .params
                        .iter()
                        .filter(|x| x.name != "context")
                        .map(|x| x.name.clone())
                        .collect();
                    imports.name(sdk(target), "task");
                    tasks.push(FunctionCtx {
                        decorator: shared::runs_to_end(
                            "@task".into(),
                            &rw.body,
                            from,
                            Framework::Airflow,
                            &mut imports,
                            &mut helpers,
                        ),
                        name: fname.clone(),
                        signature: shared::signature(&format!("def {fname}"), &params, ""),
                        body: python::indent_body(&rw.body, 4).trim_end().to_string(),
                        is_async: false,
                    });
                    let target_var = plan
                        .steps
                        .iter()
                        .find(|s| s.node.id == c.target)
                        .map(|s| s.var.clone());
                    let args: Vec<Expr> = params
                        .iter()
                        .map(|_| Expr::raw(target_var.clone().unwrap_or_else(|| "None".into())))
                        .collect();
                    // A check that takes no value still runs after the assets it checks.
                    let assigned: std::collections::HashSet<&str> = body
                        .lines
                        .iter()
                        .filter_map(|l| match l {
                            Line::Assign { var, .. } => Some(var.as_str()),
                            _ => None,
                        })
                        .collect();
                    let mut targets: Vec<String> = Vec::new();
                    if params.is_empty() {
                        for id in shared::checked_steps(p, c) {
                            if let Some(s) = plan.steps.iter().find(|s| s.node.id == id)
                                && assigned.contains(s.var.as_str())
                                && !targets.contains(&s.var)
                            {
                                targets.push(s.var.clone());
                            }
                        }
                    }
                    let call = Expr::call(&fname, args);
                    if targets.is_empty() {
                        body.lines
                            .push(Line::Text(format!("    {}", call.format(4, 0))));
                    } else {
                        let var = unique(&mut names.taken, &format!("{fname}_out"));
                        body.lines.push(Line::Text(format!(
                            "    {var} = {}",
                            call.format_lead(4, var.len() + 3, 0)
                        )));
                        let left = if targets.len() == 1 {
                            targets[0].clone()
                        } else {
                            Expr::List(targets.iter().map(|t| Expr::raw(t.clone())).collect())
                                .format(4, 4 + var.len())
                        };
                        body.lines.push(Line::Text(format!("    {left} >> {var}")));
                    }
                }
                let written = check_fns.get(shared::check_task_name(c)).cloned();
                shared::consume_check(&mut ledger, table, c, written.as_deref());
            }
            // Each gate evaluates its condition in a short-circuit task upstream of the steps
            // it guards; handlers wait for their try body with one_failed.
            let var_of = |i: usize| {
                plan.steps
                    .iter()
                    .find(|s| s.node.id == p.nodes[i].id)
                    .map(|s| s.var.clone())
            };
            for gate in &conditions.gates {
                let guarded: Vec<String> = gate.nodes.iter().filter_map(|&i| var_of(i)).collect();
                let first = plan
                    .steps
                    .iter()
                    .find(|s| s.node.id == p.nodes[gate.nodes[0]].id)
                    .map_or("step", |s| s.func.as_str());
                let fname = unique(&mut names.taken, &format!("{first}_condition"));
                let mut params: Vec<String> = gate.reads.iter().map(|(n, _)| n.clone()).collect();
                params.extend(gate.params.iter().cloned());
                imports.name(sdk(target), "task");
                tasks.push(FunctionCtx {
                    decorator: "@task.short_circuit(ignore_downstream_trigger_rules=False)".into(),
                    name: fname.clone(),
                    signature: shared::signature(&format!("def {fname}"), &params, " -> bool"),
                    body: if gate.condition.starts_with("not ") {
                        format!("    return {}", gate.condition)
                    } else {
                        format!("    return bool({})", gate.condition)
                    },
                    is_async: false,
                });
                let mut args: Vec<Expr> = gate
                    .reads
                    .iter()
                    .filter_map(|(n, j)| var_of(*j).map(|v| Expr::kw(n, Expr::raw(v))))
                    .collect();
                args.extend(
                    gate.params
                        .iter()
                        .map(|n| Expr::kw(n, Expr::raw(n.clone()))),
                );
                let gate_var = format!("{fname}_out");
                body.lines.push(Line::Text(format!(
                    "    {gate_var} = {}",
                    Expr::call(&fname, args).format_lead(4, gate_var.len() + 3, 0)
                )));
                let right = if guarded.len() == 1 {
                    guarded[0].clone()
                } else {
                    Expr::List(guarded.iter().map(|v| Expr::raw(v.clone())).collect())
                        .format(4, 4 + gate_var.len())
                };
                body.lines
                    .push(Line::Text(format!("    {gate_var} >> {right}")));
                for &i in &gate.nodes {
                    let n = &p.nodes[i];
                    let at = Anchor::body(&dag_name, format!("{fname}("));
                    ledger.consume(table, "node.condition", &n.id, n.span, at);
                }
            }
            for &i in &conditions.handlers {
                let n = &p.nodes[i];
                let label = plan
                    .steps
                    .iter()
                    .find(|s| s.node.id == n.id)
                    .map(|s| task_label(p, s))
                    .unwrap_or_else(|| n.id.clone());
                let at = Anchor::body(&dag_name, format!("task_id={}", python::string(&label)))
                    .then("trigger_rule=");
                ledger.consume_as(
                    table,
                    "node.condition",
                    &n.id,
                    n.span,
                    at,
                    Fidelity::Approximate,
                    format!(
                        "trigger_rule one_failed after the try body's tasks: it runs when any of them fails, whatever the exception (the flow caught `{}`)",
                        n.condition.as_deref().unwrap_or("except").trim_start_matches("except ")
                    ),
                );
            }
            for (i, why) in &conditions.lost {
                let n = &p.nodes[*i];
                ledger.lose(table, "node.condition", &n.id, n.span, why.clone());
            }
            // Order-only dependencies are wired once every task exists.
            let mut order: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (i, s) in plan.steps.iter().enumerate() {
                for &a in s.after.iter().chain(&s.extra_upstreams) {
                    if plan.steps[a].node.kind != NodeKind::ExternalAsset
                        && s.node.kind != NodeKind::ExternalAsset
                    {
                        order.entry(i).or_default().push(a);
                    }
                }
            }
            for (down, ups) in order {
                let ups: Vec<Expr> = ups
                    .iter()
                    .map(|&u| Expr::raw(plan.steps[u].var.clone()))
                    .collect();
                let left = if ups.len() == 1 {
                    ups[0].flat()
                } else {
                    Expr::List(ups).format(4, 4 + plan.steps[down].var.len())
                };
                body.lines.push(Line::Text(format!(
                    "    {left} >> {}",
                    plan.steps[down].var
                )));
            }
            dags.push(PipelineCtx {
                decorator: dag_decorator(
                    p,
                    &dag_name,
                    target,
                    &assets,
                    &mut imports,
                    &mut ledger,
                    table,
                ),
                name: dag_name.clone(),
                signature: dag_signature(p, &dag_name, &mut ledger, table),
                statements: body.finish(),
                is_async: false,
            });
            ledger.finish(table);
            ledgers.push(ledger);
        }
        let mut emitted = String::new();
        for t in &tasks {
            emitted.push_str(&t.decorator);
            emitted.push_str(&t.signature);
            emitted.push_str(&t.body);
        }
        for d in &dags {
            emitted.push_str(&d.statements.join("\n"));
            emitted.push_str(&d.decorator);
        }
        let mut own: Vec<&str> = vec![
            "dag",
            "task",
            "TaskGroup",
            "Asset",
            "Param",
            "pendulum",
            "timedelta",
        ];
        own.extend(tasks.iter().map(|t| t.name.as_str()));
        own.extend(assets.list.iter().map(|(c, _)| c.as_str()));
        let support =
            super::module::support(file, &emitted, Framework::Airflow, &own, &mut imports);
        support.report_foreign(&mut ledgers, table);
        // A body rewritten to read the run context (`prefect.runtime` fields).
        if emitted.contains("get_current_context()") && !imports.binds("get_current_context") {
            imports.name(sdk(target), "get_current_context");
        }
        if emitted.contains("timedelta(") {
            imports.name("datetime", "timedelta");
        }
        let ctx = ModuleCtx {
            header: super::module::header(&file.path, &target.label()),
            imports: imports.lines(),
            gap: support.gap(),
            support: support.code,
            helpers,
            assets: assets.lines(),
            tasks,
            dags,
        };
        let text = super::templates::render("airflow/module.py.j2", &ctx)?;
        Ok((text, ledgers))
    }
}

/// One line (or statement) of a dag body, formatted once the names that are read are known.
enum Line {
    /// `with TaskGroup(...) as var:` (the `as` part dropped when `var` is never read).
    Group {
        indent: usize,
        call: Expr,
        var: String,
        reopen: bool,
    },
    /// `var = expr` (or `expr` when `var` is never read).
    Assign {
        indent: usize,
        var: String,
        expr: Expr,
    },
    /// A finished line.
    Text(String),
}

impl Line {
    fn flat(&self) -> String {
        match self {
            Line::Group {
                call, var, reopen, ..
            } => {
                if *reopen {
                    format!("with {var}:")
                } else {
                    format!("with {} as {var}:", call.flat())
                }
            }
            Line::Assign { var, expr, .. } => format!("{var} = {}", expr.flat()),
            Line::Text(t) => t.clone(),
        }
    }
}

/// The dag body with task-group blocks opened and closed as steps enter and leave groups.
#[derive(Default)]
struct Body {
    lines: Vec<Line>,
    open: Vec<String>,
    opened_before: Vec<String>,
    /// Each group's policy as `default_args` items (a sub-flow's retry boundary).
    group_defaults: BTreeMap<String, Vec<(Expr, Expr)>>,
}

impl Body {
    fn push(&mut self, p: &Pipeline, step: &Step, stmt: Option<Expr>) {
        let Some(stmt) = stmt else { return };
        let chain = group_chain(p, step.node.group.as_deref());
        // Close groups the step is not in.
        while let Some(top) = self.open.last() {
            if chain.contains(top) {
                break;
            }
            self.open.pop();
        }
        for g in &chain {
            if !self.open.contains(g) {
                let indent = 4 * (self.open.len() + 1);
                let var = format!("{}_group", identifier(g));
                let label = label_in(self.open.last().map(String::as_str), g);
                let mut args = vec![Expr::kw("group_id", Expr::str(label))];
                if let Some(def) = p.groups.iter().find(|x| &x.id == g) {
                    if let Some(d) = &def.description {
                        args.push(Expr::kw(
                            "tooltip",
                            Expr::str(d.lines().next().unwrap_or("")),
                        ));
                    }
                    if let Some(items) = self.group_defaults.get(g).filter(|d| !d.is_empty()) {
                        args.push(Expr::kw("default_args", Expr::Dict(items.clone())));
                    }
                }
                let reopen = self.opened_before.contains(g);
                self.lines.push(Line::Group {
                    indent,
                    call: Expr::call("TaskGroup", args),
                    var,
                    reopen,
                });
                if !reopen {
                    self.opened_before.push(g.clone());
                }
                self.open.push(g.clone());
            }
        }
        self.lines.push(Line::Assign {
            indent: 4 * (self.open.len() + 1),
            var: step.var.clone(),
            expr: stmt,
        });
    }

    /// The formatted lines: names nobody reads later lose their binding (ruff F841).
    fn finish(self) -> Vec<String> {
        let flat: Vec<String> = self.lines.iter().map(Line::flat).collect();
        // The last line each word is on (one pass, so a 100,000-task DAG stays linear).
        let mut last: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, l) in flat.iter().enumerate() {
            for w in l.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                last.insert(w, i);
            }
        }
        let read_later = |i: usize, name: &str| last.get(name).is_some_and(|&j| j > i);
        self.lines
            .iter()
            .enumerate()
            .map(|(i, line)| match line {
                Line::Group {
                    indent,
                    call,
                    var,
                    reopen,
                } => {
                    let pad = " ".repeat(*indent);
                    if *reopen {
                        format!("{pad}with {var}:")
                    } else if read_later(i, var) {
                        format!(
                            "{pad}with {} as {var}:",
                            call.format_lead(*indent, 5, var.len() + 5)
                        )
                    } else {
                        format!("{pad}with {}:", call.format_lead(*indent, 5, 1))
                    }
                }
                Line::Assign { indent, var, expr } => {
                    let pad = " ".repeat(*indent);
                    if read_later(i, var) {
                        format!(
                            "{pad}{var} = {}",
                            expr.format_lead(*indent, var.len() + 3, 0)
                        )
                    } else {
                        format!("{pad}{}", expr.format(*indent, 0))
                    }
                }
                Line::Text(t) => t.clone(),
            })
            .collect()
    }
}

/// The task-group ancestry of a group, outermost first.
fn group_chain(p: &Pipeline, group: Option<&str>) -> Vec<String> {
    let mut chain = Vec::new();
    let mut cur = group.map(str::to_string);
    while let Some(g) = cur {
        let Some(def) = p.groups.iter().find(|x| x.id == g) else {
            break;
        };
        // A Prefect sub-flow inlined into its caller is a task group too.
        if matches!(def.kind, GroupKind::TaskGroup | GroupKind::SubFlow) {
            chain.push(g.clone());
        }
        cur = def.parent.clone();
        if chain.len() > p.groups.len() {
            break;
        }
    }
    chain.reverse();
    chain
}

/// The id of a group or task relative to its parent group (`outer.inner` in `outer` → `inner`).
fn label_in<'a>(parent: Option<&str>, id: &'a str) -> &'a str {
    match parent {
        Some(p) => id
            .strip_prefix(p)
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(id),
        None => id,
    }
}

/// The task id a node gets inside its group.
fn task_label(p: &Pipeline, step: &Step) -> String {
    let chain = group_chain(p, step.node.group.as_deref());
    let label = match chain.last() {
        Some(g) => label_in(Some(g), &step.node.id).to_string(),
        None => step.node.id.clone(),
    };
    // Airflow task ids allow letters, digits, `-`, `.` and `_`: asset key paths lose their `/`.
    airflow_key(&label.replace('/', "__"))
}

/// A name as an Airflow key (dag or task id): letters, digits, `_`, `-` and `.` only (anything
/// else becomes `_`), at most 250 characters (a longer name keeps its first 240 and a hash of
/// the whole, so two long names stay apart). Airflow refuses any other key at load.
fn airflow_key(name: &str) -> String {
    let key: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if key.is_empty() {
        return "_".into();
    }
    if key.chars().count() <= 250 {
        return key;
    }
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let head: String = key.chars().take(240).collect();
    format!("{head}_{:08x}", hash as u32)
}

#[allow(clippy::too_many_arguments)]
fn task_def(
    step: &Step,
    from: Framework,
    target: Target,
    assets: &AssetConsts,
    module: (Option<&Pipeline>, &[String]),
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
) -> FunctionCtx {
    imports.name(sdk(target), "task");
    let node = step.node;
    let flavor = match (node.kind, node.flavor.as_deref()) {
        (
            _,
            Some(
                f @ ("bash"
                | "sensor"
                | "branch"
                | "short_circuit"
                | "virtualenv"
                | "external_python"
                | "branch_virtualenv"
                | "branch_external_python"),
            ),
        ) if from == Framework::Airflow => Some(f.to_string()),
        (NodeKind::Sensor, _) if from == Framework::Airflow => Some("sensor".into()),
        _ => None,
    };
    let at = Anchor::at(Scope::Head(step.func.clone()));
    let mut kwargs = policy_kwargs(
        from,
        &node.policy,
        &node.id,
        node.span,
        ledger,
        table,
        imports,
        &at,
    );
    if let Some(s) = &node.sensor
        && flavor.as_deref() == Some("sensor")
    {
        if let Some(m) = &s.mode {
            kwargs.push(Expr::kw("mode", Expr::str(m)));
        }
        if let Some(i) = s.poke_interval {
            kwargs.push(Expr::kw("poke_interval", shared::seconds(i)));
        }
        if let Some(t) = s.timeout {
            kwargs.push(Expr::kw("timeout", shared::seconds(t)));
        }
    }
    if let Some(p) = module.0
        && node.policy.backoff.is_some()
        && shared::traps(p, target).contains(&"trap.backoff_curve")
    {
        let at = at.clone().then("retry_exponential_backoff");
        ledger.consume(table, "trap.backoff_curve", &p.id, p.span, at);
    }
    if let Some(tr) = &step.trigger_rule {
        kwargs.push(Expr::kw("trigger_rule", Expr::str(tr)));
        if node.trigger_rule.is_some() {
            ledger.consume(
                table,
                "trigger_rule",
                &node.id,
                node.span,
                at.clone().then("trigger_rule="),
            );
        }
    }
    kwargs.extend(assets.kwargs(node, imports, target));
    assets.consume(node, ledger, table, &at);
    // Several named outputs: the body returns a dict, pushed as one XCom per key.
    if (super::outputs::returns_by_name(node) || !node.optional_outputs.is_empty())
        && from != Framework::Airflow
    {
        kwargs.push(Expr::kw("multiple_outputs", Expr::raw("True")));
    }
    if from == Framework::Airflow {
        kwargs.extend(shared::passthrough(
            ledger,
            table,
            &node.id,
            &node.extra,
            TASK_OPTIONS,
            node.span,
            imports,
            &at,
        ));
    }
    let head = match &flavor {
        Some(f) => format!("task.{f}"),
        None => "task".into(),
    };
    let decorator = python::decorator(&head, kwargs);
    let (signature, body, is_async) = shared::body_for(
        step,
        from,
        Framework::Airflow,
        imports,
        helpers,
        ledger,
        table,
        None,
        module,
    );
    let decorator =
        shared::runs_to_end(decorator, &body, from, Framework::Airflow, imports, helpers);
    FunctionCtx {
        decorator,
        name: step.func.clone(),
        signature,
        body,
        is_async,
    }
}

/// `@task` / operator options kept as written in an Airflow → Airflow port.
const TASK_OPTIONS: &[&str] = &[
    "multiple_outputs",
    "requirements",
    "system_site_packages",
    "python_version",
    "depends_on_past",
    "do_xcom_push",
    "email_on_failure",
    "email_on_retry",
    "max_active_tis_per_dag",
    "wait_for_downstream",
    "doc_md",
];

/// The module's assets as constants (`CRM_ACCOUNTS = Asset(name=…, uri=…)`), one per asset
/// name or URI, so producers' outlets, consumers' inlets and asset schedules all name the same
/// Asset (Airflow activates one asset per name and per URI).
struct AssetConsts {
    /// (constant name, the asset with every field any reference gave it).
    list: Vec<(String, AssetRef)>,
    /// Whether tasks are written with their inlets.
    inlets: bool,
}

impl AssetConsts {
    /// The assets of every pipeline of `file`: outlets, inlets (as an Airflow source declares
    /// them; a Dagster asset's inlets are its upstream edges), then asset schedules.
    fn new(file: &SourceFile) -> AssetConsts {
        let mut consts = AssetConsts {
            list: Vec::new(),
            inlets: file.framework == Some(Framework::Airflow),
        };
        for p in &file.pipelines {
            for n in &p.nodes {
                let inlets = if consts.inlets { &n.inlets[..] } else { &[] };
                for a in n.outlets.iter().chain(inlets) {
                    consts.add(a);
                }
            }
        }
        for p in &file.pipelines {
            if let Some(s) = p
                .schedule
                .as_ref()
                .filter(|s| s.kind == ScheduleKind::Asset)
            {
                for name in &s.assets {
                    if consts.find(name).is_none() {
                        consts.add(&AssetRef {
                            name: Some(name.clone()),
                            uri: None,
                        });
                    }
                }
            }
        }
        consts
    }

    fn add(&mut self, a: &AssetRef) {
        let same = |b: &AssetRef| {
            (a.name.is_some() && a.name == b.name) || (a.uri.is_some() && a.uri == b.uri)
        };
        if let Some((_, known)) = self.list.iter_mut().find(|(_, b)| same(b)) {
            known.name = known.name.take().or_else(|| a.name.clone());
            known.uri = known.uri.take().or_else(|| a.uri.clone());
            return;
        }
        let Some(key) = a.name.as_ref().or(a.uri.as_ref()) else {
            return;
        };
        let base = identifier(
            key.rsplit(['/', ':'])
                .find(|x| !x.is_empty())
                .unwrap_or(key),
        )
        .to_uppercase();
        let mut name = base.clone();
        let mut k = 1;
        while self.list.iter().any(|(c, _)| *c == name) {
            k += 1;
            name = format!("{base}_{k}");
        }
        self.list.push((name, a.clone()));
    }

    /// The constant of an asset named (or with the URI) `key`.
    fn find(&self, key: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(_, a)| a.name.as_deref() == Some(key) || a.uri.as_deref() == Some(key))
            .map(|(c, _)| c.as_str())
    }

    /// An asset reference in the code: its constant.
    fn named(&self, key: &str, target: Target, imports: &mut Imports) -> Expr {
        imports.name(sdk(target), "Asset");
        match self.find(key) {
            Some(c) => Expr::raw(c),
            None => Expr::call("Asset", vec![Expr::kw("name", Expr::str(key))]),
        }
    }

    fn reference(&self, a: &AssetRef, target: Target, imports: &mut Imports) -> Expr {
        let key = a
            .name
            .as_ref()
            .or(a.uri.as_ref())
            .cloned()
            .unwrap_or_default();
        self.named(&key, target, imports)
    }

    /// The `outlets=[…]` and `inlets=[…]` arguments of a task.
    fn kwargs(&self, n: &crate::ir::Node, imports: &mut Imports, target: Target) -> Vec<Expr> {
        let mut kw = Vec::new();
        for (key, list) in [("inlets", &n.inlets), ("outlets", &n.outlets)] {
            if !list.is_empty() && (key == "outlets" || self.inlets) {
                kw.push(Expr::kw(
                    key,
                    Expr::List(
                        list.iter()
                            .map(|a| self.reference(a, target, imports))
                            .collect(),
                    ),
                ));
            }
        }
        kw
    }

    /// Consumes a node's outlets and inlets where `kwargs` wrote them (`at`: the task).
    fn consume(&self, n: &crate::ir::Node, ledger: &mut Ledger, table: &Translations, at: &Anchor) {
        if !n.outlets.is_empty() {
            ledger.consume(
                table,
                "assets.outlets",
                &n.id,
                n.span,
                at.clone().then("outlets="),
            );
        }
        if !n.inlets.is_empty() && self.inlets {
            ledger.consume(
                table,
                "assets.inlets",
                &n.id,
                n.span,
                at.clone().then("inlets="),
            );
        }
    }

    /// The module-level definitions, in first-use order.
    fn lines(&self) -> Vec<String> {
        self.list
            .iter()
            .map(|(c, a)| {
                let mut args = Vec::new();
                if let Some(n) = &a.name {
                    args.push(Expr::kw("name", Expr::str(n)));
                }
                if let Some(u) = a.uri.as_ref().filter(|u| a.name.as_ref() != Some(*u)) {
                    args.push(Expr::kw("uri", Expr::str(u)));
                }
                format!(
                    "{c} = {}",
                    Expr::call("Asset", args).format_lead(0, c.len() + 3, 0)
                )
            })
            .collect()
    }
}

/// A policy as BaseOperator keyword arguments.
#[allow(clippy::too_many_arguments)]
fn policy_kwargs(
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

/// Whether an input reads an optional output of its upstream step (a Dagster
/// `Out(is_required=False)`), which the task receives as the upstream's whole dict.
fn reads_optional(plan: &Plan, input: &super::plan::Input) -> bool {
    match (&input.output, &input.source) {
        (Some(o), Source::Step(i)) => plan.steps[*i].node.optional_outputs.contains(o),
        _ => false,
    }
}

/// The first statements of a task that reads optional outputs (from its inputs): for each,
/// skip the task when the upstream's dict lacks it (Airflow then skips what is below it), else
/// take its value.
fn optional_skips(
    plan: &Plan,
    step: &super::plan::Step,
    target: Target,
    imports: &mut Imports,
) -> Vec<String> {
    let mut out = Vec::new();
    for input in step
        .inputs
        .iter()
        .filter(|i| !i.param.is_empty() && reads_optional(plan, i))
    {
        let (Source::Step(u), Some(output)) = (&input.source, &input.output) else {
            continue;
        };
        let param = &input.param;
        let why = format!(
            "`{}` did not produce its output `{output}`",
            plan.steps[*u].node.id
        );
        // Wrapped as ruff wraps it in the task (at 8 columns), continuation lines relative to
        // the body, which the writer indents.
        let raise = Expr::call("AirflowSkipException", vec![Expr::str(&why)])
            .format_lead(8, "raise ".len(), 0)
            .replace("\n    ", "\n");
        out.push(format!(
            "if {} not in {param}:\n    raise {raise}",
            python::string(output),
        ));
        out.push(format!("{param} = {param}[{}]", python::string(output)));
    }
    if !out.is_empty() {
        let module = if target.version >= 3 {
            "airflow.sdk.exceptions"
        } else {
            "airflow.exceptions"
        };
        imports.name(module, "AirflowSkipException");
    }
    out
}

fn input_expr(plan: &Plan, s: &Source) -> Expr {
    match s {
        // External assets are not steps in Airflow: their value is not passed.
        Source::Step(i) if plan.steps[*i].node.kind == NodeKind::ExternalAsset => Expr::raw("None"),
        // A classic operator's value is its XComArg: `op.output` (the operator object would be
        // passed as a plain value, and Airflow would record no edge).
        Source::Step(i) if plan.steps[*i].node.operator.is_some() => {
            Expr::raw(format!("{}.output", plan.steps[*i].var))
        }
        Source::Step(i) => Expr::raw(plan.steps[*i].var.clone()),
        Source::Steps(list) => Expr::List(
            list.iter()
                .map(|i| input_expr(plan, &Source::Step(*i)))
                .collect(),
        ),
        Source::Literal(v) => python::value(v),
        Source::Param(n) => Expr::raw(identifier(n)),
    }
}

/// The statement that creates a step in the dag body; `None` for steps that are not written.
#[allow(clippy::too_many_arguments)]
fn step_statement(
    dag: &str,
    file: &SourceFile,
    p: &Pipeline,
    plan: &Plan,
    step: &Step,
    overrides: &[Expr],
    target: Target,
    assets: &AssetConsts,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
) -> Option<Expr> {
    let n = step.node;
    let from = p.framework.unwrap_or(Framework::Airflow);
    let label = task_label(p, step);
    if n.kind == NodeKind::ExternalAsset {
        return None;
    }
    if n.kind == NodeKind::SubPipeline {
        imports.name(
            "airflow.providers.standard.operators.trigger_dagrun",
            "TriggerDagRunOperator",
        );
        let callee = n
            .extra
            .get("pipeline")
            .and_then(Value::as_str)
            .unwrap_or(&n.id);
        // The called pipeline's DAG id, as its own DAG is written.
        let dag_id = file
            .pipelines
            .iter()
            .find(|q| q.id == callee)
            .map_or_else(|| callee.to_string(), |q| airflow_key(shared::run_name(q)));
        let call = Expr::call(
            "TriggerDagRunOperator",
            vec![
                Expr::kw("task_id", Expr::str(&label)),
                Expr::kw("trigger_dag_id", Expr::str(&dag_id)),
                Expr::kw("wait_for_completion", Expr::raw("True")),
            ],
        );
        return Some(call);
    }
    if let Some(op) = &n.operator {
        let info = report::operator_info(&op.class);
        let module = info.map(|i| i.import.clone()).or_else(|| {
            op.import_path
                .as_ref()
                .and_then(|p| p.rsplit_once('.').map(|(m, _)| m.to_string()))
        });
        if let Some(m) = module {
            imports.name(&m, &op.class);
        }
        let mut kwargs = vec![Expr::kw("task_id", Expr::str(&label))];
        let mut mapped_kw = Vec::new();
        for (k, v) in &op.args {
            if n.mapping
                .as_ref()
                .is_some_and(|m| m.over.iter().any(|a| &a.param == k))
            {
                continue;
            }
            if matches!(v, Value::Duration(_)) {
                imports.name("datetime", "timedelta");
            }
            kwargs.push(Expr::kw(k, python::value(v)));
            ledger.consume_as(
                table,
                "extra",
                &format!("{}.{k}", n.id),
                n.span,
                Anchor::body(dag, format!("task_id={}", python::string(&label)))
                    .then(format!("{k}=")),
                Fidelity::Exact,
                "operator argument kept".into(),
            );
        }
        if let Some(c) = &n.callable {
            kwargs.push(Expr::kw("python_callable", Expr::raw(step.func.clone())));
            let _ = c;
        }
        let at = Anchor::body(dag, format!("task_id={}", python::string(&label)));
        kwargs.extend(policy_kwargs(
            from, &n.policy, &n.id, n.span, ledger, table, imports, &at,
        ));
        if let Some(tr) = &step.trigger_rule {
            kwargs.push(Expr::kw("trigger_rule", Expr::str(tr)));
            if n.trigger_rule.is_some() {
                ledger.consume(
                    table,
                    "trigger_rule",
                    &n.id,
                    n.span,
                    at.clone().then("trigger_rule="),
                );
            }
        }
        if let Some(s) = &n.sensor {
            if let Some(m) = &s.mode {
                kwargs.push(Expr::kw("mode", Expr::str(m)));
            }
            if let Some(i) = s.poke_interval {
                kwargs.push(Expr::kw("poke_interval", shared::seconds(i)));
            }
            if let Some(t) = s.timeout {
                kwargs.push(Expr::kw("timeout", shared::seconds(t)));
            }
        }
        kwargs.extend(assets.kwargs(n, imports, target));
        assets.consume(n, ledger, table, &at);
        let call = match &n.mapping {
            Some(m) => {
                for a in &m.over {
                    let value = step
                        .inputs
                        .iter()
                        .find(|i| i.param == a.param)
                        .map(|i| i.select(input_expr(plan, &i.source)))
                        .or_else(|| a.literal.as_ref().map(python::value));
                    if let Some(v) = value {
                        mapped_kw.push(Expr::kw(&a.param, v));
                    }
                }
                let partial = Expr::call(&format!("{}.partial", op.class), kwargs);
                return Some(chain_call(partial, "expand", mapped_kw));
            }
            None => Expr::call(&op.class, kwargs),
        };
        return Some(call);
    }
    n.callable.as_ref()?;
    // `task.override(task_id="…", retries=…)`: the call's own id and policy.
    let mut over_args = Vec::new();
    if label != step.func {
        over_args.push(Expr::kw("task_id", Expr::str(&label)));
    }
    over_args.extend(overrides.iter().cloned());
    let mut callee = step.func.clone();
    if !over_args.is_empty() {
        callee = Expr::call(&format!("{}.override", step.func), over_args.clone()).flat();
    }
    let mut args = Vec::new();
    let mut mapped_args = Vec::new();
    if from == Framework::Dagster && shared::key_param(n) {
        args.push(Expr::kw(
            "partition_key",
            Expr::str("{{ params.partition_key }}"),
        ));
    }
    for input in &step.inputs {
        let value = match mapped_param(p, input).and_then(|prm| prm.default.as_ref()) {
            Some(default) => python::value(default),
            // An optional output: the whole dict, which the task tests first.
            None if reads_optional(plan, input) => input_expr(plan, &input.source),
            None => input.select(input_expr(plan, &input.source)),
        };
        let kw = if input.param.is_empty() {
            value
        } else {
            Expr::kw(&input.param, value)
        };
        if input.mapped {
            mapped_args.push(kw)
        } else {
            args.push(kw)
        }
    }
    let call = if n.mapping.is_some() {
        let base = if args.is_empty() {
            Expr::raw(callee.clone())
        } else {
            Expr::call(&format!("{callee}.partial"), args)
        };
        let kwargs_list = n
            .mapping
            .as_ref()
            .filter(|m| m.kwargs)
            .and_then(|m| m.over.first())
            .and_then(|a| a.literal.clone())
            .or_else(|| zipped_rows(p, step));
        let (expand, mapped_args) = match kwargs_list {
            // `expand_kwargs` takes the list of argument dicts as written.
            Some(list) => ("expand_kwargs", vec![python::value(&list)]),
            None if n.mapping.as_ref().is_some_and(|m| m.kwargs) => ("expand_kwargs", mapped_args),
            None => ("expand", mapped_args),
        };
        return Some(chain_call(base, expand, mapped_args));
    } else if !over_args.is_empty() {
        // `task.override(task_id="…")(args)`: black may split either pair of brackets.
        let over = Expr::call(&format!("{}.override", step.func), over_args);
        Expr::CallOn(Box::new(over), args)
    } else {
        Expr::call(&callee, args)
    };
    Some(call)
}

/// Prefect's `.map(a, b)` pairs its iterables element-wise, where Airflow's `expand(a=…, b=…)`
/// would run every combination: literal iterables of a Prefect mapping become the argument dicts
/// of `expand_kwargs`, one per element.
fn zipped_rows(p: &Pipeline, step: &Step) -> Option<Value> {
    if p.framework != Some(Framework::Prefect) {
        return None;
    }
    let columns: Vec<(&str, &Vec<Value>)> = step
        .inputs
        .iter()
        .filter(|i| i.mapped && !i.param.is_empty())
        .map(|i| match &i.source {
            Source::Literal(Value::List(items)) => Some((i.param.as_str(), items)),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let len = columns.first()?.1.len();
    if columns.len() < 2 || columns.iter().any(|(_, c)| c.len() != len) {
        return None;
    }
    let rows = (0..len)
        .map(|k| {
            Value::Dict(
                columns
                    .iter()
                    .map(|(name, c)| (name.to_string(), c[k].clone()))
                    .collect(),
            )
        })
        .collect();
    Some(Value::List(rows))
}

/// The pipeline parameter (with a default) a mapped input iterates over: Airflow cannot map over
/// a DAG param (`expand` takes a list or an upstream's value), so the port maps over its default.
fn mapped_param<'p>(p: &'p Pipeline, input: &Input) -> Option<&'p crate::ir::Param> {
    let Source::Literal(Value::Expr(e)) = &input.source else {
        return None;
    };
    p.params
        .iter()
        .find(|x| input.mapped && x.name == e.trim() && x.default.is_some())
}

/// `base.method(args)` where `base` may itself be a call (kept on the first line).
fn chain_call(base: Expr, method: &str, args: Vec<Expr>) -> Expr {
    Expr::call(&format!("{}.{method}", base.flat()), args)
}

#[allow(clippy::too_many_arguments)]
fn dag_decorator(
    p: &Pipeline,
    dag: &str,
    target: Target,
    assets: &AssetConsts,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
) -> String {
    let from = p.framework.unwrap_or(Framework::Airflow);
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
    let schedule = match &p.schedule {
        None => Expr::raw("None"),
        Some(s) => match s.kind {
            ScheduleKind::Cron
            | ScheduleKind::Preset
            | ScheduleKind::Once
            | ScheduleKind::Continuous => {
                let v = match s.kind {
                    ScheduleKind::Once => "@once".to_string(),
                    ScheduleKind::Continuous => "@continuous".to_string(),
                    _ => s.value.clone().unwrap_or_default(),
                };
                Expr::str(&v)
            }
            ScheduleKind::Interval => {
                imports.name("datetime", "timedelta");
                python::timedelta(
                    s.value
                        .as_deref()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(3600.0),
                )
            }
            ScheduleKind::Asset => {
                imports.name(sdk(target), "Asset");
                Expr::List(
                    s.assets
                        .iter()
                        .map(|a| assets.named(a, target, imports))
                        .collect(),
                )
            }
            ScheduleKind::Manual | ScheduleKind::Timetable => Expr::raw("None"),
        },
    };
    kw.push(Expr::kw("schedule", schedule));
    if let Some(s) = &p.schedule {
        ledger.consume(
            table,
            report::schedule_id(s.kind),
            &p.id,
            at,
            head("schedule="),
        );
        if shared::traps(p, target).contains(&"trap.logical_date") {
            ledger.consume(table, "trap.logical_date", &p.id, at, head("schedule="));
        }
        if s.timezone.is_some() {
            ledger.consume(table, "schedule.timezone", &p.id, at, head("start_date="));
        }
    }
    // Time partitions are the DAG's schedule and data interval.
    if let Some(parts @ Partitions::Time { .. }) = &p.partitions {
        ledger.consume(
            table,
            report::partitions_id(parts),
            &p.id,
            at,
            head("schedule="),
        );
    }
    for n in &p.nodes {
        if let Some(parts @ Partitions::Time { .. }) = &n.partitions {
            ledger.consume(
                table,
                report::partitions_id(parts),
                &n.id,
                n.span,
                head("schedule="),
            );
        }
    }
    imports.module("pendulum");
    let tz = p
        .schedule
        .as_ref()
        .and_then(|s| s.timezone.clone())
        .or_else(|| p.start_date.as_ref().and_then(|d| d.tz.clone()));
    let start = match &p.start_date {
        Some(d) => {
            let mut d = d.clone();
            d.tz = d.tz.or(tz);
            python::datetime(&d)
        }
        None => {
            let key = shared::default_partition_key(p);
            let key = if key
                .get(..4)
                .is_some_and(|y| y.chars().all(|c| c.is_ascii_digit()))
            {
                key
            } else {
                "2024-01-01".to_string()
            };
            let mut parts = key.split('-').map(|x| x.parse::<i64>().unwrap_or(1));
            let d = crate::ir::DateTime {
                year: parts.next().unwrap_or(2024),
                month: parts.next().unwrap_or(1).clamp(1, 12) as u32,
                day: parts.next().unwrap_or(1).clamp(1, 28) as u32,
                hour: 0,
                minute: 0,
                second: 0,
                tz,
            };
            python::datetime(&d)
        }
    };
    kw.push(Expr::kw("start_date", start));
    if p.start_date.is_some() {
        ledger.consume(table, "start_date", &p.id, at, head("start_date="));
    }
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
    python::decorator("dag", kw)
}

/// An Airflow param declared as `Param(...)` (kept in `params=`, not as a function argument).
fn is_param_object(p: &crate::ir::Param) -> bool {
    p.default
        .as_ref()
        .is_some_and(|d| matches!(d, Value::Call(c) if c.func.ends_with("Param")))
}

fn dag_signature(p: &Pipeline, name: &str, ledger: &mut Ledger, table: &Translations) -> String {
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
