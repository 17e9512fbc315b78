//! The Prefect reader: flow modules (Prefect 3, and Prefect 2 deployment spellings) → IR
//! pipelines, statically.
//!
//! Rules (the IR contract for Prefect):
//! - Every module-level `@flow` is a pipeline, id = the function name, `name=` its display
//!   name; a module-level `x = some_flow.with_options(...)` is a pipeline of its own with id `x`
//!   (`extra.variant_of` names the base flow).
//! - A flow called inside another flow is also a `SubPipeline` node of the caller (id = the
//!   sub-flow function's name), with the sub-flow's retries/timeout as its policy and a `SubFlow`
//!   group of the same id holding that policy; `extra.pipeline` names the called pipeline.
//! - A task call is one node (id = the task function's name; `name=` kept as display name); a
//!   call through `task.with_options(name="x")` is named `x` instead (as Airflow's
//!   `override(task_id=…)`; names that are not letters, digits, `_`, `-` keep the function
//!   name); a `.map()` call is one node with a mapping; a task called again in the same flow
//!   gets `-2`, `-3`, … in call order. Loops over literals are unrolled (one node per iteration, up
//!   to [`interp::MAX_UNROLL`]); loops over run-time values are read once, their nodes marked
//!   `extra.dynamic_loop`, and reported as opaque.
//! - Calls under `if`/`else` are kept with `node.condition`; runs read by a condition become
//!   order edges (a control dependency). Local helpers are followed, imported ones are opaque.
//! - Data edges come from arguments (nested calls, bound variables, values derived from
//!   results); `wait_for=[…]` gives order edges.
//! - A flow-body statement that is no task or sub-flow call but computes on a run's result or a
//!   flow parameter is a generated step (`Task`, flavour `flow_code`; `interp/flow_code.rs`) that
//!   later reads of what it assigns get their data edge from; an expression statement keeps its
//!   place among the calls around it (order edges). A sub-flow that calls no task or sub-flow is
//!   one step (flavour `sub_flow`) running its function, with no group; its own pipeline is its
//!   whole body as one `flow_code` step. `if __name__ == "__main__":` is read for
//!   deployments only. A `prefect.yaml` beside the file adds its deployments.

mod interp;
mod names;
mod options;
mod raising;
mod scan;
mod yaml;

pub use names::{Symbol, classify};

use super::{FileContext, Reading};

/// Reads every flow of a Prefect module.
pub fn read(ctx: &FileContext) -> Reading {
    let mut interp = interp::Interpreter::new(ctx);
    interp.run_module();
    let mut diagnostics = Vec::new();
    for (function, deployment) in yaml::deployments_beside(ctx.src.path, &mut diagnostics) {
        interp.add_external_deployment(&function, deployment);
    }
    let (pipelines, mut found) = interp.finish();
    found.extend(diagnostics);
    Reading {
        pipelines,
        diagnostics: found,
        source_version: Some(names::source_version(ctx.imports).to_string()),
    }
}

#[cfg(test)]
mod tests;
