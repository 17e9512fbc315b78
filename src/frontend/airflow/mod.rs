//! The Airflow reader: DAG files (Airflow 2.x and 3.x spellings) → IR pipelines, statically.
//!
//! The module is interpreted statement by statement, the way Python would import it, but only
//! the parts that build DAGs are followed: DAG contexts, task groups, TaskFlow calls, classic
//! operators, dependency operators, loops over static lists and local helper functions.

mod builder;
mod interp;
mod names;
mod options;
mod skips;

pub use names::{Symbol, classify};

use super::{FileContext, Reading};

/// Reads every DAG of an Airflow module.
pub fn read(ctx: &FileContext) -> Reading {
    let mut interp = interp::Interpreter::new(ctx);
    interp.run_module();
    let (mut pipelines, diagnostics) = interp.finish();
    for p in &mut pipelines {
        skips::read_leading_skips(p);
    }
    Reading {
        pipelines,
        diagnostics,
        source_version: Some(names::source_version(ctx.imports).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::{EdgeKind, Pipeline};

    fn read(src: &str) -> Vec<Pipeline> {
        crate::frontend::read_source("t.py", src).pipelines
    }

    fn edges(p: &Pipeline) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = p
            .edges
            .iter()
            .map(|e| (e.from.clone(), e.to.clone()))
            .collect();
        v.sort();
        v
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = list
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        v.sort();
        v
    }

    const HEAD: &str = "from airflow.sdk import DAG, TaskGroup, chain, cross_downstream\nfrom airflow.providers.standard.operators.empty import EmptyOperator as E\n";

    #[test]
    fn shifts_with_lists_on_either_side() {
        let p = read(&format!(
            "{HEAD}with DAG('d'):\n    a, b, c, d = [E(task_id=x) for x in 'abcd']\n    a >> [b, c] >> d\n    d << a\n"
        ));
        assert_eq!(
            edges(&p[0]),
            pairs(&[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("a", "d")])
        );
    }

    #[test]
    fn chain_pairs_lists_and_cross_downstream_crosses_them() {
        let src = format!(
            "{HEAD}with DAG('d'):\n    t = {{x: E(task_id=x) for x in 'ab'}}\n    a = E(task_id='a')\n    b1, b2, c1, c2 = E(task_id='b1'), E(task_id='b2'), E(task_id='c1'), E(task_id='c2')\n    chain(a, [b1, b2], [c1, c2])\n    z = E(task_id='z')\n    cross_downstream([c1, c2], [z])\n    z.set_upstream(a)\n"
        );
        let p = read(&src);
        assert_eq!(
            edges(&p[0]),
            pairs(&[
                ("a", "b1"),
                ("a", "b2"),
                ("b1", "c1"),
                ("b2", "c2"),
                ("c1", "z"),
                ("c2", "z"),
                ("a", "z")
            ])
        );
    }

    #[test]
    fn groups_attach_by_their_leaves_and_roots() {
        let src = format!(
            "{HEAD}with DAG('d'):\n    start = E(task_id='start')\n    with TaskGroup('g') as g:\n        x = E(task_id='x')\n        y = E(task_id='y')\n        x >> y\n    end = E(task_id='end')\n    start >> g >> end\n"
        );
        let p = read(&src);
        assert_eq!(
            edges(&p[0]),
            pairs(&[("g.x", "g.y"), ("start", "g.x"), ("g.y", "end")])
        );
        assert_eq!(p[0].groups[0].id, "g");
    }

    #[test]
    fn taskflow_data_edges_follow_arguments_and_variables() {
        let src = "from airflow.sdk import dag, task\n@dag(schedule=None)\ndef d():\n    @task\n    def e():\n        return 1\n    @task\n    def t(x, y=None):\n        return x\n    v = e()\n    t(e(), y=v)\nd()\n";
        let p = read(src);
        let ids: Vec<&str> = p[0].nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["e", "e__1", "t"]);
        let data: Vec<(&str, &str, Option<&str>)> = p[0]
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Data)
            .map(|e| (e.from.as_str(), e.to.as_str(), e.param.as_deref()))
            .collect();
        assert_eq!(data, [("e__1", "t", Some("x")), ("e", "t", Some("y"))]);
    }

    #[test]
    fn dynamic_loops_are_opaque_not_dropped() {
        let src = format!(
            "{HEAD}import os\nwith DAG('d'):\n    for name in os.listdir('.'):\n        E(task_id=name)\n"
        );
        let p = read(&src);
        assert_eq!(p[0].opaque.len(), 1);
        assert_eq!(p[0].opaque[0].kind, "dynamic_loop");
        assert_eq!(p[0].opaque[0].line, 5);
    }
}
