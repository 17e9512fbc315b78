//! The Prefect 3 writer: one `@flow` per pipeline, one `@task` per step, deployments via `serve`.
//!
//! Calls in a flow body. Every task is submitted (`task.submit(...)`, mapped tasks `task.map(...)`)
//! and its future is what later steps get, as an argument or in `wait_for=[...]`: Prefect records
//! a dependency from a future whatever the task returns, while a direct call's value is traced
//! by its identity only (None, booleans and small ints are never traced, so order edges and such
//! data edges would be lost). The flow resolves with `.result()` every future no later step
//! reads, so it waits for its last tasks and fails when one of them fails or could not run
//! (Prefect 3.9 completes a flow whose unresolved futures failed); a flow that another flow calls
//! returns its result step's value (`return x.result()`), not a future. Sub-flow calls (flows
//! have no `.submit()`) stay direct calls; Prefect resolves the futures passed to them. Async
//! tasks are submitted too (their flow stays async): awaiting each in turn would run calls the
//! source gathers one after another, and stop at the first failure.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::module::{FunctionCtx, Imports, PipelineCtx};
use super::plan::{Plan, Source, Step, unique};
use super::rewrite::rewrite;
use super::template;
use super::{Target, Writer, shared};
use crate::ir::{Framework, NodeKind, Partitions, Pipeline, ScheduleKind, SourceFile, Value};
use crate::python::print::{self as python, Expr, identifier};
use crate::report::{self, Anchor, Fidelity, Ledger, Scope, Translations};

#[derive(Serialize)]
struct ModuleCtx {
    header: String,
    imports: Vec<String>,
    support: String,
    gap: &'static str,
    helpers: Vec<&'static str>,
    tasks: Vec<FunctionCtx>,
    flows: Vec<PipelineCtx>,
    deployments: Vec<String>,
}

/// Writes a Prefect module.
pub struct PrefectWriter;

impl Writer for PrefectWriter {
    fn write(
        &self,
        file: &SourceFile,
        target: Target,
        table: &Translations,
    ) -> Result<(String, Vec<Ledger>), String> {
        let mut imports = Imports::default();
        imports.name("prefect", "flow");
        let mut helpers: Vec<&'static str> = Vec::new();
        let mut tasks = Vec::new();
        let mut flows = Vec::new();
        let mut served: Vec<(String, Vec<Expr>)> = Vec::new();
        let mut ledgers = Vec::new();
        let mut names = super::plan::Names::for_module(Framework::Prefect, file);
        let flow_names: HashMap<String, String> = file
            .pipelines
            .iter()
            .map(|p| (p.id.clone(), unique(&mut names.taken, &identifier(&p.id))))
            .collect();
        // A flow parameter shadows a module-level function of its name inside the flow: no
        // task or helper takes a parameter's name (`region.submit()` on the parameter's value).
        for p in &file.pipelines {
            for x in &p.params {
                names.taken.entry(identifier(&x.name)).or_insert(1);
            }
        }
        let from = file.framework.unwrap_or(Framework::Airflow);
        // The decorator policy of each task function, to see what a later call overrides.
        let mut decorated: HashMap<String, Vec<Expr>> = HashMap::new();
        let config = super::resources::config_classes(&file.support);
        for p in &file.pipelines {
            let mut ledger = shared::ledger_for(file, p, target);
            // Another framework runs what does not depend on a failed step that a map reads;
            // the flow raises at the `.map()`, so every other step is submitted before it.
            let plan = if from == Framework::Prefect {
                Plan::new(p, &mut names)
            } else {
                Plan::in_order(p, &mut names, super::plan::maps_last(p))
            };
            let flow_name = flow_names
                .get(&p.id)
                .cloned()
                .unwrap_or_else(|| identifier(&p.id));
            let partition_param = partition_param(p);
            let mut statements: Vec<(Option<String>, Expr)> = Vec::new();
            // The variables bound to futures (submitted or mapped task calls).
            let mut futures: HashSet<String> = HashSet::new();
            let folded: Vec<bool> = plan
                .steps
                .iter()
                .map(|s| matches!(s.node.kind, NodeKind::Empty | NodeKind::ExternalAsset))
                .collect();
            // A flow that runs async tasks stays async (its tasks are submitted like the others:
            // awaiting each in turn would run gathered calls one after another).
            let is_async = plan.steps.iter().any(|s| async_task(s));
            // The reader's call counters: a plain call of `f` is `f`, `f-2`, … in call order.
            let mut calls: HashMap<String, usize> = HashMap::new();
            // When each step runs (below an Airflow branch or short-circuit), and the locals
            // that hold the branching steps' results.
            // A step that reads an optional output of a Dagster op runs, with what is below
            // it, only when the op produced that output.
            let optional_readers = crate::ir::optional::readers(p);
            let computed = if from == Framework::Airflow || !optional_readers.is_empty() {
                super::guards::guards(p)
            } else {
                Some(vec![super::guards::Guard::Always; p.nodes.len()])
            };
            // Past the guard budget no `if` is written: the branches are lost, and say so.
            let too_deep = computed.is_none();
            let guards =
                computed.unwrap_or_else(|| vec![super::guards::Guard::Always; p.nodes.len()]);
            let node_index = p.node_index();
            let mut choices: HashMap<usize, String> = HashMap::new();
            // The branching steps whose result a written (not folded) step's guard reads.
            let decides: HashSet<usize> = plan
                .steps
                .iter()
                .zip(&folded)
                .filter(|(_, f)| !**f)
                .filter_map(|(s, _)| node_index.get(s.node.id.as_str()))
                .flat_map(|&j| guards[j].reads())
                .collect();
            // Variables of calls under an `if`: None where the call did not happen.
            let mut maybe_none: HashSet<String> = HashSet::new();
            let mut stmt_guards: Vec<Option<Vec<String>>> = Vec::new();
            for (i, step) in plan.steps.iter().enumerate() {
                if folded[i] {
                    // An external asset is not a step: nothing in Prefect produces it.
                    if step.node.kind == NodeKind::ExternalAsset {
                        ledger.lose(
                            table,
                            "node.external_asset",
                            &step.node.id,
                            step.node.span,
                            "not a step: the flow neither produces nor waits for it; its data must be there before the flow runs".into(),
                        );
                    }
                    continue;
                }
                let n = step.node;
                let mut guard_of: Option<super::guards::Guard> = node_index
                    .get(n.id.as_str())
                    .map(|&k| guards[k].clone())
                    .filter(|g| *g != super::guards::Guard::Always)
                    .filter(|g| g.reads().iter().all(|r| choices.contains_key(r)));
                // The partition key is the flow's partition parameter.
                if let (Some(pk), Some(parts)) = (&partition_param, &n.partitions) {
                    let at = Anchor::head(&flow_name, format!("{pk}:"));
                    ledger.consume(table, report::partitions_id(parts), &n.id, n.span, at);
                }
                if step.node.kind == NodeKind::SubPipeline {
                    let callee = step
                        .node
                        .extra
                        .get("pipeline")
                        .and_then(Value::as_str)
                        .unwrap_or(&step.node.id);
                    if let (Some(fname), Some(child)) = (
                        flow_names.get(callee),
                        file.pipelines.iter().find(|x| x.id == callee),
                    ) {
                        *calls.entry(fname.clone()).or_insert(0) += 1;
                        let args = call_args(&plan, step, &folded, false);
                        // `child.with_options(retries=…)(…)`: the call's own retry boundary.
                        let options = overrides(
                            &flow_policy(&child.run_policy),
                            &flow_policy(&step.node.policy.over(&child.run_policy)),
                        );
                        let at = Anchor::body(&flow_name, format!("{fname}("));
                        shared::consume_node(&mut ledger, table, step.node, &at);
                        let call = if options.is_empty() {
                            Expr::call(fname, args)
                        } else {
                            Expr::CallOn(
                                Box::new(Expr::call(&format!("{fname}.with_options"), options)),
                                args,
                            )
                        };
                        statements.push((Some(step.var.clone()), call));
                        stmt_guards.push(guard_of.as_ref().map(|g| if_headers(g, &choices)));
                        continue;
                    }
                }
                if step.defines {
                    let t = task(
                        p,
                        step,
                        from,
                        &mut imports,
                        &mut helpers,
                        &mut ledger,
                        table,
                        partition_param.as_deref(),
                        &config,
                        &plan,
                    );
                    let mut scratch = Ledger::new(&file.path, &p.id, "prefect");
                    decorated.insert(
                        step.func.clone(),
                        shared::prefect_policy(p, step.node, &mut scratch, table, &any()),
                    );
                    tasks.push(t);
                    shared::consume_node(
                        &mut ledger,
                        table,
                        n,
                        &Anchor::at(Scope::Head(step.func.clone())),
                    );
                } else {
                    let at = Anchor::body(&flow_name, step.func.as_str());
                    shared::consume_reused(&mut ledger, table, n, &step.func, &at);
                }
                let mapped = step.node.mapping.is_some();
                if mapped {
                    let at = Anchor::body(&flow_name, step.func.as_str()).then(".map(");
                    ledger.consume(table, "mapping", &n.id, n.span, at);
                }
                let args = call_args(&plan, step, &folded, mapped);
                let mut args = args;
                // An Airflow rule that runs after failures: the step waits with allow_failure,
                // and the flow tests its upstream runs' states (never inverted: a step meant for
                // a failure is not called after a success).
                if from == Framework::Airflow {
                    let rule = n
                        .trigger_rule
                        .clone()
                        .or_else(|| p.effective_policy(n).trigger_rule);
                    if let Some(FailureRule {
                        wait,
                        condition,
                        how,
                    }) = failure_rule(rule.as_deref(), &mut args, &maybe_none, &mut imports)
                    {
                        if let Some(waited) = wait {
                            statements.push((None, waited));
                            stmt_guards.push(None);
                        }
                        if let Some(cond) = condition {
                            guard_of = Some(match guard_of {
                                Some(g) => super::guards::Guard::all(vec![g, cond]),
                                None => cond,
                            });
                        }
                        if n.trigger_rule.is_some() || p.defaults.trigger_rule.is_some() {
                            let at = Anchor::body(&flow_name, step.func.as_str());
                            let subject = if n.trigger_rule.is_some() {
                                n.id.as_str()
                            } else {
                                "defaults"
                            };
                            ledger.consume_as(
                                table,
                                "trigger_rule",
                                subject,
                                n.span,
                                at,
                                Fidelity::Approximate,
                                how,
                            );
                        }
                    }
                }
                let guard = guard_of.as_ref().map(|g| if_headers(g, &choices));
                if guard.is_some() {
                    maybe_none.insert(step.var.clone());
                }
                if optional_readers.contains(n.id.as_str()) {
                    let tests: Vec<String> = guard_of
                        .iter()
                        .flat_map(|g| g.conjuncts())
                        .filter(|c| {
                            matches!(
                                c,
                                super::guards::Guard::Atom(super::guards::Atom::Produced { .. })
                            )
                        })
                        .map(|c| c.python(&|k| choices.get(&k).cloned().unwrap_or_default()))
                        .collect();
                    match tests.first() {
                        Some(test) => ledger.consume(
                            table,
                            "node.optional_output",
                            &n.id,
                            n.span,
                            Anchor::body(&flow_name, format!("if {test}")),
                        ),
                        None => ledger.lose(
                            table,
                            "node.optional_output",
                            &n.id,
                            n.span,
                            "the step is called whether or not the optional outputs it reads were produced: guard the call by hand".into(),
                        ),
                    };
                }
                template_args(&plan, step, &mut args);
                params_arg(&flow_name, p, step, &mut args, &mut ledger, table);
                if let Some(pk) = &partition_param
                    && needs_partition(step, from)
                    && !args
                        .iter()
                        .any(|a| matches!(a, Expr::Keyword(k, _) if k == "partition_key"))
                {
                    args.push(Expr::kw("partition_key", Expr::raw(pk.clone())));
                }
                // What this call changes of its function: its name (the node id, when a plain
                // call would not get it) and its policy.
                let mut options = Vec::new();
                if let Some(name) = call_name(&mut calls, &step.func, &step.node.id) {
                    options.push(Expr::kw("name", Expr::str(&name)));
                }
                let mut scratch = Ledger::new(&file.path, &p.id, "prefect");
                let own = shared::prefect_policy(p, step.node, &mut scratch, table, &any());
                if let Some(base) = decorated.get(&step.func) {
                    options.extend(overrides(base, &own));
                }
                if mapped {
                    imports_unmapped(&mut imports, &args);
                }
                futures.insert(step.var.clone());
                let callee = if options.is_empty() {
                    Expr::raw(step.func.clone())
                } else {
                    Expr::call(&format!("{}.with_options", step.func), options)
                };
                let how = if mapped { "map" } else { "submit" };
                let call = Expr::Method(Box::new(callee), how.into(), args);
                statements.push((Some(step.var.clone()), call));
                stmt_guards.push(guard.clone());
                // A branching step's result decides, in the flow, which steps below it run;
                // when every step it decides is a folded no-op, nothing reads it.
                if matches!(n.kind, NodeKind::Branch | NodeKind::ShortCircuit) && too_deep {
                    ledger.lose(
                        table,
                        report::node_id(n.kind),
                        &n.id,
                        n.span,
                        "the branch is not kept: its pipeline nests branches and joins past what orchmig writes as ifs, so every step below it runs; port the branching by hand".into(),
                    );
                } else if matches!(n.kind, NodeKind::Branch | NodeKind::ShortCircuit)
                    && let Some(&k) = node_index.get(n.id.as_str())
                    && !decides.contains(&k)
                {
                    ledger.consume_as(
                        table,
                        report::node_id(n.kind),
                        &n.id,
                        n.span,
                        Anchor::body(&flow_name, step.var.as_str()),
                        Fidelity::Exact,
                        "every step it decides is a no-op, folded away: nothing written depends on its result".into(),
                    );
                    let at = Anchor::body(&flow_name, step.var.as_str());
                    consume_scope_option(
                        &mut ledger,
                        table,
                        n,
                        at,
                        "nothing written below it: what it skips is folded away",
                    );
                } else if !n.optional_outputs.is_empty()
                    && let Some(&k) = node_index.get(n.id.as_str())
                    && decides.contains(&k)
                {
                    // The op's result (a dict of the outputs it produced) decides, in the
                    // flow, which readers run.
                    let (local, value) = result_local(&plan, step, "_outputs", &choices, &futures);
                    statements.push((Some(local.clone()), Expr::raw(value)));
                    stmt_guards.push(guard);
                    choices.insert(k, local);
                } else if matches!(n.kind, NodeKind::Branch | NodeKind::ShortCircuit)
                    && let Some(&k) = node_index.get(n.id.as_str())
                {
                    let (choice, value) = result_local(&plan, step, "_choice", &choices, &futures);
                    let at = Anchor::body(&flow_name, format!("{choice} = "));
                    ledger.consume(table, report::node_id(n.kind), &n.id, n.span, at.clone());
                    consume_scope_option(
                        &mut ledger,
                        table,
                        n,
                        at,
                        "the ifs below it follow it: only its direct downstream, or everything below",
                    );
                    statements.push((Some(choice.clone()), Expr::raw(value)));
                    stmt_guards.push(guard);
                    choices.insert(k, choice);
                }
            }
            let mut multi_checks = std::collections::BTreeSet::new();
            let mut check_fns: HashMap<String, String> = HashMap::new();
            for c in &p.checks {
                let function = shared::check_function(c, &mut multi_checks, &mut names.taken);
                let target_var = plan
                    .steps
                    .iter()
                    .find(|s| s.node.id == c.target && s.node.kind != NodeKind::ExternalAsset)
                    .map(|s| s.var.clone());
                if let (Some(cb), Some(fname)) = (&c.callable, function) {
                    check_fns.insert(shared::check_task_name(c).to_string(), fname.clone());
                    let rw = rewrite(&cb.body, from, Framework::Prefect);

                    for n in &rw.needs {
                        shared::need(&mut imports, &mut helpers, n);
                    }
                    let params: Vec<String> = cb
                        .params
                        .iter()
                        .filter(|x| x.name != "context")
                        .map(|x| x.name.clone())
                        .collect();
                    imports.name("prefect", "task");
                    tasks.push(FunctionCtx {
                        decorator: shared::runs_to_end(
                            Expr::call(
                                "task",
                                vec![Expr::kw("name", Expr::str(shared::check_task_name(c)))],
                            )
                            .format(0, 0)
                            .replace("task(", "@task("),
                            &rw.body,
                            from,
                            Framework::Prefect,
                            &mut imports,
                            &mut helpers,
                        ),
                        name: fname.clone(),
                        signature: format!("({})", params.join(", ")),
                        body: python::indent_body(&rw.body, 4).trim_end().to_string(),
                        is_async: false,
                    });
                    let mut args: Vec<Expr> = params
                        .iter()
                        .map(|_| Expr::raw(target_var.clone().unwrap_or_else(|| "None".into())))
                        .collect();
                    // A check that takes no value still runs after the assets it checks.
                    if params.is_empty() {
                        let written: HashSet<&str> = statements
                            .iter()
                            .filter_map(|(v, _)| v.as_deref())
                            .collect();
                        let targets: Vec<Expr> = shared::checked_steps(p, c)
                            .into_iter()
                            .filter_map(|id| plan.steps.iter().find(|s| s.node.id == id))
                            .map(|s| s.var.as_str())
                            .filter(|v| written.contains(v))
                            .collect::<indexmap::IndexSet<_>>()
                            .into_iter()
                            .map(Expr::raw)
                            .collect();
                        if !targets.is_empty() {
                            args.push(Expr::kw("wait_for", Expr::List(targets)));
                        }
                    }
                    let mut var = format!("{fname}_out");
                    while plan.steps.iter().any(|s| s.var == var) {
                        var.push_str("_check");
                    }
                    futures.insert(var.clone());
                    let call =
                        Expr::Method(Box::new(Expr::raw(fname.clone())), "submit".into(), args);
                    statements.push((Some(var), call));
                }
                let written = check_fns.get(shared::check_task_name(c)).cloned();
                shared::consume_check(&mut ledger, table, c, written.as_deref());
            }
            // A flow that another flow calls returns its result (the last step nothing reads).
            let result = called_as_sub_flow(file, p)
                .then(|| result_step(&plan, &folded))
                .flatten()
                .map(|i| plan.steps[i].var.clone());
            let statements = flow_body(statements, &stmt_guards, &futures, result.as_deref());
            let name = flow_name.clone();
            // A sub-flow of the source is its own flow here.
            for g in p
                .groups
                .iter()
                .filter(|g| g.kind == crate::ir::GroupKind::SubFlow)
            {
                if let Some(f) = flow_names.get(&g.id) {
                    let at = Anchor::at(Scope::Head(f.clone()));
                    ledger.consume(table, "group.sub_flow", &g.id, g.span, at);
                }
            }
            if let (Some(pk), Some(parts)) = (&partition_param, &p.partitions) {
                let at = Anchor::head(&name, format!("{pk}:"));
                ledger.consume(table, report::partitions_id(parts), &p.id, p.span, at);
            }
            flows.push(PipelineCtx {
                decorator: flow_decorator(p, &name, &mut ledger, table, &mut imports),
                name: name.clone(),
                signature: flow_signature(p, &name, partition_param.as_deref(), &mut ledger, table),
                statements,
                is_async,
            });
            served.extend(deployment(
                p,
                &name,
                target,
                &mut imports,
                &mut ledger,
                table,
            ));
            ledger.finish(table);
            ledgers.push(ledger);
        }
        // One flow is served directly; several are served together by one process.
        let deployments: Vec<String> = match served.as_slice() {
            [(fname, kwargs)] => {
                vec![Expr::call(&format!("{fname}.serve"), kwargs.clone()).format(4, 0)]
            }
            many => {
                imports.name("prefect", "serve");
                let parts = many
                    .iter()
                    .map(|(f, k)| Expr::call(&format!("{f}.to_deployment"), k.clone()))
                    .collect();
                vec![Expr::call("serve", parts).format(4, 0)]
            }
        };
        if tasks.iter().any(|t| t.decorator.starts_with("@task")) {
            imports.name("prefect", "task");
        }
        if tasks.iter().any(|t| t.decorator.contains("timedelta(")) {
            imports.name("datetime", "timedelta");
        }
        let mut emitted = String::new();
        for t in &tasks {
            emitted.push_str(&t.decorator);
            emitted.push_str(&t.signature);
            emitted.push_str(&t.body);
        }
        for f in &flows {
            emitted.push_str(&f.statements.join("\n"));
            emitted.push_str(&f.signature);
        }
        let mut own: Vec<&str> = vec!["flow", "task"];
        own.extend(tasks.iter().map(|t| t.name.as_str()));
        let support =
            super::module::support(file, &emitted, Framework::Prefect, &own, &mut imports);
        support.report_foreign(&mut ledgers, table);
        let ctx = ModuleCtx {
            header: super::module::header(&file.path, &target.label()),
            imports: imports.lines(),
            gap: support.gap(),
            support: support.code,
            helpers,
            tasks,
            flows,
            deployments,
        };
        let text = super::templates::render("prefect/module.py.j2", &ctx)?;
        Ok((text, ledgers))
    }
}

/// Consumes a short-circuit's `ignore_downstream_trigger_rules` (what its `if`s cover) at `at`.
fn consume_scope_option(
    ledger: &mut Ledger,
    table: &Translations,
    n: &crate::ir::Node,
    at: Anchor,
    how: &str,
) {
    if n.extra.contains_key("ignore_downstream_trigger_rules") {
        let subject = format!("{}.ignore_downstream_trigger_rules", n.id);
        ledger.consume_as(
            table,
            "extra",
            &subject,
            n.span,
            at,
            Fidelity::Exact,
            how.into(),
        );
    }
}

/// The `if` headers of a guard in a flow body: one when it fits on its line, else one per
/// conjunct, nested.
fn if_headers(g: &super::guards::Guard, choices: &HashMap<usize, String>) -> Vec<String> {
    let value = |r: usize| choices.get(&r).cloned().unwrap_or_default();
    let one = g.header(&value, 4);
    if !one.contains('\n') || g.conjuncts().len() < 2 {
        return vec![one];
    }
    g.conjuncts()
        .iter()
        .enumerate()
        .map(|(d, c)| c.header(&value, 4 + 4 * d))
        .collect()
}

/// How a flow writes an Airflow trigger rule that runs after failures.
struct FailureRule {
    /// The `wait(…)` statement before the call (a rule that tests states).
    wait: Option<Expr>,
    /// The condition on the upstream runs' states the call is under.
    condition: Option<super::guards::Guard>,
    /// The report's note.
    how: String,
}

/// A failure-driven trigger rule written in a flow; `None` for rules a flow runs as it is. The
/// call's `wait_for` entries are wrapped in `allow_failure`.
fn failure_rule(
    rule: Option<&str>,
    args: &mut [Expr],
    maybe_none: &HashSet<String>,
    imports: &mut Imports,
) -> Option<FailureRule> {
    use super::guards::{Atom, Guard};
    let rule = rule?;
    if !matches!(rule, "one_failed" | "all_failed" | "all_done" | "always") {
        return None;
    }
    let mut waited: Vec<String> = Vec::new();
    for a in args.iter_mut() {
        if let Expr::Keyword(k, v) = a
            && k == "wait_for"
            && let Expr::List(items) = v.as_mut()
        {
            for item in items.iter_mut() {
                waited.push(item.flat());
                *item = Expr::call("allow_failure", vec![item.clone()]);
            }
        }
    }
    if waited.is_empty() {
        return None;
    }
    imports.name("prefect", "allow_failure");
    if matches!(rule, "all_done" | "always") {
        return Some(FailureRule {
            wait: None,
            condition: None,
            how: "allow_failure in wait_for: it runs however its upstream runs end".into(),
        });
    }
    imports.name("prefect.futures", "wait");
    let some_none = waited.iter().any(|v| maybe_none.contains(v));
    let list = format!("[{}]", waited.join(", "));
    let wait = if some_none {
        Expr::call(
            "wait",
            vec![Expr::raw(format!("[f for f in {list} if f is not None]"))],
        )
    } else {
        Expr::call("wait", vec![Expr::raw(list)])
    };
    let atoms: Vec<Guard> = waited
        .iter()
        .map(|v| {
            let failed = Guard::Atom(Atom::Raw(format!("{v}.state.is_failed()")));
            if maybe_none.contains(v) {
                Guard::all(vec![
                    Guard::Atom(Atom::Raw(format!("{v} is not None"))),
                    failed,
                ])
            } else {
                failed
            }
        })
        .collect();
    let (cond, how) = if rule == "one_failed" {
        (
            Guard::any(atoms),
            "called only when one of its upstream runs failed",
        )
    } else {
        (
            Guard::all(atoms),
            "called only when all of its upstream runs failed",
        )
    };
    Some(FailureRule {
        wait: Some(wait),
        condition: Some(cond),
        how: format!(
            "{how}: the flow waits for them, tests state.is_failed() and the call waits with allow_failure"
        ),
    })
}

/// One statement of a flow body: the variable it binds, the call, and the guard it runs under,
/// if any (its nested `if …:` headers, formatted at their depths).
struct Statement {
    var: Option<String>,
    call: Expr,
    guard: Option<Vec<String>>,
}

/// Formats the flow body: `x_out = call(…)` only where a later statement reads `x_out`; every
/// future nothing later reads is resolved (`x_out.result()`, inside its guard when it has one),
/// and the flow returns `result` (a direct call that is the last statement becomes
/// `return call(…)`, a future `return x.result()`). Consecutive statements under one guard share
/// an `if` block; a guarded variable read outside its block is bound to `None` before it.
fn flow_body(
    statements: Vec<(Option<String>, Expr)>,
    guards: &[Option<Vec<String>>],
    futures: &HashSet<String>,
    result: Option<&str>,
) -> Vec<String> {
    // A statement reads the names of its call and of its guard.
    let flat: Vec<String> = statements
        .iter()
        .enumerate()
        .map(|(i, (_, e))| match guards.get(i).cloned().flatten() {
            Some(g) => format!("{} {}", g.join(" "), e.flat()),
            None => e.flat(),
        })
        .collect();
    let last = last_reads(&flat);
    let read_after = |i: usize, v: &str| last.get(v).is_some_and(|&j| j > i);
    let unresolved =
        |i: usize, v: &str| futures.contains(v) && Some(v) != result && !read_after(i, v);
    let mut body: Vec<Statement> = Vec::new();
    let mut at_end = Vec::new();
    for (i, (var, call)) in statements.into_iter().enumerate() {
        let guard = guards.get(i).cloned().flatten();
        let resolve = var
            .as_deref()
            .filter(|v| unresolved(i, v))
            .map(str::to_string);
        body.push(Statement {
            var,
            call,
            guard: guard.clone(),
        });
        match (resolve, guard) {
            (Some(v), Some(g)) => body.push(Statement {
                var: None,
                call: Expr::raw(format!("{v}.result()")),
                guard: Some(g),
            }),
            (Some(v), None) => at_end.push(v),
            _ => {}
        }
    }
    for v in at_end {
        body.push(Statement {
            var: None,
            call: Expr::raw(format!("{v}.result()")),
            guard: None,
        });
    }
    let mut returned = None;
    if let Some(r) = result {
        let plain = |call: Expr| Statement {
            var: None,
            call,
            guard: None,
        };
        match body.last() {
            _ if futures.contains(r) => body.push(plain(Expr::raw(format!("return {r}.result()")))),
            Some(Statement {
                var: Some(v),
                guard: None,
                ..
            }) if v == r => {
                returned = body.pop().map(|s| s.call);
            }
            _ => body.push(plain(Expr::raw(format!("return {r}")))),
        }
    }
    let flat: Vec<String> = body
        .iter()
        .map(|s| match &s.guard {
            Some(g) => format!("{} {}", g.join(" "), s.call.flat()),
            None => s.call.flat(),
        })
        .collect();
    let last = last_reads(&flat);
    let words: Vec<HashSet<&str>> = flat.iter().map(|t| words(t).collect()).collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let Some(outer) = body[i].guard.as_ref().map(|g| g[0].clone()) else {
            let s = &body[i];
            out.push(match &s.var {
                Some(v) if last.get(v.as_str()).is_some_and(|&l| l > i) => {
                    format!("{v} = {}", s.call.format_lead(4, v.len() + 3, 0))
                }
                _ => s.call.format(4, 0),
            });
            i += 1;
            continue;
        };
        // The statements under the same outermost `if`, nested by their shared headers.
        let mut j = i;
        while j < body.len() && body[j].guard.as_ref().is_some_and(|g| g[0] == outer) {
            j += 1;
        }
        // A variable bound under some `if`s and read later outside them (after the block, or
        // in a sibling block inside it) exists on every path.
        let within = |inner: &Option<Vec<String>>, outer: &Option<Vec<String>>| match (inner, outer)
        {
            (Some(a), Some(b)) => a.starts_with(b),
            (None, Some(_)) => false,
            (_, None) => true,
        };
        for k in i..j {
            if let Some(v) = &body[k].var
                && ((k + 1)..body.len()).any(|l| {
                    words[l].contains(v.as_str()) && !within(&body[l].guard, &body[k].guard)
                })
            {
                out.push(format!("{v} = None"));
            }
        }
        let mut block = String::new();
        let mut open: Vec<&String> = Vec::new();
        for (k, s) in body.iter().enumerate().take(j).skip(i) {
            let headers = s.guard.as_deref().unwrap_or_default();
            let shared = open
                .iter()
                .zip(headers)
                .take_while(|(a, b)| **a == *b)
                .count();
            open.truncate(shared);
            for h in &headers[shared..] {
                if !block.is_empty() {
                    block.push('\n');
                    block.push_str(&" ".repeat(4 + 4 * open.len()));
                }
                block.push_str(h);
                open.push(h);
            }
            let indent = 4 + 4 * open.len();
            let line = match &s.var {
                Some(v) if last.get(v.as_str()).is_some_and(|&l| l > k) => {
                    format!("{v} = {}", s.call.format_lead(indent, v.len() + 3, 0))
                }
                _ => s.call.format(indent, 0),
            };
            block.push('\n');
            block.push_str(&" ".repeat(indent));
            block.push_str(&line);
        }
        out.push(block);
        i = j;
    }
    if let Some(call) = returned {
        out.push(format!("return {}", call.format_lead(4, 7, 0)));
    }
    out
}

/// The identifier-like words of a text.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// The last statement that reads each name (a word of its text): one pass over the flow body,
/// so asking whether a later statement reads a variable is a look-up (it was a scan of every
/// later statement: a 10,000-task flow took minutes).
fn last_reads(flat: &[String]) -> HashMap<&str, usize> {
    let mut last = HashMap::new();
    for (i, text) in flat.iter().enumerate() {
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if !word.is_empty() {
                last.insert(word, i);
            }
        }
    }
    last
}

/// Whether another pipeline of the file calls this one as a sub-flow.
fn called_as_sub_flow(file: &SourceFile, p: &Pipeline) -> bool {
    file.pipelines.iter().any(|q| {
        q.nodes.iter().any(|n| {
            n.kind == NodeKind::SubPipeline
                && n.extra.get("pipeline").and_then(Value::as_str) == Some(p.id.as_str())
        })
    })
}

/// The step whose value a flow returns: the last written step that no other step reads or waits for.
fn result_step(plan: &Plan, folded: &[bool]) -> Option<usize> {
    let read = |i: usize| {
        plan.steps.iter().any(|s| {
            s.after.contains(&i)
                || s.extra_upstreams.contains(&i)
                || s.inputs.iter().any(|input| match &input.source {
                    Source::Step(j) => *j == i,
                    Source::Steps(js) => js.contains(&i),
                    _ => false,
                })
        })
    };
    (0..plan.steps.len())
        .rev()
        .find(|&i| !folded[i] && !read(i))
}

/// A local of the flow that holds a deciding step's result (`route_outputs`, `pick_choice`:
/// the step's variable with `suffix`, made unique among the steps' variables and the other
/// such locals), and the value it is bound to (`x_out.result()` for a future).
fn result_local(
    plan: &Plan,
    step: &Step,
    suffix: &str,
    choices: &HashMap<usize, String>,
    futures: &HashSet<String>,
) -> (String, String) {
    let mut local = format!("{}{suffix}", step.var.trim_end_matches("_out"));
    while plan.steps.iter().any(|s| s.var == local) || choices.values().any(|c| *c == local) {
        local.push('_');
    }
    let value = if futures.contains(&step.var) {
        format!("{}.result()", step.var)
    } else {
        step.var.clone()
    };
    (local, value)
}

/// A step that runs an async task (not a sub-flow, not mapped).
fn async_task(step: &Step) -> bool {
    step.node.kind != NodeKind::SubPipeline
        && step.node.mapping.is_none()
        && step.node.callable.as_ref().is_some_and(|c| c.is_async)
}

/// The keyword arguments of `with_options(...)` that turn the `base` options into `own`
/// (a retry count the base has and the call does not is reset to 0).
fn overrides(base: &[Expr], own: &[Expr]) -> Vec<Expr> {
    let key = |e: &Expr| match e {
        Expr::Keyword(k, _) => Some(k.clone()),
        _ => None,
    };
    let mut out: Vec<Expr> = own.iter().filter(|e| !base.contains(e)).cloned().collect();
    for b in base {
        if let Some(k) = key(b)
            && k == "retries"
            && !own.iter().any(|e| key(e).as_deref() == Some("retries"))
        {
            out.push(Expr::kw("retries", Expr::raw("0")));
        }
    }
    out
}

/// A flow's retry boundary as `@flow` / `with_options` keyword arguments.
fn flow_policy(p: &crate::ir::Policy) -> Vec<Expr> {
    let mut kw = Vec::new();
    if let Some(r) = p.retries {
        kw.push(Expr::kw("retries", Expr::raw(r.to_string())));
        if let Some(d) = p.retry_delay {
            kw.push(Expr::kw("retry_delay_seconds", shared::seconds(d)));
        }
    }
    if let Some(t) = p.timeout {
        kw.push(Expr::kw("timeout_seconds", shared::seconds(t)));
    }
    kw
}

/// The name a call needs in `with_options(name=…)` so that reading it back gives the node id:
/// none when a plain call of `func` gets that id (`func`, `func-2`, … in call order).
fn call_name(calls: &mut HashMap<String, usize>, func: &str, id: &str) -> Option<String> {
    let next = |calls: &HashMap<String, usize>, base: &str| {
        let n = calls.get(base).copied().unwrap_or(0) + 1;
        if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        }
    };
    if next(calls, func) == id || !crate::ir::is_node_id(id) {
        *calls.entry(func.to_string()).or_insert(0) += 1;
        return None;
    }
    // `x-3` is the third call named `x` when two came before.
    let base = id
        .rsplit_once('-')
        .filter(|(b, n)| n.parse::<usize>().is_ok() && next(calls, b) == id)
        .map_or(id, |(b, _)| b)
        .to_string();
    *calls.entry(base.clone()).or_insert(0) += 1;
    Some(base)
}

fn imports_unmapped(imports: &mut Imports, args: &[Expr]) {
    if args.iter().any(|a| a.flat().contains("unmapped(")) {
        imports.name("prefect", "unmapped");
    }
}

/// The flow parameter that carries the partition key, if the pipeline is partitioned.
fn partition_param(p: &Pipeline) -> Option<String> {
    match &p.partitions {
        Some(Partitions::Parameter { name }) => Some(name.clone()),
        Some(_) => Some("partition_key".into()),
        None => p
            .nodes
            .iter()
            .any(|n| n.partitions.is_some())
            .then(|| "partition_key".into()),
    }
}

fn needs_partition(step: &Step, from: Framework) -> bool {
    step.node
        .callable
        .as_ref()
        .is_some_and(|c| rewrite(&c.body, from, Framework::Prefect).partition_key)
}

/// The call arguments of a step inside the flow body.
fn call_args(plan: &Plan, step: &Step, folded: &[bool], mapped: bool) -> Vec<Expr> {
    let mut args = Vec::new();
    let mut named_waits: Vec<usize> = Vec::new();
    for input in &step.inputs {
        // An external asset is not a step: its value is not passed (as in an Airflow port).
        let var = |i: usize| {
            if plan.steps[i].node.kind == NodeKind::ExternalAsset {
                Expr::raw("None")
            } else {
                Expr::raw(plan.steps[i].var.clone())
            }
        };
        let value = match &input.source {
            Source::Step(i) => var(*i),
            Source::Steps(list) => Expr::List(list.iter().map(|i| var(*i)).collect()),
            Source::Literal(v) => python::value(v),
            Source::Param(name) => Expr::raw(identifier(name)),
        };
        // A future cannot be indexed: a named output is read from the upstream's result, and the
        // upstream is waited for so that Prefect still records the dependency.
        let value = match (&input.output, &input.source) {
            (Some(_), Source::Step(i)) if !folded[*i] => {
                named_waits.push(*i);
                input.select(Expr::raw(format!("{}.result()", plan.steps[*i].var)))
            }
            _ => input.select(value),
        };
        let value = if mapped && !input.mapped {
            Expr::call("unmapped", vec![value])
        } else {
            value
        };
        if input.param.is_empty() {
            args.insert(0, value);
        } else {
            args.push(Expr::kw(&input.param, value));
        }
    }
    let mut waits: Vec<usize> = named_waits;
    for &a in step.after.iter().chain(&step.extra_upstreams) {
        collect_waits(plan, a, folded, &mut waits);
    }
    waits.sort_unstable();
    waits.dedup();
    if !waits.is_empty() {
        args.push(Expr::kw(
            "wait_for",
            Expr::List(
                waits
                    .iter()
                    .map(|&w| Expr::raw(plan.steps[w].var.clone()))
                    .collect(),
            ),
        ));
    }
    args
}

/// A step's upstream as `wait_for` sees it: folded steps are replaced by their own upstreams
/// (iteratively, each step once: chains and diamonds of folded steps come from input).
fn collect_waits(plan: &Plan, i: usize, folded: &[bool], out: &mut Vec<usize>) {
    let mut todo = vec![i];
    let mut seen: HashSet<usize> = HashSet::new();
    while let Some(i) = todo.pop() {
        if !seen.insert(i) {
            continue;
        }
        if !folded[i] {
            out.push(i);
            continue;
        }
        let s = &plan.steps[i];
        todo.extend(s.after.iter().chain(&s.extra_upstreams));
        for input in &s.inputs {
            match &input.source {
                Source::Step(j) => todo.push(*j),
                Source::Steps(js) => todo.extend(js),
                _ => {}
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn task(
    step_pipeline: &Pipeline,
    step: &Step,
    from: Framework,
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
    partition: Option<&str>,
    config: &[String],
    plan: &Plan,
) -> FunctionCtx {
    imports.name("prefect", "task");
    let node = step.node;
    let shell = template::shell_command(plan, step, &|n| identifier(n));
    if let Some(r) = &shell {
        template::record(
            r,
            node,
            ledger,
            table,
            ("the flow run's scheduled start", "flow parameters"),
            Anchor::at(Scope::Body(step.func.clone())),
        );
    }
    let mut kwargs = Vec::new();
    // The task's display name from a Prefect decorator; an id that a call-site
    // `with_options(name=…)` cannot carry (`group.task`) becomes the name instead.
    let display = node
        .name
        .as_ref()
        .filter(|n| from == Framework::Prefect && **n != node.id);
    if let Some(n) = display {
        kwargs.push(Expr::kw("name", Expr::str(n)));
    } else if identifier(&node.id) != step.func && !crate::ir::is_node_id(&node.id)
        || node.id.contains('.')
    {
        kwargs.push(Expr::kw("name", Expr::str(&node.id)));
    }
    let at = Anchor::at(Scope::Head(step.func.clone()));
    kwargs.extend(shared::prefect_policy(
        step_pipeline,
        node,
        ledger,
        table,
        &at,
    ));
    if !node.tags.is_empty() {
        kwargs.push(Expr::kw(
            "tags",
            Expr::List(node.tags.iter().map(|t| Expr::str(t)).collect()),
        ));
    }
    if from == Framework::Prefect {
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
    let decorator = python::decorator("task", kwargs);
    let (signature, body, is_async) = shared::body_for(
        step,
        from,
        Framework::Prefect,
        imports,
        helpers,
        ledger,
        table,
        partition,
        (Some(step_pipeline), config),
    );
    let decorator =
        shared::runs_to_end(decorator, &body, from, Framework::Prefect, imports, helpers);
    // A templated shell command is rendered from the task's arguments and the flow run.
    let (signature, body) = match &shell {
        Some(r) => {
            let mut params: Vec<String> = template::upstream_steps(plan, r)
                .into_iter()
                .map(|(f, _)| f)
                .collect();
            params.extend(template::params(r).iter().map(|n| identifier(n)));
            if r.needs.contains(&template::Needed::LogicalDate) {
                imports.name("prefect.runtime", "flow_run");
            }
            let body = template::shell_body(r, "flow_run.scheduled_start_time");
            (
                shared::signature(&format!("def {}", step.func), &params, ""),
                python::indent_body(&body, 4).trim_end().to_string(),
            )
        }
        None => (signature, body),
    };
    FunctionCtx {
        decorator,
        name: step.func.clone(),
        signature,
        body,
        is_async,
    }
}

/// A templated shell step's call passes the upstream values and flow parameters its command
/// reads (the upstreams it takes a value from are no longer only waited for).
fn template_args(plan: &Plan, step: &Step, args: &mut Vec<Expr>) {
    let Some(r) = template::shell_command(plan, step, &|n| identifier(n)) else {
        return;
    };
    let ups = template::upstream_steps(plan, &r);
    let mut values: Vec<Expr> = ups
        .iter()
        .map(|(func, j)| Expr::kw(func, Expr::raw(plan.steps[*j].var.clone())))
        .collect();
    for name in template::params(&r) {
        values.push(Expr::kw(&identifier(&name), Expr::raw(identifier(&name))));
    }
    // Before `wait_for`, which stays the last argument.
    let at = args
        .iter()
        .position(|a| matches!(a, Expr::Keyword(k, _) if k == "wait_for"))
        .unwrap_or(args.len());
    args.splice(at..at, values);
    let taken: Vec<String> = ups
        .iter()
        .map(|(_, j)| plan.steps[*j].var.clone())
        .collect();
    args.retain_mut(|a| match a {
        Expr::Keyword(k, v) if k == "wait_for" => {
            if let Expr::List(items) = v.as_mut() {
                items.retain(|e| !taken.contains(&e.flat()));
                !items.is_empty()
            } else {
                true
            }
        }
        _ => true,
    });
}

/// An Airflow callable's `params` argument (the DAG's run parameters) gets them as a dict of the
/// flow's parameters.
fn params_arg(
    flow: &str,
    p: &Pipeline,
    step: &Step,
    args: &mut Vec<Expr>,
    ledger: &mut Ledger,
    table: &Translations,
) {
    let takes = step
        .node
        .callable
        .as_ref()
        .is_some_and(|c| c.params.iter().any(|x| x.name == "params"));
    if p.framework != Some(Framework::Airflow)
        || p.params.is_empty()
        || !takes
        || args
            .iter()
            .any(|a| matches!(a, Expr::Keyword(k, _) if k == "params"))
    {
        return;
    }
    let dict = p
        .params
        .iter()
        .map(|x| (Expr::str(&x.name), Expr::raw(identifier(&x.name))))
        .collect();
    args.push(Expr::kw("params", Expr::Dict(dict)));
    let n = step.node;
    ledger.consume_as(
        table,
        "body.context",
        &n.id,
        n.span,
        Anchor::body(flow, step.func.as_str()).then("params="),
        Fidelity::Approximate,
        "Airflow's `params` is passed as a dict of the flow's parameters".into(),
    );
}

/// An anchor for a scratch ledger, whose entries are never reported.
fn any() -> Anchor {
    Anchor::at(Scope::Head(String::new()))
}

/// `@task` options passed through unchanged in a Prefect → Prefect port.
const TASK_OPTIONS: &[&str] = &[
    "log_prints",
    "persist_result",
    "task_run_name",
    "cache_expiration",
    "retry_jitter_factor",
    "cache_result_in_memory",
    "refresh_cache",
    "description",
    "version",
];

/// `@flow` options passed through unchanged in a Prefect → Prefect port.
const FLOW_OPTIONS: &[&str] = &[
    "version",
    "validate_parameters",
    "persist_result",
    "flow_run_name",
    "cache_result_in_memory",
];

fn flow_decorator(
    p: &Pipeline,
    flow: &str,
    ledger: &mut Ledger,
    table: &Translations,
    imports: &mut Imports,
) -> String {
    let head = |needle: &str| Anchor::head(flow, needle);
    ledger.consume(table, "pipeline", &p.id, p.span, head("@flow("));
    shared::consume_notes(ledger, table, "pipeline", &p.extra, p.span, &head("@flow("));
    let mut kwargs = vec![Expr::kw("name", Expr::str(&p.name))];
    if let Some(d) = &p.description {
        kwargs.push(Expr::kw(
            "description",
            Expr::str(d.lines().next().unwrap_or("")),
        ));
        ledger.consume(
            table,
            "pipeline.description",
            &p.id,
            p.span,
            head("description="),
        );
    }
    if let Some(r) = p.run_policy.retries {
        kwargs.push(Expr::kw("retries", Expr::raw(r.to_string())));
        ledger.consume(table, "run_policy.retries", &p.id, p.span, head("retries="));
        if let Some(d) = p.run_policy.retry_delay {
            kwargs.push(Expr::kw(
                "retry_delay_seconds",
                Expr::raw(python::float(d).trim_end_matches(".0").to_string()),
            ));
        }
    }
    if let Some(t) = p.run_policy.timeout {
        kwargs.push(Expr::kw(
            "timeout_seconds",
            Expr::raw(python::float(t).trim_end_matches(".0").to_string()),
        ));
        ledger.consume(
            table,
            "run_policy.timeout",
            &p.id,
            p.span,
            head("timeout_seconds="),
        );
    }
    if let Some(lp) = p.extra.get("log_prints").and_then(Value::as_bool) {
        kwargs.push(Expr::kw(
            "log_prints",
            Expr::raw(if lp { "True" } else { "False" }),
        ));
        ledger.consume_as(
            table,
            "extra",
            "pipeline.log_prints",
            p.span,
            head("log_prints="),
            Fidelity::Exact,
            "log_prints kept".into(),
        );
    }
    if p.framework == Some(Framework::Prefect) {
        kwargs.extend(shared::passthrough(
            ledger,
            table,
            "pipeline",
            &p.extra,
            FLOW_OPTIONS,
            p.span,
            imports,
            &head("@flow("),
        ));
    }
    python::decorator("flow", kwargs)
}

fn flow_signature(
    p: &Pipeline,
    name: &str,
    partition: Option<&str>,
    ledger: &mut Ledger,
    table: &Translations,
) -> String {
    let mut params: Vec<String> = Vec::new();
    for prm in &p.params {
        let default = prm
            .default
            .as_ref()
            .map(|v| python::value(v).flat())
            .unwrap_or_else(|| "None".into());
        let ann = prm
            .r#type
            .as_deref()
            .filter(|t| matches!(*t, "str" | "int" | "float" | "bool"));
        params.push(match ann {
            Some(t) => format!("{}: {t} = {default}", identifier(&prm.name)),
            None => format!("{}={default}", identifier(&prm.name)),
        });
        let at = Anchor::head(name, identifier(&prm.name));
        ledger.consume(table, "param", &prm.name, p.span, at);
    }
    if let Some(pk) = partition
        && !p.params.iter().any(|x| x.name == pk)
    {
        let default = shared::default_partition_key(p);
        params.push(format!("{pk}: str = {}", python::string(&default)));
    }
    super::shared::signature(&format!("def {name}"), &params, "")
}

fn deployment(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn submit(func: &str, args: Vec<Expr>) -> Expr {
        Expr::Method(Box::new(Expr::raw(func)), "submit".into(), args)
    }

    #[test]
    fn the_flow_resolves_the_futures_nothing_reads_and_returns_a_value() {
        let statements = vec![
            (Some("a_out".to_string()), submit("a", vec![])),
            (
                Some("b_out".to_string()),
                submit("b", vec![Expr::kw("wait_for", Expr::raw("[a_out]"))]),
            ),
            (Some("c_out".to_string()), submit("c", vec![])),
            (Some("child_out".to_string()), Expr::call("child", vec![])),
        ];
        let futures: HashSet<String> = ["a_out", "b_out", "c_out"].map(String::from).into();
        assert_eq!(
            flow_body(statements.clone(), &[], &futures, None),
            [
                "a_out = a.submit()",
                "b_out = b.submit(wait_for=[a_out])",
                "c_out = c.submit()",
                "child()",
                "b_out.result()",
                "c_out.result()",
            ]
        );
        // A sub-flow returns its result step's value, not the future.
        let body = flow_body(statements, &[], &futures, Some("c_out"));
        assert_eq!(
            body[body.len() - 2..],
            ["b_out.result()", "return c_out.result()"]
        );
    }

    /// A variable bound in a nested `if` and read in a sibling `if` of the same outer block is
    /// bound to None first (an example DAG's chained branches raised UnboundLocalError).
    #[test]
    fn a_variable_of_a_nested_block_read_in_a_sibling_block_is_bound_first() {
        let g = |h: &[&str]| Some(h.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        let statements = vec![
            (Some("x_out".to_string()), submit("x", vec![])),
            (
                Some("y_out".to_string()),
                submit("y", vec![Expr::kw("wait_for", Expr::raw("[x_out]"))]),
            ),
        ];
        let guards = vec![g(&["if a:", "if b:"]), g(&["if a:", "if c:"])];
        let futures: HashSet<String> = ["x_out", "y_out"].map(String::from).into();
        let body = flow_body(statements, &guards, &futures, None);
        assert_eq!(
            body,
            [
                "x_out = None",
                "if a:\n        if b:\n            x_out = x.submit()\n        if c:\n            y_out = y.submit(wait_for=[x_out])\n            y_out.result()",
            ]
        );
    }
}
