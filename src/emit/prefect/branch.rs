//! Branching in a flow: the `if` headers of a step's guard, the local that holds a deciding
//! step's result, and the scope option of a short-circuit.

use std::collections::{HashMap, HashSet};

use crate::emit::plan::{Plan, Step};
use crate::report::{Anchor, Fidelity, Ledger, Translations};

/// Consumes a short-circuit's `ignore_downstream_trigger_rules` (what its `if`s cover) at `at`.
pub(super) fn consume_scope_option(
    ledger: &mut Ledger,
    table: &Translations,
    n: &crate::ir::Node,
    at: Anchor,
    how: &str,
) {
    if n.extra.contains_key("ignore_downstream_trigger_rules") {
        let subject = format!("{}.ignore_downstream_trigger_rules", n.id);
        ledger.consume_as(
            table,
            "extra",
            &subject,
            n.span,
            at,
            Fidelity::Exact,
            how.into(),
        );
    }
}

/// The `if` headers of a guard in a flow body: one when it fits on its line, else one per
/// conjunct, nested.
pub(super) fn if_headers(
    g: &crate::emit::guards::Guard,
    choices: &HashMap<usize, String>,
) -> Vec<String> {
    let value = |r: usize| choices.get(&r).cloned().unwrap_or_default();
    let one = g.header(&value, 4);
    if !one.contains('\n') || g.conjuncts().len() < 2 {
        return vec![one];
    }
    g.conjuncts()
        .iter()
        .enumerate()
        .map(|(d, c)| c.header(&value, 4 + 4 * d))
        .collect()
}

/// A local of the flow that holds a deciding step's result (`route_outputs`, `pick_choice`:
/// the step's variable with `suffix`, made unique among the steps' variables and the other
/// such locals), and the value it is bound to (`x_out.result()` for a future).
pub(super) fn result_local(
    plan: &Plan,
    step: &Step,
    suffix: &str,
    choices: &HashMap<usize, String>,
    futures: &HashSet<String>,
) -> (String, String) {
    let mut local = format!("{}{suffix}", step.var.trim_end_matches("_out"));
    while plan.steps.iter().any(|s| s.var == local) || choices.values().any(|c| *c == local) {
        local.push('_');
    }
    let value = if futures.contains(&step.var) {
        format!("{}.result()", step.var)
    } else {
        step.var.clone()
    };
    (local, value)
}
