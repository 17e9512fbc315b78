//! Hostile input (issue 21): inputs that used to abort orchmig (a stack overflow) or pass
//! silently get a diagnostic with their line and a clean exit code, in every command and target.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs orchmig in `dir` and returns (exit code, stderr); fails on a signal (abort, overflow),
/// when it uses more than 10 s of CPU (its own: other tests running beside it on a loaded
/// machine do not count), or when it has not ended after 120 s of wall time (a hang).
fn orchmig(dir: &Path, args: &[&str]) -> (i32, String) {
    let (status, stderr, cpu) = run_measured(dir, args);
    assert!(
        cpu < Duration::from_secs(10),
        "{args:?} used {cpu:?} of CPU"
    );
    let code = status
        .code()
        .unwrap_or_else(|| panic!("{args:?} was killed by a signal: {stderr}"));
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    (code, stderr)
}

/// Runs orchmig and returns its exit status, stderr and the CPU time (user + system) it used,
/// read from the kernel's accounting of that one child (`wait4`).
// The child is reaped by `wait4` (which std's `Child` does not know), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_measured(dir: &Path, args: &[&str]) -> (std::process::ExitStatus, String, Duration) {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_orchmig"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    });
    let pid = child.id() as libc::pid_t;
    let ended = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watch = ended.clone();
    std::thread::spawn(move || {
        for _ in 0..120 {
            std::thread::sleep(Duration::from_secs(1));
            if watch.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
        }
        // SAFETY: signals our own child, not yet reaped (so its pid is not reused).
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let start = Instant::now();
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid out-parameter for wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, writing into locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    ended.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(r, pid, "{args:?}: wait4 failed");
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "{args:?} hung (killed after 120 s)"
    );
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    let stderr = reader.join().unwrap();
    (std::process::ExitStatus::from_raw(status), stderr, cpu)
}

/// `t >> t` and `a >> b >> a`: every command, to every target, says "cycle" at the line and
/// exits 1 or 2 — none aborts (it was a stack overflow in the Dagster writer, so in `port`,
/// `verify`, `analyze --target dagster`, SARIF and `report`), none calls the pipeline faithful.
#[test]
fn a_dependency_cycle_is_a_diagnostic_in_every_command_and_target() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("self_loop.py"),
        "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n\nwith DAG(\"self_loop\", schedule=None):\n    t = EmptyOperator(task_id=\"t\")\n    t >> t\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("two_cycle.py"),
        "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n\nwith DAG(\"two_cycle\", schedule=None):\n    a = EmptyOperator(task_id=\"a\")\n    b = EmptyOperator(task_id=\"b\")\n    a >> b >> a\n",
    )
    .unwrap();
    for file in ["self_loop.py", "two_cycle.py"] {
        let mut runs: Vec<Vec<String>> = vec![
            vec!["analyze".into(), file.into()],
            vec![
                "analyze".into(),
                file.into(),
                "--format".into(),
                "sarif".into(),
            ],
            vec!["run".into(), file.into()],
            vec![
                "report".into(),
                file.into(),
                "--out".into(),
                format!("{file}.html"),
            ],
        ];
        for target in ["airflow", "dagster", "prefect"] {
            runs.push(vec![
                "port".into(),
                file.into(),
                "--to".into(),
                target.into(),
            ]);
            runs.push(vec![
                "verify".into(),
                file.into(),
                "--to".into(),
                target.into(),
            ]);
            runs.push(vec![
                "analyze".into(),
                file.into(),
                "--target".into(),
                target.into(),
            ]);
        }
        for args in runs {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, stderr) = orchmig(dir, &args);
            assert!(
                code == 1 || code == 2,
                "{args:?} exited {code} on a cyclic pipeline: {stderr}"
            );
            assert!(
                stderr.contains("cycle") && stderr.contains(&format!("{file}:")),
                "{args:?} did not name the cycle and its line: {stderr}"
            );
        }
    }
}

/// 1,000 filtered Jinja placeholders in one `bash_command` port in well under 10 s (naming each
/// placeholder's local scanned every earlier one: cubic, 58 s in a release build), and every
/// placeholder gets its own local.
#[test]
fn a_thousand_filtered_placeholders_port_in_linear_time() {
    let tmp = tempfile::tempdir().unwrap();
    let placeholders = vec!["{{ ds | upper }}"; 1000].join(" ");
    std::fs::write(
        tmp.path().join("many.py"),
        format!(
            "from datetime import datetime\nfrom airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator\n\nwith DAG(\"many\", schedule=None, start_date=datetime(2024, 1, 1)):\n    BashOperator(task_id=\"b\", bash_command=\"echo {placeholders}\")\n"
        ),
    )
    .unwrap();
    for target in ["dagster", "prefect"] {
        let out = format!("out_{target}");
        let (code, stderr) = orchmig(
            tmp.path(),
            &["port", "many.py", "--to", target, "--out", &out],
        );
        assert_eq!(code, 0, "{stderr}");
        let text = std::fs::read_to_string(tmp.path().join(&out).join("many.py")).unwrap();
        assert!(
            text.contains("ds_text_1000 = "),
            "{target}: every placeholder has its local"
        );
    }
}

/// A 10,000-task DAG: `report` finishes (it hung: the SVG layout is cubic) and says why the graph
/// is not drawn; `graph --format svg` names the limit and the formats to use instead.
#[test]
fn a_ten_thousand_node_pipeline_is_reported_without_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let mut src = String::from(
        "from datetime import datetime\nfrom airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator\n\nwith DAG(\"big\", schedule=None, start_date=datetime(2024, 1, 1)):\n",
    );
    for i in 0..10_000 {
        src.push_str(&format!(
            "    t{i} = BashOperator(task_id=\"t{i}\", bash_command=\"echo {i}\")\n"
        ));
    }
    for i in 1..10_000 {
        src.push_str(&format!("    t{} >> t{i}\n", (i - 1) / 3));
    }
    std::fs::write(tmp.path().join("big.py"), src).unwrap();
    let (code, stderr) = orchmig(tmp.path(), &["graph", "big.py", "--format", "svg"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("10000 nodes") && stderr.contains("dot"),
        "{stderr}"
    );
    let (code, stderr) = orchmig(tmp.path(), &["report", "big.py", "--out", "review.html"]);
    assert!(code <= 1, "{stderr}");
    let html = std::fs::read_to_string(tmp.path().join("review.html")).unwrap();
    assert!(
        html.contains("10000 nodes are more than the 250"),
        "the page says why there is no graph"
    );
}

/// A prefect.yaml nested 100,000 brackets deep (over a minute in the YAML parser) is a warning
/// with its line within 10 s, and the flow file beside it is still read.
#[test]
fn a_deeply_nested_prefect_yaml_is_a_warning_not_a_hang() {
    let tmp = tempfile::tempdir().unwrap();
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        here.join("corpus/prefect/daily_sales_etl.py"),
        tmp.path().join("daily_sales_etl.py"),
    )
    .unwrap();
    let depth = 100_000;
    std::fs::write(
        tmp.path().join("prefect.yaml"),
        format!(
            "deployments:\n- name: x\n  entrypoint: daily_sales_etl.py:daily_sales_etl\n  parameters:\n    a: {}{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    )
    .unwrap();
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_orchmig"))
        .args(["analyze", ".", "--format", "json"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("65 levels deep at line 5"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json.to_string().contains("daily_sales_etl"),
        "the flow is still read: {json}"
    );
}

/// A backfill of a year of hourly partitions (8,784) finishes well within 10 s: the scheduler
/// looked at every partition of the backfill on every pass (quadratic; ten years did not finish
/// in five minutes) and now looks at the running ones only.
#[test]
fn a_year_of_hourly_partitions_backfills_in_linear_time() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, stderr) = orchmig(
        here,
        &[
            "run",
            "corpus/dagster/clickstream_hourly.py",
            "--backfill",
            "2024-05-01-00:00..2025-05-01-00:00",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
}

/// Multi-megabyte chains of unary operators, attribute dots and binary operators (each nests one
/// level in the parser and in every walk over its tree) are refused with their line before
/// parsing: they overflowed the reader's 256 MB stack (exit 134) for the whole estate.
#[test]
fn megabyte_operator_chains_are_a_diagnostic_not_a_stack_overflow() {
    let tmp = tempfile::tempdir().unwrap();
    let head = "from datetime import datetime\nfrom airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n\n";
    let tail = "with DAG(\"d\", schedule=None, start_date=datetime(2024, 1, 1)):\n    EmptyOperator(task_id=\"t\")\n";
    for (name, expr) in [
        ("unary.py", format!("{}1", "-".repeat(2_500_000))),
        ("attr.py", format!("a{}", ".b".repeat(1_000_000))),
        ("binop.py", format!("1{}", " + 1".repeat(1_000_000))),
    ] {
        std::fs::write(tmp.path().join(name), format!("{head}X = {expr}\n{tail}")).unwrap();
    }
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/airflow/orders_etl.py"),
        tmp.path().join("orders_etl.py"),
    )
    .unwrap();
    let (code, stderr) = orchmig(tmp.path(), &["analyze", "."]);
    assert_eq!(code, 1, "{stderr}");
    for name in ["unary.py", "attr.py", "binop.py"] {
        assert!(
            stderr.contains(&format!("{name}:5: orchmig::too-deep")),
            "{name}: {stderr}"
        );
    }
}

/// Nested loops of 10^8 iterations (two of `range(10000)`) stop at the file's unroll budget with
/// one warning at the loop's line; the rest of the file is still read (it never finished).
#[test]
fn nested_loops_stop_at_the_unroll_budget_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("loops.py"),
        "from datetime import datetime\nfrom airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n\nwith DAG(\"loops\", schedule=None, start_date=datetime(2024, 1, 1)):\n    for a in range(10000):\n        for b in range(10000):\n            x = (a, b)\n    EmptyOperator(task_id=\"after\")\n",
    )
    .unwrap();
    let (code, stderr) = orchmig(tmp.path(), &["ir", "loops.py"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("loops.py:7: orchmig::unroll-budget"),
        "{stderr}"
    );
}

/// `cross_downstream` over two lists of 400 tasks declares 160,000 edges: the reader keeps the
/// first 50,000 with an `edge-budget` warning at the line, and every command stays quick on the
/// rest (run and verify used to re-scan every upstream list per event: minutes, 2 GB).
#[test]
fn a_dense_cross_product_of_edges_is_cut_at_the_budget_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("dense.py"),
        "from airflow.sdk import DAG, cross_downstream\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n\nwith DAG(\"dense\", schedule=None):\n    a = [EmptyOperator(task_id=f\"a{i}\") for i in range(400)]\n    b = [EmptyOperator(task_id=f\"b{i}\") for i in range(400)]\n    cross_downstream(a, b)\n",
    )
    .unwrap();
    let (code, stderr) = orchmig(tmp.path(), &["analyze", "dense.py"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("dense.py:7: orchmig::edge-budget") && stderr.contains("the 110000 edge"),
        "{stderr}"
    );
    for args in [
        &["run", "dense.py", "--runner", "dry"][..],
        &["verify", "dense.py", "--to", "prefect"],
        &["port", "dense.py", "--to", "dagster", "--out", "out"],
    ] {
        let (code, stderr) = orchmig(tmp.path(), args);
        assert!(code <= 1, "{args:?} exited {code}: {stderr}");
        assert!(stderr.contains("edge-budget"), "{args:?}: {stderr}");
    }
}

/// `L = [L, L]` seventy times (in a loop or written out) doubles a value past any memory: every
/// reader binds the name to its text past the weight budget, warns `value-budget` at the line,
/// and reads the rest of the file (the Dagster reader used 1.5 GB at 20 doublings; the fuzzer
/// found it).
#[test]
fn values_doubled_through_shared_references_stop_at_the_value_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let heads = [
        (
            "airflow",
            "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n",
            "with DAG(\"d\", schedule=None):\n    EmptyOperator(task_id=\"after\")\n",
        ),
        (
            "dagster",
            "import dagster as dg\n",
            "@dg.asset\ndef after():\n    return 1\n",
        ),
        (
            "prefect",
            "from prefect import flow, task\n",
            "@task\ndef step():\n    return 1\n\n@flow\ndef after():\n    step()\n",
        ),
    ];
    for (fw, head, tail) in heads {
        for (form, body, line) in [
            (
                "loop",
                "L = [1]\nfor _ in range(70):\n    L = [L, L]\n".to_string(),
                3,
            ),
            (
                "unrolled",
                format!("L = [1]\n{}", "L = [L, L]\n".repeat(70)),
                0,
            ),
        ] {
            let name = format!("{fw}_{form}.py");
            std::fs::write(tmp.path().join(&name), format!("{head}{body}{tail}")).unwrap();
            let (code, stderr) = orchmig(tmp.path(), &["ir", &name]);
            assert_eq!(code, 0, "{name}: {stderr}");
            // In a loop, at the doubling line; written out, at the line where the budget is
            // reached (the 16th doubling or so).
            let at = match line {
                0 => String::new(),
                l => format!("{}: ", head.lines().count() + l),
            };
            assert!(
                stderr.contains(&format!("{name}:{at}"))
                    && stderr.contains("orchmig::value-budget"),
                "{name}: {stderr}"
            );
        }
    }
}

/// No-op steps between real ones: 40 layers of two `EmptyOperator`s, each wired to both of the
/// next (2^40 paths), and a chain of 20,000 of them. The writers fold no-op steps into their
/// neighbours' dependencies; the Prefect writer walked every path (the diamonds did not end in
/// 20 s) and recursed once per link of the chain. Every target ports them within the budget.
#[test]
fn diamonds_and_long_chains_of_no_op_steps_port_in_every_target() {
    let tmp = tempfile::tempdir().unwrap();
    let head = "from airflow.sdk import DAG, task\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n\n\n@task\ndef first():\n    return 1\n\n\n@task\ndef last():\n    return 2\n\n\n";
    let mut diamonds =
        format!("{head}with DAG(dag_id=\"diamonds\", schedule=None):\n    prev = [first()]\n");
    for i in 0..40 {
        diamonds.push_str(&format!(
            "    layer = [EmptyOperator(task_id=\"a{i}\"), EmptyOperator(task_id=\"b{i}\")]\n    for p in prev:\n        p >> layer\n    prev = layer\n"
        ));
    }
    diamonds.push_str("    prev >> last()\n");
    std::fs::write(tmp.path().join("diamonds.py"), diamonds).unwrap();
    let chain = format!(
        "{head}with DAG(dag_id=\"chain\", schedule=None):\n    prev = first()\n    for i in range(20000):\n        step = EmptyOperator(task_id=f\"noop_{{i}}\")\n        prev >> step\n        prev = step\n    prev >> last()\n"
    );
    std::fs::write(tmp.path().join("chain.py"), chain).unwrap();
    for file in ["diamonds.py", "chain.py"] {
        for to in ["airflow", "dagster", "prefect"] {
            let out = format!("out-{to}-{file}");
            let (code, stderr) = orchmig(tmp.path(), &["port", file, "--to", to, "--out", &out]);
            assert!(code <= 1, "{file} → {to}: {stderr}");
            let name = std::fs::read_dir(tmp.path().join(&out))
                .unwrap()
                .filter_map(Result::ok)
                .find(|e| e.path().extension().is_some_and(|x| x == "py"))
                .unwrap_or_else(|| panic!("{file} → {to}: nothing written: {stderr}"));
            let text = std::fs::read_to_string(name.path()).unwrap();
            assert!(text.contains("def last"), "{file} → {to}");
            if to == "prefect" {
                // The last step still waits for the first, through every folded no-op.
                assert!(
                    text.contains("last.submit(wait_for=[first_out])"),
                    "{file} → {to}: {text}"
                );
            }
        }
    }
}

/// Branches under joins under branches, hundreds deep: the Prefect port writes each guard as an
/// `if` while it stays small, and past the guard budget keeps no branch and says so, in well
/// under the CPU bound (a guard could double at each layer of a diamond of joins).
#[test]
fn deeply_nested_branches_stay_within_the_guard_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let dag = |layers: usize| {
        format!(
            "from airflow.sdk import dag, task\n\n\n@dag(schedule=None)\ndef nested():\n    @task.branch\n    def pick() -> str:\n        return \"x0\"\n\n    @task\n    def step():\n        return 1\n\n    @task(trigger_rule=\"none_failed_min_one_success\")\n    def join():\n        return 2\n\n    prev = pick.override(task_id=\"start\")()\n    for i in range({layers}):\n        b = pick.override(task_id=f\"b{{i}}\")()\n        x = step.override(task_id=f\"x{{i}}\")()\n        y = step.override(task_id=f\"y{{i}}\")()\n        j = join.override(task_id=f\"j{{i}}\")()\n        prev >> b >> [x, y] >> j\n        prev = j\n\n\nnested()\n"
        )
    };
    for (layers, kept) in [(20, true), (400, false)] {
        let name = format!("nested_{layers}.py");
        std::fs::write(tmp.path().join(&name), dag(layers)).unwrap();
        let out = format!("out_{layers}");
        let (code, stderr) = orchmig(
            tmp.path(),
            &["port", &name, "--to", "prefect", "--out", &out],
        );
        assert!(code <= 1, "{layers}: exited {code}: {stderr}");
        let text = std::fs::read_to_string(tmp.path().join(&out).join(&name)).unwrap();
        let report =
            std::fs::read_to_string(tmp.path().join(&out).join("orchmig-report.md")).unwrap();
        assert_eq!(text.contains("if b0_choice"), kept, "{layers}");
        assert_eq!(
            report.contains("nests branches and joins past"),
            !kept,
            "{layers}"
        );
    }
}
