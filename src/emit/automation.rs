//! Dagster automation conditions in ports to Airflow and Prefect, which have none: assets
//! that run `on_cron` give the pipeline that cron as its schedule (when it has none and they
//! agree), and every condition gets a row that says what runs it now.

use crate::ir::{Framework, Schedule, ScheduleKind, SourceFile, Value};
use crate::report::{Anchor, Fidelity, Ledger, Scope};

/// What a node's `automation_condition=` asks for.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    /// `AutomationCondition.on_cron(cron, cron_timezone=…)`.
    OnCron(String, Option<String>),
    /// `AutomationCondition.eager()`: whenever an upstream updates.
    Eager,
    /// `AutomationCondition.on_missing()`: once, for partitions never materialised.
    OnMissing,
    /// Anything else, as written.
    Other(String),
}

/// A node's automation condition, read from its `automation_condition` extra.
fn condition(v: &Value) -> Condition {
    let Value::Call(c) = v else {
        return Condition::Other(format!("{v:?}"));
    };
    let name = c.func.rsplit('.').next().unwrap_or(&c.func);
    match name {
        "on_cron" => match c.args.first().or_else(|| c.kwargs.get("cron_schedule")) {
            Some(Value::Str(cron)) => Condition::OnCron(
                cron.clone(),
                c.kwargs
                    .get("cron_timezone")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            ),
            _ => Condition::Other(c.func.clone()),
        },
        "eager" => Condition::Eager,
        "on_missing" => Condition::OnMissing,
        _ => Condition::Other(c.func.clone()),
    }
}

/// A pipeline whose schedule was derived from its assets' `on_cron` conditions.
#[derive(Debug, Clone)]
pub struct Derived {
    /// The pipeline's index in the file.
    pipeline: usize,
    /// The cron its assets run on.
    cron: String,
}

/// Gives each Dagster pipeline without a schedule the cron its assets' `on_cron` conditions
/// share (for a target that has no automation conditions).
pub fn schedules_from_conditions(
    mut file: SourceFile,
    target: Framework,
) -> (SourceFile, Vec<Derived>) {
    let mut derived = Vec::new();
    if file.framework != Some(Framework::Dagster) || target == Framework::Dagster {
        return (file, derived);
    }
    for (i, p) in file.pipelines.iter_mut().enumerate() {
        if p.schedule.is_some() {
            continue;
        }
        let crons: Vec<(String, Option<String>)> = p
            .nodes
            .iter()
            .filter_map(|n| n.extra.get("automation_condition"))
            .filter_map(|v| match condition(v) {
                Condition::OnCron(c, tz) => Some((c, tz)),
                _ => None,
            })
            .collect();
        let Some(first) = crons.first().cloned() else {
            continue;
        };
        if crons.iter().any(|c| *c != first) {
            continue;
        }
        p.schedule = Some(Schedule {
            kind: ScheduleKind::Cron,
            value: Some(first.0.clone()),
            timezone: first.1,
            assets: Vec::new(),
            parameters: Default::default(),
        });
        derived.push(Derived {
            pipeline: i,
            cron: first.0,
        });
    }
    (file, derived)
}

/// Records what runs each automated asset of the port (`file` is the source as read), and
/// marks a schedule derived from `on_cron` conditions approximate.
pub fn record_conditions(
    file: &SourceFile,
    derived: &[Derived],
    ledgers: &mut [Ledger],
    target: Framework,
) {
    if file.framework != Some(Framework::Dagster) || target == Framework::Dagster {
        return;
    }
    let (runs, trigger) = match target {
        Framework::Airflow => ("the DAG", "schedule the DAG on its upstream Assets"),
        _ => ("the flow", "give the deployment an event trigger"),
    };
    for (i, p) in file.pipelines.iter().enumerate() {
        let Some(ledger) = ledgers.get_mut(i) else {
            continue;
        };
        let cron = derived.iter().find(|d| d.pipeline == i).map(|d| &d.cron);
        if let Some(c) = cron {
            ledger.reclassify(
                "schedule.cron",
                &p.id,
                Fidelity::Approximate,
                format!("from the assets' on_cron automation conditions: {runs} runs on `{c}` (on_cron also waits until each asset's upstreams have updated since the tick)"),
                Some(Anchor::at(Scope::Module).then(c)),
            );
        }
        let scheduled = p.schedule.is_some() || cron.is_some();
        // The schedule's line is what runs an automated asset now.
        let at = cron
            .or(p.schedule.as_ref().and_then(|s| s.value.as_ref()))
            .map(|c| Anchor::at(Scope::Module).then(c));
        for n in &p.nodes {
            let Some(v) = n.extra.get("automation_condition") else {
                continue;
            };
            let (fidelity, note) = match (condition(v), cron) {
                (Condition::OnCron(c, _), Some(d)) if c == *d => (
                    Fidelity::Approximate,
                    format!("runs in each run of {runs}, on `{c}`"),
                ),
                (Condition::OnCron(c, _), _) => (
                    Fidelity::Redesign,
                    format!(
                        "on_cron(`{c}`) is not {runs}'s cadence: move the asset to a pipeline scheduled on `{c}`"
                    ),
                ),
                (Condition::Eager, _) if scheduled => (
                    Fidelity::Approximate,
                    format!(
                        "runs after its upstreams in each run of {runs} (eager ran it whenever an upstream updated)"
                    ),
                ),
                (Condition::OnMissing, _) if scheduled => (
                    Fidelity::Approximate,
                    format!(
                        "runs in each run of {runs} (on_missing ran it once per missing partition)"
                    ),
                ),
                (Condition::Eager | Condition::OnMissing, _) => (
                    Fidelity::Redesign,
                    format!(
                        "nothing runs {runs} by itself (the condition materialised it on upstream updates): {trigger}"
                    ),
                ),
                (Condition::Other(what), _) => (
                    Fidelity::Redesign,
                    format!(
                        "`{what}` has no equivalent: run {runs} on a schedule or trigger that matches it"
                    ),
                ),
            };
            let subject = format!("{}.automation_condition", n.id);
            // What has no code of its own points at the pipeline's function.
            let at = match fidelity {
                Fidelity::Approximate => at.clone(),
                _ => Some(
                    Anchor::at(Scope::Module)
                        .then(format!("def {}(", crate::python::print::identifier(&p.id))),
                ),
            };
            ledger.reclassify("extra", &subject, fidelity, note, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{CallValue, Node, NodeKind, Pipeline, Span};

    fn cond(func: &str, args: Vec<Value>) -> Value {
        Value::Call(CallValue {
            func: format!("dagster.AutomationCondition.{func}"),
            args,
            kwargs: Default::default(),
        })
    }

    fn file(conditions: Vec<Value>) -> SourceFile {
        let nodes = conditions
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let mut n = Node::new(format!("a{i}"), NodeKind::Asset, Span::default());
                n.extra.insert("automation_condition".into(), c);
                n
            })
            .collect();
        SourceFile {
            framework: Some(Framework::Dagster),
            pipelines: vec![Pipeline {
                id: "p".into(),
                nodes,
                ..Pipeline::default()
            }],
            ..SourceFile::default()
        }
    }

    #[test]
    fn on_cron_assets_give_an_unscheduled_pipeline_their_cron() {
        let daily = cond("on_cron", vec![Value::Str("0 6 * * *".into())]);
        let (out, derived) = schedules_from_conditions(
            file(vec![daily.clone(), cond("eager", vec![])]),
            Framework::Airflow,
        );
        let s = out.pipelines[0].schedule.as_ref().expect("a schedule");
        assert_eq!(
            (s.kind, s.value.as_deref()),
            (ScheduleKind::Cron, Some("0 6 * * *"))
        );
        assert_eq!(derived.len(), 1);
        // Two cadences are no one schedule; a Dagster target keeps its conditions.
        let hourly = cond("on_cron", vec![Value::Str("0 * * * *".into())]);
        let (out, derived) =
            schedules_from_conditions(file(vec![daily.clone(), hourly]), Framework::Prefect);
        assert!(out.pipelines[0].schedule.is_none() && derived.is_empty());
        let (out, _) = schedules_from_conditions(file(vec![daily]), Framework::Dagster);
        assert!(out.pipelines[0].schedule.is_none());
    }
}
