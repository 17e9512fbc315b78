//! The run ledger: an append-only JSON-lines file, one record per line, each carrying a checksum
//! chained to the line before it and fsync'd before the run goes on; its first record names the
//! run and the pipeline it ran (file, id, a hash of its IR) and holds the run's arguments. Also
//! its reading back for `--resume`, which trusts only records whose checksums hold.
//!
//! A line is `{"sum":"<hex>",<the record's fields>}`. The sum is the SHA-256, in lowercase hex, of
//! the previous line's sum (nothing for the first line) followed by the record's JSON without its
//! sum (the line with `"sum":"<hex>",` removed). A last line without its newline is a write a
//! crash cut short: it is reported and ignored, and a resume cuts it off before appending.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::RunArgs;
use super::trigger::State;
use crate::ir::{Pipeline, SourceFile};

/// Version of the ledger's record format (1: no checksums, no pipeline identity).
pub const LEDGER_VERSION: u32 = 2;

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The first record: what was run, with every argument needed to run it again.
    Run {
        /// [`LEDGER_VERSION`].
        version: u32,
        /// This run's id.
        run_id: String,
        /// The pipeline file, as the command line named it.
        file: String,
        /// The pipeline id.
        pipeline: String,
        /// [`ir_hash`] of the pipeline.
        ir: String,
        /// The run's arguments.
        args: RunArgs,
    },
    /// A `--resume` of this ledger starts here.
    Resume {
        /// The resumed run's id.
        run_id: String,
        /// The runner the resume uses (the command line's, never the ledger's).
        runner: String,
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

/// Lowercase hex SHA-256 of some bytes.
fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Hash of a pipeline's IR and of the sub-pipelines it calls, without source positions (so
/// moving code around or adding a comment keeps it): a ledger's pipeline identity.
pub fn ir_hash(file: &SourceFile, p: &Pipeline) -> String {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for k in ["span", "body_span", "line"] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut ids = vec![p.id.as_str()];
    let mut i = 0;
    while i < ids.len() {
        if let Some(q) = file.pipelines.iter().find(|q| q.id == ids[i]) {
            for n in &q.nodes {
                if let Some(id) = n.extra.get("pipeline").and_then(crate::ir::Value::as_str)
                    && !ids.contains(&id)
                {
                    ids.push(id);
                }
            }
        }
        i += 1;
    }
    let mut h = Sha256::new();
    for id in ids {
        if let Some(q) = file.pipelines.iter().find(|q| q.id == id) {
            let mut v = serde_json::to_value(q).unwrap_or_default();
            strip(&mut v);
            h.update(v.to_string().as_bytes());
            h.update(b"\n");
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A new run id: 16 hex digits from the time, the process id and a counter.
pub fn new_run_id() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let seed = format!("{now}/{}/{n}", std::process::id());
    sha256_hex(&[seed.as_bytes()])[..16].to_string()
}

/// The prefix of every line: `{"sum":"` + 64 hex digits + `",`.
const SUM_PREFIX: &str = "{\"sum\":\"";
const SUM_LEN: usize = 64;

/// The line of a record chained to `prev`, and its sum.
fn encode(event: &Event, prev: &str) -> std::io::Result<(String, String)> {
    let body = serde_json::to_string(event).map_err(std::io::Error::other)?;
    let sum = sha256_hex(&[prev.as_bytes(), body.as_bytes()]);
    let rest = body.strip_prefix('{').unwrap_or(&body);
    Ok((format!("{SUM_PREFIX}{sum}\",{rest}\n"), sum))
}

/// Checks one line (without its newline) against the previous sum; the record and its sum.
fn decode(line: &[u8], prev: &str) -> Result<(Event, String), String> {
    let text = std::str::from_utf8(line).map_err(|_| "it is not UTF-8 text".to_string())?;
    let sum = text
        .strip_prefix(SUM_PREFIX)
        .and_then(|t| t.get(..SUM_LEN))
        .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or("it has no checksum (`{\"sum\":…` at its start)")?;
    let rest = text[SUM_PREFIX.len() + SUM_LEN..]
        .strip_prefix("\",")
        .ok_or("its checksum field is malformed")?;
    let body = format!("{{{rest}");
    if sha256_hex(&[prev.as_bytes(), body.as_bytes()]) != sum {
        return Err("its checksum does not match its content (or a line before it is missing or was changed)".into());
    }
    let event: Event =
        serde_json::from_str(&body).map_err(|e| format!("it is not a ledger record: {e}"))?;
    Ok((event, sum.to_string()))
}

/// An open ledger file; every record is written and fsync'd before `write` returns.
pub struct LedgerWriter {
    file: std::fs::File,
    /// The sum of the last record written (the next one chains to it).
    prev: String,
    /// A new ledger's temporary file and its destination: it replaces the destination once the
    /// run record is on disk, so a run that stops before it leaves an older file as it was.
    pending: Option<(tempfile::NamedTempFile, PathBuf)>,
}

/// A temporary file beside `path` (same folder, so a rename replaces `path` atomically).
fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut b = tempfile::Builder::new();
    b.prefix(".orchmig-ledger-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // What a plain create gives (the umask applies), not tempfile's private 0600.
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b.tempfile_in(dir)
}

impl LedgerWriter {
    /// Starts a new ledger at `path`; it replaces any file there once its run record is written.
    pub fn create(path: &Path) -> std::io::Result<LedgerWriter> {
        let tmp = temp_beside(path)?;
        let file = tmp.as_file().try_clone()?;
        Ok(LedgerWriter {
            file,
            prev: String::new(),
            pending: Some((tmp, path.to_path_buf())),
        })
    }

    /// Opens a ledger that [`read`] checked to append a resumed run to it: a torn last line is cut
    /// off first, so every line stays whole.
    pub fn append(path: &Path, h: &History) -> std::io::Result<LedgerWriter> {
        let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
        file.set_len(h.end)?;
        if h.newline_missing {
            file.write_all(b"\n")?;
        }
        file.sync_data()?;
        Ok(LedgerWriter {
            file,
            prev: h.last_sum.clone(),
            pending: None,
        })
    }

    /// Continues the ledger `from`, which [`read`] checked, in a new file `path`: its records
    /// are copied there (atomically: a temporary file renamed), then the resumed run appended.
    pub fn copy(from: &Path, h: &History, path: &Path) -> std::io::Result<LedgerWriter> {
        let mut bytes = Vec::new();
        std::fs::File::open(from)?
            .take(h.end)
            .read_to_end(&mut bytes)?;
        if h.newline_missing {
            bytes.push(b'\n');
        }
        let mut tmp = temp_beside(path)?;
        tmp.write_all(&bytes)?;
        tmp.as_file().sync_data()?;
        // The handle stays at the end of what was copied; the resumed run goes on from there.
        let file = tmp.persist(path).map_err(|e| e.error)?;
        sync_dir(path);
        Ok(LedgerWriter {
            file,
            prev: h.last_sum.clone(),
            pending: None,
        })
    }

    /// Appends one record as a line and syncs it to disk.
    pub fn write(&mut self, event: &Event) -> std::io::Result<()> {
        let (line, sum) = encode(event, &self.prev)?;
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()?;
        self.prev = sum;
        if let Some((tmp, path)) = self.pending.take() {
            tmp.persist(&path).map_err(|e| e.error)?;
            sync_dir(&path);
        }
        Ok(())
    }
}

/// Syncs the folder of `path`, so a rename into it survives a crash (best effort).
fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(d) = path.parent() {
        let d = if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        };
        if let Ok(f) = std::fs::File::open(d) {
            let _ = f.sync_all();
        }
    }
}

/// Key of a step instance in the ledger: path, partition, map index.
pub type InstanceKey = (String, Option<String>, Option<usize>);

/// What a ledger says happened, for a resume.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The arguments of the first run.
    pub args: RunArgs,
    /// The first run's id.
    pub run_id: String,
    /// The pipeline file the first run named.
    pub file: String,
    /// The pipeline id of the first run.
    pub pipeline: String,
    /// [`ir_hash`] of the pipeline the first run ran.
    pub ir: String,
    /// The last final record of each instance: state and output.
    pub finals: HashMap<InstanceKey, (State, Option<serde_json::Value>)>,
    /// The last expansion width of each mapped step per partition.
    pub widths: HashMap<(String, Option<String>), usize>,
    /// The highest attempt number each instance reached.
    pub attempts: HashMap<InstanceKey, u32>,
    /// Bytes of the file that hold checked records (a torn last line starts there).
    pub end: u64,
    /// Whether the last checked record lacks its newline (the crash came right before it).
    pub newline_missing: bool,
    /// The sum of the last checked record (a resume's first record chains to it).
    pub last_sum: String,
    /// The line number of a torn last line that was ignored (a run killed mid-write).
    pub torn: Option<usize>,
}

/// Why line 1 of a file is not a current ledger's run record.
fn header_error(line: &[u8], why: &str) -> String {
    let v: Option<serde_json::Value> = serde_json::from_slice(line).ok();
    match v.as_ref().filter(|v| v["event"] == "run") {
        Some(v) if v.get("sum").is_none() || v["version"].as_u64() == Some(1) => {
            "the ledger is from an older orchmig (format 1, without checksums), which this one \
             does not trust for a resume"
                .into()
        }
        Some(v) if v["version"].as_u64().unwrap_or(0) > u64::from(LEDGER_VERSION) => format!(
            "the ledger has format {}; this orchmig reads up to {LEDGER_VERSION}",
            v["version"]
        ),
        Some(_) => format!("line 1, the run record, is damaged: {why}"),
        None => format!("this is not an orchmig run ledger (line 1: {why})"),
    }
}

/// Reads and checks a ledger. Every record must carry a sum that holds; a last line without its
/// newline (a write a crash cut short) is ignored and reported in [`History::torn`]; any other
/// bad line is an error that names it.
pub fn read(path: &Path) -> Result<History, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the ledger: {e}"))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("the ledger is empty: the run was stopped before it wrote anything".into());
    }
    let mut h = History::default();
    let mut prev = String::new();
    let mut pos = 0usize;
    let mut number = 0usize;
    let mut header = false;
    while pos < bytes.len() {
        number += 1;
        let (line, next, whole) = match bytes[pos..].iter().position(|&b| b == b'\n') {
            Some(k) => (&bytes[pos..pos + k], pos + k + 1, true),
            None => (&bytes[pos..], bytes.len(), false),
        };
        pos = next;
        if whole && line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let event = match decode(line, &prev) {
            Ok((event, sum)) => {
                prev = sum;
                h.end = next as u64;
                h.newline_missing = !whole;
                event
            }
            Err(_) if !whole && header => {
                h.torn = Some(number);
                break;
            }
            Err(_) if !whole => {
                return Err(
                    "line 1, the run record, is incomplete: the run was killed while \
                            writing it, so there is nothing to resume"
                        .into(),
                );
            }
            Err(why) if !header => return Err(header_error(line, &why)),
            Err(why) => {
                return Err(format!(
                    "line {number} cannot be trusted: {why}; the ledger was changed or damaged \
                     after orchmig wrote it"
                ));
            }
        };
        match event {
            Event::Run {
                version,
                run_id,
                file,
                pipeline,
                ir,
                args,
            } => {
                if header {
                    return Err(format!("line {number} is a second run record"));
                }
                if version != LEDGER_VERSION {
                    return Err(format!(
                        "the ledger has format {version}; this orchmig reads format {LEDGER_VERSION}"
                    ));
                }
                header = true;
                h.args = args;
                h.run_id = run_id;
                h.file = file;
                h.pipeline = pipeline;
                h.ir = ir;
            }
            _ if !header => {
                return Err(
                    "line 1 is not the run record: this is not a whole orchmig run ledger".into(),
                );
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
    h.last_sum = prev;
    Ok(h)
}

/// Whether an existing file starts like an orchmig run ledger (of any format): its first line is
/// a JSON `run` record. An empty file counts as one (there is nothing to lose).
pub fn looks_like_ledger(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut first = Vec::new();
    let mut r = std::io::BufReader::new(f.take(1 << 20));
    if std::io::BufRead::read_until(&mut r, b'\n', &mut first).is_err() {
        return false;
    }
    if first.iter().all(u8::is_ascii_whitespace) {
        return true;
    }
    serde_json::from_slice::<serde_json::Value>(&first)
        .map(|v| v["event"] == "run")
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_record() -> Event {
        Event::Run {
            version: LEDGER_VERSION,
            run_id: new_run_id(),
            file: "p.py".into(),
            pipeline: "p".into(),
            ir: "0".repeat(64),
            args: RunArgs::default(),
        }
    }

    fn start(attempt: u32) -> Event {
        Event::Start {
            node: "a".into(),
            partition: None,
            map_index: None,
            attempt,
            at: 0.0,
        }
    }

    fn success() -> Event {
        Event::Final {
            node: "a".into(),
            partition: None,
            map_index: None,
            state: State::Success,
            attempts: 1,
            start: Some(0.0),
            end: Some(1.0),
            output: Some(serde_json::json!({"rows": [1.5, 2e300]})),
        }
    }

    fn write_all(path: &Path, events: &[Event]) {
        let mut w = LedgerWriter::create(path).unwrap();
        for e in events {
            w.write(e).unwrap();
        }
    }

    #[test]
    fn writes_and_reads_back_checked_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        write_all(&path, &[run_record(), start(2), success()]);
        let h = read(&path).unwrap();
        assert_eq!((h.pipeline.as_str(), h.file.as_str()), ("p", "p.py"));
        assert_eq!(h.attempts[&("a".to_string(), None, None)], 2);
        assert_eq!(h.finals[&("a".to_string(), None, None)].0, State::Success);
        assert_eq!(h.torn, None);
        assert_eq!(h.end, std::fs::metadata(&path).unwrap().len());
        // Every line is JSON that tools can read, its sum first.
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["sum"].as_str().unwrap().len(), 64);
        }
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_cut_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        write_all(&path, &[run_record(), start(1)]);
        let whole = std::fs::read(&path).unwrap();
        let mut text = whole.clone();
        text.extend_from_slice(b"{\"sum\":\"ab");
        std::fs::write(&path, &text).unwrap();
        let h = read(&path).unwrap();
        assert_eq!((h.torn, h.end), (Some(3), whole.len() as u64));
        let mut w = LedgerWriter::append(&path, &h).unwrap();
        w.write(&success()).unwrap();
        drop(w);
        let h = read(&path).unwrap();
        assert_eq!(h.torn, None);
        assert_eq!(h.finals.len(), 1);
        assert!(std::fs::read(&path).unwrap().starts_with(&whole));
    }

    #[test]
    fn a_changed_or_missing_line_is_refused_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        write_all(&path, &[run_record(), start(1), success()]);
        let text = std::fs::read_to_string(&path).unwrap();
        let changed = text.replace("\"attempt\":1", "\"attempt\":5");
        std::fs::write(&path, &changed).unwrap();
        let e = read(&path).unwrap_err();
        assert!(e.contains("line 2") && e.contains("checksum"), "{e}");
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&path, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
        let e = read(&path).unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn foreign_and_older_files_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        std::fs::write(&path, "not json\n").unwrap();
        assert!(
            read(&path)
                .unwrap_err()
                .contains("not an orchmig run ledger")
        );
        assert!(!looks_like_ledger(&path));
        std::fs::write(
            &path,
            "{\"event\":\"run\",\"version\":1,\"pipeline\":\"p\",\"args\":{}}\n",
        )
        .unwrap();
        assert!(read(&path).unwrap_err().contains("older orchmig"));
        assert!(looks_like_ledger(&path));
        std::fs::write(&path, "").unwrap();
        assert!(read(&path).unwrap_err().contains("empty"));
        assert!(looks_like_ledger(&path));
    }

    #[test]
    fn a_new_ledger_replaces_a_file_only_once_its_run_record_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        std::fs::write(&path, "old\n").unwrap();
        let w = LedgerWriter::create(&path).unwrap();
        drop(w);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        write_all(&path, &[run_record()]);
        assert!(read(&path).is_ok());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
