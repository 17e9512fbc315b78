//! A run's final state as its framework decides it: an Airflow DAG run fails when a leaf task
//! failed or could not run because an upstream failed; a Dagster run fails when a step failed;
//! a Prefect flow run fails when a failure reached its body (a direct call that failed, a
//! future it resolved that failed or could not run: the pipeline's `flow_raises`), and stays
//! COMPLETED when only other runs failed.

use std::collections::HashSet;

use super::trigger::State;
use crate::ir::{Framework, Pipeline, Raise};

/// Whether the run of `p` whose step instances ended in `states` (node index, state)
/// succeeded, by the rule of `p`'s framework (any failure, for a pipeline of no framework).
pub fn succeeded(p: &Pipeline, mut states: impl Iterator<Item = (usize, State)>) -> bool {
    let failed = |s: State| matches!(s, State::Failed | State::UpstreamFailed);
    match p.framework {
        Some(Framework::Airflow) => {
            let feeding: HashSet<&str> = p.edges.iter().map(|e| e.from.as_str()).collect();
            !states.any(|(n, s)| failed(s) && !feeding.contains(p.nodes[n].id.as_str()))
        }
        Some(Framework::Dagster) => !states.any(|(_, s)| s == State::Failed),
        Some(Framework::Prefect) => !states.any(|(n, s)| match p.flow_raises.get(&p.nodes[n].id) {
            Some(Raise::Itself) => s == State::Failed,
            Some(Raise::Result) => failed(s),
            None => false,
        }),
        None => !states.any(|(_, s)| failed(s)),
    }
}

/// Why a run of `p` can succeed although a step failed, by its framework's rule (for the
/// summary of such a run); `None` where any failure fails the run.
pub fn success_despite(p: &Pipeline) -> Option<&'static str> {
    match p.framework {
        Some(Framework::Airflow) => Some("every leaf task succeeded or was skipped"),
        Some(Framework::Prefect) => Some("no failure reached the flow body"),
        _ => None,
    }
}
