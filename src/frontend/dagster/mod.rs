//! The Dagster reader: definitions files → IR pipelines, statically.
//!
//! The module is read top to bottom as importing it would build definitions — `@asset`,
//! `@multi_asset`, `@graph_asset`, `AssetSpec`, `@asset_check`, `@op`/`@graph`/`@job`,
//! `define_asset_job`, schedules, sensors and `Definitions(...)` — but nothing is imported or run.
//!
//! **What a Dagster pipeline is in the IR.** Dagster has no single "DAG" object, so the reader
//! forms pipelines from what the module's `Definitions` (or, without one, its module-level
//! definitions, as `dagster definitions validate -f` loads loose files) registers:
//!
//! 1. **One pipeline per job**, in source order, with the job's name as id. An asset job
//!    (`define_asset_job`) holds the assets its selection resolves to (groups, keys, prefixes,
//!    tags, kinds, owners, up/downstream, `|` `&` `-`, selection strings, no selection = every
//!    asset), plus the external assets (`AssetSpec`) they read directly, and the checks on
//!    those assets. An op job (`@job`, `graph.to_job`) holds one node per op invocation, named
//!    as Dagster names its steps (`op`, `op_2`, aliases, `graph.op` inside graphs, each graph a
//!    sub-flow group). Schedules targeting the job become its `schedule` (every one of them is
//!    listed in `extra.schedules`), sensors targeting it go to `sensors` (their other options
//!    to `extra.sensor_options`), and `op_retry_policy` is its default policy. The job's
//!    partitions are its `partitions_def`, else the one definition its assets share.
//! 2. **One pipeline per asset group** (id = group name, `default` for ungrouped assets;
//!    `<group>_assets` if a job already has that name) holding the registered assets that no
//!    job selects, so every asset is a node of at least one pipeline.
//!
//! Asset nodes are named by their key path joined with `/`, carry their own `partitions`, and
//! list every upstream key in `inlets` (even when the upstream sits in another pipeline);
//! edges exist only between nodes of the same pipeline: `data` for parameters and `ins`
//! (parameters that are the context, run config or annotated resources are not dependencies),
//! `order` for `deps=`. Options with no IR field go to `extra` (metadata, kinds, code_version,
//! automation_condition, freshness_policy, partition mappings, `uses` of the context and of
//! Dagster APIs in the body, …); anything that cannot be read statically is an `opaque` entry
//! with its span and the reason.

mod body;
mod build;
mod catalog;
mod module;
mod names;
mod ops;
mod options;
mod partitions;
mod selection;

#[cfg(test)]
mod tests;

use super::{FileContext, Reading};

/// Reads every Dagster pipeline of a module.
pub fn read(ctx: &FileContext) -> Reading {
    let mut reader = module::ModuleReader::new(ctx);
    reader.run();
    let (pipelines, mut diagnostics) = build::pipelines(&reader);
    diagnostics.splice(0..0, reader.diagnostics().iter().cloned());
    Reading {
        pipelines,
        diagnostics,
        source_version: Some("dagster@1".to_string()),
    }
}
