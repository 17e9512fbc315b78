//! Ordering each run of a flow after the last call before it that raises into the flow body
//! (the reader's `raising` module): Prefect makes no run after a call that raised, so the run
//! waits for it, and the executor and every writer run nothing after a failed one.

use super::Interpreter;
use crate::frontend::prefect::raising::Made;
use crate::ir::{EdgeKind, Raise};

impl<'c, 's, 'a> Interpreter<'c, 's, 'a>
where
    'a: 's,
{
    /// Orders run `id`, just made and wired (its edges from `edges_before` on), after the last
    /// call before it that raises into the flow body, and records whether it raises itself
    /// (`raises`: a direct call, a sub-flow call or flow code, without `return_state=True`).
    /// A run with a trigger rule (it waits for failures) is not ordered.
    pub(super) fn follow_raising(&mut self, id: &str, raises: bool, edges_before: usize) {
        let raises = raises && self.try_bodies == 0;
        let Some(b) = self.build.as_ref() else { return };
        let p = &self.pipelines[b.pipeline];
        let Some(node) = p.nodes.last().filter(|n| n.id == id) else {
            return;
        };
        let (span, index) = (node.span, p.nodes.len() - 1);
        let waits_for_success = node.trigger_rule.is_none();
        let returns_state = Self::returns_state(&node.extra);
        let upstreams_raise = p.edges[edges_before.min(p.edges.len())..]
            .iter()
            .filter(|e| e.to == id)
            .all(|e| b.raising.raises(&e.from));
        if waits_for_success && let Some(a) = b.raising.anchor(&b.conditions) {
            let a = a.to_string();
            self.add_edge(&a, id, EdgeKind::Order, None, span);
        }
        if raises {
            self.flow_raises(std::slice::from_ref(&id.to_string()), Raise::Itself);
        }
        let Some(b) = self.build.as_mut() else { return };
        b.raising.record(Made {
            id,
            index,
            scope: &b.conditions,
            waits_for_success,
            raises,
            upstreams_raise,
            returns_state,
        });
    }

    /// Records that the failure of runs `ids` reaches the flow body (`how`), unless the body
    /// is in a `try` with handlers; a resolved future outranks a direct call.
    pub(super) fn flow_raises(&mut self, ids: &[String], how: Raise) {
        if self.try_bodies > 0 {
            return;
        }
        let Some(b) = self.build.as_ref() else { return };
        let raises = &mut self.pipelines[b.pipeline].flow_raises;
        for id in ids {
            let e = raises.entry(id.clone()).or_insert(how);
            if how == Raise::Result {
                *e = how;
            }
        }
    }

    /// Whether run `id` of the flow being read was made with `return_state=True`.
    pub(super) fn returns_state_of(&self, id: &str) -> bool {
        self.build
            .as_ref()
            .is_some_and(|b| b.raising.returns_state(id))
    }

    /// Whether a run's options keep its failure out of the flow body (`return_state=True`).
    pub(super) fn returns_state(
        run_kw: &std::collections::BTreeMap<String, crate::ir::Value>,
    ) -> bool {
        matches!(
            run_kw.get("return_state"),
            Some(crate::ir::Value::Bool(true))
        )
    }
}
