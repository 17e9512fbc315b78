//! Properties over generated input: pipelines survive port → re-read with their structure, and
//! the literal evaluator never panics (nor blows up) on arbitrary expressions.

use std::collections::BTreeSet;

use orchmig::emit::{Target, port_file};
use orchmig::frontend::read_source;
use orchmig::ir::{SourceFile, Value};
use orchmig::python::{imports::ImportMap, literal::Evaluator};
use orchmig::python::{parse, source};
use orchmig::report::Translations;
use proptest::prelude::*;

/// A pipeline shape: tasks with retries, order edges between them (always forward, so acyclic),
/// and a daily cron.
#[derive(Debug, Clone)]
struct Shape {
    retries: Vec<u8>,
    edges: BTreeSet<(usize, usize)>,
    minute: u8,
    hour: u8,
}

fn shapes() -> impl Strategy<Value = Shape> {
    (1usize..7).prop_flat_map(|n| {
        (
            proptest::collection::vec(0u8..6, n),
            proptest::collection::btree_set((0..n, 0..n), 0..10),
            0u8..60,
            0u8..24,
        )
            .prop_map(|(retries, edges, minute, hour)| Shape {
                retries,
                edges: edges.into_iter().filter(|(a, b)| a < b).collect(),
                minute,
                hour,
            })
    })
}

/// The shape as an Airflow 3 module.
fn airflow_source(shape: &Shape) -> String {
    let mut text = format!(
        "import pendulum\nfrom airflow.sdk import dag, task\n\n\n@dag(schedule=\"{} {} * * *\", start_date=pendulum.datetime(2024, 1, 1, tz=\"UTC\"), catchup=False)\ndef generated():\n",
        shape.minute, shape.hour
    );
    for (i, r) in shape.retries.iter().enumerate() {
        text.push_str(&format!(
            "    @task(retries={r})\n    def step_{i}():\n        return {i}\n\n"
        ));
    }
    for i in 0..shape.retries.len() {
        text.push_str(&format!("    r{i} = step_{i}()\n"));
    }
    for (a, b) in &shape.edges {
        text.push_str(&format!("    r{a} >> r{b}\n"));
    }
    text.push_str("\n\ngenerated()\n");
    text
}

/// What a port must keep: node ids, edges, schedule, each node's retries.
type Structure = (
    Vec<String>,
    BTreeSet<(String, String)>,
    Option<String>,
    Vec<Option<u32>>,
);

/// The [`Structure`] of a file's one pipeline.
fn structure(file: &SourceFile) -> Structure {
    assert_eq!(file.pipelines.len(), 1, "{:#?}", file.diagnostics);
    let p = &file.pipelines[0];
    let mut ids: Vec<String> = p.nodes.iter().map(|n| n.id.clone()).collect();
    ids.sort();
    let edges = p
        .edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone()))
        .collect();
    let schedule = p.schedule.as_ref().and_then(|s| s.value.clone());
    let mut nodes: Vec<_> = p.nodes.iter().collect();
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    let retries = nodes
        .iter()
        .map(|n| p.effective_policy(n).retries)
        .collect();
    (ids, edges, schedule, retries)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn ported_pipelines_keep_ids_edges_schedule_and_retries(shape in shapes()) {
        let source = airflow_source(&shape);
        let read = read_source("generated.py", &source);
        let want = structure(&read);
        prop_assert_eq!(want.0.len(), shape.retries.len());
        prop_assert_eq!(want.1.len(), shape.edges.len());
        let table = Translations::builtin().unwrap();
        for label in ["airflow@3", "dagster@1", "prefect@3"] {
            let (text, _) = port_file(&read, Target::parse(label).unwrap(), &table).unwrap();
            let again = read_source(&format!("ported-{label}.py"), &text);
            prop_assert_eq!(&structure(&again), &want, "{}:\n{}", label, text);
        }
    }
}

/// Python expressions from a small grammar, biased to the evaluator's edges: integer limits,
/// repetition, ranges, comprehensions, string methods, durations, datetimes.
fn expressions() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("9223372036854775807".to_string()),
        Just("(-9223372036854775807 - 1)".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("1e308".to_string()),
        Just("float('nan')".to_string()),
        Just("'x' * 1000".to_string()),
        Just("[1, 2, 3, 4, 5]".to_string()),
        Just("range(100000)".to_string()),
        Just("{'a': 1}".to_string()),
        Just("NAME".to_string()),
        Just("None".to_string()),
        Just("True".to_string()),
        any::<i64>().prop_map(|i| format!("({i})")),
        "[a-z{}'\" ]{0,8}".prop_map(|s| format!("{s:?}")),
    ];
    leaf.prop_recursive(5, 64, 4, |inner| {
        let op = prop_oneof![
            Just("+"),
            Just("-"),
            Just("*"),
            Just("//"),
            Just("%"),
            Just("**"),
            Just("/"),
            Just("=="),
            Just("<"),
            Just("and"),
            Just("or")
        ];
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            inner.clone().prop_map(|a| format!("(-{a})")),
            inner.clone().prop_map(|a| format!("(not {a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a})[{b}]")),
            inner.clone().prop_map(|a| format!("[x for x in {a}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a} for x in {b} if x]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("range({a}, {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("range({a}, {b}, {c})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}).replace('x', {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}).join({b})")),
            inner
                .clone()
                .prop_map(|a| format!("timedelta(seconds={a})")),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("pendulum.datetime({a}, {b}, 1, tz='UTC')")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("f'{{{a}}}-{{{b}}}'")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("{{'k': {a}, **{b}}}")),
        ]
    })
}

/// The size of a value, to show evaluation stays bounded.
fn weight(v: &Value) -> usize {
    match v {
        Value::Str(s) | Value::Expr(s) => s.len(),
        Value::List(items) => items.iter().map(weight).sum::<usize>() + 1,
        Value::Dict(m) => m.iter().map(|(k, v)| k.len() + weight(v)).sum::<usize>() + 1,
        _ => 1,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_literal_evaluator_never_panics(expr in expressions()) {
        let text = format!("from datetime import timedelta\nimport pendulum\nNAME = {expr}\nVALUE = NAME\n");
        let src = source::SourceText::new("prop.py", &text);
        let Ok(suite) = parse::parse_module(&src) else {
            return Ok(());
        };
        let imports = ImportMap::from_suite(&suite);
        let mut ev = Evaluator::new(&src, &imports);
        ev.bind_module_constants(&suite);
        let value = ev.names.get("VALUE").cloned().unwrap_or(Value::None);
        // Bounded: no value larger than the evaluator's limits (a few MiB).
        prop_assert!(weight(&value) < 64 << 20);
        // And every value renders back as Python.
        let _ = orchmig::python::print::value(&value).flat();
    }
}
