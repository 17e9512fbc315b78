//! Guards and gates. Guards: when a step of an Airflow pipeline runs, as a condition over the results of its
//! branching steps. A branch's arms run when it chooses them; a step below an arm runs as its
//! trigger rule says when an upstream is skipped (all_success needs every upstream to have run,
//! none_failed_min_one_success one of them); everything below a short-circuit runs only when it
//! returned a truthy value (Airflow's default `ignore_downstream_trigger_rules=True`). Writers
//! whose target has no branch write a guard as a conditional around the call. Gates: the other
//! way, a Prefect call under an `if` becomes, in Airflow, a short-circuit task that evaluates
//! the condition upstream of the step.

use std::collections::{BTreeSet, HashSet};

use crate::ir::{NodeKind, Pipeline, Value};
use crate::python::ast::{self, Expr as PyExpr, Stmt};
use crate::python::print::string;

/// One test a guard makes of a branching step's result.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Atom {
    /// The branch step (node index) chose this task id.
    Arm {
        /// The branch's node index.
        branch: usize,
        /// The chosen task id.
        arm: String,
        /// The branch's callable returns one id (a string), never a list.
        single: bool,
    },
    /// The branch step (node index), which returns one id, chose one of these task ids.
    OneOf {
        /// The branch's node index.
        branch: usize,
        /// The task ids, sorted.
        arms: Vec<String>,
    },
    /// A test written as is (a run's state in a flow: `x.state.is_failed()`).
    Raw(String),
    /// The short-circuit step (node index) returned a truthy value.
    Truthy {
        /// The short-circuit's node index.
        node: usize,
    },
    /// The step (node index) produced this optional output (a key of its result's dict).
    Produced {
        /// The producing step's node index.
        node: usize,
        /// The output's name.
        output: String,
    },
}

/// When a step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// Whatever the branches chose.
    Always,
    /// When one test holds.
    Atom(Atom),
    /// When every part holds.
    All(Vec<Guard>),
    /// When any part holds.
    Any(Vec<Guard>),
}

impl Guard {
    /// Every part holds.
    pub fn all(parts: Vec<Guard>) -> Guard {
        let mut flat: Vec<Guard> = Vec::new();
        for g in parts {
            match g {
                Guard::Always => {}
                Guard::All(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        dedup(&mut flat);
        match flat.len() {
            0 => Guard::Always,
            1 => flat.remove(0),
            _ => Guard::All(flat),
        }
    }

    /// Some part holds.
    pub fn any(parts: Vec<Guard>) -> Guard {
        if parts.is_empty() || parts.contains(&Guard::Always) {
            return Guard::Always;
        }
        let mut flat: Vec<Guard> = Vec::new();
        for g in parts {
            match g {
                Guard::Any(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        dedup(&mut flat);
        if flat.len() == 1 {
            return flat.remove(0);
        }
        // Arms of one single-id branch: one membership test.
        let single_arms: Option<(usize, Vec<String>)> =
            flat.iter()
                .try_fold((usize::MAX, Vec::new()), |(b, mut arms), g| match g {
                    Guard::Atom(Atom::Arm {
                        branch,
                        arm,
                        single: true,
                    }) if b == usize::MAX || b == *branch => {
                        arms.push(arm.clone());
                        Some((*branch, arms))
                    }
                    Guard::Atom(Atom::OneOf { branch, arms: more })
                        if b == usize::MAX || b == *branch =>
                    {
                        arms.extend(more.iter().cloned());
                        Some((*branch, arms))
                    }
                    _ => None,
                });
        if let Some((branch, mut arms)) = single_arms {
            arms.sort();
            arms.dedup();
            return Guard::Atom(Atom::OneOf { branch, arms });
        }
        // Conjuncts every alternative shares are factored out: (a and b) or (a and c) is
        // a and (b or c).
        let conjuncts = |g: &Guard| match g {
            Guard::All(inner) => inner.clone(),
            other => vec![other.clone()],
        };
        let first = conjuncts(&flat[0]);
        let common: Vec<Guard> = first
            .into_iter()
            .filter(|c| flat.iter().all(|g| conjuncts(g).contains(c)))
            .collect();
        if common.is_empty() {
            return Guard::Any(flat);
        }
        let rest: Vec<Guard> = flat
            .iter()
            .map(|g| {
                Guard::all(
                    conjuncts(g)
                        .into_iter()
                        .filter(|c| !common.contains(c))
                        .collect(),
                )
            })
            .collect();
        let mut all = common;
        all.push(Guard::any(rest));
        Guard::all(all)
    }

    /// The same guard over other indices (`map` gives each branching node's new index); `None`
    /// when a node has none.
    pub fn renumber(&self, map: &dyn Fn(usize) -> Option<usize>) -> Option<Guard> {
        Some(match self {
            Guard::Always => Guard::Always,
            Guard::Atom(Atom::Raw(r)) => Guard::Atom(Atom::Raw(r.clone())),
            Guard::Atom(Atom::Arm {
                branch,
                arm,
                single,
            }) => Guard::Atom(Atom::Arm {
                branch: map(*branch)?,
                arm: arm.clone(),
                single: *single,
            }),
            Guard::Atom(Atom::OneOf { branch, arms }) => Guard::Atom(Atom::OneOf {
                branch: map(*branch)?,
                arms: arms.clone(),
            }),
            Guard::Atom(Atom::Truthy { node }) => Guard::Atom(Atom::Truthy { node: map(*node)? }),
            Guard::Atom(Atom::Produced { node, output }) => Guard::Atom(Atom::Produced {
                node: map(*node)?,
                output: output.clone(),
            }),
            Guard::All(parts) => Guard::All(
                parts
                    .iter()
                    .map(|g| g.renumber(map))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Guard::Any(parts) => Guard::Any(
                parts
                    .iter()
                    .map(|g| g.renumber(map))
                    .collect::<Option<Vec<_>>>()?,
            ),
        })
    }

    /// The branching steps (node indices) whose result the guard reads.
    pub fn reads(&self) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut BTreeSet<usize>) {
        match self {
            Guard::Always | Guard::Atom(Atom::Raw(_)) => {}
            Guard::Atom(Atom::Arm { branch, .. }) => {
                out.insert(*branch);
            }
            Guard::Atom(Atom::Truthy { node })
            | Guard::Atom(Atom::OneOf { branch: node, .. })
            | Guard::Atom(Atom::Produced { node, .. }) => {
                out.insert(*node);
            }
            Guard::All(parts) | Guard::Any(parts) => {
                for p in parts {
                    p.collect(out);
                }
            }
        }
    }

    /// The guard as a Python condition, `value(i)` naming the local that holds step `i`'s result.
    pub fn python(&self, value: &dyn Fn(usize) -> String) -> String {
        match self {
            Guard::Always => "True".into(),
            Guard::Atom(Atom::Arm {
                branch,
                arm,
                single,
            }) => {
                let c = value(*branch);
                if *single {
                    format!("{c} == {}", string(arm))
                } else {
                    // Airflow takes a branch's result as one id, or a list of ids, or none.
                    format!(
                        "{} in ([{c}] if isinstance({c}, str) else {c} or [])",
                        string(arm)
                    )
                }
            }
            Guard::Atom(Atom::OneOf { branch, arms }) => format!(
                "{} in ({})",
                value(*branch),
                arms.iter()
                    .map(|a| string(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Guard::Atom(Atom::Truthy { node }) => value(*node),
            Guard::Atom(Atom::Produced { node, output }) => {
                crate::ir::optional::produced_test(output, &value(*node))
            }
            Guard::Atom(Atom::Raw(text)) => text.clone(),
            Guard::All(parts) => join(parts, " and ", value),
            Guard::Any(parts) => join(parts, " or ", value),
        }
    }
}

impl Guard {
    /// The parts that must all hold (the guard itself when it is not a conjunction).
    pub fn conjuncts(&self) -> Vec<Guard> {
        match self {
            Guard::All(parts) => parts.clone(),
            Guard::Always => Vec::new(),
            other => vec![other.clone()],
        }
    }

    /// `if {condition}:` at `indent` (continuation lines with their indentation), wrapped as
    /// ruff wraps a condition too long for the line: a long `x in (…)` split inside its
    /// brackets, alternatives one per line inside parentheses. A conjunction is written as
    /// nested `if`s (see [`Guard::conjuncts`]), so its parts are headers of their own.
    pub fn header(&self, value: &dyn Fn(usize) -> String, indent: usize) -> String {
        let flat = self.python(value);
        let width = |s: &str| s.chars().count();
        let limit = crate::python::print::LINE_LENGTH;
        if indent + 4 + width(&flat) <= limit {
            return format!("if {flat}:");
        }
        let pad = |n: usize| " ".repeat(n);
        match self {
            Guard::Atom(Atom::Arm {
                branch,
                arm,
                single: false,
            }) => {
                // `"x" in (…)`: the conditional expression on one line when it fits, else
                // split at `if` and `else`.
                let c = value(*branch);
                let one = format!("[{c}] if isinstance({c}, str) else {c} or []");
                let inner = if indent + 4 + width(&one) <= limit {
                    format!("{}{one}", pad(indent + 4))
                } else {
                    let p = pad(indent + 4);
                    format!("{p}[{c}]\n{p}if isinstance({c}, str)\n{p}else {c} or []")
                };
                format!("if {} in (\n{inner}\n{}):", string(arm), pad(indent))
            }
            // Two groups: ruff splits the last one's brackets when what precedes them fits
            // (`if (a and b) or (\n    c and d\n):`), else both in turn.
            Guard::Any(parts) | Guard::All(parts)
                if parts.len() == 2
                    && parts
                        .iter()
                        .all(|x| matches!(x, Guard::All(_) | Guard::Any(_))) =>
            {
                let op = if matches!(self, Guard::Any(_)) {
                    "or"
                } else {
                    "and"
                };
                let head = format!("if ({}) {op} (", parts[0].python(value));
                let last = parts[1].inside(value, indent + 4);
                if indent + width(&head) <= limit {
                    return format!("{head}\n{}{last}\n{}):", pad(indent + 4), pad(indent));
                }
                format!(
                    "if (\n{}{}\n{}) {op} (\n{}{last}\n{}):",
                    pad(indent + 4),
                    parts[0].inside(value, indent + 4),
                    pad(indent),
                    pad(indent + 4),
                    pad(indent)
                )
            }
            // More alternatives: one per line inside parentheses.
            Guard::Any(_) | Guard::All(_) => format!(
                "if (\n{}{}\n{}):",
                pad(indent + 4),
                self.inside(value, indent + 4),
                pad(indent)
            ),
            _ => format!("if {flat}:"),
        }
    }
}

impl Guard {
    /// The condition inside brackets at `indent` (first line without its indentation): on one
    /// line when it fits, else one operand per line, each after the first led by its operator,
    /// a group that does not fit split in its own brackets.
    fn inside(&self, value: &dyn Fn(usize) -> String, indent: usize) -> String {
        let flat = self.python(value);
        let limit = crate::python::print::LINE_LENGTH;
        let width = |s: &str| s.chars().count();
        if indent + width(&flat) <= limit {
            return flat;
        }
        let (parts, op) = match self {
            Guard::All(p) => (p, "and "),
            Guard::Any(p) => (p, "or "),
            _ => return flat,
        };
        let pad = |n: usize| " ".repeat(n);
        parts
            .iter()
            .enumerate()
            .map(|(k, part)| {
                let lead = if k == 0 { "" } else { op };
                let text = match part {
                    Guard::All(_) | Guard::Any(_) => {
                        let g = format!("{lead}({})", part.python(value));
                        if indent + width(&g) <= limit {
                            g
                        } else {
                            format!(
                                "{lead}(\n{}{}\n{})",
                                pad(indent + 4),
                                part.inside(value, indent + 4),
                                pad(indent)
                            )
                        }
                    }
                    _ => format!("{lead}{}", part.python(value)),
                };
                if k == 0 {
                    text
                } else {
                    format!("{}{text}", pad(indent))
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Parts joined by `and`/`or`; a nested group is parenthesised, a test is not (comparisons bind
/// tighter than both).
impl Guard {
    /// The guard as early returns at the top of a body at `indent`: one
    /// `if <conjunct does not hold>:\n    return None` per conjunct, so that each test stays
    /// short; a branch that may return several ids is tested with `_chosen(result, *ids)`.
    pub fn early_returns(&self, value: &dyn Fn(usize) -> String, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let limit = crate::python::print::LINE_LENGTH;
        let mut out = String::new();
        for c in self.conjuncts() {
            let test = match &c {
                Guard::Atom(Atom::Truthy { node }) => format!("not {}", value(*node)),
                Guard::Atom(Atom::Arm {
                    branch,
                    arm,
                    single: true,
                }) => format!("{} != {}", value(*branch), string(arm)),
                Guard::Atom(Atom::OneOf { .. }) => {
                    c.compact(value).replacen(" in (", " not in (", 1)
                }
                Guard::Atom(Atom::Produced { node, output }) => {
                    crate::ir::optional::produced_test(output, &value(*node))
                        .replacen(" in ", " not in ", 1)
                }
                _ => {
                    let inner = c.compact(value);
                    if inner.starts_with("_chosen(") {
                        format!("not {inner}")
                    } else {
                        format!("not ({inner})")
                    }
                }
            };
            let line = format!("if {test}:");
            let single_call = test
                .strip_prefix("not _chosen(")
                .and_then(|rest| rest.strip_suffix(')'))
                .filter(|args| !args.contains('('));
            let header = if indent + line.chars().count() <= limit {
                line
            } else if let Some(args) = single_call {
                // One call too long: its arguments inside its parentheses, one per line
                // (with a trailing comma) when they do not fit on one.
                let inner_pad = " ".repeat(indent + 4);
                if indent + 4 + args.chars().count() <= limit {
                    format!("if not _chosen(\n{inner_pad}{args}\n{pad}):")
                } else {
                    let each: Vec<String> = args
                        .split(", ")
                        .map(|a| format!("{inner_pad}{a},"))
                        .collect();
                    format!("if not _chosen(\n{}\n{pad}):", each.join("\n"))
                }
            } else {
                // Too long: the alternatives (or parts) one per line inside the parentheses.
                let (op, parts) = match &c {
                    Guard::Any(parts) => (" or ", c.any_parts(parts, value)),
                    Guard::All(parts) => (
                        " and ",
                        parts.iter().map(|p| p.compact_operand(value)).collect(),
                    ),
                    _ => ("", vec![c.compact(value)]),
                };
                let inner_pad = " ".repeat(indent + 4);
                let lines: Vec<String> = parts
                    .iter()
                    .enumerate()
                    .map(|(k, part)| {
                        if k == 0 {
                            format!("{inner_pad}{part}")
                        } else {
                            format!("{inner_pad}{}{part}", op.trim_start())
                        }
                    })
                    .collect();
                format!("if not (\n{}\n{pad}):", lines.join("\n"))
            };
            out.push_str(&format!("{pad}{header}\n{pad}    return None\n"));
        }
        out
    }

    /// The guard as Python for [`Guard::early_returns`]: like [`Guard::python`], but a branch
    /// that may return several ids is `_chosen(result, "a", "b")`, its arms in one call.
    fn compact(&self, value: &dyn Fn(usize) -> String) -> String {
        match self {
            Guard::Atom(Atom::Arm {
                branch,
                arm,
                single: false,
            }) => format!("_chosen({}, {})", value(*branch), string(arm)),
            Guard::All(parts) => parts
                .iter()
                .map(|p| p.compact_operand(value))
                .collect::<Vec<_>>()
                .join(" and "),
            Guard::Any(parts) => self.any_parts(parts, value).join(" or "),
            other => other.python(value),
        }
    }

    /// A part of a larger condition: a group in parentheses.
    fn compact_operand(&self, value: &dyn Fn(usize) -> String) -> String {
        match self {
            Guard::All(_) | Guard::Any(_) => format!("({})", self.compact(value)),
            other => other.compact(value),
        }
    }

    /// The alternatives of an `Any`, the arms of one multi-id branch merged into one `_chosen`.
    fn any_parts(&self, parts: &[Guard], value: &dyn Fn(usize) -> String) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut merged: Vec<(usize, Vec<String>, usize)> = Vec::new();
        for p in parts {
            if let Guard::Atom(Atom::Arm {
                branch,
                arm,
                single: false,
            }) = p
            {
                if let Some(m) = merged.iter_mut().find(|m| m.0 == *branch) {
                    m.1.push(string(arm));
                    continue;
                }
                merged.push((*branch, vec![string(arm)], out.len()));
                out.push(String::new());
                continue;
            }
            out.push(p.compact_operand(value));
        }
        for (branch, arms, at) in merged {
            out[at] = format!("_chosen({}, {})", value(branch), arms.join(", "));
        }
        out
    }
}

fn join(parts: &[Guard], op: &str, value: &dyn Fn(usize) -> String) -> String {
    parts
        .iter()
        .map(|p| match p {
            Guard::All(_) | Guard::Any(_) => format!("({})", p.python(value)),
            _ => p.python(value),
        })
        .collect::<Vec<_>>()
        .join(op)
}

fn dedup(v: &mut Vec<Guard>) {
    let mut seen: Vec<Guard> = Vec::new();
    v.retain(|g| {
        if seen.contains(g) {
            false
        } else {
            seen.push(g.clone());
            true
        }
    });
}

/// Whether a pipeline has a branching step, or a step with optional outputs (so its steps may
/// need guards).
pub fn has_branches(p: &Pipeline) -> bool {
    p.nodes.iter().any(|n| {
        matches!(n.kind, NodeKind::Branch | NodeKind::ShortCircuit)
            || !n.optional_outputs.is_empty()
    })
}

/// Most tests in one guard, and most nesting: past them (branches under joins under branches,
/// hundreds deep, or a diamond of joins whose guards double at each layer) no `if` is written.
const GUARD_WEIGHT: usize = 256;
const GUARD_DEPTH: usize = 24;

/// Most steps times short-circuits visited when finding what each short-circuit skips.
const CLOSURE_BUDGET: usize = 4_000_000;

impl Guard {
    /// Its tests, counted (saturating), and its nesting depth.
    fn size(&self) -> (usize, usize) {
        match self {
            Guard::Always => (0, 0),
            Guard::Atom(_) => (1, 1),
            Guard::All(parts) | Guard::Any(parts) => parts.iter().fold((0, 0), |(w, d), p| {
                let (pw, pd) = p.size();
                (w.saturating_add(pw), d.max(pd + 1))
            }),
        }
    }
}

/// The guard of every node of an Airflow pipeline (or of a Dagster op job whose ops have optional
/// outputs: `Atom::Produced`), by node index (`Always` everywhere when it has
/// no branching step, or when its edges form a cycle); `None` when a guard would pass the
/// weight or depth budget, or finding what the short-circuits skip would pass its budget.
pub fn guards(p: &Pipeline) -> Option<Vec<Guard>> {
    let n = p.nodes.len();
    let mut out = vec![Guard::Always; n];
    if !has_branches(p) {
        return Some(out);
    }
    let shorts = p
        .nodes
        .iter()
        .filter(|x| x.kind == NodeKind::ShortCircuit)
        .count();
    if shorts.saturating_mul(n + p.edges.len()) > CLOSURE_BUDGET {
        return None;
    }
    let index = p.node_index();
    let mut ups: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut downs: Vec<Vec<usize>> = vec![Vec::new(); n];
    // The optional outputs each step reads, by upstream: (upstream, step) → outputs.
    let mut optional: std::collections::HashMap<(usize, usize), Vec<String>> =
        std::collections::HashMap::new();
    for e in &p.edges {
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str()))
            && a != b
        {
            if crate::ir::optional::reads_optional(e, &p.nodes[a])
                && let Some(o) = &e.output
            {
                optional.entry((a, b)).or_default().push(o.clone());
            }
            if !ups[b].contains(&a) {
                ups[b].push(a);
                downs[a].push(b);
            }
        }
    }
    let Some(order) = crate::ir::graph::PipelineGraph::new(p).topological_order() else {
        return Some(out);
    };
    // Everything below a short-circuit that ignores downstream trigger rules.
    let mut below_short: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (s, node) in p.nodes.iter().enumerate() {
        if node.kind == NodeKind::ShortCircuit && ignores_downstream_rules(node) {
            let mut stack = downs[s].clone();
            let mut seen = vec![false; n];
            while let Some(d) = stack.pop() {
                if std::mem::replace(&mut seen[d], true) {
                    continue;
                }
                below_short[d].push(s);
                stack.extend(downs[d].iter().copied());
            }
        }
    }
    for i in order {
        let node = &p.nodes[i];
        let parts: Vec<Guard> = ups[i]
            .iter()
            .map(|&u| {
                let own = match p.nodes[u].kind {
                    NodeKind::Branch => Guard::Atom(Atom::Arm {
                        branch: u,
                        arm: node.id.clone(),
                        single: returns_one_id(&p.nodes[u]),
                    }),
                    NodeKind::ShortCircuit if !ignores_downstream_rules(&p.nodes[u]) => {
                        Guard::Atom(Atom::Truthy { node: u })
                    }
                    _ => Guard::all(
                        optional
                            .get(&(u, i))
                            .into_iter()
                            .flatten()
                            .map(|o| {
                                Guard::Atom(Atom::Produced {
                                    node: u,
                                    output: o.clone(),
                                })
                            })
                            .collect(),
                    ),
                };
                Guard::all(vec![out[u].clone(), own])
            })
            .collect();
        let rule = node
            .trigger_rule
            .clone()
            .or(p.effective_policy(node).trigger_rule);
        let from_ups = match rule.as_deref() {
            None | Some("all_success") | Some("none_skipped") => Guard::all(parts),
            Some("none_failed_min_one_success") | Some("one_success") | Some("one_done") => {
                Guard::any(parts)
            }
            // Rules that run whatever was skipped above (none_failed, all_done, always, the
            // failure rules): the branches decide nothing for them.
            _ => Guard::Always,
        };
        let closure = below_short[i]
            .iter()
            .map(|&s| Guard::Atom(Atom::Truthy { node: s }));
        let g = Guard::all(std::iter::once(from_ups).chain(closure).collect());
        let (weight, depth) = g.size();
        if weight > GUARD_WEIGHT || depth > GUARD_DEPTH {
            return None;
        }
        out[i] = g;
    }
    Some(out)
}

/// Airflow's short-circuit default skips everything below it, whatever its trigger rules.
fn ignores_downstream_rules(n: &crate::ir::Node) -> bool {
    let set = n
        .operator
        .as_ref()
        .and_then(|o| o.args.get("ignore_downstream_trigger_rules"))
        .or_else(|| n.extra.get("ignore_downstream_trigger_rules"));
    !matches!(set, Some(Value::Bool(false)))
}

/// Whether a branch's callable returns one task id: annotated `-> str`, or every `return` gives a
/// string literal (or a conditional expression of them).
fn returns_one_id(n: &crate::ir::Node) -> bool {
    let Some(c) = &n.callable else { return false };
    if c.returns.as_deref().map(str::trim) == Some("str") {
        return true;
    }
    let Some(body) = crate::python::parse::parse_body_text(&c.body) else {
        return false;
    };
    let mut returns = Vec::new();
    collect_returns(&body, &mut returns, 0);
    !returns.is_empty() && returns.iter().all(|r| r.is_some_and(is_id_literal))
}

fn collect_returns<'a>(body: &'a [Stmt], out: &mut Vec<Option<&'a PyExpr>>, depth: usize) {
    if depth > 32 {
        out.push(None);
        return;
    }
    for s in body {
        match s {
            Stmt::Return(r) => out.push(r.value.as_deref()),
            Stmt::If(i) => {
                collect_returns(&i.body, out, depth + 1);
                for clause in &i.elif_else_clauses {
                    collect_returns(&clause.body, out, depth + 1);
                }
            }
            Stmt::For(ast::StmtFor { body, orelse, .. })
            | Stmt::While(ast::StmtWhile { body, orelse, .. }) => {
                collect_returns(body, out, depth + 1);
                collect_returns(orelse, out, depth + 1);
            }
            Stmt::With(w) => collect_returns(&w.body, out, depth + 1),
            Stmt::Try(t) => {
                collect_returns(&t.body, out, depth + 1);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    collect_returns(&h.body, out, depth + 1);
                }
                collect_returns(&t.orelse, out, depth + 1);
                collect_returns(&t.finalbody, out, depth + 1);
            }
            Stmt::Match(m) => {
                for case in &m.cases {
                    collect_returns(&case.body, out, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn is_id_literal(e: &PyExpr) -> bool {
    match e {
        PyExpr::StringLiteral(_) => true,
        PyExpr::If(x) => is_id_literal(&x.body) && is_id_literal(&x.orelse),
        _ => false,
    }
}

/// A short-circuit task an Airflow port runs before the steps a Prefect `if` guards.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// The condition, as the flow wrote it.
    pub condition: String,
    /// The flow locals it reads that hold a run's result: (local name, node index).
    pub reads: Vec<(String, usize)>,
    /// The flow parameters it reads.
    pub params: Vec<String>,
    /// The guarded node indices, in node order.
    pub nodes: Vec<usize>,
}

/// How the calls under conditions of a Prefect flow are written in an Airflow port.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions {
    /// One gate per distinct condition that can be evaluated in a task.
    pub gates: Vec<Gate>,
    /// Calls in `except` handlers that wait for their `try` body's runs (`one_failed`).
    pub handlers: Vec<usize>,
    /// Calls under a test of runs' states, written as a trigger rule over those runs
    /// (`x.state.is_failed()` is one_failed, `a.is_failed() and b.is_failed()` all_failed).
    pub rules: Vec<(usize, &'static str)>,
    /// Conditioned calls that cannot be ported, with why.
    pub lost: Vec<(usize, String)>,
    /// Steps that must run when an upstream was skipped by a gate (`none_failed`): the guarded
    /// steps and what waits for them, when they set no trigger rule of their own.
    pub tolerant: BTreeSet<usize>,
}

/// Names a gate's body may use besides its parameters: Python's builtins that conditions use.
const BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "float",
    "int",
    "isinstance",
    "len",
    "list",
    "max",
    "min",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
];

/// The trigger rule a test of runs' states amounts to, when the tested runs are all the step's
/// upstreams: `x.is_failed()` (or `x.state.is_failed()`) and `or`s of them are one_failed,
/// `and`s all_failed; `x.is_completed()` and `and`s of it all_success.
fn state_rule(cond: &str, n: &crate::ir::Node, p: &Pipeline) -> Option<&'static str> {
    let e = crate::python::parse::parse_expression(cond)?;
    let (parts, op): (Vec<&PyExpr>, Option<ast::BoolOp>) = match &e {
        PyExpr::BoolOp(b) => (b.values.iter().collect(), Some(b.op)),
        other => (vec![other], None),
    };
    let mut tested = BTreeSet::new();
    let mut method = None;
    for part in parts {
        let PyExpr::Call(c) = part else { return None };
        let PyExpr::Attribute(a) = &*c.func else {
            return None;
        };
        if !c.arguments.args.is_empty() || !c.arguments.keywords.is_empty() {
            return None;
        }
        let base = match &*a.value {
            PyExpr::Name(x) => x.id.as_str(),
            PyExpr::Attribute(s) if s.attr.as_str() == "state" => match &*s.value {
                PyExpr::Name(x) => x.id.as_str(),
                _ => return None,
            },
            _ => return None,
        };
        let id = n.condition_reads.get(base)?;
        tested.insert(id.as_str());
        let m = a.attr.as_str();
        if method.is_some_and(|x| x != m) {
            return None;
        }
        method = Some(m);
    }
    // Every upstream of the step is tested, or the rule would fire on another's failure.
    let ups: BTreeSet<&str> = p
        .edges
        .iter()
        .filter(|e| e.to == n.id)
        .map(|e| e.from.as_str())
        .collect();
    if ups != tested {
        return None;
    }
    match (method?, op) {
        ("is_failed", None | Some(ast::BoolOp::Or)) => Some("one_failed"),
        ("is_failed", Some(ast::BoolOp::And)) => Some("all_failed"),
        ("is_completed", None | Some(ast::BoolOp::And)) => Some("all_success"),
        _ => None,
    }
}

/// The conditions of a Prefect pipeline as an Airflow port writes them; `module` holds the
/// names the module's support code binds (they stay importable in the gate's body).
pub fn prefect_conditions(p: &Pipeline, module: &HashSet<String>) -> Conditions {
    let mut out = Conditions::default();
    let params: HashSet<&str> = p.params.iter().map(|x| x.name.as_str()).collect();
    for (i, n) in p.nodes.iter().enumerate() {
        let Some(cond) = n.condition.as_deref() else {
            continue;
        };
        if cond.starts_with("except ") {
            if n.trigger_rule.as_deref() == Some("one_failed") {
                out.handlers.push(i);
            } else {
                out.lost.push((
                    i,
                    format!("the `{cond}` handler runs when code that is no task raises, which no trigger rule sees: port it by hand"),
                ));
            }
            continue;
        }
        if n.condition_reads_states() {
            match state_rule(cond, n, p) {
                Some(rule) => out.rules.push((i, rule)),
                None => out.lost.push((
                    i,
                    format!(
                        "`{cond}` tests runs' states in a way no trigger rule says: port it by hand"
                    ),
                )),
            }
            continue;
        }
        if cond.starts_with("match ") {
            out.lost.push((
                i,
                format!("`{cond}` is not written: port the match by hand"),
            ));
            continue;
        }
        let names = crate::python::parse::referenced_names(cond);
        let mut names: Vec<String> = names.map(|n| n.into_iter().collect()).unwrap_or_default();
        names.sort();
        let mut reads = Vec::new();
        let mut used = Vec::new();
        let mut unknown = Vec::new();
        for name in names {
            if let Some(id) = n.condition_reads.get(&name)
                && let Some(j) = p.nodes.iter().position(|x| &x.id == id)
            {
                reads.push((name, j));
            } else if params.contains(name.as_str()) {
                used.push(name);
            } else if !module.contains(&name) && !BUILTINS.contains(&name.as_str()) {
                unknown.push(name);
            }
        }
        if !unknown.is_empty() {
            out.lost.push((
                i,
                format!(
                    "`{cond}` reads {} of the flow, which no task returns: the step runs unconditionally; port the condition by hand",
                    unknown.join(", ")
                ),
            ));
            continue;
        }
        match out.gates.iter_mut().find(|g| g.condition == cond) {
            Some(g) => g.nodes.push(i),
            None => out.gates.push(Gate {
                condition: cond.to_string(),
                reads,
                params: used,
                nodes: vec![i],
            }),
        }
    }
    let guarded: BTreeSet<usize> = out.gates.iter().flat_map(|g| g.nodes.clone()).collect();
    let index = p.node_index();
    let mut tolerant = guarded.clone();
    for e in &p.edges {
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str()))
            && guarded.contains(&a)
        {
            tolerant.insert(b);
        }
    }
    out.tolerant = tolerant
        .into_iter()
        .filter(|&i| p.nodes[i].trigger_rule.is_none())
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &str) -> Pipeline {
        let f = crate::frontend::read_source("g.py", src);
        assert!(
            f.diagnostics
                .iter()
                .all(|d| d.severity != crate::ir::Severity::Error)
        );
        f.pipelines.into_iter().next().expect("a pipeline")
    }

    fn at(p: &Pipeline, g: &[Guard], id: &str) -> String {
        let i = p.nodes.iter().position(|n| n.id == id).unwrap();
        g[i].python(&|j| format!("{}_v", p.nodes[j].id))
    }

    #[test]
    fn arms_joins_and_short_circuits_get_the_conditions_airflow_runs_them_under() {
        let p = read(
            r#"
from airflow.sdk import dag, task
from airflow.providers.standard.operators.empty import EmptyOperator

@dag(schedule=None)
def d():
    @task.branch
    def pick() -> str:
        return "a"

    @task.branch
    def many():
        return ["x", "y"]

    @task
    def a(): ...
    @task
    def b(): ...
    @task
    def after_a(): ...
    @task(trigger_rule="none_failed_min_one_success")
    def join(): ...
    @task(trigger_rule="all_done")
    def cleanup(): ...
    @task.short_circuit
    def gate():
        return True
    @task
    def below(): ...
    @task(trigger_rule="all_done")
    def far_below(): ...
    @task
    def x(): ...

    p = pick()
    ta, tb = a(), b()
    p >> [ta, tb]
    ta >> after_a()
    [ta, tb] >> join() >> cleanup()
    gate() >> below() >> far_below()
    many() >> x()

d()
"#,
        );
        let g = guards(&p).expect("within the budget");
        assert_eq!(at(&p, &g, "a"), r#"pick_v == "a""#);
        assert_eq!(at(&p, &g, "after_a"), r#"pick_v == "a""#);
        assert_eq!(at(&p, &g, "join"), r#"pick_v in ("a", "b")"#);
        assert_eq!(at(&p, &g, "cleanup"), "True");
        assert_eq!(at(&p, &g, "pick"), "True");
        // Below a short-circuit, even an all_done step is skipped (Airflow's default).
        assert_eq!(at(&p, &g, "below"), "gate_v");
        assert_eq!(at(&p, &g, "far_below"), "gate_v");
        // Shared conditions are factored out of alternatives.
        let gate = Guard::Atom(Atom::Truthy { node: 0 });
        let arm = |a: &str| {
            Guard::Atom(Atom::Arm {
                branch: 1,
                arm: a.into(),
                single: true,
            })
        };
        let join = Guard::any(vec![
            Guard::all(vec![gate.clone(), arm("x")]),
            Guard::all(vec![gate.clone(), arm("y")]),
        ]);
        let name = |i: usize| ["g", "b"][i].to_string();
        assert_eq!(join.python(&name), r#"g and b in ("x", "y")"#);
        assert_eq!(
            Guard::all(vec![join, gate]).python(&name),
            r#"g and b in ("x", "y")"#
        );
        // A branch that may return a list is read as Airflow reads it.
        assert_eq!(
            at(&p, &g, "x"),
            r#""x" in ([many_v] if isinstance(many_v, str) else many_v or [])"#
        );
    }

    /// Long conditions are wrapped as ruff formats them (each expected text was checked with
    /// `ruff format --check`): two groups split at the last bracket when the head fits, more
    /// groups one per line, plain alternatives one per line.
    #[test]
    fn long_conditions_wrap_as_ruff_formats_them() {
        let raw = |s: &str| Guard::Atom(Atom::Raw(s.into()));
        let failed = |v: &str| {
            Guard::all(vec![
                raw(&format!("{v} is not None")),
                raw(&format!("{v}.state.is_failed()")),
            ])
        };
        let cases = [
            Guard::any(vec![
                failed("full_reload_out"),
                failed("incremental_load_out"),
            ]),
            Guard::any(vec![failed("a_out"), failed("b_out")]),
            Guard::any(vec![
                failed("a_very_long_name_of_a_future_out_here"),
                failed("another_very_long_name_future_out_x"),
                failed("c"),
            ]),
            Guard::any(vec![
                raw("full_reload_out.state.is_failed()"),
                raw("incremental_load_out.state.is_failed()"),
                raw("x_out.state.is_failed()"),
            ]),
        ];
        let mut text = String::from("def f():\n");
        for c in cases {
            text.push_str(&format!(
                "    {}\n        pass\n",
                c.header(&|_| String::new(), 4)
            ));
        }
        assert_eq!(text, EXPECTED_WRAPS);
    }

    const EXPECTED_WRAPS: &str = r#"def f():
    if (full_reload_out is not None and full_reload_out.state.is_failed()) or (
        incremental_load_out is not None and incremental_load_out.state.is_failed()
    ):
        pass
    if (a_out is not None and a_out.state.is_failed()) or (
        b_out is not None and b_out.state.is_failed()
    ):
        pass
    if (
        (
            a_very_long_name_of_a_future_out_here is not None
            and a_very_long_name_of_a_future_out_here.state.is_failed()
        )
        or (
            another_very_long_name_future_out_x is not None
            and another_very_long_name_future_out_x.state.is_failed()
        )
        or (c is not None and c.state.is_failed())
    ):
        pass
    if (
        full_reload_out.state.is_failed()
        or incremental_load_out.state.is_failed()
        or x_out.state.is_failed()
    ):
        pass
"#;
}
