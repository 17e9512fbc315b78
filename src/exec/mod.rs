//! The native executor: runs a pipeline's IR graph locally on a virtual clock (`orchmig run`),
//! with retries, timeouts, trigger rules, mapping, sub-pipelines, partitions and backfills, an
//! append-only run ledger for `--resume`, and two runners (dry, python).

mod args;
pub mod clock;
pub mod condition;
pub mod fault;
pub mod final_state;
pub mod ledger;
pub mod mapping;
pub mod partitions;
pub mod policy;
pub mod runner;
pub mod schedule;
pub mod scheduler;
pub mod trace;
pub mod trigger;

use std::collections::BTreeMap;

use crate::ir::{Pipeline, SourceFile};
pub use args::RunArgs;
use ledger::{Event, History, LEDGER_VERSION, LedgerWriter};
use runner::{Input, Runner};
use scheduler::{Env, RunSpec};
pub use trace::{Record, Trace};
pub use trigger::State;

/// The partitions a run covers: `--partition`, the keys of `--backfill`, or the default key.
pub fn partitions_for(p: &Pipeline, args: &RunArgs) -> Result<Vec<Option<String>>, String> {
    if let Some(k) = &args.partition {
        partitions::check_key(p, k)?;
        return Ok(vec![Some(k.clone())]);
    }
    if let Some(range) = &args.backfill {
        let Some((a, b)) = range.split_once("..") else {
            return Err(format!("--backfill takes START..END, not `{range}`"));
        };
        let keys = partitions::backfill_keys(p, a.trim(), b.trim())?;
        if keys.is_empty() {
            return Err(format!(
                "the range {range} holds no partition of pipeline `{}`",
                p.id
            ));
        }
        return Ok(keys.into_iter().map(Some).collect());
    }
    Ok(vec![partitions::default_key(p)])
}

/// The pipeline to run: the named one, or the only one that no other pipeline of the file calls.
pub fn pick<'f>(file: &'f SourceFile, name: Option<&str>) -> Result<&'f Pipeline, String> {
    let ids: Vec<&str> = file.pipelines.iter().map(|p| p.id.as_str()).collect();
    if let Some(n) = name {
        return file
            .pipelines
            .iter()
            .find(|p| p.id == n)
            .or_else(|| file.pipelines.iter().find(|p| p.name == n))
            .ok_or_else(|| {
                format!(
                    "no pipeline `{n}` in {} (it has {})",
                    file.path,
                    ids.join(", ")
                )
            });
    }
    let called: Vec<&str> = file
        .pipelines
        .iter()
        .flat_map(|p| p.nodes.iter())
        .filter_map(|n| n.extra.get("pipeline").and_then(crate::ir::Value::as_str))
        .collect();
    let top: Vec<&Pipeline> = file
        .pipelines
        .iter()
        .filter(|p| !called.contains(&p.id.as_str()))
        .collect();
    match top.as_slice() {
        [one] => Ok(one),
        _ if file.pipelines.len() == 1 => Ok(&file.pipelines[0]),
        _ => Err(format!(
            "{} defines several pipelines ({}): pass --pipeline NAME",
            file.path,
            ids.join(", ")
        )),
    }
}

/// Makes the runner a run asks for.
pub fn make_runner(args: &RunArgs) -> Result<Box<dyn Runner>, String> {
    match args.runner.as_str() {
        "dry" => Ok(Box::new(runner::dry::DryRunner::new(args.faults()))),
        "python" => Ok(Box::new(runner::python::PythonRunner::new(
            args.attempt_timeout,
            args.faults(),
        )?)),
        other => Err(format!("unknown runner `{other}`: use dry or python")),
    }
}

/// Every step path of a pipeline, sub-pipeline steps included (`parent::child`).
pub fn step_paths(file: &SourceFile, p: &Pipeline) -> Vec<String> {
    fn walk(file: &SourceFile, p: &Pipeline, prefix: &str, depth: usize, out: &mut Vec<String>) {
        for n in &p.nodes {
            let path = format!("{prefix}{}", n.id);
            out.push(path.clone());
            if depth < scheduler::MAX_DEPTH
                && let Some(child) = n
                    .extra
                    .get("pipeline")
                    .and_then(crate::ir::Value::as_str)
                    .and_then(|id| file.pipelines.iter().find(|q| q.id == id && q.id != p.id))
            {
                walk(file, child, &format!("{path}::"), depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(file, p, "", 0, &mut out);
    out
}

/// Runs a pipeline: writes the ledger's run (or resume) record, schedules every partition, and
/// returns the trace of what ran. `warn` gets each warning about the plan (an unknown trigger
/// rule) before anything runs.
pub fn execute(
    file: &SourceFile,
    pipeline: &Pipeline,
    args: &RunArgs,
    runner: &mut dyn Runner,
    mut ledger: Option<&mut LedgerWriter>,
    history: Option<&History>,
    warn: &mut dyn FnMut(&str),
) -> Result<Trace, String> {
    let parts = partitions_for(pipeline, args)?;
    let plan = scheduler::Plan::new(pipeline)?;
    for w in &plan.warnings {
        warn(w);
    }
    let write = |l: &mut Option<&mut LedgerWriter>, e: Event| -> Result<(), String> {
        match l.as_deref_mut() {
            Some(w) => w
                .write(&e)
                .map_err(|e| format!("cannot write the ledger: {e}")),
            None => Ok(()),
        }
    };
    match history {
        // The pipeline's identity is hashed only for a ledger that records it (a dry verify of a
        // large pipeline would otherwise serialise its whole IR for nothing).
        None if ledger.is_none() => {}
        None => write(
            &mut ledger,
            Event::Run {
                version: LEDGER_VERSION,
                run_id: ledger::new_run_id(),
                file: args.path.clone(),
                pipeline: pipeline.id.clone(),
                ir: ledger::ir_hash(file, pipeline),
                args: args.clone(),
            },
        )?,
        Some(h) => {
            let rerun: usize = parts
                .iter()
                .map(|k| scheduler::rerun_set(&plan, "", k, h).len())
                .sum();
            write(
                &mut ledger,
                Event::Resume {
                    run_id: ledger::new_run_id(),
                    runner: runner.name().to_string(),
                    rerun,
                },
            )?;
        }
    }
    drop(plan);
    let params: BTreeMap<String, Input> = pipeline
        .params
        .iter()
        .map(|x| {
            (
                x.name.clone(),
                x.default
                    .as_ref()
                    .map(|v| Input::Expr(scheduler::value_source(v)))
                    .unwrap_or(Input::Json(serde_json::Value::Null)),
            )
        })
        .collect();
    let faults = args.faults();
    let runner_name = runner.name().to_string();
    let mut env = Env {
        file,
        runner,
        ledger: ledger.as_deref_mut(),
        history,
        faults: &faults,
        max_active: args.max_active.max(1),
        max_partitions_active: args.max_partitions_active.max(1),
        map_width: args.map_width,
        ledger_error: None,
        attempts: std::collections::HashMap::new(),
    };
    let outcome = scheduler::run(
        &mut env,
        RunSpec {
            pipeline,
            prefix: String::new(),
            partitions: parts.clone(),
            params,
            start: 0,
            depth: 0,
            resume: history.is_some(),
        },
    )?;
    let state = if outcome.ok { "success" } else { "failed" };
    write(
        &mut ledger,
        Event::End {
            state: state.into(),
        },
    )?;
    Ok(Trace {
        pipeline: pipeline.id.clone(),
        runner: runner_name,
        state: state.into(),
        partitions: parts,
        records: outcome.records,
        duration: clock::seconds(outcome.end),
        success_despite: final_state::success_despite(pipeline),
    })
}
