//! The run ledger: an append-only JSON-lines file, one event per line, fsync'd after each, whose
//! first record holds the run's arguments; and its reading back for `--resume`.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use super::RunArgs;
use super::trigger::State;

/// Version of the ledger's record format.
pub const LEDGER_VERSION: u32 = 1;

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The first record: what was run, with every argument needed to run it again.
    Run {
        /// [`LEDGER_VERSION`].
        version: u32,
        /// The pipeline id.
        pipeline: String,
        /// The run's arguments.
        args: RunArgs,
    },
    /// A `--resume` of this ledger starts here.
    Resume {
        /// Instances that will run again.
        rerun: usize,
    },
    /// A mapped step was expanded to this many instances.
    Expand {
        /// Step path (`parent::child` inside sub-pipelines).
        node: String,
        /// Partition key.
        partition: Option<String>,
        /// Number of instances.
        width: usize,
    },
    /// An attempt started.
    Start {
        /// Step path.
        node: String,
        /// Partition key.
        partition: Option<String>,
        /// Map index.
        map_index: Option<usize>,
        /// Attempt number over the ledger's history (1-based).
        attempt: u32,
        /// Virtual start, seconds.
        at: f64,
    },
    /// An attempt ended.
    Attempt {
        /// Step path.
        node: String,
        /// Partition key.
        partition: Option<String>,
        /// Map index.
        map_index: Option<usize>,
        /// Attempt number over the ledger's history (1-based).
        attempt: u32,
        /// Virtual start, seconds.
        start: f64,
        /// Virtual end, seconds.
        end: f64,
        /// Whether it succeeded.
        ok: bool,
        /// The error or traceback of a failed attempt.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// The return value (python runner), as JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<serde_json::Value>,
    },
    /// A step instance reached its final state.
    Final {
        /// Step path.
        node: String,
        /// Partition key.
        partition: Option<String>,
        /// Map index.
        map_index: Option<usize>,
        /// Final state.
        state: State,
        /// Attempts made in this run.
        attempts: u32,
        /// Virtual start of the first attempt.
        start: Option<f64>,
        /// Virtual end of the last attempt (or when it was decided).
        end: Option<f64>,
        /// The return value (python runner), as JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<serde_json::Value>,
    },
    /// The run ended.
    End {
        /// `success` or `failed`.
        state: String,
    },
}

/// An open ledger file; every event is written and fsync'd before `write` returns.
pub struct LedgerWriter {
    file: std::fs::File,
}

impl LedgerWriter {
    /// Creates (or truncates) a ledger for a new run.
    pub fn create(path: &Path) -> std::io::Result<LedgerWriter> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)?;
        Ok(LedgerWriter { file })
    }

    /// Opens a ledger to append a resumed run to it.
    pub fn append(path: &Path) -> std::io::Result<LedgerWriter> {
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(LedgerWriter { file })
    }

    /// Appends one event as a line and syncs it to disk.
    pub fn write(&mut self, event: &Event) -> std::io::Result<()> {
        let mut line = serde_json::to_string(event).map_err(std::io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }
}

/// Key of a step instance in the ledger: path, partition, map index.
pub type InstanceKey = (String, Option<String>, Option<usize>);

/// What a ledger says happened, for a resume.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The arguments of the first run.
    pub args: Option<RunArgs>,
    /// The pipeline id of the first run.
    pub pipeline: String,
    /// The last final record of each instance: state and output.
    pub finals: HashMap<InstanceKey, (State, Option<serde_json::Value>)>,
    /// The last expansion width of each mapped step per partition.
    pub widths: HashMap<(String, Option<String>), usize>,
    /// The highest attempt number each instance reached.
    pub attempts: HashMap<InstanceKey, u32>,
    /// Lines that could not be read (a run killed mid-write leaves at most one).
    pub unreadable: usize,
}

/// Reads a ledger back; a torn last line (a killed run) is tolerated and counted.
pub fn read(path: &Path) -> Result<History, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the ledger: {e}"))?;
    let mut h = History::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event: Event = match serde_json::from_str(line) {
            Ok(e) => e,
            Err(e) => {
                if i == 0 {
                    return Err(format!("this is not an orchmig run ledger (line 1: {e})"));
                }
                h.unreadable += 1;
                continue;
            }
        };
        match event {
            Event::Run {
                version,
                pipeline,
                args,
            } => {
                if version > LEDGER_VERSION {
                    return Err(format!(
                        "the ledger has version {version}; this orchmig reads up to {LEDGER_VERSION}"
                    ));
                }
                if h.args.is_none() {
                    h.args = Some(args);
                    h.pipeline = pipeline;
                }
            }
            Event::Expand {
                node,
                partition,
                width,
            } => {
                h.widths.insert((node, partition), width);
            }
            Event::Start {
                node,
                partition,
                map_index,
                attempt,
                ..
            }
            | Event::Attempt {
                node,
                partition,
                map_index,
                attempt,
                ..
            } => {
                let e = h.attempts.entry((node, partition, map_index)).or_default();
                *e = (*e).max(attempt);
            }
            Event::Final {
                node,
                partition,
                map_index,
                state,
                output,
                ..
            } => {
                h.finals
                    .insert((node, partition, map_index), (state, output));
            }
            Event::Resume { .. } | Event::End { .. } => {}
        }
    }
    if h.args.is_none() {
        return Err(
            "the ledger has no run record: it is empty or not an orchmig run ledger".into(),
        );
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_reads_and_tolerates_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        let mut w = LedgerWriter::create(&path).unwrap();
        w.write(&Event::Run {
            version: LEDGER_VERSION,
            pipeline: "p".into(),
            args: RunArgs::default(),
        })
        .unwrap();
        w.write(&Event::Start {
            node: "a".into(),
            partition: None,
            map_index: None,
            attempt: 2,
            at: 0.0,
        })
        .unwrap();
        w.write(&Event::Final {
            node: "a".into(),
            partition: None,
            map_index: None,
            state: State::Success,
            attempts: 1,
            start: Some(0.0),
            end: Some(1.0),
            output: None,
        })
        .unwrap();
        drop(w);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"event\":\"fin");
        std::fs::write(&path, text).unwrap();
        let h = read(&path).unwrap();
        assert_eq!(h.pipeline, "p");
        assert_eq!(h.unreadable, 1);
        assert_eq!(h.attempts[&("a".to_string(), None, None)], 2);
        assert_eq!(h.finals[&("a".to_string(), None, None)].0, State::Success);
        std::fs::write(&path, "not json\n").unwrap();
        assert!(
            read(&path)
                .unwrap_err()
                .contains("not an orchmig run ledger")
        );
    }
}
