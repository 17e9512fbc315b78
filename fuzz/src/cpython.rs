//! CPython's own `compile()` as an oracle: one long-lived `python3` process compiles a sample of
//! the ports, so what orchmig's parser accepts but CPython refuses (NUL bytes, odd escapes,
//! PEP 701 corner cases) is a finding too.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// One port in this many is compiled (CPython's compile costs about as much as orchmig's run).
pub const SAMPLE_EVERY: u64 = 4;

/// The compiler loop: a length line, then that many bytes of source; answers `ok` or the error.
const SERVER: &str = r#"
import sys
inp, out = sys.stdin.buffer, sys.stdout
while True:
    n = inp.readline()
    if not n:
        break
    src = inp.read(int(n))
    try:
        compile(src, "port.py", "exec", dont_inherit=True)
        out.write("ok\n")
    except (SyntaxError, ValueError) as e:
        out.write(("err " + repr(e)).replace("\n", " ") + "\n")
    out.flush()
"#;

struct Server {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

static SERVER_PROCESS: Mutex<Option<Option<Server>>> = Mutex::new(None);
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Compiles every [`SAMPLE_EVERY`]th text with CPython (when `python3` is on the PATH); the
/// error CPython gives otherwise.
pub fn compiles_sampled(text: &str) -> Result<(), String> {
    if !COUNTER
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(SAMPLE_EVERY)
    {
        return Ok(());
    }
    compiles(text)
}

/// Whether CPython compiles `text`; `Ok` when no `python3` can be started.
pub fn compiles(text: &str) -> Result<(), String> {
    let mut guard = SERVER_PROCESS.lock().unwrap_or_else(|p| p.into_inner());
    let server = guard.get_or_insert_with(start);
    let Some(s) = server.as_mut() else {
        return Ok(());
    };
    let bytes = text.as_bytes();
    let sent = writeln!(s.stdin, "{}", bytes.len())
        .and_then(|_| s.stdin.write_all(bytes))
        .and_then(|_| s.stdin.flush());
    let mut answer = String::new();
    if sent.is_err() || s.stdout.read_line(&mut answer).unwrap_or(0) == 0 {
        *guard = None;
        return Ok(());
    }
    match answer.trim_end().strip_prefix("err ") {
        Some(e) => Err(e.to_string()),
        None => Ok(()),
    }
}

fn start() -> Option<Server> {
    let mut child = Command::new("python3")
        .args(["-c", SERVER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let stdin = child.stdin.take()?;
    let stdout = BufReader::new(child.stdout.take()?);
    Some(Server {
        _child: child,
        stdin,
        stdout,
    })
}
