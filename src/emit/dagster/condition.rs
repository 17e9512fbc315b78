//! A Prefect flow's condition on a call, as the early return at the top of its asset.

use super::facts::StepFacts;
use crate::emit::plan::{Plan, Source, Step};
use crate::python::print::{self as python};

/// A condition as an asset tests it: (flow local, the step feeding it) pairs, the flow
/// parameters it reads, and the early-return text.
type ConditionTest = (Vec<(String, usize)>, Vec<String>, String);

/// A Prefect flow's condition on a call, as the asset tests it: the flow locals it reads with the
/// step that feeds each, the flow parameters it reads (bound first), and the early return
/// (`    if not (cond):\n        return None\n`). `None` when it reads another name, a local
/// the asset already takes from another step, or does not fit the line.
pub(super) fn prefect_condition(
    plan: &Plan,
    step: &Step,
    facts: &StepFacts,
    cond: &str,
) -> Option<ConditionTest> {
    let p = plan.pipeline;
    let words = crate::python::parse::referenced_names(cond)?;
    let mut reads = Vec::new();
    let mut bound = Vec::new();
    let mut names: Vec<&String> = words.iter().collect();
    names.sort();
    for name in names {
        if let Some(id) = step.node.condition_reads.get(name.as_str()) {
            let j = *facts.step_by_id.get(id)?;
            // The asset's own parameter of that name must be the same step's value.
            let taken = step.inputs.iter().find(|i| i.param == *name);
            if let Some(i) = taken
                && !matches!(i.source, Source::Step(k) if k == j || facts.resolved[k] == Some(j))
            {
                return None;
            }
            reads.push((name.clone(), j));
        } else if p.params.iter().any(|x| x.name == *name) {
            bound.push(name.clone());
        } else if !matches!(
            name.as_str(),
            "len" | "bool" | "isinstance" | "str" | "int" | "None" | "True" | "False"
        ) {
            return None;
        }
    }
    let trimmed = cond.trim();
    let test = match trimmed
        .strip_prefix("not (")
        .and_then(|r| r.strip_suffix(')'))
    {
        Some(inner) if crate::python::parse::parse_expression(inner).is_some() => {
            format!("if {inner}:")
        }
        _ if trimmed.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !trimmed.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            format!("if not {trimmed}:")
        }
        _ => format!("if not ({trimmed}):"),
    };
    (4 + test.chars().count() <= python::LINE_LENGTH && !test.contains('\n'))
        .then(|| (reads, bound, format!("    {test}\n        return None\n")))
}
