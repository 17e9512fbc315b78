//! What each step of a plan is written as (asset, check, external spec, folded) and the facts
//! about a whole plan the rules need: upstream frontiers, keys, guards.

use std::collections::{HashMap, HashSet};

use super::keys::key_name;
use crate::emit::guards::Guard;
use crate::emit::plan::{Plan, Source, Step};
use crate::ir::{Framework, Node, NodeKind, Pipeline};

/// Words that mark a step as a data-quality step (it becomes an asset check).
const QUALITY_WORDS: &[&str] = &[
    "check",
    "validate",
    "validation",
    "quality",
    "assert",
    "verify",
];

/// How a step is written in Dagster.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Role {
    /// A software-defined asset.
    Asset,
    /// An asset check on the asset of another step.
    Check(usize),
    /// An external asset (`dg.AssetSpec`): declared, never materialised here.
    Spec,
    /// Not written; dependencies pass through.
    Folded,
}

/// What the role, key and upstream rules ask of a whole plan, computed once per plan (asking
/// it of every step for every step made large pipelines quadratic).
pub(super) struct StepFacts {
    /// Per step: its role by [`role`] alone (without the earlier-pipeline override).
    pub(super) roles: Vec<Role>,
    /// Per step: the upstream a data input from it reads, through folded steps (the first of its
    /// frontier: data edges first, then order edges, depth first).
    pub(super) resolved: Vec<Option<usize>>,
    /// Per step: every asset it stands for as an upstream — itself, or, for a folded step (a
    /// no-op join, a check), every asset reached through folded steps, in order. An order edge
    /// from a folded join must wait for all of its upstreams, not the first one only.
    pub(super) frontier: Vec<Vec<usize>>,
    /// `identifier(node id)` → the first step function with that key, and whether another
    /// function has the same key.
    pub(super) keys: HashMap<String, (String, bool)>,
    /// Per step: when its work runs, over the results of an Airflow pipeline's branches and
    /// short-circuits (by step index); `Always` everywhere else.
    pub(super) guards: Vec<Guard>,
    /// Whether the guards of a pipeline that branches were written (within their budget).
    pub(super) guarded: bool,
    /// Each step's index, by its node.
    pub(super) step_of: HashMap<*const Node, usize>,
    /// Each step's index, by its node's id (the first step of an id).
    pub(super) step_by_id: HashMap<String, usize>,
}

impl StepFacts {
    /// The facts of `plan`.
    pub(super) fn new(plan: &Plan) -> StepFacts {
        let mut read: HashSet<*const crate::ir::Node> = HashSet::new();
        for o in &plan.steps {
            for i in &o.inputs {
                if let Source::Step(j) = i.source {
                    read.insert(plan.steps[j].node);
                }
            }
            for &j in &o.after {
                read.insert(plan.steps[j].node);
            }
        }
        let roles: Vec<Role> = plan
            .steps
            .iter()
            .map(|s| role(s, read.contains(&(s.node as *const _))))
            .collect();
        let frontier = frontiers(plan, &roles);
        let resolved = frontier.iter().map(|f| f.first().copied()).collect();
        let mut keys: HashMap<String, (String, bool)> = HashMap::new();
        for st in &plan.steps {
            let key = key_name(&st.node.id);
            match keys.get_mut(&key) {
                Some((first, other)) => *other |= *first != st.func,
                None => {
                    keys.insert(key, (st.func.clone(), false));
                }
            }
        }
        let (guards, guarded) = step_guards(plan);
        StepFacts {
            roles,
            resolved,
            frontier,
            keys,
            guarded,
            guards,
            step_of: plan
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| (std::ptr::from_ref(s.node), i))
                .collect(),
            step_by_id: plan
                .steps
                .iter()
                .enumerate()
                .rev()
                .map(|(i, s)| (s.node.id.clone(), i))
                .collect(),
        }
    }
}

/// Each step's guard (see [`StepFacts::guards`]), its atoms renumbered from node indices to step
/// indices, and whether the pipeline branches and its guards are within their budget (`Always`
/// for every step otherwise).
fn step_guards(plan: &Plan) -> (Vec<Guard>, bool) {
    let p = plan.pipeline;
    let always = || vec![Guard::Always; plan.steps.len()];
    if !crate::emit::guards::has_branches(p) {
        return (always(), false);
    }
    let Some(by_node) = crate::emit::guards::guards(p) else {
        return (always(), false);
    };
    if p.framework != Some(Framework::Airflow) {
        return (always(), true);
    }
    let step_of: HashMap<&str, usize> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.node.id.as_str(), i))
        .collect();
    let node_of: HashMap<*const Node, usize> = p
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (std::ptr::from_ref(n), i))
        .collect();
    let node_step: Vec<Option<usize>> = p
        .nodes
        .iter()
        .map(|n| step_of.get(n.id.as_str()).copied())
        .collect();
    let guards = plan
        .steps
        .iter()
        .map(|s| {
            node_of
                .get(&std::ptr::from_ref(s.node))
                .and_then(|&i| by_node[i].renumber(&|u| node_step[u]))
                .unwrap_or(Guard::Always)
        })
        .collect();
    (guards, true)
}

/// [`StepFacts::frontier`] of every step, in one pass over the steps (upstream first; an
/// upstream that comes later, on a cycle, adds nothing).
fn frontiers(plan: &Plan, roles: &[Role]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::with_capacity(plan.steps.len());
    for (j, s) in plan.steps.iter().enumerate() {
        if matches!(roles[j], Role::Asset | Role::Spec) {
            out.push(vec![j]);
            continue;
        }
        let ups = s
            .inputs
            .iter()
            .filter_map(|i| match i.source {
                Source::Step(k) => Some(k),
                _ => None,
            })
            .chain(s.after.iter().copied());
        let mut mine: Vec<usize> = Vec::new();
        let mut seen: HashSet<usize> = HashSet::new();
        for k in ups {
            for &a in out.get(k).map(Vec::as_slice).unwrap_or(&[]) {
                if seen.insert(a) {
                    mine.push(a);
                }
            }
        }
        out.push(mine);
    }
    out
}

/// The steps a Dagster port writes as failure hooks: asset steps meant for a failure (an
/// Airflow `one_failed`/`all_failed` rule, a Prefect test of `state.is_failed()`) that nothing
/// reads; one whose body needs an upstream's value is not written at all.
pub(super) fn failure_hooks(
    p: &Pipeline,
    plan: &Plan,
    roles: &[Role],
) -> std::collections::BTreeSet<usize> {
    let read: std::collections::BTreeSet<usize> = plan
        .steps
        .iter()
        .flat_map(|s| {
            s.inputs
                .iter()
                .flat_map(|i| match &i.source {
                    Source::Step(j) => vec![*j],
                    Source::Steps(js) => js.clone(),
                    _ => Vec::new(),
                })
                .chain(s.after.iter().copied())
                .chain(s.extra_upstreams.iter().copied())
                .collect::<Vec<_>>()
        })
        .collect();
    plan.steps
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            let n = s.node;
            let rule = n
                .trigger_rule
                .clone()
                .or_else(|| p.effective_policy(n).trigger_rule);
            let for_failure = matches!(rule.as_deref(), Some("one_failed" | "all_failed"))
                || (n.condition_reads_states()
                    && n.condition
                        .as_deref()
                        .is_some_and(|c| c.contains("is_failed")));
            for_failure
                && s.defines
                && matches!(roles[*i], Role::Asset)
                && !read.contains(i)
                && n.mapping.is_none()
        })
        .map(|(i, _)| i)
        .collect()
}

/// A step's role; `has_down` says whether another step reads its node.
fn role(s: &Step, has_down: bool) -> Role {
    let n = s.node;
    if n.kind == NodeKind::ExternalAsset {
        return Role::Spec;
    }
    if matches!(n.kind, NodeKind::Empty | NodeKind::SubPipeline)
        || (n.callable.is_none() && n.operator.is_none())
    {
        return Role::Folded;
    }
    let ups: Vec<usize> = s
        .inputs
        .iter()
        .filter_map(|i| {
            if let Source::Step(j) = i.source {
                Some(j)
            } else {
                None
            }
        })
        .collect();
    let id = n.id.to_lowercase();
    let quality = QUALITY_WORDS.iter().any(|w| {
        id.split(|c: char| !c.is_alphanumeric()).any(|x| {
            x.strip_prefix(w)
                .is_some_and(|rest| ["", "s", "es", "d", "ed", "ing", "er", "ers"].contains(&rest))
        })
    });
    if n.kind != NodeKind::Asset
        && quality
        && ups.len() == 1
        && !has_down
        && n.callable.is_some()
        && n.mapping.is_none()
    {
        return Role::Check(ups[0]);
    }
    Role::Asset
}

/// The asset key a step is written with: its node id, unless another step of the module's
/// pipelines already has that id with a different function (then its unique function name).
pub(super) fn asset_key(facts: &StepFacts, step: &Step) -> String {
    let key = key_name(&step.node.id);
    let clash = facts
        .keys
        .get(&key)
        .is_some_and(|(first, other)| *other || *first != step.func);
    if clash
        || step.func.starts_with(&format!("{key}_"))
            && step.func[key.len() + 1..]
                .chars()
                .all(|c| c.is_ascii_digit())
    {
        step.func.clone()
    } else {
        key
    }
}
