//! Leading skips of a TaskFlow body: `if "big" not in rows: raise AirflowSkipException(…)` at
//! the top of a task (how orchmig writes the reader of an optional output of a Dagster op) is
//! the task's condition (`"big" in rows`), over the upstream that feeds `rows`, so the executor
//! skips the task, and Airflow's all-success rule what is below it, when the test fails.

use crate::ir::{EdgeKind, NodeKind, Pipeline};
use crate::python::ast::{self, CmpOp, Expr, Stmt};

/// Sets the condition of every task whose body starts with such skips.
pub fn read_leading_skips(p: &mut Pipeline) {
    for i in 0..p.nodes.len() {
        let n = &p.nodes[i];
        if n.kind != NodeKind::Task || n.condition.is_some() || n.operator.is_some() {
            continue;
        }
        let Some(body) = n.callable.as_ref().map(|c| c.body.clone()) else {
            continue;
        };
        let tests = leading_skips(&body);
        if tests.is_empty() {
            continue;
        }
        let mut reads = std::collections::BTreeMap::new();
        for (_, name) in &tests {
            if let Some(e) = p.edges.iter().find(|e| {
                e.to == n.id && e.kind == EdgeKind::Data && e.param.as_deref() == Some(name)
            }) {
                reads.insert(name.clone(), e.from.clone());
            }
        }
        let cond: Vec<String> = tests
            .iter()
            .map(|(key, name)| crate::ir::optional::produced_test(key, name))
            .collect();
        let n = &mut p.nodes[i];
        n.condition = Some(cond.join(" and "));
        n.condition_reads = reads;
    }
}

/// The `(key, name)` of each leading `if "key" not in name: raise …SkipException(…)`.
fn leading_skips(body: &str) -> Vec<(String, String)> {
    let Some(stmts) = crate::python::parse::parse_body_text(body) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in stmts.iter() {
        let Stmt::If(i) = s else { break };
        let raises_skip = matches!(
            i.body.as_slice(),
            [Stmt::Raise(ast::StmtRaise { exc: Some(e), .. })] if skip_exception(e)
        );
        if !raises_skip || !i.elif_else_clauses.is_empty() {
            break;
        }
        let Expr::Compare(c) = i.test.as_ref() else {
            break;
        };
        match (c.ops.as_ref(), &*c.left, c.comparators.first()) {
            ([CmpOp::NotIn], Expr::StringLiteral(k), Some(Expr::Name(n))) => {
                out.push((k.value.to_str().to_string(), n.id.to_string()));
            }
            _ => break,
        }
    }
    out
}

/// `AirflowSkipException(…)` (any spelling of its module).
fn skip_exception(e: &Expr) -> bool {
    let Expr::Call(c) = e else { return false };
    match &*c.func {
        Expr::Name(n) => n.id.as_str() == "AirflowSkipException",
        Expr::Attribute(a) => a.attr.as_str() == "AirflowSkipException",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_membership_skips_are_read_and_nothing_else() {
        let body = "if \"big\" not in rows:\n    raise AirflowSkipException(\"no big rows\")\nrows = rows[\"big\"]\nreturn rows\n";
        assert_eq!(leading_skips(body), vec![("big".into(), "rows".into())]);
        assert!(leading_skips("if rows:\n    raise AirflowSkipException()\n").is_empty());
        assert!(
            leading_skips("x = 1\nif \"a\" not in r:\n    raise AirflowSkipException()\n")
                .is_empty()
        );
        assert!(leading_skips("if \"a\" not in r:\n    raise ValueError()\n").is_empty());
    }
}
