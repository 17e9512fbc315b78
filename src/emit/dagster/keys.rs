//! Names Dagster accepts: asset and op keys, tag keys and values.

use crate::python::print::{Expr, identifier};

/// A tag (`key=value`, `key:value` or a bare key) as a Dagster tag's key and value.
pub(super) fn tag_pair(t: &str) -> (Expr, Expr) {
    let (k, v) = t
        .split_once('=')
        .or_else(|| t.split_once(':'))
        .unwrap_or((t, ""));
    (
        Expr::str(&tag_text(k, true)),
        Expr::str(&tag_text(v, false)),
    )
}

/// A tag key or value as Dagster accepts it: letters, digits, `_`, `-` and `.` (a key may have
/// one `/` namespace), at most 63 characters a section; anything else becomes `_`. A Prefect tag
/// such as `team lead` or `a:b` fails at load otherwise.
fn tag_text(s: &str, key: bool) -> String {
    let mut slash = false;
    let clean: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else if c == '/' && key && !slash {
                slash = true;
                c
            } else {
                '_'
            }
        })
        .collect();
    clean
        .split('/')
        .map(|part| part.chars().take(63).collect::<String>())
        .collect::<Vec<_>>()
        .join("/")
}

/// Names Dagster refuses for an asset or op besides Python's keywords
/// (`dagster._core.definitions.utils.DISALLOWED_NAMES`): `@dg.asset(name="type")` fails at load.
const DAGSTER_DISALLOWED: &[&str] = &[
    "arg_dict",
    "bool",
    "conf",
    "config",
    "context",
    "dict",
    "float",
    "input",
    "input_arg_dict",
    "int",
    "meta",
    "output",
    "output_arg_dict",
    "str",
    "type",
];

/// A node id as a name Dagster accepts: an identifier, and none of Dagster's disallowed names.
pub(super) fn key_name(id: &str) -> String {
    let key = identifier(id);
    if DAGSTER_DISALLOWED.contains(&key.as_str()) {
        key + "_"
    } else {
        key
    }
}
