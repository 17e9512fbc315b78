//! `orchmig-bench`: times orchmig against the parse floor and Airflow's DagBag on a seeded
//! synthetic estate plus the real corpus, and prints the figures and ratios of issue 9.
//!
//! `cargo run --release --bin orchmig-bench -- [--quick] [--files N] [--reps N] [--dagbag-reps N] [--huge N] [--keep DIR]`

mod estate;

/// mimalloc: the readers allocate many small AST and IR nodes, and glibc's malloc took about a
/// third of analyze's instructions (callgrind); the bench's parse floor uses the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const SEED: u64 = 0x0C4A_11E6_2026;
const RSS_TAG: &str = "orchmig-bench peak-rss-kb ";

struct Opts {
    quick: bool,
    files: usize,
    reps: usize,
    dagbag_files: usize,
    dagbag_reps: Option<usize>,
    big: (usize, usize),
    huge: usize,
    keep: Option<PathBuf>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        child(&args[1..]);
    }
    let opts = match parse_opts(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "orchmig-bench: {e}\nusage: orchmig-bench [--quick] [--files N] [--reps N] [--dagbag-reps N] [--huge N] [--keep DIR]"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = bench(&opts) {
        eprintln!("orchmig-bench: {e}");
        std::process::exit(1);
    }
}

fn parse_opts(args: &[String]) -> Result<Opts, String> {
    let quick = args.iter().any(|a| a == "--quick");
    let mut o = Opts {
        quick,
        files: if quick { 300 } else { 10_000 },
        reps: if quick { 1 } else { 3 },
        dagbag_files: if quick { 50 } else { 500 },
        dagbag_reps: None,
        big: if quick {
            (1_000, 10_000)
        } else {
            (10_000, 100_000)
        },
        huge: if quick { 1_000 } else { 100_000 },
        keep: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--quick" => {}
            "--files" => o.files = value()?.parse().map_err(|_| "--files takes a number")?,
            "--reps" => o.reps = value()?.parse().map_err(|_| "--reps takes a number")?,
            "--dagbag-reps" => {
                o.dagbag_reps = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--dagbag-reps takes a number")?,
                )
            }
            "--huge" => o.huge = value()?.parse().map_err(|_| "--huge takes a number")?,
            "--keep" => o.keep = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    o.reps = o.reps.max(1);
    Ok(o)
}

/// In the child process: runs one orchmig command line through the library's CLI entry point,
/// then reports the process's peak RSS on stderr.
fn child(args: &[String]) -> ! {
    use clap::Parser;
    let cli = orchmig::cli::Cli::parse_from(
        std::iter::once("orchmig".to_string()).chain(args.iter().cloned()),
    );
    let code = orchmig::cli::run(cli);
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    eprintln!("{RSS_TAG}{hwm}");
    std::process::exit(code);
}

/// One measured figure: median seconds over the repetitions, peak RSS in KB.
struct Run {
    secs: f64,
    rss_kb: u64,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Runs `orchmig ARGS` in a child process `reps` times (stdout discarded).
fn orchmig(args: &[String], reps: usize) -> Result<Run, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    let mut rss = 0;
    for _ in 0..reps {
        let start = Instant::now();
        let out = Command::new(&me)
            .arg("--child")
            .args(args)
            .env_remove("ORCHMIG_THREADS")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| e.to_string())?;
        times.push(start.elapsed().as_secs_f64());
        let err = String::from_utf8_lossy(&out.stderr);
        rss = rss.max(
            err.lines()
                .find_map(|l| l.strip_prefix(RSS_TAG))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        );
        if !matches!(out.status.code(), Some(0 | 1)) {
            return Err(format!(
                "orchmig {} failed ({}):\n{}",
                args.join(" "),
                out.status,
                err.lines().take(20).collect::<Vec<_>>().join("\n")
            ));
        }
    }
    Ok(Run {
        secs: median(times),
        rss_kb: rss,
    })
}

/// The parse floor: read and parse every file with ruff_python_parser (orchmig's parser), one
/// thread, nothing else.
fn parse_floor(files: &[PathBuf], reps: usize) -> f64 {
    let mut times = Vec::new();
    for _ in 0..reps {
        let start = Instant::now();
        let mut statements = 0usize;
        for f in files {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            if let Ok(parsed) = ruff_python_parser::parse_module(&text) {
                statements += parsed.suite().len();
            }
        }
        times.push(start.elapsed().as_secs_f64());
        std::hint::black_box(statements);
    }
    median(times)
}

/// DagBag over `folder` against `orchmig analyze --threads 1` on the same folder: prints both
/// and returns the ratio of the fill (imports excluded) to orchmig's time.
fn versus_dagbag(
    python: &Path,
    folder: &Path,
    home: &Path,
    bag_reps: usize,
    label: &str,
    reps: usize,
) -> Result<f64, String> {
    let bag = dagbag(python, folder, home, bag_reps)?;
    let args = ["--threads", "1", "analyze", "--format", "json"]
        .iter()
        .map(|a| a.to_string())
        .chain([folder.display().to_string()])
        .collect::<Vec<_>>();
    let mine = orchmig(&args, reps)?;
    row(
        "(e) python -c 'import airflow' + DagBag import",
        s(bag.import_secs),
        "(not counted below)",
    );
    row(
        &format!("(e) DagBag fill, {label}"),
        s(bag.fill_secs),
        &format!("{} DAGs, {} import errors", bag.dags, bag.errors),
    );
    row(
        &format!("(e) orchmig analyze, {label}, 1 thread"),
        s(mine.secs),
        "",
    );
    Ok(bag.fill_secs / mine.secs)
}

/// The folder of example DAGs that ships inside the pinned Airflow package.
fn airflow_examples(python: &Path) -> Result<PathBuf, String> {
    let out = Command::new(python)
        .arg("-c")
        .arg("import importlib.util, os; print(os.path.dirname(importlib.util.find_spec('airflow').origin))")
        .output()
        .map_err(|e| e.to_string())?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("example_dags");
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!("no example DAGs at {}", dir.display()))
    }
}

struct DagBag {
    import_secs: f64,
    fill_secs: f64,
    dags: u64,
    errors: u64,
}

/// Airflow's DagBag over `folder` in the pinned venv: `import airflow` timed apart from the fill.
fn dagbag(python: &Path, folder: &Path, home: &Path, reps: usize) -> Result<DagBag, String> {
    let out = Command::new(python)
        .arg("-c")
        .arg(include_str!("dagbag.py"))
        .arg(folder)
        .arg(reps.to_string())
        .env("AIRFLOW_HOME", home)
        .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        .env("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| {
            format!(
                "DagBag run printed no result:\n{}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .rev()
                    .take(15)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })?;
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let fills: Vec<f64> = v["fill"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_f64())
        .collect();
    Ok(DagBag {
        import_secs: v["import"].as_f64().unwrap_or(0.0),
        fill_secs: median(fills),
        dags: v["dags"].as_u64().unwrap_or(0),
        errors: v["errors"].as_u64().unwrap_or(0),
    })
}

fn s(x: f64) -> String {
    format!("{x:.3} s")
}

fn ratio(x: f64) -> String {
    format!("{x:.2}×")
}

fn row(label: &str, value: String, note: &str) {
    println!("{label:<52} {value:>12}  {note}");
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

fn bench(o: &Opts) -> Result<(), String> {
    let scratch = tempfile::Builder::new()
        .prefix("orchmig-bench-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let root = o
        .keep
        .clone()
        .unwrap_or_else(|| scratch.path().to_path_buf());
    let estate_dir = root.join("estate");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let err = |e: std::io::Error| e.to_string();
    let _ = std::fs::remove_dir_all(&estate_dir);
    let airflow_files = estate::write(&estate_dir, SEED, o.files).map_err(err)?;
    let inputs = vec![estate_dir.clone(), corpus.clone()];
    let (files, _) = orchmig::frontend::collect_files(&inputs);
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let path_args = |extra: &[&str], paths: &[PathBuf]| -> Vec<String> {
        extra
            .iter()
            .map(|x| x.to_string())
            .chain(paths.iter().map(|p| p.display().to_string()))
            .collect()
    };

    println!(
        "orchmig-bench{}: {} synthetic files + {} corpus files ({:.1} MB), seed {SEED:#x}; median of {} repetition(s); {cores} core(s)",
        if o.quick { " --quick" } else { "" },
        o.files,
        files.len() - o.files,
        bytes as f64 / 1e6,
        o.reps
    );
    println!(
        "orchmig runs through its CLI entry point (orchmig::cli::run) in a child process of the bench, stdout discarded.\n"
    );

    let floor = parse_floor(&files, o.reps);
    row("(a) parse floor: read + ruff parse, 1 thread", s(floor), "");
    let one = orchmig(
        &path_args(&["--threads", "1", "analyze", "--format", "json"], &inputs),
        o.reps,
    )?;
    row("(b) orchmig analyze, 1 thread", s(one.secs), "");
    let all = orchmig(
        &path_args(&["analyze", "--format", "json"], &inputs),
        o.reps,
    )?;
    row(
        &format!("(b) orchmig analyze, all cores ({cores} threads)"),
        s(all.secs),
        "",
    );
    let out = root.join("ported");
    let mut port_args = path_args(
        &["port", "--to", "dagster", "--force", "--format", "json"],
        &inputs,
    );
    port_args.extend(["--out".to_string(), out.display().to_string()]);
    let port = orchmig(&port_args, o.reps)?;
    row(
        &format!("(c) orchmig port --to dagster, all cores ({cores} threads)"),
        s(port.secs),
        "",
    );
    row(
        "(d) peak RSS, analyze (all cores)",
        format!("{:.1} MB", all.rss_kb as f64 / 1024.0),
        "",
    );
    row(
        "(d) peak RSS, port (all cores)",
        format!("{:.1} MB", port.rss_kb as f64 / 1024.0),
        "",
    );

    // (e) Airflow's DagBag over an Airflow subset and over Airflow's own example DAGs, and
    // orchmig on the same files.
    let venv = std::env::var_os("ORCHMIG_VENVS").map(PathBuf::from);
    let python = venv
        .as_ref()
        .map(|v| v.join("airflow/bin/python"))
        .filter(|p| p.exists());
    let mut dag_ratio = None;
    let mut example_ratio = None;
    match python {
        Some(python) => {
            let subset = root.join("airflow-subset");
            let _ = std::fs::remove_dir_all(&subset);
            std::fs::create_dir_all(&subset).map_err(err)?;
            let picked: Vec<&PathBuf> = airflow_files.iter().take(o.dagbag_files).collect();
            for f in &picked {
                std::fs::copy(f, subset.join(f.file_name().unwrap_or_default())).map_err(err)?;
            }
            let home = root.join("airflow-home");
            std::fs::create_dir_all(&home).map_err(err)?;
            let reps = o.dagbag_reps.unwrap_or(o.reps).max(1);
            let label = format!("{} synthetic Airflow files", picked.len());
            dag_ratio = Some(versus_dagbag(
                &python, &subset, &home, reps, &label, o.reps,
            )?);
            let examples = airflow_examples(&python)?;
            let count = std::fs::read_dir(&examples)
                .map_err(err)?
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "py"))
                .count();
            let label = format!("Airflow's {count} example DAG files");
            example_ratio = Some(versus_dagbag(
                &python, &examples, &home, reps, &label, o.reps,
            )?);
        }
        None => row(
            "(e) DagBag",
            "skipped".into(),
            "no Airflow venv ($ORCHMIG_VENVS/airflow)",
        ),
    }

    // (f) An estate of `huge` files (the synthetic mix), analyzed on every core.
    let huge_dir = root.join("huge");
    let _ = std::fs::remove_dir_all(&huge_dir);
    estate::write(&huge_dir, SEED ^ 0x5EED, o.huge).map_err(err)?;
    let huge = orchmig(
        &path_args(
            &["analyze", "--format", "json"],
            std::slice::from_ref(&huge_dir),
        ),
        1,
    )?;
    let _ = std::fs::remove_dir_all(&huge_dir);
    row(
        &format!("(f) orchmig analyze, {} files, all cores", o.huge),
        s(huge.secs),
        &format!("peak RSS {:.1} MB", huge.rss_kb as f64 / 1024.0),
    );

    // Linearity: one DAG of n and of 10n tasks.
    let big = root.join("big");
    std::fs::create_dir_all(&big).map_err(err)?;
    let mut big_runs = Vec::new();
    for n in [o.big.0, o.big.1] {
        let file = big.join(format!("big_{n}.py"));
        std::fs::write(&file, estate::big_dag(n)).map_err(err)?;
        let a = orchmig(
            &path_args(
                &["--threads", "1", "analyze", "--format", "json"],
                std::slice::from_ref(&file),
            ),
            1,
        )?;
        let mut pa = path_args(
            &["port", "--to", "dagster", "--force"],
            std::slice::from_ref(&file),
        );
        pa.extend([
            "--out".to_string(),
            big.join(format!("out_{n}")).display().to_string(),
        ]);
        let p = orchmig(&pa, 1)?;
        row(
            &format!("linearity: analyze, one DAG of {n} tasks"),
            s(a.secs),
            "",
        );
        row(
            &format!("linearity: port --to dagster, one DAG of {n} tasks"),
            s(p.secs),
            "",
        );
        big_runs.push((a.secs, p.secs));
    }

    println!("\nratios and targets");
    let r = one.secs / floor;
    row(
        "analyze (1 thread) / parse floor",
        ratio(r),
        &format!("target ≤ 1.3: {}", verdict(r <= 1.3)),
    );
    let up = one.secs / all.secs;
    row(
        &format!("speed-up, 1 → {cores} threads"),
        ratio(up),
        &if cores >= 2 {
            format!("target ≥ 1.8 with 2 cores: {}", verdict(up >= 1.8))
        } else {
            "one core: no target".into()
        },
    );
    let pa = port.secs / all.secs;
    row(
        "port / analyze (all cores)",
        ratio(pa),
        &format!("target ≤ 2: {}", verdict(pa <= 2.0)),
    );
    let rss = all.rss_kb.max(port.rss_kb) as f64 / 1024.0;
    row(
        "peak RSS (MB, worst of analyze and port)",
        format!("{rss:.1}"),
        &format!("target < 200 MB on 10,000 files: {}", verdict(rss < 200.0)),
    );
    match dag_ratio {
        Some(x) => row(
            "DagBag fill / orchmig analyze (synthetic files)",
            ratio(x),
            "no target (the files are orchmig's own)",
        ),
        None => row("DagBag fill / orchmig analyze", "skipped".into(), ""),
    }
    match example_ratio {
        Some(x) => row(
            "DagBag fill / orchmig analyze (Airflow's examples)",
            ratio(x),
            &format!("target ≥ 300: {}", verdict(x >= 300.0)),
        ),
        None => row(
            "DagBag fill / orchmig analyze (examples)",
            "skipped".into(),
            "",
        ),
    }
    row(
        &format!("{} files analyzed in", o.huge),
        s(huge.secs),
        &if o.huge >= 100_000 {
            format!("target < 30 s on 2 cores: {}", verdict(huge.secs < 30.0))
        } else {
            "the target is for 100,000 files".into()
        },
    );
    let la = big_runs[1].0 / big_runs[0].0;
    let lp = big_runs[1].1 / big_runs[0].1;
    let times = o.big.1 / o.big.0;
    row(
        &format!("analyze time, {}× the tasks", times),
        ratio(la),
        &format!("linear ≈ {times}×, quadratic ≈ {}×", times * times),
    );
    row(
        &format!("port time, {}× the tasks", times),
        ratio(lp),
        &format!("linear ≈ {times}×, quadratic ≈ {}×", times * times),
    );
    Ok(())
}
