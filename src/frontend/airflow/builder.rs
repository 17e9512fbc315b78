//! A DAG under construction: task ids as Airflow makes them, edges, groups.

use std::collections::{HashMap, HashSet};

use crate::ir::{Edge, EdgeKind, Group, GroupKind, Node, Pipeline, Policy, Span, edge_budget};

/// A pipeline being built, with the indexes Airflow's own bookkeeping implies.
pub struct DagBuilder {
    /// The pipeline.
    pub pipeline: Pipeline,
    /// Whether DagBag would find it (context-managed, decorated, or a module global).
    pub registered: bool,
    ids: HashSet<String>,
    /// For each `prefix` with ids `prefix__N`, the largest N (so a collision costs no scan).
    suffixes: HashMap<String, u64>,
    edges: HashMap<(String, String), usize>,
    groups: HashMap<String, GroupInfo>,
    /// Where the first edge over the [`edge_budget`] was declared, and how many were cut.
    pub edges_cut: Option<(Span, usize)>,
}

/// A task group to add.
pub struct GroupSpec<'a> {
    /// Enclosing group id.
    pub parent: Option<&'a str>,
    /// The group's own id (before the parent prefix).
    pub group_id: &'a str,
    /// Whether children ids get the group prefix.
    pub prefix_group_id: bool,
    /// Whether a taken id gets `__N` instead of colliding.
    pub suffix_on_collision: bool,
    /// Group default_args as a policy.
    pub policy: Policy,
    /// Tooltip or docstring.
    pub description: Option<String>,
    /// Where it is defined.
    pub span: Span,
}

/// What a builder keeps about a task group.
pub struct GroupInfo {
    /// The prefix its children get (`None` with `prefix_group_id=False`).
    pub prefix: Option<String>,
    /// Enclosing group.
    pub parent: Option<String>,
}

impl DagBuilder {
    /// A builder around a pipeline holding only its DAG-level fields.
    pub fn new(pipeline: Pipeline) -> DagBuilder {
        DagBuilder {
            pipeline,
            registered: false,
            ids: HashSet::new(),
            suffixes: HashMap::new(),
            edges: HashMap::new(),
            groups: HashMap::new(),
            edges_cut: None,
        }
    }

    /// The id a task gets inside a group (`group.task`, unless the group does not prefix).
    pub fn child_id(&self, group: Option<&str>, label: &str) -> String {
        match group
            .and_then(|g| self.groups.get(g))
            .and_then(|g| g.prefix.as_deref())
        {
            Some(prefix) if !prefix.is_empty() => format!("{prefix}.{label}"),
            _ => label.to_string(),
        }
    }

    /// True when a task id is taken.
    pub fn has_id(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// The id Airflow gives a decorated task called again: `name`, then `name__1`, `name__2`, …
    pub fn unique_task_id(&self, group: Option<&str>, task_id: &str) -> String {
        let full = self.child_id(group, task_id);
        if !self.ids.contains(&full) {
            return full;
        }
        let prefix = strip_suffix_number(&full);
        let max = self.suffixes.get(prefix).copied().unwrap_or(0);
        let core = strip_suffix_number(task_id);
        self.child_id(group, &format!("{core}__{}", max + 1))
    }

    /// Adds a node (duplicates are kept, so validation reports them).
    pub fn add_node(&mut self, node: Node) {
        if let Some((prefix, n)) = node
            .id
            .rsplit_once("__")
            .and_then(|(p, n)| Some((p, n.parse::<u64>().ok()?)))
        {
            let max = self.suffixes.entry(prefix.to_string()).or_insert(0);
            *max = (*max).max(n);
        }
        self.ids.insert(node.id.clone());
        self.pipeline.nodes.push(node);
    }

    /// The node with an id.
    pub fn node_mut(&mut self, id: &str) -> Option<&mut Node> {
        self.pipeline.nodes.iter_mut().find(|n| n.id == id)
    }

    /// Adds a group; with `suffix_on_collision` an existing id gets `__N` as Airflow's `@task_group` does.
    pub fn add_group(&mut self, spec: GroupSpec) -> String {
        let GroupSpec {
            parent,
            group_id,
            prefix_group_id,
            suffix_on_collision,
            policy,
            description,
            span,
        } = spec;
        let mut id = self.child_id(parent, group_id);
        if suffix_on_collision && (self.groups.contains_key(&id) || self.ids.contains(&id)) {
            let base = strip_suffix_number(&id).to_string();
            let mut n = 1;
            while self.groups.contains_key(&format!("{base}__{n}")) {
                n += 1;
            }
            id = format!("{base}__{n}");
        }
        let prefix = if prefix_group_id {
            Some(id.clone())
        } else {
            parent
                .and_then(|p| self.groups.get(p))
                .and_then(|g| g.prefix.clone())
        };
        self.groups.insert(
            id.clone(),
            GroupInfo {
                prefix,
                parent: parent.map(str::to_string),
            },
        );
        self.pipeline.groups.push(Group {
            id: id.clone(),
            kind: GroupKind::TaskGroup,
            parent: parent.map(str::to_string),
            policy,
            description,
            span,
        });
        id
    }

    fn in_group(&self, node_group: Option<&str>, group: &str) -> bool {
        let mut cur = node_group.map(str::to_string);
        while let Some(g) = cur {
            if g == group {
                return true;
            }
            cur = self.groups.get(&g).and_then(|i| i.parent.clone());
        }
        false
    }

    fn members(&self, group: &str) -> Vec<String> {
        self.pipeline
            .nodes
            .iter()
            .filter(|n| self.in_group(n.group.as_deref(), group))
            .map(|n| n.id.clone())
            .collect()
    }

    /// Tasks of a group with no downstream inside it (what `group >> x` attaches to).
    pub fn leaves(&self, group: &str) -> Vec<String> {
        let members = self.members(group);
        let set: HashSet<&str> = members.iter().map(String::as_str).collect();
        let has_down: HashSet<&str> = self
            .pipeline
            .edges
            .iter()
            .filter(|e| set.contains(e.from.as_str()) && set.contains(e.to.as_str()))
            .map(|e| e.from.as_str())
            .collect();
        members
            .iter()
            .filter(|m| !has_down.contains(m.as_str()))
            .cloned()
            .collect()
    }

    /// Tasks of a group with no upstream inside it (what `x >> group` attaches to).
    pub fn roots(&self, group: &str) -> Vec<String> {
        let members = self.members(group);
        let set: HashSet<&str> = members.iter().map(String::as_str).collect();
        let has_up: HashSet<&str> = self
            .pipeline
            .edges
            .iter()
            .filter(|e| set.contains(e.from.as_str()) && set.contains(e.to.as_str()))
            .map(|e| e.to.as_str())
            .collect();
        members
            .iter()
            .filter(|m| !has_up.contains(m.as_str()))
            .cloned()
            .collect()
    }

    /// Adds `from → to` once; a data edge upgrades an existing order edge.
    pub fn add_edge(
        &mut self,
        from: &str,
        to: &str,
        kind: EdgeKind,
        param: Option<String>,
        span: Span,
    ) {
        if from == to && kind == EdgeKind::Data {
            return;
        }
        // Over the budget, nothing more is looked up or stored: a million declarations cost
        // a million counts, not a million keys.
        if self.pipeline.edges.len() >= edge_budget(self.pipeline.nodes.len()) {
            self.edges_cut.get_or_insert((span, 0)).1 += 1;
            return;
        }
        let key = (from.to_string(), to.to_string());
        if let Some(&i) = self.edges.get(&key) {
            let edge = &mut self.pipeline.edges[i];
            if kind == EdgeKind::Data && edge.kind == EdgeKind::Order {
                edge.kind = EdgeKind::Data;
                edge.param = param;
            }
            return;
        }
        self.edges.insert(key, self.pipeline.edges.len());
        self.pipeline.edges.push(Edge {
            from: from.to_string(),
            to: to.to_string(),
            kind,
            param,
            output: None,
            span,
        });
    }
}

fn strip_suffix_number(id: &str) -> &str {
    if let Some((head, tail)) = id.rsplit_once("__")
        && !tail.is_empty()
        && tail.bytes().all(|b| b.is_ascii_digit())
    {
        return head;
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::NodeKind;

    fn spec<'a>(parent: Option<&'a str>, group_id: &'a str) -> GroupSpec<'a> {
        GroupSpec {
            parent,
            group_id,
            prefix_group_id: true,
            suffix_on_collision: false,
            policy: Policy::default(),
            description: None,
            span: Span::default(),
        }
    }

    #[test]
    fn suffixes_repeated_task_ids_like_airflow() {
        let mut b = DagBuilder::new(Pipeline::default());
        for _ in 0..3 {
            let id = b.unique_task_id(None, "process");
            b.add_node(Node::new(id, NodeKind::Task, Span::default()));
        }
        let ids: Vec<&str> = b.pipeline.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["process", "process__1", "process__2"]);
    }

    #[test]
    fn group_ids_prefix_children() {
        let mut b = DagBuilder::new(Pipeline::default());
        let outer = b.add_group(spec(None, "outer"));
        let inner = b.add_group(spec(Some(&outer), "inner"));
        assert_eq!(inner, "outer.inner");
        assert_eq!(b.child_id(Some(&inner), "t"), "outer.inner.t");
        let flat = b.add_group(GroupSpec {
            prefix_group_id: false,
            ..spec(None, "flat")
        });
        assert_eq!(b.child_id(Some(&flat), "t"), "t");
        let again = b.add_group(GroupSpec {
            suffix_on_collision: true,
            ..spec(None, "outer")
        });
        assert_eq!(again, "outer__1");
    }
}
