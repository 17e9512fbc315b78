//! The flow body: statements bound only where read, futures nothing reads resolved, the
//! result returned, guarded statements grouped under shared `if`s.

use std::collections::{HashMap, HashSet};

use crate::python::print::Expr;

/// One statement of a flow body: the variable it binds, the call, and the guard it runs under,
/// if any (its nested `if …:` headers, formatted at their depths).
struct Statement {
    var: Option<String>,
    call: Expr,
    guard: Option<Vec<String>>,
}

/// Formats the flow body: `x_out = call(…)` only where a later statement reads `x_out`; every
/// future nothing later reads is resolved (`x_out.result()`, inside its guard when it has one),
/// and the flow returns `result` (a direct call that is the last statement becomes
/// `return call(…)`, a future `return x.result()`). Consecutive statements under one guard share
/// an `if` block; a guarded variable read outside its block is bound to `None` before it.
pub(super) fn flow_body(
    statements: Vec<(Option<String>, Expr)>,
    guards: &[Option<Vec<String>>],
    futures: &HashSet<String>,
    result: Option<&str>,
) -> Vec<String> {
    // A statement reads the names of its call and of its guard.
    let flat: Vec<String> = statements
        .iter()
        .enumerate()
        .map(|(i, (_, e))| match guards.get(i).cloned().flatten() {
            Some(g) => format!("{} {}", g.join(" "), e.flat()),
            None => e.flat(),
        })
        .collect();
    let last = last_reads(&flat);
    let read_after = |i: usize, v: &str| last.get(v).is_some_and(|&j| j > i);
    let unresolved =
        |i: usize, v: &str| futures.contains(v) && Some(v) != result && !read_after(i, v);
    let mut body: Vec<Statement> = Vec::new();
    let mut at_end = Vec::new();
    for (i, (var, call)) in statements.into_iter().enumerate() {
        let guard = guards.get(i).cloned().flatten();
        let resolve = var
            .as_deref()
            .filter(|v| unresolved(i, v))
            .map(str::to_string);
        body.push(Statement {
            var,
            call,
            guard: guard.clone(),
        });
        match (resolve, guard) {
            (Some(v), Some(g)) => body.push(Statement {
                var: None,
                call: Expr::raw(format!("{v}.result()")),
                guard: Some(g),
            }),
            (Some(v), None) => at_end.push(v),
            _ => {}
        }
    }
    for v in at_end {
        body.push(Statement {
            var: None,
            call: Expr::raw(format!("{v}.result()")),
            guard: None,
        });
    }
    let mut returned = None;
    if let Some(r) = result {
        let plain = |call: Expr| Statement {
            var: None,
            call,
            guard: None,
        };
        match body.last() {
            _ if futures.contains(r) => body.push(plain(Expr::raw(format!("return {r}.result()")))),
            Some(Statement {
                var: Some(v),
                guard: None,
                ..
            }) if v == r => {
                returned = body.pop().map(|s| s.call);
            }
            _ => body.push(plain(Expr::raw(format!("return {r}")))),
        }
    }
    let flat: Vec<String> = body
        .iter()
        .map(|s| match &s.guard {
            Some(g) => format!("{} {}", g.join(" "), s.call.flat()),
            None => s.call.flat(),
        })
        .collect();
    let last = last_reads(&flat);
    let words: Vec<HashSet<&str>> = flat.iter().map(|t| words(t).collect()).collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let Some(outer) = body[i].guard.as_ref().map(|g| g[0].clone()) else {
            let s = &body[i];
            out.push(match &s.var {
                Some(v) if last.get(v.as_str()).is_some_and(|&l| l > i) => {
                    format!("{v} = {}", s.call.format_lead(4, v.len() + 3, 0))
                }
                _ => s.call.format(4, 0),
            });
            i += 1;
            continue;
        };
        // The statements under the same outermost `if`, nested by their shared headers.
        let mut j = i;
        while j < body.len() && body[j].guard.as_ref().is_some_and(|g| g[0] == outer) {
            j += 1;
        }
        // A variable bound under some `if`s and read later outside them (after the block, or
        // in a sibling block inside it) exists on every path.
        let within = |inner: &Option<Vec<String>>, outer: &Option<Vec<String>>| match (inner, outer)
        {
            (Some(a), Some(b)) => a.starts_with(b),
            (None, Some(_)) => false,
            (_, None) => true,
        };
        for k in i..j {
            if let Some(v) = &body[k].var
                && ((k + 1)..body.len()).any(|l| {
                    words[l].contains(v.as_str()) && !within(&body[l].guard, &body[k].guard)
                })
            {
                out.push(format!("{v} = None"));
            }
        }
        let mut block = String::new();
        let mut open: Vec<&String> = Vec::new();
        for (k, s) in body.iter().enumerate().take(j).skip(i) {
            let headers = s.guard.as_deref().unwrap_or_default();
            let shared = open
                .iter()
                .zip(headers)
                .take_while(|(a, b)| **a == *b)
                .count();
            open.truncate(shared);
            for h in &headers[shared..] {
                if !block.is_empty() {
                    block.push('\n');
                    block.push_str(&" ".repeat(4 + 4 * open.len()));
                }
                block.push_str(h);
                open.push(h);
            }
            let indent = 4 + 4 * open.len();
            let line = match &s.var {
                Some(v) if last.get(v.as_str()).is_some_and(|&l| l > k) => {
                    format!("{v} = {}", s.call.format_lead(indent, v.len() + 3, 0))
                }
                _ => s.call.format(indent, 0),
            };
            block.push('\n');
            block.push_str(&" ".repeat(indent));
            block.push_str(&line);
        }
        out.push(block);
        i = j;
    }
    if let Some(call) = returned {
        out.push(format!("return {}", call.format_lead(4, 7, 0)));
    }
    out
}

/// The identifier-like words of a text.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// The last statement that reads each name (a word of its text): one pass over the flow body,
/// so asking whether a later statement reads a variable is a look-up (it was a scan of every
/// later statement: a 10,000-task flow took minutes).
fn last_reads(flat: &[String]) -> HashMap<&str, usize> {
    let mut last = HashMap::new();
    for (i, text) in flat.iter().enumerate() {
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if !word.is_empty() {
                last.insert(word, i);
            }
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::print::Expr;

    fn submit(func: &str, args: Vec<Expr>) -> Expr {
        Expr::Method(Box::new(Expr::raw(func)), "submit".into(), args)
    }

    #[test]
    fn the_flow_resolves_the_futures_nothing_reads_and_returns_a_value() {
        let statements = vec![
            (Some("a_out".to_string()), submit("a", vec![])),
            (
                Some("b_out".to_string()),
                submit("b", vec![Expr::kw("wait_for", Expr::raw("[a_out]"))]),
            ),
            (Some("c_out".to_string()), submit("c", vec![])),
            (Some("child_out".to_string()), Expr::call("child", vec![])),
        ];
        let futures: HashSet<String> = ["a_out", "b_out", "c_out"].map(String::from).into();
        assert_eq!(
            flow_body(statements.clone(), &[], &futures, None),
            [
                "a_out = a.submit()",
                "b_out = b.submit(wait_for=[a_out])",
                "c_out = c.submit()",
                "child()",
                "b_out.result()",
                "c_out.result()",
            ]
        );
        // A sub-flow returns its result step's value, not the future.
        let body = flow_body(statements, &[], &futures, Some("c_out"));
        assert_eq!(
            body[body.len() - 2..],
            ["b_out.result()", "return c_out.result()"]
        );
    }

    /// A variable bound in a nested `if` and read in a sibling `if` of the same outer block is
    /// bound to None first (an example DAG's chained branches raised UnboundLocalError).
    #[test]
    fn a_variable_of_a_nested_block_read_in_a_sibling_block_is_bound_first() {
        let g = |h: &[&str]| Some(h.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        let statements = vec![
            (Some("x_out".to_string()), submit("x", vec![])),
            (
                Some("y_out".to_string()),
                submit("y", vec![Expr::kw("wait_for", Expr::raw("[x_out]"))]),
            ),
        ];
        let guards = vec![g(&["if a:", "if b:"]), g(&["if a:", "if c:"])];
        let futures: HashSet<String> = ["x_out", "y_out"].map(String::from).into();
        let body = flow_body(statements, &guards, &futures, None);
        assert_eq!(
            body,
            [
                "x_out = None",
                "if a:\n        if b:\n            x_out = x.submit()\n        if c:\n            y_out = y.submit(wait_for=[x_out])\n            y_out.result()",
            ]
        );
    }
}
