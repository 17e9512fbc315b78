//! The body of a `@dag` function: one line per step, with task-group blocks opened and
//! closed as steps enter and leave groups; a binding nobody reads is dropped.

use std::collections::BTreeMap;

use super::names::{group_chain, label_in};
use crate::emit::plan::Step;
use crate::ir::Pipeline;
use crate::python::print::{Expr, identifier};

/// One line (or statement) of a dag body, formatted once the names that are read are known.
pub(super) enum Line {
    /// `with TaskGroup(...) as var:` (the `as` part dropped when `var` is never read).
    Group {
        indent: usize,
        call: Expr,
        var: String,
        reopen: bool,
    },
    /// `var = expr` (or `expr` when `var` is never read).
    Assign {
        indent: usize,
        var: String,
        expr: Expr,
    },
    /// A finished line.
    Text(String),
}

impl Line {
    /// The line on one line, to find the names it reads.
    fn flat(&self) -> String {
        match self {
            Line::Group {
                call, var, reopen, ..
            } => {
                if *reopen {
                    format!("with {var}:")
                } else {
                    format!("with {} as {var}:", call.flat())
                }
            }
            Line::Assign { var, expr, .. } => format!("{var} = {}", expr.flat()),
            Line::Text(t) => t.clone(),
        }
    }
}

/// The dag body with task-group blocks opened and closed as steps enter and leave groups.
#[derive(Default)]
pub(super) struct Body {
    /// The lines, in order.
    pub(super) lines: Vec<Line>,
    /// The groups open at the last line, outermost first.
    open: Vec<String>,
    /// The groups opened before (a group entered again is reopened by its variable).
    opened_before: Vec<String>,
    /// Each group's policy as `default_args` items (a sub-flow's retry boundary).
    pub(super) group_defaults: BTreeMap<String, Vec<(Expr, Expr)>>,
}

impl Body {
    /// Adds the statement of a step, opening and closing task groups around it.
    pub(super) fn push(&mut self, p: &Pipeline, step: &Step, stmt: Option<Expr>) {
        let Some(stmt) = stmt else { return };
        let chain = group_chain(p, step.node.group.as_deref());
        // Close groups the step is not in.
        while let Some(top) = self.open.last() {
            if chain.contains(top) {
                break;
            }
            self.open.pop();
        }
        for g in &chain {
            if !self.open.contains(g) {
                let indent = 4 * (self.open.len() + 1);
                let var = format!("{}_group", identifier(g));
                let label = label_in(self.open.last().map(String::as_str), g);
                let mut args = vec![Expr::kw("group_id", Expr::str(label))];
                if let Some(def) = p.groups.iter().find(|x| &x.id == g) {
                    if let Some(d) = &def.description {
                        args.push(Expr::kw(
                            "tooltip",
                            Expr::str(d.lines().next().unwrap_or("")),
                        ));
                    }
                    if let Some(items) = self.group_defaults.get(g).filter(|d| !d.is_empty()) {
                        args.push(Expr::kw("default_args", Expr::Dict(items.clone())));
                    }
                }
                let reopen = self.opened_before.contains(g);
                self.lines.push(Line::Group {
                    indent,
                    call: Expr::call("TaskGroup", args),
                    var,
                    reopen,
                });
                if !reopen {
                    self.opened_before.push(g.clone());
                }
                self.open.push(g.clone());
            }
        }
        self.lines.push(Line::Assign {
            indent: 4 * (self.open.len() + 1),
            var: step.var.clone(),
            expr: stmt,
        });
    }

    /// The formatted lines: names nobody reads later lose their binding (ruff F841).
    pub(super) fn finish(self) -> Vec<String> {
        let flat: Vec<String> = self.lines.iter().map(Line::flat).collect();
        // The last line each word is on (one pass, so a 100,000-task DAG stays linear).
        let mut last: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, l) in flat.iter().enumerate() {
            for w in l.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                last.insert(w, i);
            }
        }
        let read_later = |i: usize, name: &str| last.get(name).is_some_and(|&j| j > i);
        self.lines
            .iter()
            .enumerate()
            .map(|(i, line)| match line {
                Line::Group {
                    indent,
                    call,
                    var,
                    reopen,
                } => {
                    let pad = " ".repeat(*indent);
                    if *reopen {
                        format!("{pad}with {var}:")
                    } else if read_later(i, var) {
                        format!(
                            "{pad}with {} as {var}:",
                            call.format_lead(*indent, 5, var.len() + 5)
                        )
                    } else {
                        format!("{pad}with {}:", call.format_lead(*indent, 5, 1))
                    }
                }
                Line::Assign { indent, var, expr } => {
                    let pad = " ".repeat(*indent);
                    if read_later(i, var) {
                        format!(
                            "{pad}{var} = {}",
                            expr.format_lead(*indent, var.len() + 3, 0)
                        )
                    } else {
                        format!("{pad}{}", expr.format(*indent, 0))
                    }
                }
                Line::Text(t) => t.clone(),
            })
            .collect()
    }
}
