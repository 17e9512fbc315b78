//! Failure hooks: a step meant for a failure (an Airflow `one_failed`/`all_failed` rule, a
//! Prefect test of `state.is_failed()`) as a `@dg.failure_hook` of its job.

use super::asset::asset;
use super::facts::StepFacts;
use super::state::ModuleState;
use crate::emit::plan::{Plan, Source, Step};
use crate::report::{Anchor, Fidelity, Ledger, Scope};

/// Writes a failure step as a failure hook of the job, or not at all when it needs an
/// upstream's value; the hook's name when it is written.
pub(super) fn write_failure_hook(
    m: &mut ModuleState,
    plan: &Plan,
    step: &Step,
    facts: &StepFacts,
    ledger: &mut Ledger,
) -> Option<String> {
    let (table, from) = (m.table, m.from);
    let n = step.node;
    let takes_values = step.inputs.iter().any(|x| {
        matches!(
            x.source,
            Source::Step(_) | Source::Steps(_) | Source::Param(_)
        )
    });
    if !takes_values {
        ledger.consume_as(
            table,
            crate::report::node_construct(n),
            &n.id,
            n.span,
            Anchor::at(Scope::Head(step.func.clone())),
            Fidelity::Redesign,
            "a @dg.failure_hook with the step's body, attached to the job".into(),
        );
    }
    let mut a = asset(
        plan,
        step,
        &[],
        facts,
        from,
        None,
        &m.file_assets,
        &mut m.imports,
        &mut m.helpers,
        ledger,
        table,
    );
    // A hook gets only its context: a body that needs an upstream's value is not
    // written at all (as an asset it would run after every success).
    let hookable = !takes_values && a.signature.starts_with("()");
    let at = Anchor::at(Scope::Head(step.func.clone()));
    let (fidelity, note) = if hookable {
        (
            Fidelity::Redesign,
            "a @dg.failure_hook of the job: it runs after a step of the job fails (once per failed step, whichever step), never after a success",
        )
    } else {
        (
            Fidelity::None,
            "not written: as an asset it would run after every success, and a failure hook gets no upstream value; call it from a failure hook or a run-failure sensor by hand",
        )
    };
    let present = [
        ("trigger_rule", n.trigger_rule.is_some()),
        ("node.condition", n.condition.is_some()),
    ];
    for (construct, _) in present.iter().filter(|(_, p)| *p) {
        ledger.consume_as(
            table,
            construct,
            &n.id,
            n.span,
            at.clone(),
            fidelity,
            note.to_string(),
        );
    }
    if hookable {
        a.decorator = "@dg.failure_hook".into();
        a.signature = "(context: dg.HookContext)".into();
        m.assets.push(a);
        return Some(step.func.clone());
    }
    None
}
