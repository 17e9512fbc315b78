//! Which calls of a flow raise into its body, and which runs wait for them: a task or sub-flow
//! called directly (not submitted, no `return_state=True`, outside a `try` with handlers) or a
//! generated step of the flow's own code raises its failure in the flow, and Prefect makes no
//! run after it. The reader orders each run after the last such call before it; what the
//! edges cannot say is kept as the pipeline's `unordered_raises`.

use std::collections::{HashMap, HashSet};

use crate::ir::Pipeline;

/// The calls that raise into one flow's body, as the reader meets its runs.
#[derive(Default)]
pub(super) struct Raising {
    /// (the conditions the call is under, its node id), outermost first: each entry's
    /// conditions are a prefix of the next one's.
    stack: Vec<(Vec<String>, String)>,
    /// Every call that raises into the flow body, so a later one knows its upstreams raise.
    raisers: HashSet<String>,
    /// Calls whose failure raises but that a later run may not wait for: (id, the index of the
    /// run that makes it a gap once a run is made after it, whether a run with a trigger rule
    /// follows it — such a run goes ahead when it fails, whatever the edges).
    gaps: Vec<(String, usize, bool)>,
    /// The conditions each run under a condition was made under, to tell runs of exclusive
    /// branches apart.
    scopes: HashMap<String, Vec<String>>,
    /// The runs made with `return_state=True` (their `.result()` follows a test of the state).
    stateful: HashSet<String>,
}

/// How a run the reader just made relates to the calls that raise before it.
pub(super) struct Made<'a> {
    /// Its node id.
    pub id: &'a str,
    /// Its index among the flow's runs.
    pub index: usize,
    /// The conditions it is under.
    pub scope: &'a [String],
    /// Whether it has no trigger rule (it runs only when its upstreams succeeded).
    pub waits_for_success: bool,
    /// Whether its failure raises into the flow body (a direct call outside a `try`).
    pub raises: bool,
    /// Whether every upstream it has is a call that raises (none may fail quietly).
    pub upstreams_raise: bool,
    /// Whether it was made with `return_state=True`.
    pub returns_state: bool,
}

/// Most gaps whose later runs are checked one by one; past it every gap is kept.
const CHECKED_GAPS: usize = 64;

impl Raising {
    /// The innermost call that raises under conditions enclosing `scope`: the run made there
    /// waits for it. Calls above it on the stack are under other conditions.
    pub fn anchor(&self, scope: &[String]) -> Option<&str> {
        self.stack
            .iter()
            .rev()
            .find(|(c, _)| scope.starts_with(c))
            .map(|(_, a)| a.as_str())
    }

    /// Whether the call `id` raises into the flow body.
    pub fn raises(&self, id: &str) -> bool {
        self.raisers.contains(id)
    }

    /// Whether run `id` was made with `return_state=True`.
    pub fn returns_state(&self, id: &str) -> bool {
        self.stateful.contains(id)
    }

    /// Records a run just made (after its edge from [`Raising::anchor`], when it waits for
    /// success); returns nothing, the gaps are read at the end by [`Raising::unordered`].
    pub fn record(&mut self, m: Made<'_>) {
        if !m.waits_for_success
            && let Some(a) = self.anchor(m.scope)
        {
            let a = a.to_string();
            self.gaps.push((a, 0, true));
        }
        let is_raiser = m.raises && m.waits_for_success && m.upstreams_raise;
        // A call that raises but is not followed (a submitted upstream may leave it not run
        // without raising, or it has a trigger rule): the runs after it may not wait for it.
        if m.raises && !is_raiser {
            self.gaps.push((m.id.to_string(), m.index, false));
        }
        if !m.scope.is_empty() {
            self.scopes.insert(m.id.to_string(), m.scope.to_vec());
        }
        if m.returns_state {
            self.stateful.insert(m.id.to_string());
        }
        if !is_raiser {
            return;
        }
        // A call under a condition: the runs after its `if` do not wait for it.
        if !m.scope.is_empty() {
            self.gaps.push((m.id.to_string(), m.index, false));
        }
        while self
            .stack
            .last()
            .is_some_and(|(c, _)| c.len() >= m.scope.len() || !m.scope.starts_with(c))
        {
            self.stack.pop();
        }
        self.stack.push((m.scope.to_vec(), m.id.to_string()));
        self.raisers.insert(m.id.to_string());
    }

    /// The calls whose failure stops the flow but that some run made after them (in `p`) does
    /// not wait for, in call order, once each.
    pub fn unordered(&self, p: &Pipeline) -> Vec<String> {
        let mut seen = HashSet::new();
        let gaps: Vec<&(String, usize, bool)> = self
            .gaps
            .iter()
            .filter(|(_, made, _)| made + 1 < p.nodes.len())
            .filter(|(id, _, _)| seen.insert(id.as_str()))
            .collect();
        if gaps.is_empty() {
            return Vec::new();
        }
        let index: HashMap<&str, usize> = p
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i))
            .collect();
        let mut below: HashMap<&str, Vec<usize>> = HashMap::new();
        for e in &p.edges {
            if let Some(&t) = index.get(e.to.as_str())
                && p.nodes[t].trigger_rule.is_none()
            {
                below.entry(e.from.as_str()).or_default().push(t);
            }
        }
        let checked = gaps.len() <= CHECKED_GAPS;
        gaps.into_iter()
            .filter(|(id, _, before_trigger_rule)| {
                *before_trigger_rule
                    || !checked
                    || !waited_by_all_later(p, &index, &below, &self.scopes, id)
            })
            .map(|(id, _, _)| id.clone())
            .collect()
    }
}

/// Whether every run made after `id` that waits for success is downstream of it (through
/// runs that wait for success) or in a branch that excludes it, so none runs when it fails.
fn waited_by_all_later(
    p: &Pipeline,
    index: &HashMap<&str, usize>,
    below: &HashMap<&str, Vec<usize>>,
    scopes: &HashMap<String, Vec<String>>,
    id: &str,
) -> bool {
    let Some(&start) = index.get(id) else {
        return true;
    };
    let mut reached = vec![false; p.nodes.len()];
    let mut todo = vec![start];
    while let Some(i) = todo.pop() {
        for &t in below.get(p.nodes[i].id.as_str()).into_iter().flatten() {
            if !reached[t] {
                reached[t] = true;
                todo.push(t);
            }
        }
    }
    let empty = Vec::new();
    let scope_of = |i: usize| scopes.get(&p.nodes[i].id).unwrap_or(&empty);
    (start + 1..p.nodes.len()).all(|j| {
        reached[j] || p.nodes[j].trigger_rule.is_some() || exclusive(scope_of(start), scope_of(j))
    })
}

/// Whether two runs' conditions can never both hold: past their common enclosing conditions,
/// one is under an `if` and the other under its `else` (`not (…)`).
fn exclusive(a: &[String], b: &[String]) -> bool {
    let k = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    match (a.get(k), b.get(k)) {
        (Some(x), Some(y)) => *y == format!("not ({x})") || *x == format!("not ({y})"),
        _ => false,
    }
}
