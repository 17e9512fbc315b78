//! The Airflow reader: DAG files (Airflow 2.x and 3.x spellings) → IR pipelines, statically.
//!
//! The module is interpreted statement by statement, the way Python would import it, but only
//! the parts that build DAGs are followed: DAG contexts, task groups, TaskFlow calls, classic
//! operators, dependency operators, loops over static lists and local helper functions.

mod builder;
mod interp;
mod names;
mod options;

pub use names::{Symbol, classify};

use super::{FileContext, Reading};

/// Reads every DAG of an Airflow module.
pub fn read(ctx: &FileContext) -> Reading {
    let mut interp = interp::Interpreter::new(ctx);
    interp.run_module();
    let (pipelines, diagnostics) = interp.finish();
    Reading {
        pipelines,
        diagnostics,
        source_version: Some(names::source_version(ctx.imports).to_string()),
    }
}
