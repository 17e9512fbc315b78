//! Reader tests over small modules: the pipeline rule, dependency resolution, op jobs, and
//! what becomes opaque.

use crate::frontend::read_source;
use crate::ir::{EdgeKind, NodeKind, Pipeline, SourceFile};

fn read(text: &str) -> SourceFile {
    read_source("t.py", text)
}

fn ids(p: &Pipeline) -> Vec<&str> {
    p.nodes.iter().map(|n| n.id.as_str()).collect()
}

fn pipeline<'f>(f: &'f SourceFile, id: &str) -> &'f Pipeline {
    f.pipelines.iter().find(|p| p.id == id).unwrap_or_else(|| {
        panic!(
            "no pipeline {id} in {:?}",
            f.pipelines.iter().map(|p| &p.id).collect::<Vec<_>>()
        )
    })
}

fn opaque_kinds(f: &SourceFile) -> Vec<&str> {
    f.pipelines
        .iter()
        .flat_map(|p| p.opaque.iter().map(|o| o.kind.as_str()))
        .collect()
}

#[test]
fn one_pipeline_per_job_then_per_uncovered_group() {
    let f = read(
        "import dagster as dg\n\
         @dg.asset(group_name='g1')\ndef a(): return 1\n\
         @dg.asset(group_name='g1')\ndef b(a): return a\n\
         @dg.asset\ndef c(b): return b\n\
         j = dg.define_asset_job('j', selection=[a])\n\
         defs = dg.Definitions(assets=[a, b, c], jobs=[j])\n",
    );
    assert!(f.diagnostics.is_empty(), "{:?}", f.diagnostics);
    let order: Vec<&str> = f.pipelines.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(order, ["j", "g1", "default"]);
    assert_eq!(ids(pipeline(&f, "j")), ["a"]);
    let g1 = pipeline(&f, "g1");
    assert_eq!(ids(g1), ["b"]);
    assert!(g1.edges.is_empty(), "a is in another pipeline");
    assert_eq!(g1.nodes[0].inlets[0].name.as_deref(), Some("a"));
    assert_eq!(
        pipeline(&f, "default").nodes[0].group.as_deref(),
        Some("default")
    );
}

#[test]
fn group_pipeline_renamed_when_a_job_has_its_name() {
    let f = read(
        "import dagster as dg\n\
         @dg.asset(group_name='sales')\ndef a(): return 1\n\
         @dg.asset(group_name='sales')\ndef b(): return 1\n\
         sales = dg.define_asset_job('sales', selection=['a'])\n\
         defs = dg.Definitions(assets=[a, b], jobs=[sales])\n",
    );
    let order: Vec<&str> = f.pipelines.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(order, ["sales", "sales_assets"]);
}

#[test]
fn parameters_contexts_resources_and_prefixed_keys() {
    let f = read(
        "import dagster as dg\n\
         class Api(dg.ConfigurableResource):\n    url: str = ''\n\
         class Cfg(dg.Config):\n    n: int = 1\n\
         @dg.asset(key_prefix=['wh'])\ndef a(): return 1\n\
         @dg.asset(key_prefix=['wh'], deps=['x'])\n\
         def b(context: dg.AssetExecutionContext, a, api: Api, config: Cfg): return a\n\
         defs = dg.Definitions(assets=[a, b], resources={'api': Api()})\n",
    );
    let p = pipeline(&f, "default");
    assert_eq!(ids(p), ["wh/a", "wh/b"]);
    let e = &p.edges[0];
    assert_eq!(
        (e.from.as_str(), e.to.as_str(), e.kind, e.param.as_deref()),
        ("wh/a", "wh/b", EdgeKind::Data, Some("a"))
    );
    let inlets: Vec<_> = p.nodes[1]
        .inlets
        .iter()
        .filter_map(|i| i.name.as_deref())
        .collect();
    assert_eq!(inlets, ["wh/a", "x"]);
    assert_eq!(
        p.nodes[1].extra["resources"],
        crate::ir::Value::List(vec![crate::ir::Value::Str("api".into())])
    );
}

#[test]
fn unannotated_parameter_named_like_a_resource_is_flagged() {
    let f = read(
        "import dagster as dg\n\
         @dg.asset\ndef a(warehouse): return 1\n\
         defs = dg.Definitions(assets=[a], resources={'warehouse': dg.InMemoryIOManager()})\n",
    );
    assert!(
        f.diagnostics
            .iter()
            .any(|d| d.code == "unannotated-resource"),
        "{:?}",
        f.diagnostics
    );
}

#[test]
fn loose_files_and_unregistered_definitions() {
    let loose = read(
        "import dagster as dg\n@dg.asset\ndef a(): return 1\njob = dg.define_asset_job('j')\n",
    );
    assert_eq!(ids(pipeline(&loose, "j")), ["a"]);
    let with_defs = read(
        "import dagster as dg\n@dg.asset\ndef a(): return 1\n@dg.asset\ndef stray(): return 1\n\
         defs = dg.Definitions(assets=[a])\n",
    );
    assert!(
        with_defs
            .diagnostics
            .iter()
            .any(|d| d.code == "not-in-definitions" && d.message.contains("stray"))
    );
    assert_eq!(ids(pipeline(&with_defs, "default")), ["a"]);
}

#[test]
fn what_cannot_be_read_is_opaque() {
    let f = read(
        "import dagster as dg\n\
         def make(name):\n    @dg.asset(name=name)\n    def _a(): return 1\n    return _a\n\
         built = [make(n) for n in ['x', 'y']]\n\
         one = make('z')\n\
         for n in load_names():\n    @dg.asset(name=n)\n    def _b(): return 1\n\
         @dg.asset(partitions_def=parts_from_config())\ndef a(): return 1\n\
         j = dg.define_asset_job('j', selection=pick())\n\
         other = dg.asset(name='q')(lambda: 1)\n\
         defs = dg.Definitions(assets=[a, one], jobs=[j], **extra)\n",
    );
    let kinds = opaque_kinds(&f);
    for want in [
        "definition_factory",
        "dynamic_loop",
        "unread_option",
        "unresolved_selection",
        "decorator_call",
        "kwargs_spread",
    ] {
        assert!(kinds.contains(&want), "missing {want} in {kinds:?}");
    }
    for o in f.pipelines.iter().flat_map(|p| &p.opaque) {
        assert!(o.line > 0 && !o.why.is_empty());
    }
}

#[test]
fn module_level_loops_over_literals_are_unrolled() {
    let f = read(
        "import dagster as dg\n\
         REGIONS = ['eu', 'us']\n\
         assets = []\n\
         for r in REGIONS:\n    @dg.asset(name=f'sales_{r}')\n    def _s(): return 1\n    assets.append(_s)\n\
         defs = dg.Definitions(assets=assets)\n",
    );
    assert_eq!(ids(pipeline(&f, "default")), ["sales_eu", "sales_us"]);
}

#[test]
fn op_jobs_name_steps_like_dagster() {
    let f = read(
        "import dagster as dg\n\
         @dg.op(out=dg.DynamicOut())\ndef files():\n    yield dg.DynamicOutput(1, mapping_key='a')\n\
         @dg.op\ndef one(): return 1\n\
         @dg.op\ndef add(a, b): return a + b\n\
         @dg.op\ndef total(xs): return sum(xs)\n\
         @dg.graph\ndef sub(x):\n    return add(x, one())\n\
         @dg.job(op_retry_policy=dg.RetryPolicy(max_retries=2))\n\
         def j():\n    a = one()\n    b = one()\n    s = sub(add(a, b))\n\
         \x20   total(files().map(lambda f: add.alias('inc')(f, s)).collect())\n\
         \x20   for r in ['x', 'y']:\n        one.alias(f'one_{r}')()\n\
         defs = dg.Definitions(jobs=[j])\n",
    );
    let p = pipeline(&f, "j");
    let mut got = ids(p);
    got.sort_unstable();
    assert_eq!(
        got,
        [
            "add", "files", "inc", "one", "one_2", "one_x", "one_y", "sub.add", "sub.one", "total"
        ]
    );
    assert_eq!(p.defaults.retries, Some(2));
    let up = |to: &str| {
        let mut v: Vec<&str> = p
            .edges
            .iter()
            .filter(|e| e.to == to)
            .map(|e| e.from.as_str())
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(up("sub.add"), ["add", "sub.one"]);
    assert_eq!(up("inc"), ["files", "sub.add"]);
    assert_eq!(up("total"), ["inc"]);
    let inc = p
        .nodes
        .iter()
        .find(|n| n.id == "inc")
        .map(|n| n.mapping.is_some());
    assert_eq!(inc, Some(true));
    assert_eq!(p.groups[0].id, "sub");
    assert!(p.nodes.iter().all(|n| n.kind == NodeKind::Op));
}

#[test]
fn sensors_and_schedules_attach_to_their_pipelines() {
    let f = read(
        "import dagster as dg\n\
         P = dg.DailyPartitionsDefinition(start_date='2024-01-01', timezone='Europe/Oslo')\n\
         @dg.asset(partitions_def=P, group_name='g')\ndef a(): return 1\n\
         @dg.asset(group_name='h')\ndef b(): return 1\n\
         j = dg.define_asset_job('j', selection=dg.AssetSelection.groups('g'))\n\
         s1 = dg.build_schedule_from_partitioned_job(j, hour_of_day=4)\n\
         s2 = dg.ScheduleDefinition(job=j, cron_schedule='@hourly')\n\
         @dg.sensor(asset_selection=[b])\ndef watch(context): return None\n\
         @dg.sensor()\ndef lost(context): return None\n\
         defs = dg.Definitions(assets=[a, b], jobs=[j], schedules=[s1, s2], sensors=[watch, lost])\n",
    );
    let j = pipeline(&f, "j");
    let s = j
        .schedule
        .as_ref()
        .map(|s| (s.value.clone(), s.timezone.clone()));
    assert_eq!(
        s,
        Some((Some("0 4 * * *".into()), Some("Europe/Oslo".into())))
    );
    assert!(matches!(&j.extra["schedules"], crate::ir::Value::List(v) if v.len() == 2));
    assert!(j.partitions.is_some());
    assert_eq!(pipeline(&f, "h").sensors[0].name, "watch");
    assert!(opaque_kinds(&f).contains(&"untargeted_sensor"));
}

#[test]
fn definitions_merge_and_module_lists() {
    let f = read(
        "import dagster as dg\n\
         @dg.asset\ndef a(): return 1\n\
         @dg.asset\ndef b(): return 1\n\
         first = [a]\n\
         first += [b]\n\
         defs = dg.Definitions.merge(dg.Definitions(assets=first), dg.Definitions(assets=[]))\n",
    );
    assert_eq!(ids(pipeline(&f, "default")), ["a", "b"]);
}

#[test]
fn odd_but_parseable_input_does_not_panic() {
    for text in [
        "import dagster as dg\n@dg.asset(partitions_def=1, retry_policy=3, tags=5, owners='x')\ndef a(): pass\n",
        "import dagster as dg\nj = dg.define_asset_job()\ns = dg.ScheduleDefinition()\n",
        "import dagster as dg\ndefs = dg.Definitions(assets=5, resources=[1])\n",
        "import dagster as dg\n@dg.multi_asset()\ndef m(): pass\n@dg.multi_asset_check()\ndef c(): pass\n",
        "import dagster as dg\n@dg.asset_check()\ndef c(): pass\n@dg.asset_sensor()\ndef s(): pass\n",
        "import dagster as dg\nx = dg.AssetSelection.keys(*names) | 3\nj = dg.define_asset_job('j', selection=x)\n",
        "import dagster as dg\n@dg.job\ndef j():\n    while True:\n        pass\n    x.map(1)\n    unknown(dg.op)\n",
        "import dagster as dg\n@dg.graph\ndef g(): return g()\n@dg.job\ndef j(): g()\n",
        "import dagster as dg\na = b\nb = a\nj = dg.define_asset_job('j', selection=a)\n",
        "import dagster as dg\nj = dg.define_asset_job('j', selection='key:(((')\n",
        "import dagster\n",
    ] {
        let f = read(text);
        assert!(
            f.diagnostics.iter().all(|d| d.code != "internal"),
            "{text}: {:?}",
            f.diagnostics
        );
    }
}

#[test]
fn named_outputs_of_ops_and_multi_assets() {
    let f = read(
        "import dagster as dg\n\
         @dg.op(out={'even': dg.Out(), 'odd': dg.Out()})\ndef split(): return [2], [1]\n\
         @dg.op\ndef use(xs): return xs\n\
         @dg.job\ndef j():\n    even, odd = split()\n    use(odd)\n\
         @dg.multi_asset(outs={'a': dg.AssetOut(), 'b': dg.AssetOut()})\ndef both(): return 1, 2\n\
         @dg.asset\ndef after(b): return b\n\
         defs = dg.Definitions(assets=[both, after], jobs=[j])\n",
    );
    let j = pipeline(&f, "j");
    let split = j.nodes.iter().find(|n| n.id == "split").unwrap();
    assert_eq!(split.outputs, vec!["even", "odd"]);
    let e = j.edges.iter().find(|e| e.to == "use").unwrap();
    assert_eq!(
        (e.from.as_str(), e.output.as_deref()),
        ("split", Some("odd"))
    );
    // Each asset of the multi-asset lists the outputs of the function they share.
    let assets: Vec<&crate::ir::Node> = f
        .pipelines
        .iter()
        .flat_map(|p| &p.nodes)
        .filter(|n| n.id == "a" || n.id == "b")
        .collect();
    assert_eq!(assets.len(), 2);
    for n in assets {
        assert_eq!(n.outputs, vec!["a", "b"]);
    }
    let b = f
        .pipelines
        .iter()
        .flat_map(|p| &p.nodes)
        .find(|n| n.id == "b")
        .unwrap();
    assert_eq!(crate::ir::multi_asset_output(b).as_deref(), Some("b"));
}

#[test]
fn a_job_selected_without_checks_leaves_the_checks_out() {
    let f = read(
        "import dagster as dg\n\
         @dg.asset\ndef orders(): return [1]\n\
         @dg.asset_check(asset=orders)\ndef orders_not_empty(orders): return dg.AssetCheckResult(passed=bool(orders))\n\
         fast = dg.define_asset_job('fast', selection=dg.AssetSelection.assets(orders).without_checks())\n\
         full = dg.define_asset_job('full', selection=dg.AssetSelection.assets(orders))\n\
         defs = dg.Definitions(assets=[orders], asset_checks=[orders_not_empty], jobs=[fast, full])\n",
    );
    assert_eq!(ids(pipeline(&f, "fast")), ["orders"]);
    assert!(pipeline(&f, "fast").checks.is_empty());
    assert_eq!(pipeline(&f, "full").checks.len(), 1);
}

#[test]
fn leading_early_returns_are_the_assets_condition_over_its_inputs() {
    let f = read(
        "import dagster as dg\n\
         @dg.asset\ndef choose(): return 'a'\n\
         @dg.asset\ndef gate(): return True\n\
         @dg.asset(ins={'choose': dg.AssetIn('choose'), 'gate': dg.AssetIn('gate')})\n\
         def arm(choose, gate):\n    if not gate:\n        return None\n    if choose != 'a':\n        return None\n    return 1\n\
         @dg.asset\ndef plain(choose):\n    if choose:\n        print(choose)\n    return 2\n\
         defs = dg.Definitions(assets=[choose, gate, arm, plain])\n",
    );
    let p = &f.pipelines[0];
    let arm = p.nodes.iter().find(|n| n.id == "arm").unwrap();
    assert_eq!(
        arm.condition.as_deref(),
        Some("(gate) and (not (choose != 'a'))")
    );
    assert_eq!(
        arm.condition_reads.get("choose").map(String::as_str),
        Some("choose")
    );
    assert_eq!(
        arm.condition_reads.get("gate").map(String::as_str),
        Some("gate")
    );
    // An `if` that does work is no guard.
    let plain = p.nodes.iter().find(|n| n.id == "plain").unwrap();
    assert!(plain.condition.is_none());
}

#[test]
fn optional_outputs_of_an_op_condition_their_readers() {
    let f = read(
        "import dagster as dg\n\
         @dg.op(out={'big': dg.Out(is_required=False), 'small': dg.Out(list, is_required=False), 'count': dg.Out()})\n\
         def route(rows):\n    yield dg.Output(rows, 'big')\n    yield dg.Output(1, 'count')\n\
         @dg.op\ndef load(rows): return rows\n\
         @dg.op\ndef after(rows): return rows\n\
         @dg.op\ndef audit(n): return n\n\
         @dg.graph\ndef g(rows):\n    big, small, count = route(rows)\n    after(load(big))\n    load(small)\n    audit(count)\n\
         @dg.job\ndef j():\n    g([1])\n",
    );
    let j = pipeline(&f, "j");
    let node = |id: &str| j.nodes.iter().find(|n| n.id == id).unwrap();
    assert_eq!(node("g.route").optional_outputs, vec!["big", "small"]);
    // Each reader of an optional output tests that it was produced, over the op's result.
    assert_eq!(
        node("g.load").condition.as_deref(),
        Some("\"big\" in g_route")
    );
    assert_eq!(
        node("g.load_2").condition.as_deref(),
        Some("\"small\" in g_route")
    );
    assert_eq!(
        node("g.load")
            .condition_reads
            .get("g_route")
            .map(String::as_str),
        Some("g.route")
    );
    // A required output, and what is below a reader, get none: Dagster skips those with it.
    assert!(node("g.audit").condition.is_none());
    assert!(node("g.after").condition.is_none());
    // An op with one output has no named output to leave out.
    let one = read(
        "import dagster as dg\n\
         @dg.op(out={'only': dg.Out(is_required=False)})\ndef a(): yield dg.Output(1, 'only')\n\
         @dg.op\ndef b(x): return x\n\
         @dg.job\ndef j():\n    b(a())\n",
    );
    let j = pipeline(&one, "j");
    assert!(
        j.nodes
            .iter()
            .all(|n| n.optional_outputs.is_empty() && n.condition.is_none())
    );
}
