//! Data edges that pass one key of an upstream's returned dict (`pack(orders=split["domestic"])`,
//! an Airflow `multiple_outputs` XCom): the key is the named output the edge carries.

use crate::python::ast::Expr;

use crate::ir::{EdgeKind, Pipeline};
use crate::python::parse::parse_expression;

/// Names the output of every data edge whose argument indexes its upstream by a string.
pub fn name_outputs(text: &str, p: &mut Pipeline) {
    let nodes: std::collections::HashMap<&str, &crate::ir::Node> =
        p.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    for e in &mut p.edges {
        let (EdgeKind::Data, Some(param), None) = (e.kind, &e.param, &e.output) else {
            continue;
        };
        let Some(call) = text.get(e.span.start as usize..e.span.end as usize) else {
            continue;
        };
        if !call.contains('[') {
            continue;
        }
        // Its place among the callee's positional parameters, for `open_tickets(summary["k"])`.
        let position = nodes
            .get(e.to.as_str())
            .and_then(|n| n.callable.as_ref())
            .and_then(|c| c.params.iter().position(|x| &x.name == param));
        e.output = parse_expression(call).and_then(|x| keyed_argument(&x, param, position));
    }
}

/// The string key of `param=<name>["key"]` (or `<task>.output["key"]`, or the same passed at
/// the parameter's `position`) in a call.
fn keyed_argument(call: &Expr, param: &str, position: Option<usize>) -> Option<String> {
    let Expr::Call(c) = call else {
        return None;
    };
    let value = match c
        .arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_deref() == Some(param))
    {
        Some(kw) => &kw.value,
        None => c.arguments.args.get(position?)?,
    };
    let Expr::Subscript(s) = value else {
        return None;
    };
    if !matches!(
        &*s.value,
        Expr::Name(_) | Expr::Attribute(_) | Expr::Call(_)
    ) {
        return None;
    }
    crate::python::str_literal(&s.slice).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use crate::frontend::read_source;

    #[test]
    fn a_key_of_a_returned_dict_is_the_edge_output() {
        let src = "from prefect import flow, task\n\n@task\ndef split():\n    return {\"a\": [1], \"b\": [2]}\n\n@task\ndef pack(orders):\n    return orders\n\n@flow\ndef f():\n    s = split()\n    pack(orders=s[\"b\"])\n    pack(orders=s)\n";
        let p = &read_source("t.py", src).pipelines[0];
        let outputs: Vec<(String, Option<String>)> = p
            .edges
            .iter()
            .filter(|e| e.kind == crate::ir::EdgeKind::Data)
            .map(|e| (e.to.clone(), e.output.clone()))
            .collect();
        assert_eq!(
            outputs,
            vec![("pack".into(), Some("b".into())), ("pack-2".into(), None)]
        );
    }

    #[test]
    fn an_airflow_multiple_outputs_key_is_the_edge_output() {
        let src = "from airflow.sdk import dag, task\n\n@task(multiple_outputs=True)\ndef split():\n    return {\"a\": 1}\n\n@task\ndef use(x):\n    return x\n\n@dag\ndef d():\n    use(x=split()[\"a\"])\n\nd()\n";
        let p = &read_source("t.py", src).pipelines[0];
        assert_eq!(p.edges.len(), 1);
        assert_eq!(p.edges[0].output.as_deref(), Some("a"));
    }

    #[test]
    fn a_key_passed_positionally_is_the_edge_output() {
        let src = "from airflow.sdk import dag, task\n\n@task(multiple_outputs=True)\ndef split():\n    return {\"a\": 1, \"b\": 2}\n\n@task\ndef use(x, y):\n    return x\n\n@dag\ndef d():\n    s = split()\n    use(1, s[\"b\"])\n\nd()\n";
        let p = &read_source("t.py", src).pipelines[0];
        assert_eq!(p.edges.len(), 1);
        assert_eq!(p.edges[0].param.as_deref(), Some("y"));
        assert_eq!(p.edges[0].output.as_deref(), Some("b"));
    }
}
