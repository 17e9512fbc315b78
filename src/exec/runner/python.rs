//! The python runner: one long-lived python3 worker (the embedded `worker.py`) that shims the
//! Airflow, Dagster and Prefect imports, loads the module's support code, defines each step's
//! function from its body in the IR, and calls it with its upstreams' return values. A body that
//! raises is a failed attempt with its traceback; a body that hangs is killed at its timeout (the
//! worker is restarted, stored outputs survive in a temporary folder).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use serde_json::{Value as J, json};

use super::{Attempt, Input, Outcome, Runner};
use crate::exec::fault::Faults;
use crate::ir::{NodeKind, Pipeline, SourceFile};

/// The worker script, embedded in the binary.
const WORKER: &str = include_str!("worker.py");

/// Wall-clock limit of loading a module's support code or evaluating a condition.
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Watches orchmig for the worker: a python process with no user code that waits for its stdin
/// (a pipe from orchmig) to close, which happens however orchmig ends, `kill -9` included, then
/// kills the worker's process group: the worker and whatever its bodies started.
const GUARD: &str = "import os, signal, sys
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
sys.stdin.buffer.read()
try:
    os.killpg(int(sys.argv[1]), signal.SIGKILL)
except OSError:
    pass
";

struct Worker {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<String>,
    /// The guard process ([`GUARD`]); `None` where there are no process groups.
    guard: Option<Child>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // The whole group, while the worker's pid is still held (not yet waited for): bodies may
        // have started processes of their own.
        #[cfg(unix)]
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: killpg has no memory-safety preconditions.
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(g) = &mut self.guard {
            let _ = g.kill();
            let _ = g.wait();
        }
    }
}

/// Makes the worker, between fork and exec, the leader of a process group of its own (so it and
/// what its bodies start can be killed together) and, on Linux, killed by the kernel when orchmig
/// dies.
#[cfg(unix)]
fn own_group_dying_with(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    #[cfg(target_os = "linux")]
    let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    // SAFETY: the closure only makes async-signal-safe system calls (setpgid, prctl, getppid,
    // _exit) and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            #[cfg(target_os = "linux")]
            {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // orchmig died before the death signal was set: nobody is waiting for answers.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
            }
            Ok(())
        });
    }
}

/// Starts the guard of a worker's process group; `None` when it cannot be started (the kernel's
/// death signal still stops the worker itself on Linux).
#[cfg(unix)]
fn spawn_guard(group: u32) -> Option<Child> {
    Command::new(python())
        .args(["-S", "-c", GUARD, &group.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

enum Failure {
    Timeout,
    Dead(String),
}

/// The python runner.
pub struct PythonRunner {
    faults: Faults,
    default_timeout: f64,
    worker: Option<Worker>,
    store: tempfile::TempDir,
    modules: HashMap<String, String>,
    defined: HashSet<String>,
    names: HashMap<(String, String, usize), String>,
}

fn python() -> String {
    std::env::var("ORCHMIG_PYTHON").unwrap_or_else(|_| "python3".into())
}

impl PythonRunner {
    /// Starts the worker; fails when python3 cannot be started.
    pub fn new(default_timeout: f64, faults: Faults) -> Result<PythonRunner, String> {
        let store =
            tempfile::tempdir().map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let mut r = PythonRunner {
            faults,
            default_timeout: if default_timeout.is_finite() && default_timeout > 0.0 {
                default_timeout
            } else {
                600.0
            },
            worker: None,
            store,
            modules: HashMap::new(),
            defined: HashSet::new(),
            names: HashMap::new(),
        };
        r.spawn()?;
        Ok(r)
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut cmd = Command::new(python());
        cmd.args(["-u", "-c", WORKER])
            .env("ORCHMIG_STORE", self.store.path())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        #[cfg(unix)]
        own_group_dying_with(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", python()))?;
        #[cfg(unix)]
        let guard = spawn_guard(child.id());
        #[cfg(not(unix))]
        let guard = None;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("cannot talk to the python worker".into());
        };
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        self.worker = Some(Worker {
            child,
            stdin,
            rx,
            guard,
        });
        self.modules.clear();
        self.defined.clear();
        Ok(())
    }

    fn request(&mut self, req: &J, timeout: Duration) -> Result<J, Failure> {
        if self.worker.is_none() {
            self.spawn().map_err(Failure::Dead)?;
        }
        let Some(w) = self.worker.as_mut() else {
            return Err(Failure::Dead("no python worker".into()));
        };
        let line = req.to_string() + "\n";
        if w.stdin
            .write_all(line.as_bytes())
            .and_then(|_| w.stdin.flush())
            .is_err()
        {
            self.worker = None;
            return Err(Failure::Dead("the python worker exited".into()));
        }
        match w.rx.recv_timeout(timeout) {
            Ok(resp) => serde_json::from_str(&resp).map_err(|e| {
                Failure::Dead(format!(
                    "the python worker answered something unreadable: {e}"
                ))
            }),
            Err(RecvTimeoutError::Timeout) => {
                // Killing the worker is the only way to stop a hung body; it restarts on demand.
                self.worker = None;
                Err(Failure::Timeout)
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.worker = None;
                Err(Failure::Dead(
                    "the python worker exited (a body may have crashed the interpreter)".into(),
                ))
            }
        }
    }

    fn module(&mut self, file: &SourceFile) -> Result<String, String> {
        if let Some(m) = self.modules.get(&file.path) {
            return Ok(m.clone());
        }
        let id = format!("m{}", self.modules.len());
        let support: Vec<&str> = file.support.iter().map(|s| s.text.as_str()).collect();
        let req = json!({"op": "module", "module": id, "support": support});
        match self.request(&req, SETUP_TIMEOUT) {
            Ok(_) => {
                self.modules.insert(file.path.clone(), id.clone());
                Ok(id)
            }
            Err(Failure::Timeout) => Err("loading the module's support code timed out".into()),
            Err(Failure::Dead(e)) => Err(e),
        }
    }

    fn function(
        &mut self,
        module: &str,
        p: &Pipeline,
        index: usize,
    ) -> Result<Option<String>, String> {
        let Some(n) = p.nodes.get(index) else {
            return Ok(None);
        };
        let Some(c) = &n.callable else {
            return Ok(None);
        };
        let key = (module.to_string(), p.id.clone(), index);
        let next = self.names.len();
        let name = self
            .names
            .entry(key)
            .or_insert_with(|| format!("_orchmig_step_{next}"))
            .clone();
        if self.defined.contains(&name) {
            return Ok(Some(name));
        }
        let params: Vec<String> = c
            .params
            .iter()
            .map(|x| {
                // Dagster passes run config to the parameter named `config`, typed by its Config
                // class: the worker builds it from that annotation.
                let name = match &x.annotation {
                    Some(a) if x.name == "config" => format!("config: {a}"),
                    _ => x.name.clone(),
                };
                match &x.default {
                    Some(d) if !x.name.starts_with('*') => format!("{name}={d}"),
                    _ => name,
                }
            })
            .collect();
        let body = if c.body.trim().is_empty() {
            "pass".to_string()
        } else {
            c.body.clone()
        };
        let source = format!(
            "{}def {name}({}):\n{}\n",
            if c.is_async { "async " } else { "" },
            params.join(", "),
            crate::python::print::indent_body(&body, 4).trim_end()
        );
        let req = json!({"op": "define", "module": module, "name": name, "alias": c.name, "source": source});
        match self.request(&req, SETUP_TIMEOUT) {
            Ok(r) if r["ok"] == J::Bool(true) => {
                self.defined.insert(name.clone());
                Ok(Some(name))
            }
            Ok(r) => Err(r["error"]
                .as_str()
                .unwrap_or("cannot define the step's function")
                .to_string()),
            Err(Failure::Timeout) => Err("defining the step's function timed out".into()),
            Err(Failure::Dead(e)) => Err(e),
        }
    }
}

/// An input as the worker's JSON argument spec.
fn spec(input: &Input) -> J {
    match input {
        Input::Output(k) => json!({"output": k}),
        Input::Element(k, i) => json!({"element": [k, i]}),
        Input::Named(k, name, i) => json!({"named": [k, name, i]}),
        Input::List(items) => json!({"list": items.iter().map(spec).collect::<Vec<_>>()}),
        Input::Expr(src) => json!({"expr": src}),
        Input::Json(v) => json!({"json": v}),
        Input::Magic(name) => json!({"magic": name}),
    }
}

fn params_spec(params: &BTreeMap<String, Input>) -> J {
    J::Object(params.iter().map(|(k, v)| (k.clone(), spec(v))).collect())
}

impl Runner for PythonRunner {
    fn name(&self) -> &'static str {
        "python"
    }

    fn runs_bodies(&self) -> bool {
        true
    }

    fn attempt(&mut self, a: &Attempt) -> Outcome {
        if self.faults.hangs(a.path, a.partition, a.attempt) {
            return Outcome {
                timed_out: true,
                error: Some("injected hang (--hang): killed at its timeout".into()),
                ..Outcome::default()
            };
        }
        if self.faults.fails(a.path, a.partition, a.attempt) {
            return Outcome::failure(format!(
                "injected failure (--fail) of attempt {}",
                a.attempt
            ));
        }
        if a.node.callable.is_none() {
            // Operators without a Python body (bash, empty, provider operators) are not executed.
            return Outcome::success();
        }
        let module = match self.module(a.file) {
            Ok(m) => m,
            Err(e) => return Outcome::failure(e),
        };
        let func = match self.function(&module, a.pipeline, a.node_index) {
            Ok(Some(f)) => f,
            Ok(None) => return Outcome::success(),
            Err(e) => return Outcome::failure(e),
        };
        let args: Vec<J> = a.inputs.iter().map(|(k, v)| json!([k, spec(v)])).collect();
        let logical = a.pipeline.start_date.as_ref().map(|d| d.iso());
        let req = json!({
            "op": "call",
            "module": module,
            "func": func,
            "args": args,
            "params": params_spec(a.params),
            "store": a.key,
            "kind": if a.node.kind == NodeKind::Sensor { "sensor" } else { "task" },
            "context": {
                "partition_key": a.partition,
                "logical_date": logical,
                "run_id": format!("orchmig__{}__{}", a.pipeline.id, a.partition.unwrap_or("")),
                "node": a.node.id,
                "map_index": a.map_index,
                "attempt": a.attempt,
            },
        });
        let limit = a
            .timeout_ms
            .map(|t| Duration::from_millis(t.max(1)))
            .unwrap_or_else(|| Duration::from_secs_f64(self.default_timeout));
        match self.request(&req, limit) {
            Ok(r) if r["ok"] == J::Bool(true) => Outcome {
                ok: true,
                skipped: r["skipped"] == J::Bool(true),
                output: r
                    .get("output")
                    .cloned()
                    .filter(|v| !v.is_null() || r.get("len").is_some()),
                len: r["len"].as_u64().map(|l| l as usize),
                truthy: r["truthy"].as_bool().unwrap_or(true),
                ..Outcome::default()
            },
            Ok(r) => {
                let mut error = r["error"]
                    .as_str()
                    .unwrap_or("the body failed")
                    .trim_end()
                    .to_string();
                if let Some(log) = r["log"].as_str().filter(|l| !l.trim().is_empty()) {
                    error.push_str("\n--- output ---\n");
                    error.push_str(log.trim_end());
                }
                Outcome::failure(error)
            }
            Err(Failure::Timeout) => Outcome {
                timed_out: true,
                error: Some(format!(
                    "killed at its timeout ({:.1}s of wall-clock time)",
                    limit.as_secs_f64()
                )),
                ..Outcome::default()
            },
            Err(Failure::Dead(e)) => Outcome::failure(e),
        }
    }

    fn condition(
        &mut self,
        file: &SourceFile,
        expr: &str,
        params: &BTreeMap<String, Input>,
    ) -> Option<bool> {
        let module = self.module(file).ok()?;
        let req =
            json!({"op": "eval", "module": module, "expr": expr, "params": params_spec(params)});
        match self.request(&req, SETUP_TIMEOUT) {
            Ok(r) if r["ok"] == J::Bool(true) => r["truthy"].as_bool(),
            _ => None,
        }
    }

    fn restore(&mut self, key: &str, value: &J) {
        let _ = self.request(
            &json!({"op": "put", "key": key, "value": value}),
            SETUP_TIMEOUT,
        );
    }
}
