//! What a run is asked to do: the arguments the ledger records first.

use serde::{Deserialize, Serialize};

use super::fault::Faults;

/// Everything a run was asked to do; the ledger's first record, so a resume needs nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunArgs {
    /// The pipeline file.
    pub path: String,
    /// The pipeline id, when the file has several.
    pub pipeline: Option<String>,
    /// `dry` or `python`.
    pub runner: String,
    /// Concurrent attempts.
    pub max_active: usize,
    /// Width of a mapped step whose collection is unknown (dry runner).
    pub map_width: usize,
    /// `--fail` specs.
    pub fail: Vec<String>,
    /// `--hang` specs.
    pub hang: Vec<String>,
    /// `--set-output` specs (`NODE=JSON`).
    pub set_output: Vec<String>,
    /// `--partition KEY`.
    pub partition: Option<String>,
    /// `--backfill START..END`.
    pub backfill: Option<String>,
    /// Concurrent partitions of a backfill.
    pub max_partitions_active: usize,
    /// Wall-clock limit of a python attempt without a timeout of its own, seconds.
    pub attempt_timeout: f64,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            path: String::new(),
            pipeline: None,
            runner: "dry".into(),
            max_active: 16,
            map_width: 3,
            fail: Vec::new(),
            hang: Vec::new(),
            set_output: Vec::new(),
            partition: None,
            backfill: None,
            max_partitions_active: 1,
            attempt_timeout: 600.0,
        }
    }
}

impl RunArgs {
    /// The injected faults.
    pub fn faults(&self) -> Faults {
        Faults {
            fail: self.fail.clone(),
            hang: self.hang.clone(),
            set_output: self.set_output.clone(),
        }
    }
}
