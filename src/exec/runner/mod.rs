//! Runners: what executes one attempt of a step. `dry` decides by fault injection; `python` runs
//! the step's real body in a python3 worker.

pub mod dry;
pub mod python;

use std::collections::BTreeMap;

use crate::ir::{Node, Pipeline, SourceFile};

/// Where one argument of a step comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The stored output of an upstream instance.
    Output(String),
    /// Element `index` of a stored output.
    Element(String, usize),
    /// One named output of a stored output: its key when it is a dict, else its element at the
    /// output's position (a returned tuple), else the whole value.
    Named(String, String, Option<usize>),
    /// A list of inputs (several upstreams feed one parameter, or a mapped upstream is collected).
    List(Vec<Input>),
    /// A Python expression evaluated in the module's namespace plus the run's parameters.
    Expr(String),
    /// A JSON value.
    Json(serde_json::Value),
    /// A framework-provided value by name (`context`, `ds`, `ti`, a resource): the runner supplies it.
    Magic(String),
}

/// One attempt to run.
pub struct Attempt<'a> {
    /// The file the pipeline comes from (its support code).
    pub file: &'a SourceFile,
    /// The pipeline.
    pub pipeline: &'a Pipeline,
    /// The step.
    pub node: &'a Node,
    /// The step's index in `pipeline.nodes`.
    pub node_index: usize,
    /// The step's path (`parent::child` in sub-pipelines).
    pub path: &'a str,
    /// The partition key.
    pub partition: Option<&'a str>,
    /// The map index.
    pub map_index: Option<usize>,
    /// Attempt number over the ledger's history (1-based).
    pub attempt: u32,
    /// The attempt timeout, milliseconds.
    pub timeout_ms: Option<u64>,
    /// Arguments by parameter name (`**` spreads a dict of keyword arguments).
    pub inputs: Vec<(String, Input)>,
    /// Where to store the output, for downstream inputs.
    pub key: String,
    /// The run's parameters (pipeline parameters, the partition parameter, sub-pipeline call arguments).
    pub params: &'a BTreeMap<String, Input>,
}

/// What an attempt did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// It succeeded.
    pub ok: bool,
    /// It was killed at its timeout.
    pub timed_out: bool,
    /// It asked to be skipped (Airflow `AirflowSkipException`).
    pub skipped: bool,
    /// Why it failed (a traceback for the python runner).
    pub error: Option<String>,
    /// The return value as JSON (python runner).
    pub output: Option<serde_json::Value>,
    /// The length of the return value, when it is a collection (for mapping over it).
    pub len: Option<usize>,
    /// Whether the return value is truthy (short-circuit steps).
    pub truthy: bool,
    /// The output is known without the python runner (forced by `--set-output`, or computed by
    /// the dry runner from a body that only returns an expression), so branches act on it.
    pub known: bool,
}

impl Outcome {
    /// A success with no output.
    pub fn success() -> Outcome {
        Outcome {
            ok: true,
            truthy: true,
            ..Outcome::default()
        }
    }

    /// A failure with a reason.
    pub fn failure(error: impl Into<String>) -> Outcome {
        Outcome {
            error: Some(error.into()),
            ..Outcome::default()
        }
    }
}

/// A way of executing steps.
pub trait Runner {
    /// `dry` or `python`.
    fn name(&self) -> &'static str;
    /// Whether it runs bodies (then outputs, branches, short-circuits and conditions are real).
    fn runs_bodies(&self) -> bool;
    /// Runs one attempt.
    fn attempt(&mut self, a: &Attempt) -> Outcome;
    /// Evaluates a call-site condition; `None` when it cannot be told (the step then runs).
    fn condition(
        &mut self,
        file: &SourceFile,
        expr: &str,
        params: &BTreeMap<String, Input>,
    ) -> Option<bool>;
    /// Makes a stored output available under a key again (a resumed run's restored steps).
    fn restore(&mut self, key: &str, value: &serde_json::Value);
}
