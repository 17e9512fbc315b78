//! The synthetic estate: seeded, deterministic pipeline files of realistic size and mix, written
//! from snippets that are valid Python for their framework.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// SplitMix64: a tiny seeded generator, so the estate is the same on every machine.
pub struct Rng(u64);

impl Rng {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    /// One element of a slice.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }
}

const DOMAINS: &[&str] = &[
    "orders",
    "billing",
    "crm",
    "inventory",
    "marketing",
    "payments",
    "support",
    "logistics",
    "finance",
    "telemetry",
];
const VERBS: &[&str] = &[
    "extract",
    "clean",
    "enrich",
    "aggregate",
    "score",
    "dedupe",
    "publish",
    "validate",
    "load",
    "rollup",
];
const CRONS: &[&str] = &[
    "@daily",
    "@hourly",
    "0 2 * * *",
    "30 6 * * 1-5",
    "15 */4 * * *",
];

/// The kinds of file in the estate, in the proportions of a typical mixed estate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Airflow TaskFlow: `@dag`, `@task`, `@task_group`, `.expand`.
    AirflowTaskflow,
    /// Airflow classic operators: `with DAG`, `TaskGroup`, `>>`, `.partial().expand()`.
    AirflowClassic,
    /// Dagster assets with partitions, checks, a job and a schedule.
    Dagster,
    /// Prefect flows with retried tasks, `.map` and a sub-flow.
    Prefect,
}

impl Kind {
    fn of(i: usize) -> Kind {
        match i % 10 {
            0 | 3 => Kind::AirflowTaskflow,
            1 | 6 => Kind::AirflowClassic,
            2 | 5 | 8 => Kind::Dagster,
            _ => Kind::Prefect,
        }
    }

    /// True for the Airflow kinds.
    pub fn is_airflow(self) -> bool {
        matches!(self, Kind::AirflowTaskflow | Kind::AirflowClassic)
    }

    fn folder(self) -> &'static str {
        match self {
            Kind::AirflowTaskflow | Kind::AirflowClassic => "airflow",
            Kind::Dagster => "dagster",
            Kind::Prefect => "prefect",
        }
    }
}

/// One generated file: where it goes and its text.
pub struct File {
    /// Path relative to the estate root.
    pub rel: PathBuf,
    /// The kind of pipeline in it.
    pub kind: Kind,
    /// Python source.
    pub text: String,
}

/// File `i` of the estate generated with `seed` (the same inputs always give the same text).
pub fn file(seed: u64, i: usize) -> File {
    let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let kind = Kind::of(i);
    let target = rng.range(2000, 5600);
    let text = match kind {
        Kind::AirflowTaskflow => airflow_taskflow(&mut rng, i, target),
        Kind::AirflowClassic => airflow_classic(&mut rng, i, target),
        Kind::Dagster => dagster(&mut rng, i, target),
        Kind::Prefect => prefect(&mut rng, i, target),
    };
    File {
        rel: Path::new(kind.folder()).join(format!("bench_{i:05}.py")),
        kind,
        text,
    }
}

/// Writes files `0..n` under `root`; returns the paths of the Airflow ones.
pub fn write(root: &Path, seed: u64, n: usize) -> std::io::Result<Vec<PathBuf>> {
    let mut airflow = Vec::new();
    for i in 0..n {
        let f = file(seed, i);
        let path = root.join(&f.rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &f.text)?;
        if f.kind.is_airflow() {
            airflow.push(path);
        }
    }
    Ok(airflow)
}

fn doc(rng: &mut Rng, out: &mut String, what: &str, i: usize) -> &'static str {
    let domain = DOMAINS[rng.range(0, DOMAINS.len() - 1)];
    let _ = writeln!(
        out,
        "\"\"\"{domain} {what} number {i} of the synthetic benchmark estate.\n\nReads the day's {domain} records from an in-memory fixture, cleans and aggregates them\nand publishes a summary that downstream reporting can subscribe to.\n\"\"\"\n"
    );
    domain
}

fn fixture(rng: &mut Rng, out: &mut String, name: &str) {
    let _ = writeln!(out, "{name} = [");
    for n in 0..rng.range(2, 4) {
        let _ = writeln!(
            out,
            "    {{\"id\": {}, \"region\": \"{}\", \"amount\": {}.{:02}, \"status\": \"{}\"}},",
            n + 1,
            rng.pick(&["eu", "us", "apac", "latam"]),
            rng.range(1, 500),
            rng.range(0, 99),
            rng.pick(&["paid", "open", "cancelled"])
        );
    }
    let _ = writeln!(out, "]\n");
}

/// A step body of a few realistic lines over `rows` (a list of dicts).
fn body(rng: &mut Rng, out: &mut String, indent: &str, arg: &str) {
    match rng.range(0, 2) {
        0 => {
            let _ = writeln!(
                out,
                "{indent}kept = [row for row in {arg} if row.get(\"status\") != \"cancelled\"]\n{indent}for row in kept:\n{indent}    row[\"amount\"] = round(row.get(\"amount\", 0.0) * {}.0, 2)\n{indent}return kept",
                rng.range(1, 3)
            );
        }
        1 => {
            let _ = writeln!(
                out,
                "{indent}totals: dict[str, float] = {{}}\n{indent}for row in {arg}:\n{indent}    key = row.get(\"region\", \"unknown\")\n{indent}    totals[key] = totals.get(key, 0.0) + row.get(\"amount\", 0.0)\n{indent}return [{{\"region\": k, \"amount\": v}} for k, v in sorted(totals.items())]"
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "{indent}seen = set()\n{indent}out = []\n{indent}for row in {arg}:\n{indent}    if row.get(\"id\") in seen:\n{indent}        continue\n{indent}    seen.add(row.get(\"id\"))\n{indent}    out.append(dict(row, checked=True))\n{indent}return out"
            );
        }
    }
}

fn airflow_taskflow(rng: &mut Rng, i: usize, target: usize) -> String {
    let mut s = String::with_capacity(target + 1024);
    let domain = doc(rng, &mut s, "TaskFlow DAG", i);
    s.push_str("from datetime import timedelta\n\nimport pendulum\nfrom airflow.sdk import dag, task, task_group\n\n");
    fixture(rng, &mut s, "ROWS");
    let _ = writeln!(s, "REGIONS = [\"eu\", \"us\", \"apac\"]\n\n");
    let _ = writeln!(
        s,
        "@dag(\n    dag_id=\"bench_taskflow_{i:05}\",\n    schedule=\"{}\",\n    start_date=pendulum.datetime(2024, 1, 1, tz=\"UTC\"),\n    catchup=False,\n    default_args={{\"owner\": \"{domain}-data\", \"retries\": {}, \"retry_delay\": timedelta(minutes={})}},\n    tags=[\"bench\", \"{domain}\"],\n)\ndef bench_taskflow_{i:05}():",
        rng.pick(CRONS),
        rng.range(0, 3),
        rng.range(1, 10)
    );
    let _ = writeln!(
        s,
        "    @task(retries={})\n    def extract() -> list[dict]:\n        return [dict(row) for row in ROWS]\n",
        rng.range(1, 4)
    );
    let mut steps = Vec::new();
    let mut j = 0;
    while s.len() + 900 < target {
        let verb = rng.pick(VERBS);
        let name = format!("{verb}_{j}");
        let opts = match rng.range(0, 2) {
            0 => String::new(),
            1 => format!(
                "(retries={}, retry_delay=timedelta(seconds={}))",
                rng.range(1, 5),
                rng.range(10, 90)
            ),
            _ => "(execution_timeout=timedelta(minutes=30))".to_string(),
        };
        let _ = writeln!(
            s,
            "    @task{opts}\n    def {name}(rows: list[dict]) -> list[dict]:"
        );
        body(rng, &mut s, "        ", "rows");
        s.push('\n');
        steps.push(name);
        j += 1;
    }
    s.push_str("    @task_group(group_id=\"publish\")\n    def publish(rows):\n        @task\n        def summarize(rows: list[dict]) -> dict:\n            return {\"rows\": len(rows), \"total\": sum(r.get(\"amount\", 0.0) for r in rows)}\n\n        @task\n        def store(summary: dict) -> None:\n            print(summary)\n\n        store(summarize(rows))\n\n");
    s.push_str("    @task\n    def fetch_region(region: str) -> int:\n        return len(region)\n\n    @task\n    def total(counts: list[int]) -> int:\n        return sum(counts)\n\n");
    s.push_str("    data = extract()\n");
    for name in &steps {
        let _ = writeln!(s, "    data = {name}(data)");
    }
    s.push_str("    publish(data)\n    total(fetch_region.expand(region=REGIONS))\n\n\n");
    let _ = writeln!(s, "bench_taskflow_{i:05}()");
    s
}

fn airflow_classic(rng: &mut Rng, i: usize, target: usize) -> String {
    let mut s = String::with_capacity(target + 1024);
    let domain = doc(rng, &mut s, "classic-operator DAG", i);
    s.push_str("from datetime import datetime, timedelta\n\nfrom airflow.providers.standard.operators.bash import BashOperator\nfrom airflow.providers.standard.operators.empty import EmptyOperator\nfrom airflow.providers.standard.operators.python import PythonOperator\nfrom airflow.sdk import DAG, TaskGroup\n\n");
    fixture(rng, &mut s, "ROWS");
    let mut funcs = Vec::new();
    let mut j = 0;
    while s.len() + 1500 + funcs.len() * 180 < target {
        let name = format!("_{}_{j}", rng.pick(VERBS));
        let _ = writeln!(
            s,
            "\ndef {name}(batch: int = 0, **context) -> list[dict]:\n    rows = [dict(row, batch=batch) for row in ROWS]"
        );
        body(rng, &mut s, "    ", "rows");
        s.push('\n');
        funcs.push(name);
        j += 1;
    }
    s.push_str("\ndef _score(value: int) -> int:\n    return value * 2\n\n\n");
    let _ = writeln!(
        s,
        "with DAG(\n    dag_id=\"bench_classic_{i:05}\",\n    schedule=\"{}\",\n    start_date=datetime(2024, 1, 1),\n    catchup=False,\n    default_args={{\"owner\": \"{domain}-ops\", \"retries\": {}, \"retry_delay\": timedelta(minutes={})}},\n    tags=[\"bench\", \"{domain}\"],\n) as dag:\n    start = EmptyOperator(task_id=\"start\")\n\n    with TaskGroup(group_id=\"load\") as load:",
        rng.pick(CRONS),
        rng.range(0, 3),
        rng.range(1, 10)
    );
    for (k, f) in funcs.iter().enumerate() {
        let _ = writeln!(
            s,
            "        PythonOperator(\n            task_id=\"load{f}\",\n            python_callable={f},\n            op_kwargs={{\"batch\": {k}}},\n            retries={},\n        )",
            rng.range(0, 4)
        );
    }
    if funcs.is_empty() {
        s.push_str("        EmptyOperator(task_id=\"nothing\")\n");
    }
    let _ = writeln!(
        s,
        "\n    score = PythonOperator.partial(task_id=\"score\", python_callable=_score).expand(\n        op_args=[[1], [2], [3]]\n    )\n    report = BashOperator(\n        task_id=\"report\",\n        bash_command=\"echo {domain} done for {{{{ ds }}}}\",\n        retries={},\n    )\n    end = EmptyOperator(task_id=\"end\")\n\n    start >> load >> score >> report >> end",
        rng.range(0, 2)
    );
    s
}

fn dagster(rng: &mut Rng, i: usize, target: usize) -> String {
    let mut s = String::with_capacity(target + 1024);
    let domain = doc(rng, &mut s, "Dagster asset graph", i);
    s.push_str("import dagster as dg\n\n");
    let daily = rng.range(0, 1) == 0;
    if daily {
        s.push_str("PARTS = dg.DailyPartitionsDefinition(start_date=\"2024-01-01\")\n\n");
    } else {
        s.push_str("PARTS = dg.StaticPartitionsDefinition([\"eu\", \"us\", \"apac\"])\n\n");
    }
    let _ = writeln!(
        s,
        "RETRY = dg.RetryPolicy(max_retries={}, delay={})\n",
        rng.range(1, 4),
        rng.range(5, 60)
    );
    fixture(rng, &mut s, "ROWS");
    let _ = writeln!(
        s,
        "\n@dg.asset(partitions_def=PARTS, group_name=\"{domain}\", retry_policy=RETRY)\ndef raw_{domain}(context: dg.AssetExecutionContext) -> list[dict]:\n    key = context.partition_key\n    return [dict(row, partition=key) for row in ROWS]\n"
    );
    let mut prev = format!("raw_{domain}");
    let mut assets = vec![prev.clone()];
    let mut checks = Vec::new();
    let mut j = 0;
    while s.len() + 1100 < target {
        let name = format!("{}_{domain}_{j}", rng.pick(VERBS));
        let kinds = rng.pick(&["python", "pandas", "sql"]);
        let _ = writeln!(
            s,
            "\n@dg.asset(partitions_def=PARTS, group_name=\"{domain}\", kinds={{\"{kinds}\"}})\ndef {name}({prev}: list[dict]) -> list[dict]:"
        );
        body(rng, &mut s, "    ", &prev);
        if rng.range(0, 2) == 0 {
            let _ = writeln!(
                s,
                "\n\n@dg.asset_check(asset={name})\ndef {name}_not_empty({name}: list[dict]) -> dg.AssetCheckResult:\n    return dg.AssetCheckResult(passed=len({name}) > 0, metadata={{\"rows\": len({name})}})"
            );
            checks.push(format!("{name}_not_empty"));
        }
        s.push('\n');
        assets.push(name.clone());
        prev = name;
        j += 1;
    }
    let job = format!("bench_job_{i:05}");
    let _ = writeln!(
        s,
        "\n{domain}_assets = [{}]\n\n{job} = dg.define_asset_job(\"{job}\", selection={domain}_assets, partitions_def=PARTS)\n",
        assets.join(", ")
    );
    if daily {
        let _ = writeln!(
            s,
            "{job}_schedule = dg.build_schedule_from_partitioned_job({job})\n"
        );
    } else {
        let _ = writeln!(
            s,
            "{job}_schedule = dg.ScheduleDefinition(job={job}, cron_schedule=\"0 3 * * *\")\n"
        );
    }
    let _ = writeln!(
        s,
        "defs = dg.Definitions(\n    assets={domain}_assets,\n    asset_checks=[{}],\n    jobs=[{job}],\n    schedules=[{job}_schedule],\n)",
        checks.join(", ")
    );
    s
}

fn prefect(rng: &mut Rng, i: usize, target: usize) -> String {
    let mut s = String::with_capacity(target + 1024);
    let domain = doc(rng, &mut s, "Prefect flow", i);
    s.push_str("from prefect import flow, task\n\n");
    fixture(rng, &mut s, "ROWS");
    let _ = writeln!(
        s,
        "\n@task(retries={}, retry_delay_seconds={})\ndef fetch(region: str) -> list[dict]:\n    return [dict(row) for row in ROWS if row[\"region\"] == region or region == \"all\"]\n",
        rng.range(1, 4),
        rng.range(5, 60)
    );
    let mut steps = Vec::new();
    let mut j = 0;
    while s.len() + 1000 < target {
        let name = format!("{}_{j}", rng.pick(VERBS));
        let opts = if rng.range(0, 1) == 0 {
            format!(
                "(retries={}, retry_delay_seconds={}, log_prints=True)",
                rng.range(1, 3),
                rng.range(1, 30)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "\n@task{opts}\ndef {name}(rows: list[dict]) -> list[dict]:"
        );
        body(rng, &mut s, "    ", "rows");
        s.push('\n');
        steps.push(name);
        j += 1;
    }
    let _ = writeln!(
        s,
        "\n@task\ndef count(rows: list[dict]) -> int:\n    return len(rows)\n\n\n@flow(name=\"{domain}-summary-{i:05}\")\ndef summarize_{i:05}(rows: list[dict]) -> dict:\n    return {{\"rows\": len(rows), \"total\": sum(r.get(\"amount\", 0.0) for r in rows)}}\n\n\n@flow(name=\"bench-flow-{i:05}\", log_prints=True)\ndef bench_flow_{i:05}(region: str = \"all\") -> dict:\n    rows = fetch(region)"
    );
    for name in &steps {
        let _ = writeln!(s, "    rows = {name}(rows)");
    }
    let _ = writeln!(
        s,
        "    counts = count.map([rows, rows])\n    print([c.result() for c in counts])\n    return summarize_{i:05}(rows)\n\n\nif __name__ == \"__main__\":\n    bench_flow_{i:05}()"
    );
    s
}

/// One Airflow file with `n` chained PythonOperator tasks (the linearity check: a quadratic
/// pass over nodes or edges shows as a 100× time for 10× the tasks).
pub fn big_dag(n: usize) -> String {
    let mut s = String::with_capacity(n * 96);
    s.push_str("\"\"\"One very large DAG for the linearity check.\"\"\"\n\nfrom datetime import datetime\n\nfrom airflow.providers.standard.operators.python import PythonOperator\nfrom airflow.sdk import DAG\n\n\ndef _work() -> int:\n    return 1\n\n\n");
    let _ = writeln!(
        s,
        "with DAG(dag_id=\"big_{n}\", schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:"
    );
    for k in 0..n {
        let _ = writeln!(
            s,
            "    t{k} = PythonOperator(task_id=\"t{k}\", python_callable=_work)"
        );
    }
    for k in 1..n {
        let _ = writeln!(s, "    t{} >> t{k}", k - 1);
    }
    s
}
