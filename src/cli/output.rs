//! What the commands give back: the exit codes, stdout and versioned JSON documents.

use std::io::Write;

/// Exit code: everything read cleanly.
pub const EXIT_OK: i32 = 0;
/// Exit code: findings (some inputs failed, stale `--check`, `verify` mismatch).
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: usage error or no input could be read.
pub const EXIT_USAGE: i32 = 2;

/// Pretty JSON of a document with its versioned schema id (`"schema": "orchmig.NAME/N"`) first.
pub fn versioned_json<T: serde::Serialize>(schema: &'static str, body: &T) -> String {
    #[derive(serde::Serialize)]
    struct Versioned<'a, T> {
        schema: &'static str,
        #[serde(flatten)]
        body: &'a T,
    }
    serde_json::to_string_pretty(&Versioned { schema, body }).unwrap_or_default() + "\n"
}

/// Writes text to stdout; false when stdout is closed (e.g. a pipe to `head`).
pub fn write_stdout(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_ok()
}
