//! The flow body being written for one pipeline: its statements, futures, guards and the
//! locals that hold branching steps' results.

use std::collections::{HashMap, HashSet};

use super::call::partition_param;
use super::state::ModuleState;
use crate::emit::guards::Guard;
use crate::emit::plan::Plan;
use crate::ir::{Framework, NodeKind};
use crate::python::print::{Expr, identifier};

/// The flow of one pipeline while its steps are written.
pub(super) struct FlowState<'p> {
    /// The flow function's name.
    pub(super) flow_name: String,
    /// The flow parameter that carries the partition key, if any.
    pub(super) partition_param: Option<String>,
    /// The statements of the body: the variable each binds, its call.
    pub(super) statements: Vec<(Option<String>, Expr)>,
    /// The variables bound to futures (submitted or mapped task calls).
    pub(super) futures: HashSet<String>,
    /// Per step: whether it is folded away (a no-op, an external asset).
    pub(super) folded: Vec<bool>,
    /// The reader's call counters: a plain call of `f` is `f`, `f-2`, … in call order.
    pub(super) calls: HashMap<String, usize>,
    /// The steps that read an optional output of a Dagster op.
    pub(super) optional_readers: HashSet<&'p str>,
    /// Whether the guards are past their budget (no `if` is written).
    pub(super) too_deep: bool,
    /// Each node's guard.
    pub(super) guards: Vec<Guard>,
    /// Each node's index, by id.
    pub(super) node_index: HashMap<&'p str, usize>,
    /// The locals that hold the branching steps' results, by node index.
    pub(super) choices: HashMap<usize, String>,
    /// The branching steps whose result a written (not folded) step's guard reads.
    pub(super) decides: HashSet<usize>,
    /// Variables of calls under an `if`: None where the call did not happen.
    pub(super) maybe_none: HashSet<String>,
    /// Each statement's `if` headers, if it is guarded.
    pub(super) stmt_guards: Vec<Option<Vec<String>>>,
}

impl<'p> FlowState<'p> {
    /// The empty flow of `plan`, with the guards of its steps.
    pub(super) fn new(m: &ModuleState, plan: &Plan<'p>) -> Self {
        let (from, p) = (m.from, plan.pipeline);
        let flow_name = m
            .flow_names
            .get(&p.id)
            .cloned()
            .unwrap_or_else(|| identifier(&p.id));
        let partition_param = partition_param(p);
        let statements: Vec<(Option<String>, Expr)> = Vec::new();
        // The variables bound to futures (submitted or mapped task calls).
        let futures: HashSet<String> = HashSet::new();
        let folded: Vec<bool> = plan
            .steps
            .iter()
            .map(|s| matches!(s.node.kind, NodeKind::Empty | NodeKind::ExternalAsset))
            .collect();
        // The reader's call counters: a plain call of `f` is `f`, `f-2`, … in call order.
        let calls: HashMap<String, usize> = HashMap::new();
        // When each step runs (below an Airflow branch or short-circuit), and the locals
        // that hold the branching steps' results.
        // A step that reads an optional output of a Dagster op runs, with what is below
        // it, only when the op produced that output.
        let optional_readers = crate::ir::optional::readers(p);
        let computed = if from == Framework::Airflow || !optional_readers.is_empty() {
            crate::emit::guards::guards(p)
        } else {
            Some(vec![crate::emit::guards::Guard::Always; p.nodes.len()])
        };
        // Past the guard budget no `if` is written: the branches are lost, and say so.
        let too_deep = computed.is_none();
        let guards =
            computed.unwrap_or_else(|| vec![crate::emit::guards::Guard::Always; p.nodes.len()]);
        let node_index = p.node_index();
        let choices: HashMap<usize, String> = HashMap::new();
        // The branching steps whose result a written (not folded) step's guard reads.
        let decides: HashSet<usize> = plan
            .steps
            .iter()
            .zip(&folded)
            .filter(|(_, f)| !**f)
            .filter_map(|(s, _)| node_index.get(s.node.id.as_str()))
            .flat_map(|&j| guards[j].reads())
            .collect();
        // Variables of calls under an `if`: None where the call did not happen.
        let maybe_none: HashSet<String> = HashSet::new();
        let stmt_guards: Vec<Option<Vec<String>>> = Vec::new();
        FlowState {
            flow_name,
            partition_param,
            statements,
            futures,
            folded,
            calls,
            optional_readers,
            too_deep,
            guards,
            node_index,
            choices,
            decides,
            maybe_none,
            stmt_guards,
        }
    }
}
