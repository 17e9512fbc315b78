//! Airflow `ti.xcom_pull(task_ids=…)` in a body, for targets without XCom: the pulled task's
//! value is passed in as a parameter, fed by a data edge from that task.

use std::collections::{HashMap, HashSet};

use crate::python::ast::{Expr, Ranged, Stmt};

use crate::ir::{CallableParam, Edge, EdgeKind, Framework, Pipeline, Pull, SourceFile};
use crate::python::parse;
use crate::python::source::SourceText;
use crate::report::{Fidelity, Ledger, Translations};

/// One pull turned into a parameter: the pipeline's index, the node, the pull, the parameter.
pub type Passed = (usize, String, Pull, String);

/// The file with every statically resolved pull of a body passed in as a parameter, and what
/// was passed; unchanged for Airflow, which keeps XCom.
pub fn pass_pulled_values(file: SourceFile, target: Framework) -> (SourceFile, Vec<Passed>) {
    let mut out = file;
    let mut passed = Vec::new();
    if target == Framework::Airflow {
        return (out, passed);
    }
    for (i, p) in out.pipelines.iter_mut().enumerate() {
        if p.nodes.iter().all(|n| n.pulls.is_empty()) {
            continue;
        }
        // Each edge found by its ends once; the replaced ones are dropped at the end.
        let mut edges = Edges::default();
        for (at, e) in p.edges.iter().enumerate() {
            edges
                .index
                .entry((e.from.clone(), e.to.clone()))
                .or_insert(at);
        }
        for k in 0..p.nodes.len() {
            if p.nodes[k].pulls.is_empty() {
                continue;
            }
            for (pull, param) in pass_node(p, k, &mut edges) {
                passed.push((i, p.nodes[k].id.clone(), pull, param));
            }
        }
        let mut at = 0;
        p.edges.retain(|_| {
            at += 1;
            !edges.dropped.contains(&(at - 1))
        });
        p.edges.extend(edges.added);
    }
    (out, passed)
}

/// A pipeline's edges while its pulls are passed: where each (from, to) is, which go, which come.
#[derive(Default)]
struct Edges {
    index: HashMap<(String, String), usize>,
    dropped: HashSet<usize>,
    added: Vec<Edge>,
}

/// Rewrites node `k`'s body, signature and incoming edges for its pulls; the pulls passed in.
fn pass_node(p: &mut Pipeline, k: usize, edges: &mut Edges) -> Vec<(Pull, String)> {
    let node = &p.nodes[k];
    let Some(callable) = &node.callable else {
        return Vec::new();
    };
    let body = callable.body.clone();
    let src = SourceText::new("<body>", &body);
    let Ok(suite) = parse::parse_body(&src) else {
        return Vec::new();
    };
    let calls = crate::python::visit::method_calls(&suite, crate::ir::PULL_METHOD);
    let mut taken: Vec<String> = callable.params.iter().map(|x| x.name.clone()).collect();
    // (byte range to replace, replacement, pull, parameter), in source order.
    let mut edits: Vec<(usize, usize, String, Pull, String)> = Vec::new();
    for pull in &node.pulls {
        let Some(call) = calls.get(pull.index) else {
            continue;
        };
        let fed = pull
            .task_ids
            .iter()
            .all(|id| id != &node.id && edges.index.contains_key(&(id.clone(), node.id.clone())));
        let distinct = pull
            .task_ids
            .iter()
            .enumerate()
            .all(|(j, id)| !pull.task_ids[..j].contains(id));
        // A list of one id would reach the body as one value, not a list of one.
        if !fed || !distinct || (pull.many && pull.task_ids.len() < 2) {
            continue;
        }
        let range = call.range();
        let (start, end) = (usize::from(range.start()), usize::from(range.end()));
        let edit = match assigned_name(&suite, start, end) {
            // `rows = ti.xcom_pull(…)`: the statement goes and `rows` becomes the parameter.
            Some((name, s, e)) if !taken.contains(&name) => {
                let line_start = body[..s].rfind('\n').map_or(0, |n| n + 1);
                let line_end = body[e..].find('\n').map_or(body.len(), |n| e + n + 1);
                (line_start, line_end, String::new(), name)
            }
            _ => {
                let name = fresh(&taken, &format!("pulled_{}", pull.index));
                (start, end, name.clone(), name)
            }
        };
        taken.push(edit.3.clone());
        edits.push((edit.0, edit.1, edit.2, pull.clone(), edit.3));
    }
    if edits.is_empty() {
        return Vec::new();
    }
    let mut text = body.clone();
    for (s, e, new, _, _) in edits.iter().rev() {
        text.replace_range(*s..*e, new);
    }
    let receivers: Vec<String> = calls
        .iter()
        .filter_map(|c| match &*c.func {
            Expr::Attribute(a) => match &*a.value {
                Expr::Name(n) => Some(n.id.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let node = &mut p.nodes[k];
    let Some(callable) = node.callable.as_mut() else {
        return Vec::new();
    };
    callable.body = text;
    // The task instance is no longer read: its parameter goes with it.
    callable.params.retain(|x| {
        !(x.default.is_some()
            && receivers.contains(&x.name)
            && !super::rewrite::mentions_name(&callable.body, &x.name))
    });
    let first_default = callable
        .params
        .iter()
        .position(|x| x.default.is_some() || x.name.starts_with('*'))
        .unwrap_or(callable.params.len());
    for (j, (_, _, _, _, name)) in edits.iter().enumerate() {
        callable.params.insert(
            first_default + j,
            CallableParam {
                name: name.clone(),
                annotation: None,
                default: None,
            },
        );
    }
    let to = node.id.clone();
    for (_, _, _, pull, name) in &edits {
        for id in &pull.task_ids {
            let at = edges.index.get(&(id.clone(), to.clone()));
            let span = match at {
                Some(&i) if edges.dropped.insert(i) => p.edges[i].span,
                _ => pull.span,
            };
            edges.added.push(Edge {
                from: id.clone(),
                to: to.clone(),
                kind: EdgeKind::Data,
                param: Some(name.clone()),
                output: None,
                span,
            });
        }
    }
    edits
        .into_iter()
        .map(|(_, _, _, pull, name)| (pull, name))
        .collect()
}

/// The name a top-level `name = <call>` statement binds, with the statement's byte range,
/// when the call at `start..end` is its whole value.
fn assigned_name(suite: &[Stmt], start: usize, end: usize) -> Option<(String, usize, usize)> {
    suite.iter().find_map(|s| match s {
        Stmt::Assign(a)
            if a.targets.len() == 1
                && usize::from(a.value.range().start()) == start
                && usize::from(a.value.range().end()) == end =>
        {
            match &a.targets[0] {
                Expr::Name(n) => Some((
                    n.id.to_string(),
                    usize::from(a.range.start()),
                    usize::from(a.range.end()),
                )),
                _ => None,
            }
        }
        _ => None,
    })
}

/// `base`, or `base_2`, `base_3`, … when taken.
fn fresh(taken: &[String], base: &str) -> String {
    let mut name = base.to_string();
    let mut n = 1;
    while taken.contains(&name) {
        n += 1;
        name = format!("{base}_{n}");
    }
    name
}

/// Says in each pipeline's ledger which pulls became parameters.
pub fn record_passed(
    passed: &[Passed],
    ledgers: &mut [Ledger],
    table: &Translations,
    target: Framework,
) {
    for (i, id, pull, param) in passed {
        let Some(ledger) = ledgers.get_mut(*i) else {
            continue;
        };
        let ids = pull
            .task_ids
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let what = if pull.many { "values" } else { "value" };
        ledger.consume_as(
            table,
            "body.xcom",
            id,
            pull.span,
            crate::report::Anchor::at(crate::report::Scope::Module).then(param.as_str()),
            Fidelity::Exact,
            format!(
                "the XCom pull of {ids} becomes the parameter `{param}`: {} passes the upstream {what} in",
                target.id()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::read_source;

    const LOOP: &str = r#"from airflow.sdk import DAG, chain
from airflow.providers.standard.operators.python import PythonOperator

REGIONS = ["eu", "us"]


def extract(region):
    return [1.0, 2.0]


def load(region, ti=None):
    rows = ti.xcom_pull(task_ids=f"extract_{region}")
    return sum(rows)


def total(ti=None):
    return sum(ti.xcom_pull(task_ids=[f"load_{r}" for r in REGIONS]))


def stray(ti=None):
    return ti.xcom_pull(task_ids="nowhere")


with DAG(dag_id="d"):
    end = PythonOperator(task_id="total", python_callable=total)
    PythonOperator(task_id="stray", python_callable=stray)
    for region in REGIONS:
        e = PythonOperator(task_id=f"extract_{region}", python_callable=extract, op_kwargs={"region": region})
        l = PythonOperator(task_id=f"load_{region}", python_callable=load, op_kwargs={"region": region})
        chain(e, l, end)
"#;

    fn node<'a>(f: &'a SourceFile, id: &str) -> &'a crate::ir::Node {
        f.pipelines[0].nodes.iter().find(|n| n.id == id).unwrap()
    }

    #[test]
    fn the_reader_resolves_pulls_under_each_operators_op_kwargs() {
        let f = read_source("d.py", LOOP);
        assert_eq!(node(&f, "load_us").pulls[0].task_ids, vec!["extract_us"]);
        let t = &node(&f, "total").pulls[0];
        assert_eq!(
            (t.task_ids.clone(), t.many),
            (vec!["load_eu".into(), "load_us".into()], true)
        );
    }

    #[test]
    fn a_pull_becomes_a_parameter_fed_by_a_data_edge() {
        let (f, passed) = pass_pulled_values(read_source("d.py", LOOP), Framework::Prefect);
        let load = node(&f, "load_eu").callable.as_ref().unwrap();
        assert_eq!(load.body.trim(), "return sum(rows)");
        let params: Vec<&str> = load.params.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(
            params,
            vec!["region", "rows"],
            "ti is no longer read, so it goes"
        );
        let total = node(&f, "total").callable.as_ref().unwrap();
        assert_eq!(total.body.trim(), "return sum(pulled_0)");
        let into_total: Vec<(&str, EdgeKind, Option<&str>)> = f.pipelines[0]
            .edges
            .iter()
            .filter(|e| e.to == "total")
            .map(|e| (e.from.as_str(), e.kind, e.param.as_deref()))
            .collect();
        assert_eq!(
            into_total,
            vec![
                ("load_eu", EdgeKind::Data, Some("pulled_0")),
                ("load_us", EdgeKind::Data, Some("pulled_0"))
            ],
            "in the order the pull names them"
        );
        assert_eq!(passed.len(), 3);
    }

    #[test]
    fn a_pull_of_a_task_that_is_not_upstream_is_left_as_written() {
        let (f, passed) = pass_pulled_values(read_source("d.py", LOOP), Framework::Dagster);
        let stray = node(&f, "stray").callable.as_ref().unwrap();
        assert!(stray.body.contains("ti.xcom_pull(task_ids=\"nowhere\")"));
        assert!(passed.iter().all(|(_, id, _, _)| id != "stray"));
    }

    #[test]
    fn airflow_keeps_xcom() {
        let src = read_source("d.py", LOOP);
        let (f, passed) = pass_pulled_values(src.clone(), Framework::Airflow);
        assert!(passed.is_empty());
        assert_eq!(f.pipelines[0].edges, src.pipelines[0].edges);
    }
}
