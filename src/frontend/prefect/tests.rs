//! Reader tests on inline sources: one construct each.

use crate::frontend::read_source;
use crate::ir::{EdgeKind, NodeKind, Pipeline, ScheduleKind, SourceFile, Value};

fn read(text: &str) -> SourceFile {
    read_source("flows/t.py", text)
}

fn pipeline<'a>(f: &'a SourceFile, id: &str) -> &'a Pipeline {
    f.pipelines
        .iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no pipeline {id}: {:?}", ids(f)))
}

fn ids(f: &SourceFile) -> Vec<&str> {
    f.pipelines.iter().map(|p| p.id.as_str()).collect()
}

fn node_ids(p: &Pipeline) -> Vec<&str> {
    p.nodes.iter().map(|n| n.id.as_str()).collect()
}

fn edges(p: &Pipeline) -> Vec<(String, String, EdgeKind)> {
    let mut v: Vec<_> = p
        .edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone(), e.kind))
        .collect();
    v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    v
}

const HEAD: &str = "from prefect import flow, task, unmapped, allow_failure, serve\n";

#[test]
fn nested_calls_and_variables_make_data_edges() {
    let f = read(&format!(
        "{HEAD}@task\ndef extract(): return [1]\n@task\ndef transform(rows): return rows\n@task\ndef load(rows, other): pass\n@flow\ndef etl():\n    rows = extract()\n    load(transform(rows), other=rows)\n"
    ));
    let p = pipeline(&f, "etl");
    assert_eq!(node_ids(p), ["extract", "transform", "load"]);
    assert_eq!(
        edges(p),
        [
            ("extract".into(), "load".into(), EdgeKind::Data),
            ("extract".into(), "transform".into(), EdgeKind::Data),
            ("transform".into(), "load".into(), EdgeKind::Data),
        ]
    );
    let param = p
        .edges
        .iter()
        .find(|e| e.from == "extract" && e.to == "load")
        .and_then(|e| e.param.clone());
    assert_eq!(param.as_deref(), Some("other"));
    assert!(f.diagnostics.is_empty(), "{:?}", f.diagnostics);
}

fn node<'a>(p: &'a Pipeline, id: &str) -> &'a crate::ir::Node {
    p.nodes
        .iter()
        .find(|n| n.id == id)
        .unwrap_or_else(|| panic!("no node {id}: {:?}", node_ids(p)))
}

#[test]
fn submit_map_unmapped_and_wait_for() {
    let f = read(&format!(
        "{HEAD}@task\ndef a(): return 1\n@task\ndef b(x, k): return x\n@task\ndef c(xs): pass\n@flow\ndef fan():\n    fa = a.submit()\n    ms = b.map([1, 2, 3], k=unmapped(fa))\n    c.submit(ms.result(), wait_for=[allow_failure(fa)])\n"
    ));
    let p = pipeline(&f, "fan");
    assert_eq!(node_ids(p), ["a", "b", "c"]);
    let b = node(p, "b");
    let m = b.mapping.as_ref().expect("b is mapped");
    assert_eq!(m.over[0].param, "x");
    assert_eq!(
        m.over[0]
            .literal
            .as_ref()
            .and_then(Value::as_list)
            .map(<[Value]>::len),
        Some(3)
    );
    assert!(m.partial.contains_key("k"));
    let c = node(p, "c");
    assert_eq!(c.trigger_rule.as_deref(), Some("all_done"));
    assert_eq!(c.extra["invocation"], Value::Str("submit".into()));
    assert_eq!(
        edges(p),
        [
            ("a".into(), "b".into(), EdgeKind::Data),
            ("a".into(), "c".into(), EdgeKind::Order),
            ("b".into(), "c".into(), EdgeKind::Data),
        ]
    );
}

#[test]
fn subflows_are_nodes_with_their_own_policy_and_group() {
    let f = read(&format!(
        "{HEAD}@task\ndef t(): return [1]\n@task\ndef keep(rows): return rows\n@flow(retries=2, timeout_seconds=60, name='child-flow')\ndef child(rows=None): return keep(rows)\n@flow\ndef parent():\n    rows = t()\n    child(rows)\n    child.with_options(retries=5)(rows)\n"
    ));
    assert_eq!(ids(&f), ["child", "parent"]);
    let p = pipeline(&f, "parent");
    assert_eq!(node_ids(p), ["t", "child", "child-2"]);
    let c = node(p, "child");
    assert_eq!(c.kind, NodeKind::SubPipeline);
    assert_eq!(c.name.as_deref(), Some("child-flow"));
    assert_eq!((c.policy.retries, c.policy.timeout), (Some(2), Some(60.0)));
    assert_eq!(node(p, "child-2").policy.retries, Some(5));
    let g = p
        .groups
        .iter()
        .find(|g| g.id == "child")
        .expect("sub-flow group");
    assert_eq!(g.kind, crate::ir::GroupKind::SubFlow);
    assert_eq!(g.policy.retries, Some(2));
    assert_eq!(pipeline(&f, "child").run_policy.retries, Some(2));
}

#[test]
fn literal_loops_unroll_dynamic_loops_are_opaque() {
    let f = read(&format!(
        "{HEAD}REGIONS = ['eu', 'us']\n@task\ndef fetch(r): return [r]\n@task\ndef rows(): return [1]\n@task\ndef each(x): return x\n@task\ndef total(xs): pass\n@flow\ndef loops():\n    out = []\n    for r in REGIONS:\n        out.append(fetch(r))\n    for i, r in enumerate(REGIONS):\n        fetch(r)\n    for x in rows():\n        each(x)\n    total(out)\n"
    ));
    let p = pipeline(&f, "loops");
    assert_eq!(
        node_ids(p),
        [
            "fetch", "fetch-2", "fetch-3", "fetch-4", "rows", "each", "total"
        ]
    );
    assert!(node(p, "each").extra.contains_key("dynamic_loop"));
    assert!(
        p.opaque
            .iter()
            .any(|o| o.kind == "dynamic_loop" && o.line == 18)
    );
    let ups: Vec<String> = p
        .edges
        .iter()
        .filter(|e| e.to == "total" && e.kind == EdgeKind::Data)
        .map(|e| e.from.clone())
        .collect();
    assert_eq!(ups, ["fetch", "fetch-2"]);
}

#[test]
fn conditions_are_recorded_and_branches_merged() {
    let f = read(&format!(
        "{HEAD}@task\ndef check(): return {{'ok': True}}\n@task\ndef a(): return [1]\n@task\ndef b(): return [2]\n@task\ndef c(x): pass\n@flow\ndef gate(full: bool = False):\n    r = check()\n    if r['ok']:\n        x = a()\n    else:\n        x = b()\n    if full:\n        c(x)\n    if False:\n        c(x)\n"
    ));
    let p = pipeline(&f, "gate");
    assert_eq!(node_ids(p), ["check", "a", "b", "c"]);
    assert_eq!(node(p, "a").condition.as_deref(), Some("r['ok']"));
    assert_eq!(node(p, "b").condition.as_deref(), Some("not (r['ok'])"));
    assert_eq!(node(p, "c").condition.as_deref(), Some("full"));
    let into_c: Vec<&str> = p
        .edges
        .iter()
        .filter(|e| e.to == "c" && e.kind == EdgeKind::Data)
        .map(|e| e.from.as_str())
        .collect();
    assert_eq!(into_c, ["a", "b"]);
    assert!(
        p.edges
            .iter()
            .any(|e| e.from == "check" && e.to == "a" && e.kind == EdgeKind::Order)
    );
}

#[test]
fn local_helpers_are_followed_imported_ones_are_opaque() {
    let f = read(&format!(
        "{HEAD}from mylib import enrich\n@task\ndef t(x): return [x]\ndef helper(x):\n    return t(x)\n@flow\ndef h():\n    a = helper(1)\n    b = helper(a)\n    enrich(b)\n"
    ));
    let p = pipeline(&f, "h");
    // The imported call reads a run: it is flow code, run as a generated step.
    assert_eq!(node_ids(p), ["t", "t-2", "enrich_step"]);
    assert_eq!(
        edges(p),
        [
            ("t".into(), "t-2".into(), EdgeKind::Data),
            ("t-2".into(), "enrich_step".into(), EdgeKind::Data),
        ]
    );
    let o = p
        .opaque
        .iter()
        .find(|o| o.kind == "external_call")
        .expect("opaque");
    assert_eq!(o.line, 11);
    assert!(o.why.contains("enrich"));
}

#[test]
fn async_flows_and_gather() {
    let f = read(&format!(
        "import asyncio\n{HEAD}@task\nasync def get(u): return {{'u': u}}\n@task\nasync def merge(xs): return xs\n@flow\nasync def crawl():\n    pages = await asyncio.gather(*[get(u) for u in ['a', 'b']])\n    await merge(pages)\n"
    ));
    let p = pipeline(&f, "crawl");
    assert_eq!(p.extra["async"], Value::Bool(true));
    assert_eq!(node_ids(p), ["get", "get-2", "merge"]);
    assert!(node(p, "get").callable.as_ref().is_some_and(|c| c.is_async));
    assert_eq!(p.edges.iter().filter(|e| e.to == "merge").count(), 2);
}

#[test]
fn options_become_policy_and_extra() {
    let f = read(&format!(
        "from datetime import timedelta\nfrom prefect.tasks import exponential_backoff, task_input_hash\nfrom prefect.cache_policies import INPUTS\n{HEAD}@task(name='Load', retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=10), timeout_seconds=5, tags=['db'], cache_policy=INPUTS, cache_expiration=timedelta(hours=1), task_run_name='load-{{x}}', persist_result=True, log_prints=True)\ndef load(x): pass\n@flow(name='opts', retries=2, retry_delay_seconds=7, log_prints=True, validate_parameters=False)\ndef opts(day: str = '2024-01-01', n: int = 3):\n    load(day)\n"
    ));
    let p = pipeline(&f, "opts");
    assert_eq!(p.name, "opts");
    assert_eq!(
        (p.run_policy.retries, p.run_policy.retry_delay),
        (Some(2), Some(7.0))
    );
    assert_eq!(p.extra["validate_parameters"], Value::Bool(false));
    assert_eq!(
        p.partitions,
        Some(crate::ir::Partitions::Parameter { name: "day".into() })
    );
    assert_eq!(p.params[1].default, Some(Value::Int(3)));
    assert_eq!(p.params[1].r#type.as_deref(), Some("int"));
    let n = node(p, "load");
    assert_eq!(n.name.as_deref(), Some("Load"));
    assert_eq!(n.policy.retry_delays, vec![10.0, 20.0, 40.0]);
    assert_eq!(n.policy.timeout, Some(5.0));
    assert_eq!(n.tags, vec!["db".to_string()]);
    assert_eq!(n.extra["cache_expiration"], Value::Duration(3600.0));
    assert_eq!(n.extra["task_run_name"], Value::Str("load-{x}".into()));
    assert!(n.extra.contains_key("cache_policy"));
}

#[test]
fn flow_tags_are_a_diagnostic() {
    let f = read(&format!("{HEAD}@flow(tags=['a'])\ndef tagged(): pass\n"));
    assert!(f.diagnostics.iter().any(|d| d.code == "flow-tags"));
    assert_eq!(pipeline(&f, "tagged").tags, vec!["a".to_string()]);
}

#[test]
fn deployments_serve_deploy_to_deployment_from_source() {
    let f = read(&format!(
        "from datetime import timedelta\nfrom prefect.schedules import Cron, Interval\nfrom prefect import deploy\n{HEAD}@flow\ndef etl_job(day: str = 'x'): pass\n@flow\ndef other(): pass\nnightly = etl_job.with_options(name='etl-nightly', retries=3)\nif __name__ == '__main__':\n    etl_job.serve(name='s', cron='0 6 * * *', parameters={{'day': 'y'}}, tags=['t'])\n    etl_job.deploy(name='d', work_pool_name='pool', interval=timedelta(hours=2))\n    serve(other.to_deployment(name='o', rrule='FREQ=DAILY'), nightly.to_deployment(name='n', schedules=[Cron('0 1 * * *', timezone='UTC'), Interval(60)]))\n    deploy(other.to_deployment(name='o2'), work_pool_name='wp')\n    etl_job.from_source(source='.', entrypoint='flows/t.py:etl_job').deploy(name='fs', work_pool_name='p2')\n    etl_job()\n"
    ));
    assert_eq!(ids(&f), ["etl_job", "other", "nightly"]);
    let e = pipeline(&f, "etl_job");
    let names: Vec<(&str, &str)> = e
        .deployments
        .iter()
        .map(|d| (d.name.as_str(), d.method.as_str()))
        .collect();
    assert_eq!(names, [("s", "serve"), ("d", "deploy"), ("fs", "deploy")]);
    assert_eq!(
        e.schedule.as_ref().and_then(|s| s.value.as_deref()),
        Some("0 6 * * *")
    );
    assert_eq!(e.deployments[0].parameters["day"], Value::Str("y".into()));
    assert_eq!(
        e.deployments[1]
            .schedule
            .as_ref()
            .and_then(|s| s.value.as_deref()),
        Some("7200")
    );
    assert_eq!(
        e.deployments[2].extra["entrypoint"],
        Value::Str("flows/t.py:etl_job".into())
    );
    assert!(e.nodes.is_empty());
    let o = pipeline(&f, "other");
    assert_eq!(
        o.deployments[0].schedule.as_ref().map(|s| s.kind),
        Some(ScheduleKind::Timetable)
    );
    assert_eq!(o.deployments[1].work_pool.as_deref(), Some("wp"));
    let n = pipeline(&f, "nightly");
    assert_eq!(n.name, "etl-nightly");
    assert_eq!(n.run_policy.retries, Some(3));
    assert_eq!(n.extra["variant_of"], Value::Str("etl_job".into()));
    let s = n.schedule.as_ref().expect("schedule");
    assert_eq!(
        (s.value.as_deref(), s.timezone.as_deref()),
        (Some("0 1 * * *"), Some("UTC"))
    );
    assert_eq!(n.deployments[0].schedules.len(), 2);
}

#[test]
fn prefect2_build_from_flow_is_a_deployment_and_a_warning() {
    let f = read(
        "from prefect import flow\nfrom prefect.deployments import Deployment\nfrom prefect.server.schemas.schedules import CronSchedule\n@flow\ndef legacy(): pass\ndeployment = Deployment.build_from_flow(flow=legacy, name='legacy-nightly', schedule=CronSchedule(cron='0 2 * * *', timezone='UTC'), work_pool_name='agent-pool', parameters={'a': 1}, tags=['old'])\ndeployment.apply()\n",
    );
    assert_eq!(f.source_version.as_deref(), Some("prefect@2"));
    let p = pipeline(&f, "legacy");
    let d = &p.deployments[0];
    assert_eq!(
        (d.name.as_str(), d.method.as_str()),
        ("legacy-nightly", "build_from_flow")
    );
    assert_eq!(d.work_pool.as_deref(), Some("agent-pool"));
    assert_eq!(d.tags, vec!["old".to_string()]);
    assert_eq!(d.extra["applied"], Value::Bool(true));
    assert_eq!(
        p.schedule.as_ref().and_then(|s| s.timezone.as_deref()),
        Some("UTC")
    );
    assert!(f.diagnostics.iter().any(|x| x.code == "removed-api"));
}

#[test]
fn logger_artifacts_runtime_and_task_without_decorator() {
    let f = read(&format!(
        "from prefect import get_run_logger\nfrom prefect.artifacts import create_markdown_artifact\n{HEAD}def raw(x): return [x]\nraw_task = task(raw, retries=1)\n@task\ndef report(x):\n    create_markdown_artifact(key='r', markdown='x')\n@flow\ndef body():\n    log = get_run_logger()\n    report(raw_task(1))\n    raw_task.fn(2)\n"
    ));
    let p = pipeline(&f, "body");
    assert_eq!(p.extra["run_logger"], Value::Bool(true));
    assert_eq!(node_ids(p), ["raw", "report"]);
    assert_eq!(node(p, "raw").policy.retries, Some(1));
    assert!(node(p, "report").extra.contains_key("artifacts"));
}

#[test]
fn odd_input_never_panics() {
    for text in [
        "from prefect import flow\n@flow\ndef f():\n    while True:\n        f()\n",
        "from prefect import flow, task\n@task\ndef t(): pass\n@flow\ndef f():\n    for x in range(10**9):\n        t()\n    t.map()\n    t.submit(*[], **{})\n    [t() for _ in range(1000)]\n",
        "from prefect import flow\nflow()\nflow(1)\nx = flow.from_source().deploy()\n@flow\ndef g():\n    def inner():\n        return inner()\n    inner()\n",
        "from prefect import flow\n@flow\ndef f(*a, **k):\n    match a:\n        case [x]:\n            f()\n",
        "import prefect\n@prefect.flow(retries='many', retry_delay_seconds=[1, 'x'])\ndef f(): pass\nf.serve(name=f'{x}', cron=CRON)\n",
    ] {
        let f = read(text);
        assert_eq!(f.framework, Some(crate::ir::Framework::Prefect), "{text}");
    }
}

#[test]
fn nested_literal_loops_stay_bounded() {
    let mut text = format!("{HEAD}@task\ndef t(a): pass\n@flow\ndef deep():\n");
    for depth in 0..6 {
        text.push_str(&format!(
            "{}for i{depth} in range(50):\n",
            "    ".repeat(depth + 1)
        ));
    }
    text.push_str(&format!("{}t(i0)\n", "    ".repeat(7)));
    let start = std::time::Instant::now();
    let f = read(&text);
    assert!(start.elapsed().as_secs() < 10);
    let p = pipeline(&f, "deep");
    assert!(p.nodes.len() <= 10_000);
    assert!(p.opaque.iter().any(|o| o.kind == "dynamic_loop"));
}

#[test]
fn a_call_named_by_with_options_takes_that_name() {
    let f = read(&format!(
        "{HEAD}@task(name='Count lines')\ndef count(path): return 1\n@flow\ndef logs():\n    count('a')\n    count.with_options(name='count_api', retries=2)('b')\n    count.with_options(name='count_api')('c')\n    count.with_options(name='has spaces')('d')\n"
    ));
    let p = pipeline(&f, "logs");
    assert_eq!(
        node_ids(p),
        ["count", "count_api", "count_api-2", "count-2"]
    );
    assert_eq!(p.nodes[1].policy.retries, Some(2));
    assert_eq!(p.nodes[0].name.as_deref(), Some("Count lines"));
}

fn flavor<'a>(p: &'a Pipeline, id: &str) -> Option<&'a str> {
    node(p, id).flavor.as_deref()
}

const PROBE: &str = "@task\ndef extract(day): return [1, 2, 3]\n@task\ndef audit(n): return n\ndef helper(x):\n    return x * 2\n";

#[test]
fn flow_code_becomes_a_generated_step_that_feeds_later_calls() {
    let f = read(&format!(
        "{HEAD}{PROBE}@flow(name='ctx-flow')\ndef ctx_flow(day: str = '2024-01-01'):\n    rows = extract(day)\n    total = sum(rows)\n    doubled = helper(total)\n    audit(doubled)\n"
    ));
    let p = pipeline(&f, "ctx_flow");
    assert_eq!(node_ids(p), ["extract", "total", "doubled", "audit"]);
    assert_eq!(flavor(p, "total"), Some(crate::ir::FLOW_CODE));
    assert_eq!(flavor(p, "extract"), None);
    let total = node(p, "total");
    assert_eq!(total.kind, NodeKind::Task);
    let c = total
        .callable
        .as_ref()
        .expect("a generated step has a callable");
    assert_eq!(c.name, "total");
    assert_eq!(c.body, "total = sum(rows)\nreturn total");
    let params: Vec<&str> = c.params.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(params, ["rows"]);
    assert_eq!(
        edges(p),
        [
            ("doubled".into(), "audit".into(), EdgeKind::Data),
            ("extract".into(), "total".into(), EdgeKind::Data),
            ("total".into(), "doubled".into(), EdgeKind::Data),
        ]
    );
    let into_audit = p
        .edges
        .iter()
        .find(|e| e.to == "audit")
        .expect("audit is fed");
    assert_eq!(into_audit.param.as_deref(), Some("n"));
    assert!(p.opaque.is_empty(), "{:?}", p.opaque);
}

#[test]
fn a_sub_flow_that_calls_no_task_is_one_step_returning_its_value() {
    let f = read(&format!(
        "{HEAD}{PROBE}@flow(retries=2)\ndef summarise(x: int) -> int:\n    return x + 1\n@flow\ndef parent():\n    y = summarise(3)\n    audit(y)\n"
    ));
    let p = pipeline(&f, "parent");
    assert_eq!(node_ids(p), ["summarise", "audit"]);
    let s = node(p, "summarise");
    assert_eq!(s.kind, NodeKind::Task);
    assert_eq!(s.flavor.as_deref(), Some(crate::ir::SUB_FLOW_STEP));
    assert_eq!(s.group, None);
    assert!(p.groups.is_empty(), "{:?}", p.groups);
    assert_eq!(s.policy.retries, Some(2));
    assert_eq!(s.args.get("x"), Some(&Value::Int(3)));
    let c = s.callable.as_ref().expect("the sub-flow's function");
    assert_eq!(
        (c.name.as_str(), c.body.trim()),
        ("summarise", "return x + 1")
    );
    assert_eq!(s.extra["pipeline"], Value::Str("summarise".into()));
    assert_eq!(
        edges(p),
        [("summarise".into(), "audit".into(), EdgeKind::Data)]
    );
    // The task-less flow is still a pipeline of its own: its body, one generated step.
    let own = pipeline(&f, "summarise");
    assert_eq!(node_ids(own), ["summarise"]);
    assert_eq!(flavor(own, "summarise"), Some(crate::ir::FLOW_CODE));
    assert_eq!(own.nodes[0].args.get("x"), Some(&Value::Expr("x".into())));
}

#[test]
fn side_effects_keep_their_place_among_the_calls() {
    let f = read(&format!(
        "{HEAD}{PROBE}@flow\ndef effects(day='d'):\n    rows = extract(day)\n    print(len(rows))\n    audit(1)\n    print(day)\n"
    ));
    let p = pipeline(&f, "effects");
    assert_eq!(
        node_ids(p),
        ["extract", "print_step", "audit", "print_step_2"]
    );
    assert_eq!(
        edges(p),
        [
            ("audit".into(), "print_step_2".into(), EdgeKind::Order),
            ("extract".into(), "print_step".into(), EdgeKind::Data),
            ("print_step".into(), "audit".into(), EdgeKind::Order),
        ]
    );
    let second = node(p, "print_step_2");
    assert_eq!(second.args.get("day"), Some(&Value::Expr("day".into())));
    assert_eq!(
        second.callable.as_ref().map(|c| c.body.as_str()),
        Some("print(day)")
    );
}

#[test]
fn parameters_literals_and_plain_locals_reach_the_generated_step() {
    let f = read(&format!(
        "{HEAD}from prefect import get_run_logger\n{PROBE}@flow\ndef locals_flow(day: str = 'd'):\n    logger = get_run_logger()\n    suffix = 'eu'\n    rows = extract(day)\n    label = f'{{day}}-{{suffix}}-{{len(rows)}}'\n    logger.info('label %s', label)\n    audit(label)\n"
    ));
    let p = pipeline(&f, "locals_flow");
    assert_eq!(node_ids(p), ["extract", "label", "logger_info", "audit"]);
    let label = node(p, "label");
    assert_eq!(label.args.get("day"), Some(&Value::Expr("day".into())));
    assert_eq!(label.args.get("suffix"), Some(&Value::Str("eu".into())));
    let c = node(p, "logger_info").callable.as_ref().expect("callable");
    assert_eq!(
        c.body,
        "logger = get_run_logger()\nlogger.info('label %s', label)"
    );
    let params: Vec<&str> = c.params.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(params, ["label"]);
    assert!(
        p.edges
            .iter()
            .any(|e| e.from == "label" && e.to == "audit" && e.kind == EdgeKind::Data)
    );
}

#[test]
fn routing_statements_and_constants_stay_as_they_were() {
    let f = read(&format!(
        "{HEAD}from prefect.futures import as_completed\n{PROBE}@flow\ndef routes():\n    limit = 10\n    f = extract.submit('d')\n    rows = f.result()\n    ms = audit.map([1, 2])\n    done = [m.result() for m in as_completed(ms)]\n    out = []\n    out.append(rows)\n    audit(done + out)\n"
    ));
    let p = pipeline(&f, "routes");
    assert_eq!(node_ids(p), ["extract", "audit", "audit-2"]);
    assert!(p.nodes.iter().all(|n| n.flavor.is_none()));
}

#[test]
fn what_cannot_be_a_step_is_an_opaque_entry_with_its_line() {
    let f = read(&format!(
        "{HEAD}{PROBE}@flow\ndef odd(day='d'):\n    rows = extract(day)\n    first, rest = rows[0], rows[1:]\n    head, *tail = sorted(rows)\n    y = audit(rows) + 1\n    for r in rows:\n        total = r * 2\n    with open(day) as fh:\n        size = len(fh.read()) + len(rows)\n"
    ));
    let p = pipeline(&f, "odd");
    let lines: Vec<u32> = p
        .opaque
        .iter()
        .filter(|o| o.kind == "flow_code")
        .map(|o| o.line)
        .collect();
    assert_eq!(lines, [11, 12, 13, 15, 17], "{:?}", p.opaque);
    assert!(
        p.nodes.iter().all(|n| n.flavor.is_none()),
        "{:?}",
        node_ids(p)
    );
}

#[test]
fn ten_thousand_flow_statements_and_deep_expressions_stay_bounded() {
    let mut text = format!("{HEAD}{PROBE}@flow\ndef big():\n    rows = extract('d')\n");
    for i in 0..10_000 {
        text.push_str(&format!("    v{i} = len(rows) + {i}\n"));
    }
    text.push_str(&format!(
        "    deep = {}rows{}\n",
        "len(".repeat(150),
        ")".repeat(150)
    ));
    text.push_str("    print(v9999, deep)\n");
    let start = std::time::Instant::now();
    let f = read(&text);
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    let p = pipeline(&f, "big");
    assert_eq!(p.nodes.len(), 10_003);
    assert_eq!(flavor(p, "deep"), Some(crate::ir::FLOW_CODE));
    assert!(
        p.edges
            .iter()
            .any(|e| e.from == "v9999" && e.to == "print_step")
    );
}

#[test]
fn a_list_of_runs_read_by_thousands_of_statements_stays_within_the_edge_budget() {
    let mut text =
        format!("{HEAD}{PROBE}@flow\ndef wide():\n    rows = [extract(i) for i in range(100)]\n");
    for i in 0..2_000 {
        text.push_str(&format!("    v{i} = len(rows) + {i}\n"));
    }
    let start = std::time::Instant::now();
    let f = read(&text);
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    let p = pipeline(&f, "wide");
    assert!(p.edges.len() <= crate::ir::edge_budget(p.nodes.len()));
    assert!(
        f.diagnostics.iter().any(|d| d.code == "edge-budget"),
        "{:?}",
        f.diagnostics
    );
}

/// The order edges of a flow, sorted.
fn order_edges(p: &Pipeline) -> Vec<(&str, &str)> {
    let mut v: Vec<(&str, &str)> = p
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Order)
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    v.sort();
    v
}

const FAIL_FAST_TASKS: &str = "@task\ndef a(): return 1\n@task\ndef b(x=None): return 1\n@task\ndef c(x=None): return 1\n@task\ndef d(x=None): return 1\n";

#[test]
fn each_run_waits_for_the_last_direct_call_before_it() {
    // A direct call raises its failure in the flow: Prefect makes no run after it. A submitted
    // run does not raise, so the direct call after it waits for the direct call before both.
    let f = read(&format!(
        "{HEAD}{FAIL_FAST_TASKS}@flow\ndef f():\n    a()\n    s = b.submit()\n    c()\n    d(s)\n"
    ));
    let p = pipeline(&f, "f");
    assert_eq!(
        order_edges(p),
        [("a", "b"), ("a", "c"), ("c", "d")],
        "{:?}",
        p.edges
    );
    assert!(p.unordered_raises.is_empty());
}

#[test]
fn calls_whose_failure_is_caught_are_not_waited_for() {
    // `return_state=True` and a `try` with a handler keep a failure out of the flow body; a
    // run that waits for failures (allow_failure) is not ordered after the calls before it,
    // which the pipeline then lists as not followed.
    let f = read(&format!(
        "{HEAD}{FAIL_FAST_TASKS}@flow\ndef f():\n    st = a(return_state=True)\n    try:\n        b()\n    except ValueError:\n        pass\n    c()\n    fut = a.submit()\n    d(wait_for=[allow_failure(fut)])\n"
    ));
    let p = pipeline(&f, "f");
    assert_eq!(
        order_edges(p),
        [("a-2", "d"), ("c", "a-2")],
        "{:?}",
        p.edges
    );
    assert_eq!(p.unordered_raises, ["c"]);
}

#[test]
fn a_call_under_an_if_is_waited_for_inside_it_only() {
    let f = read(&format!(
        "{HEAD}{FAIL_FAST_TASKS}@flow\ndef f(full: bool = False):\n    a()\n    if full:\n        b()\n        c()\n    else:\n        c()\n    d()\n"
    ));
    let p = pipeline(&f, "f");
    assert_eq!(
        order_edges(p),
        [("a", "b"), ("a", "c-2"), ("a", "d"), ("b", "c")],
        "{:?}",
        p.edges
    );
    // In the port `d` runs when `b` or `c` (under `if full`) or `c-2` (under `else`) failed,
    // where the flow would have stopped: all three are listed (`c-2` excludes `b` and `c`,
    // and `c` is downstream of `b`, so `d` is the run each of them misses).
    assert_eq!(p.unordered_raises, ["b", "c", "c-2"]);
}

#[test]
fn a_direct_call_fed_by_a_submitted_run_is_not_waited_for() {
    // When the submitted run fails, Prefect leaves the direct call not run and goes on.
    let f = read(&format!(
        "{HEAD}{FAIL_FAST_TASKS}@flow\ndef f():\n    s = a.submit()\n    x = b(s)\n    c(x)\n    d()\n"
    ));
    let p = pipeline(&f, "f");
    assert_eq!(order_edges(p), Vec::<(&str, &str)>::new(), "{:?}", p.edges);
    assert_eq!(p.unordered_raises, ["b", "c"]);
}

#[test]
fn gathered_async_calls_run_together_and_awaited_ones_in_turn() {
    let f = read(&format!(
        "import asyncio\n{HEAD}@task\nasync def a(n): return n\n@flow\nasync def f():\n    xs = await asyncio.gather(a(1), a(2))\n    await a(3)\n    await a(4)\n"
    ));
    let p = pipeline(&f, "f");
    assert_eq!(order_edges(p), [("a-3", "a-4")], "{:?}", p.edges);
}
