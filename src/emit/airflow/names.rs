//! Airflow names: the SDK module of a profile, DAG and task ids, task-group labels.

use crate::emit::Target;
use crate::emit::plan::Step;
use crate::ir::{GroupKind, Pipeline};

/// Where the SDK names come from in a profile.
pub(super) fn sdk(target: Target) -> &'static str {
    if target.version >= 3 {
        "airflow.sdk"
    } else {
        "airflow.decorators"
    }
}

/// The task-group ancestry of a group, outermost first.
pub(super) fn group_chain(p: &Pipeline, group: Option<&str>) -> Vec<String> {
    let mut chain = Vec::new();
    let mut cur = group.map(str::to_string);
    while let Some(g) = cur {
        let Some(def) = p.groups.iter().find(|x| x.id == g) else {
            break;
        };
        // A Prefect sub-flow inlined into its caller is a task group too.
        if matches!(def.kind, GroupKind::TaskGroup | GroupKind::SubFlow) {
            chain.push(g.clone());
        }
        cur = def.parent.clone();
        if chain.len() > p.groups.len() {
            break;
        }
    }
    chain.reverse();
    chain
}

/// The id of a group or task relative to its parent group (`outer.inner` in `outer` → `inner`).
pub(super) fn label_in<'a>(parent: Option<&str>, id: &'a str) -> &'a str {
    match parent {
        Some(p) => id
            .strip_prefix(p)
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(id),
        None => id,
    }
}

/// The task id a node gets inside its group.
pub(super) fn task_label(p: &Pipeline, step: &Step) -> String {
    let chain = group_chain(p, step.node.group.as_deref());
    let label = match chain.last() {
        Some(g) => label_in(Some(g), &step.node.id).to_string(),
        None => step.node.id.clone(),
    };
    // Airflow task ids allow letters, digits, `-`, `.` and `_`: asset key paths lose their `/`.
    airflow_key(&label.replace('/', "__"))
}

/// A name as an Airflow key (dag or task id): letters, digits, `_`, `-` and `.` only (anything
/// else becomes `_`), at most 250 characters (a longer name keeps its first 240 and a hash of
/// the whole, so two long names stay apart). Airflow refuses any other key at load.
pub(super) fn airflow_key(name: &str) -> String {
    let key: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if key.is_empty() {
        return "_".into();
    }
    if key.chars().count() <= 250 {
        return key;
    }
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let head: String = key.chars().take(240).collect();
    format!("{head}_{:08x}", hash as u32)
}
