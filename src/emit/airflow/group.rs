//! Task groups: the claims of the groups a pipeline writes, and each group's policy as its
//! `default_args`.

use super::body::Body;
use super::names::{group_chain, label_in};
use super::policy::policy_kwargs;
use super::state::ModuleState;
use crate::ir::{GroupKind, Pipeline};
use crate::python::print::{self as python, Expr};
use crate::report::{Anchor, Ledger, Scope};

/// Claims the task groups (and sub-flows) of `p` that hold a written step, and puts each
/// group's policy into `body` as its `default_args`.
pub(super) fn write_groups(
    m: &mut ModuleState,
    p: &Pipeline,
    dag_name: &str,
    body: &mut Body,
    ledger: &mut Ledger,
) {
    let (table, from) = (m.table, m.from);
    let written = |g: &crate::ir::Group| {
        p.nodes
            .iter()
            .any(|n| group_chain(p, n.group.as_deref()).contains(&g.id))
    };
    for g in p.groups.iter().filter(|g| written(g)) {
        if matches!(g.kind, GroupKind::TaskGroup | GroupKind::SubFlow) {
            let parent = g.parent.as_deref().filter(|x| {
                p.groups.iter().any(|y| {
                    y.id == *x && matches!(y.kind, GroupKind::TaskGroup | GroupKind::SubFlow)
                })
            });
            let at = Anchor::body(dag_name, "TaskGroup(").then(format!(
                "group_id={}",
                python::string(label_in(parent, &g.id))
            ));
            let id = if g.kind == GroupKind::TaskGroup {
                "group.task_group"
            } else {
                "group.sub_flow"
            };
            ledger.consume(table, id, &g.id, g.span, at);
        }
        let mut scratch = Ledger::new(&m.file.path, &p.id, "airflow");
        let kwargs = policy_kwargs(
            from,
            &g.policy,
            &g.id,
            g.span,
            &mut scratch,
            table,
            &mut m.imports,
            &Anchor::at(Scope::Head(String::new())),
        );
        let items = kwargs
            .into_iter()
            .filter_map(|e| match e {
                Expr::Keyword(k, v) => Some((Expr::str(&k), *v)),
                _ => None,
            })
            .collect();
        body.group_defaults.insert(g.id.clone(), items);
    }
}
