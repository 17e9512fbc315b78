//! An Airflow trigger rule that runs after failures, written in a flow: `allow_failure` in
//! `wait_for`, a wait and a test of the upstream runs' states.

use std::collections::HashSet;

use crate::emit::module::Imports;
use crate::python::print::Expr;

/// How a flow writes an Airflow trigger rule that runs after failures.
pub(super) struct FailureRule {
    /// The `wait(…)` statement before the call (a rule that tests states).
    pub(super) wait: Option<Expr>,
    /// The condition on the upstream runs' states the call is under.
    pub(super) condition: Option<crate::emit::guards::Guard>,
    /// The report's note.
    pub(super) how: String,
}

/// A failure-driven trigger rule written in a flow; `None` for rules a flow runs as it is. The
/// call's `wait_for` entries are wrapped in `allow_failure`.
pub(super) fn failure_rule(
    rule: Option<&str>,
    args: &mut [Expr],
    maybe_none: &HashSet<String>,
    imports: &mut Imports,
) -> Option<FailureRule> {
    use crate::emit::guards::{Atom, Guard};
    let rule = rule?;
    if !matches!(rule, "one_failed" | "all_failed" | "all_done" | "always") {
        return None;
    }
    let mut waited: Vec<String> = Vec::new();
    for a in args.iter_mut() {
        if let Expr::Keyword(k, v) = a
            && k == "wait_for"
            && let Expr::List(items) = v.as_mut()
        {
            for item in items.iter_mut() {
                waited.push(item.flat());
                *item = Expr::call("allow_failure", vec![item.clone()]);
            }
        }
    }
    if waited.is_empty() {
        return None;
    }
    imports.name("prefect", "allow_failure");
    if matches!(rule, "all_done" | "always") {
        return Some(FailureRule {
            wait: None,
            condition: None,
            how: "allow_failure in wait_for: it runs however its upstream runs end".into(),
        });
    }
    imports.name("prefect.futures", "wait");
    let some_none = waited.iter().any(|v| maybe_none.contains(v));
    let list = format!("[{}]", waited.join(", "));
    let wait = if some_none {
        Expr::call(
            "wait",
            vec![Expr::raw(format!("[f for f in {list} if f is not None]"))],
        )
    } else {
        Expr::call("wait", vec![Expr::raw(list)])
    };
    let atoms: Vec<Guard> = waited
        .iter()
        .map(|v| {
            let failed = Guard::Atom(Atom::Raw(format!("{v}.state.is_failed()")));
            if maybe_none.contains(v) {
                Guard::all(vec![
                    Guard::Atom(Atom::Raw(format!("{v} is not None"))),
                    failed,
                ])
            } else {
                failed
            }
        })
        .collect();
    let (cond, how) = if rule == "one_failed" {
        (
            Guard::any(atoms),
            "called only when one of its upstream runs failed",
        )
    } else {
        (
            Guard::all(atoms),
            "called only when all of its upstream runs failed",
        )
    };
    Some(FailureRule {
        wait: Some(wait),
        condition: Some(cond),
        how: format!(
            "{how}: the flow waits for them, tests state.is_failed() and the call waits with allow_failure"
        ),
    })
}
