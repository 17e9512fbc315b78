//! The statement shapes every reader reads the same way, one test each, on all three readers.

use crate::frontend::read_source;

/// The node ids of every pipeline read from a source, in order.
fn nodes(text: &str) -> Vec<String> {
    let f = read_source("t.py", text);
    assert!(
        f.diagnostics.iter().all(|d| d.code != "syntax"),
        "{:?}",
        f.diagnostics
    );
    f.pipelines
        .iter()
        .flat_map(|p| p.nodes.iter().map(|n| n.id.clone()))
        .collect()
}

/// The node ids read from a source and the reasons of its `conditional` opaque entries.
fn nodes_and_conditionals(text: &str) -> (Vec<String>, Vec<String>) {
    let f = read_source("t.py", text);
    let ids = f
        .pipelines
        .iter()
        .flat_map(|p| p.nodes.iter().map(|n| n.id.clone()))
        .collect();
    let why = f
        .pipelines
        .iter()
        .flat_map(|p| &p.opaque)
        .filter(|o| o.kind == "conditional")
        .map(|o| o.why.clone())
        .collect();
    (ids, why)
}

const AIRFLOW: &str = "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n";
const PREFECT: &str = "from prefect import flow, task\n@task\ndef t(x): return x\n";
const DAGSTER: &str = "import dagster as dg\n";

#[test]
fn a_for_else_body_is_read_by_every_reader() {
    let airflow = nodes(&format!(
        "{AIRFLOW}with DAG('d'):\n    for x in ['a']:\n        EmptyOperator(task_id=x)\n    else:\n        EmptyOperator(task_id='after')\n"
    ));
    assert_eq!(airflow, ["a", "after"]);
    let prefect = nodes(&format!(
        "{PREFECT}@flow\ndef f():\n    for x in [1]:\n        t(x)\n    else:\n        t(0)\n"
    ));
    assert_eq!(prefect, ["t", "t-2"]);
    let dagster = nodes(&format!(
        "{DAGSTER}for x in [1]:\n    pass\nelse:\n    @dg.asset\n    def after(): return 1\n"
    ));
    assert_eq!(dagster, ["after"]);
}

#[test]
fn a_try_star_body_is_read_by_every_reader() {
    let airflow = nodes(&format!(
        "{AIRFLOW}with DAG('d'):\n    try:\n        EmptyOperator(task_id='a')\n    except* ValueError:\n        pass\n"
    ));
    assert_eq!(airflow, ["a"]);
    let prefect = nodes(&format!(
        "{PREFECT}@flow\ndef f():\n    try:\n        t(1)\n    except* ValueError:\n        pass\n"
    ));
    assert_eq!(prefect, ["t"]);
    let dagster = nodes(&format!(
        "{DAGSTER}try:\n    @dg.asset\n    def a(): return 1\nexcept* ValueError:\n    pass\n"
    ));
    assert_eq!(dagster, ["a"]);
}

#[test]
fn async_for_and_async_with_bodies_are_read_by_every_reader() {
    let airflow = nodes(&format!(
        "{AIRFLOW}from airflow.sdk import dag\n@dag(schedule=None)\nasync def d():\n    async for x in ['a']:\n        EmptyOperator(task_id=x)\n    async with ctx():\n        EmptyOperator(task_id='b')\nd()\n"
    ));
    assert_eq!(airflow, ["a", "b"]);
    let prefect = nodes(&format!(
        "{PREFECT}@flow\nasync def f():\n    async for x in [1]:\n        t(x)\n    async with ctx():\n        t(2)\n"
    ));
    assert_eq!(prefect, ["t", "t-2"]);
}

#[test]
fn a_starred_target_takes_the_middle_of_what_is_unpacked_in_every_reader() {
    let airflow = nodes(&format!(
        "{AIRFLOW}with DAG('d'):\n    first, *rest = [EmptyOperator(task_id=x) for x in ['a', 'b', 'c']]\n    for t in rest:\n        first >> t\n    head, *mid, last = ['x', 'y', 'z', 'w']\n    for m in mid:\n        EmptyOperator(task_id=m + last)\n"
    ));
    assert_eq!(airflow, ["a", "b", "c", "yw", "zw"]);
    let f = read_source(
        "t.py",
        &format!(
            "{AIRFLOW}with DAG('d'):\n    first, *rest = [EmptyOperator(task_id=x) for x in ['a', 'b', 'c']]\n    first >> rest\n"
        ),
    );
    let edges: Vec<(String, String)> = f.pipelines[0]
        .edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone()))
        .collect();
    assert_eq!(edges, [("a".into(), "b".into()), ("a".into(), "c".into())]);
    let prefect = nodes(&format!(
        "{PREFECT}@flow\ndef f():\n    *init, last = [1, 2, 3]\n    for x in init:\n        t(x)\n"
    ));
    assert_eq!(prefect, ["t", "t-2"]);
    let dagster = nodes(&format!(
        "{DAGSTER}first, *rest = ['a', 'b', 'c']\n@dg.asset(name=first)\ndef x(): return 1\n@dg.asset(name=rest[1])\ndef y(): return 1\n"
    ));
    assert_eq!(dagster, ["a", "c"]);
}

#[test]
fn a_tuple_target_over_a_list_of_runs_takes_one_run_each_in_prefect() {
    let f = read_source(
        "t.py",
        &format!(
            "{PREFECT}@task\ndef u(a): return a\n@flow\ndef f():\n    a, b = [t(x) for x in [1, 2]]\n    u(a)\n    c, d = t(3)\n    u(d)\n"
        ),
    );
    let p = &f.pipelines[0];
    let mut edges: Vec<(&str, &str)> = p
        .edges
        .iter()
        .filter(|e| e.kind == crate::ir::EdgeKind::Data)
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    edges.sort();
    // `a` is the first run only; both parts of one run's result come from that run.
    assert_eq!(edges, [("t", "u"), ("t-3", "u-2")]);
}

#[test]
fn a_return_outside_any_function_is_a_syntax_error_in_every_reader() {
    // Python refuses to compile such a module, so no reader reads (or ports) any of it.
    for text in [
        format!("{AIRFLOW}with DAG('d'):\n    EmptyOperator(task_id='a')\nreturn\n"),
        format!("{DAGSTER}@dg.asset\ndef a(): return 1\nreturn\n"),
        format!("{PREFECT}@flow\ndef f():\n    t(1)\nreturn\n"),
    ] {
        let f = read_source("t.py", &text);
        assert!(f.pipelines.is_empty(), "{text}");
        let d = f.diagnostics.iter().find(|d| d.code == "syntax").unwrap();
        assert!(
            d.message.ends_with("'return' outside function"),
            "{}",
            d.message
        );
        assert_eq!(d.line, Some(text.lines().count() as u32), "{text}");
    }
}

/// A `match` over a value known only at run time: every reader reads every case (Airflow and
/// Dagster used to drop the tasks and assets inside silently) and says so in an opaque entry.
#[test]
fn match_case_bodies_are_read_by_every_reader_with_an_opaque_entry() {
    let read = |text: String| {
        let (ids, why) = nodes_and_conditionals(&text);
        (ids, !why.is_empty())
    };
    let airflow = read(format!(
        "{AIRFLOW}import os\nwith DAG('d'):\n    match os.environ.get('M'):\n        case 'a':\n            EmptyOperator(task_id='a')\n        case _:\n            EmptyOperator(task_id='b')\n"
    ));
    assert_eq!(airflow, (vec!["a".to_string(), "b".to_string()], true));
    let dagster = read(format!(
        "{DAGSTER}import os\nmatch os.environ.get('M'):\n    case 'a':\n        @dg.asset\n        def a(): return 1\n    case _:\n        @dg.asset\n        def b(): return 1\n"
    ));
    assert_eq!(dagster, (vec!["a".to_string(), "b".to_string()], true));
    let prefect = read(format!(
        "{PREFECT}import os\n@flow\ndef f():\n    match os.environ.get('M'):\n        case 'a':\n            t(1)\n        case _:\n            t(2)\n"
    ));
    assert_eq!(prefect.0, ["t", "t-2"]);
}

/// An `except` body that builds something runs only when the `try` body raises: Airflow and
/// Dagster read it under an opaque entry (they used to drop it silently); a fallback import in
/// an `except` does not undo the `try` body's binding.
#[test]
fn except_bodies_that_build_are_read_with_an_opaque_entry() {
    let read = |text: String| nodes_and_conditionals(&text);
    let (ids, why) = read(format!(
        "{AIRFLOW}with DAG('d'):\n    try:\n        EmptyOperator(task_id='a')\n    except ValueError:\n        EmptyOperator(task_id='b')\n"
    ));
    assert_eq!(ids, ["a", "b"]);
    assert!(why.iter().any(|w| w.contains("`ValueError`")), "{why:?}");
    let (ids, why) = read(format!(
        "{DAGSTER}try:\n    import pandas\nexcept ImportError:\n    @dg.asset\n    def fallback(): return 1\n"
    ));
    assert_eq!(ids, ["fallback"]);
    assert_eq!(why.len(), 1, "{why:?}");
    // Nothing built in the except body: skipped, the try body's binding stands.
    let (ids, why) = read(format!(
        "{AIRFLOW}try:\n    from airflow.providers.standard.operators.empty import EmptyOperator as E\nexcept ImportError:\n    E = None\nwith DAG('d'):\n    E(task_id='a')\n"
    ));
    assert_eq!(ids, ["a"]);
    assert!(why.is_empty(), "{why:?}");
}
