//! Airflow `ti.xcom_pull(task_ids=…)` calls in a task's body: found in source order, and their
//! task ids resolved statically, so writers can pass the upstream's value in instead.

use std::collections::BTreeMap;

use crate::python::ast::{self, Expr, Ranged, Stmt};

use super::callable::FunctionDef;
use crate::ir::{Pull, Value};
use crate::python::literal::Evaluator;
use crate::python::visit;

/// Every `X.xcom_pull(…)` call in a body, outer before inner, in source order. The readers and
/// the writers both number a body's pulls by their place in this list.
pub fn pull_calls(body: &[Stmt]) -> Vec<&ast::ExprCall> {
    visit::method_calls(body, crate::ir::PULL_METHOD)
}

/// The `task_ids` argument of a pull (keyword, or first positional), unless it reads a key other
/// than the return value or another DAG.
fn task_ids_arg(call: &ast::ExprCall) -> Option<&Expr> {
    for kw in &call.arguments.keywords {
        match kw.arg.as_deref() {
            Some("key") => match &kw.value {
                v if crate::python::str_literal(v) == Some("return_value") => {}
                _ => return None,
            },
            Some("dag_id" | "include_prior_dates" | "map_indexes") | None => return None,
            _ => {}
        }
    }
    call.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_deref() == Some("task_ids"))
        .map(|k| &k.value)
        .or_else(|| call.arguments.args.first())
}

/// The task ids a pull reads, and whether it names a list of them (so returns a list), when the
/// argument is known statically under `ev`'s bindings.
pub fn resolve(ev: &Evaluator, call: &ast::ExprCall) -> Option<(Vec<String>, bool)> {
    match ev.eval(task_ids_arg(call)?) {
        Value::Str(id) => Some((vec![id], false)),
        Value::List(items) if !items.is_empty() => items
            .into_iter()
            .map(|v| match v {
                Value::Str(s) => Some(s),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(|ids| (ids, true)),
        _ => None,
    }
}

/// The pulls of a classic operator's `python_callable` whose task ids are known, with the
/// function's parameters bound to the operator's `op_kwargs` / `op_args` (a parameter given
/// nothing hides a module name it shadows).
pub fn operator_pulls(
    ev: &Evaluator,
    def: &FunctionDef,
    op_args: &BTreeMap<String, Value>,
) -> Vec<Pull> {
    let calls = pull_calls(def.body);
    if calls.is_empty() {
        return Vec::new();
    }
    let mut scoped = Evaluator::new(ev.src, ev.imports);
    scoped.names = ev.names.clone();
    let kwargs = match op_args.get("op_kwargs") {
        Some(Value::Dict(d)) => d.clone(),
        _ => BTreeMap::new(),
    };
    let positional = match op_args.get("op_args") {
        Some(Value::List(items)) => items.clone(),
        _ => Vec::new(),
    };
    let a = def.args;
    for (i, p) in a
        .posonlyargs
        .iter()
        .chain(&a.args)
        .chain(&a.kwonlyargs)
        .enumerate()
    {
        let name = p.parameter.name.as_str();
        match kwargs.get(name).or_else(|| positional.get(i)) {
            Some(v) => scoped.names.insert(name.to_string(), v.clone()),
            None => scoped.names.remove(name),
        };
    }
    calls
        .into_iter()
        .enumerate()
        .filter_map(|(index, call)| {
            let (task_ids, many) = resolve(&scoped, call)?;
            Some(Pull {
                index,
                task_ids,
                many,
                span: ev.src.span(call.range()),
            })
        })
        .collect()
}
