//! `orchmig run`: reads one pipeline file, picks the pipeline, and runs it (or previews its
//! schedule); prints the trace and returns 0 when the run succeeded, 1 when it failed, 2 on usage.

use std::path::{Path, PathBuf};

use super::args::{Format, RunFlags};
use super::output::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, versioned_json, write_stdout};
use super::ui::print_path_error;
use crate::exec::ledger::{self, LedgerWriter};
use crate::exec::{RunArgs, execute, make_runner, pick, schedule, step_paths};
use crate::ir::{Pipeline, SourceFile};

/// What `orchmig run` was asked on the command line.
#[derive(Debug, Clone)]
pub struct RunCommand {
    /// The run's arguments (as the ledger records them).
    pub args: RunArgs,
    /// `--schedule-preview N`.
    pub schedule_preview: Option<usize>,
    /// `--from` for the preview (default: now).
    pub from: Option<String>,
    /// `--ledger FILE`.
    pub ledger: Option<PathBuf>,
    /// `--resume FILE`.
    pub resume: Option<PathBuf>,
    /// Whether `--fail`/`--hang`/`--set-output` were given (they replace the ledger's on a resume).
    pub faults_given: bool,
    /// Output format.
    pub format: Format,
}

impl RunCommand {
    /// The run the flags of `orchmig run` ask for.
    pub fn from_flags(f: RunFlags) -> RunCommand {
        let faults_given = !f.fail.is_empty() || !f.hang.is_empty() || !f.set_output.is_empty();
        RunCommand {
            args: RunArgs {
                path: f.path.display().to_string(),
                pipeline: f.pipeline,
                runner: f.runner,
                max_active: f.max_active,
                map_width: f.map_width,
                fail: f.fail,
                hang: f.hang,
                set_output: f.set_output,
                partition: f.partition,
                backfill: f.backfill,
                max_partitions_active: f.max_partitions_active,
                attempt_timeout: f.attempt_timeout,
            },
            schedule_preview: f.schedule_preview,
            from: f.from,
            ledger: f.ledger,
            resume: f.resume,
            faults_given,
            format: f.format,
        }
    }
}

/// Reads one pipeline file, reporting its errors; `None` (after printing why) when it has no pipeline.
pub fn read_one(path: &Path) -> Option<SourceFile> {
    if path.is_dir() {
        print_path_error(
            &path.display().to_string(),
            "is a folder",
            "pass one pipeline file (orchmig analyze lists the pipelines of a folder)",
        );
        return None;
    }
    if !path.exists() {
        print_path_error(
            &path.display().to_string(),
            "no such file",
            "check the path",
        );
        return None;
    }
    let file = crate::frontend::read_path(path);
    super::ui::print_all(std::slice::from_ref(&file), true);
    if file.pipelines.is_empty() {
        print_path_error(
            &file.path,
            "defines no pipeline orchmig can read",
            "check that it defines an Airflow DAG, a Dagster job or assets, or a Prefect flow",
        );
        return None;
    }
    Some(file)
}

/// Whether two paths name the same existing file (through links, `..` and the like).
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (ma.dev(), ma.ino()) == (mb.dev(), mb.ino()) {
            return true;
        }
    }
    let _ = (ma, mb);
    matches!(
        (std::fs::canonicalize(a), std::fs::canonicalize(b)),
        (Ok(x), Ok(y)) if x == y
    )
}

/// Refuses a `--ledger` path the run must not write: one of the command's inputs, a folder, or
/// an existing file that is not an orchmig ledger. Prints why and returns false.
fn ledger_target_ok(ledger: &Path, inputs: &[(&Path, &str)]) -> bool {
    let shown = ledger.display().to_string();
    if let Some((_, what)) = inputs.iter().find(|(p, _)| same_file(ledger, p)) {
        print_path_error(
            &shown,
            &format!("is {what}, an input of this command: the ledger would overwrite it"),
            "pass --ledger a new file name, e.g. run.jsonl",
        );
        return false;
    }
    if ledger.is_dir() {
        print_path_error(
            &shown,
            "is a folder",
            "pass --ledger a file name, e.g. run.jsonl",
        );
        return false;
    }
    if ledger.exists() && !ledger::looks_like_ledger(ledger) {
        print_path_error(
            &shown,
            "exists and is not an orchmig run ledger: orchmig does not overwrite it",
            "pass --ledger a new file name, or remove the file yourself if you mean to replace it",
        );
        return false;
    }
    true
}

/// Opens the ledger a run writes: a new one (`--ledger`), the resumed one (`--resume L`, also with
/// `--ledger L`: its history is kept and the resume appended), or a copy of the resumed one in
/// a new file (`--resume L --ledger M`). `Err` carries the exit code after printing why.
fn open_ledger(
    c: &RunCommand,
    history: Option<&ledger::History>,
) -> Result<Option<LedgerWriter>, i32> {
    let pipeline_file = Path::new(&c.args.path);
    let opened = match (&c.resume, history, &c.ledger) {
        (Some(l), Some(h), None) => (l.clone(), LedgerWriter::append(l, h)),
        (Some(l), Some(h), Some(m)) if same_file(l, m) => (l.clone(), LedgerWriter::append(l, h)),
        (Some(l), Some(h), Some(m)) => {
            if !ledger_target_ok(m, &[(pipeline_file, "the pipeline file")]) {
                return Err(EXIT_USAGE);
            }
            (m.clone(), LedgerWriter::copy(l, h, m))
        }
        (_, _, Some(m)) => {
            if !ledger_target_ok(m, &[(pipeline_file, "the pipeline file")]) {
                return Err(EXIT_USAGE);
            }
            if m.metadata().is_ok_and(|x| x.len() > 0) {
                super::ui::note(&format!(
                    "orchmig run: {} holds the ledger of an earlier run; this run replaces it",
                    m.display()
                ));
            }
            (m.clone(), LedgerWriter::create(m))
        }
        _ => return Ok(None),
    };
    match opened {
        (_, Ok(w)) => Ok(Some(w)),
        (p, Err(e)) => {
            print_path_error(
                &p.display().to_string(),
                &format!("cannot open the ledger: {e}"),
                "check the path and your permissions",
            );
            Err(EXIT_USAGE)
        }
    }
}

/// Checks that a ledger being resumed is of this pipeline, as the ledger describes it; prints
/// why not and returns false.
fn same_pipeline(c: &RunCommand, h: &ledger::History, file: &SourceFile, p: &Pipeline) -> bool {
    let shown = c
        .resume
        .as_deref()
        .map(|l| l.display().to_string())
        .unwrap_or_default();
    let ir = ledger::ir_hash(file, p);
    if ir != h.ir {
        print_path_error(
            &shown,
            &format!(
                "the ledger is of another version of pipeline `{}`: {} changed since the ledger \
                 was written (IR hash {} then, {} now), so its results are not this pipeline's",
                p.id,
                c.args.path,
                h.ir.chars().take(12).collect::<String>(),
                ir.chars().take(12).collect::<String>()
            ),
            "re-run without --resume (a resume would mix results of two versions of the pipeline)",
        );
        return false;
    }
    if !same_file(Path::new(&h.file), Path::new(&c.args.path)) {
        super::ui::note(&format!(
            "orchmig run: the ledger was written for {}; {} defines the same pipeline, resuming it",
            h.file, c.args.path
        ));
    }
    true
}

/// Runs `orchmig run`; returns the exit code.
pub fn run(mut c: RunCommand) -> i32 {
    let history = match &c.resume {
        Some(f) => match ledger::read(f) {
            Ok(h) => Some(h),
            Err(e) => {
                let help = if e.contains("older orchmig") {
                    "re-run without --resume (this orchmig writes ledgers with checksums)"
                } else if e.contains("line ") && !e.contains("not an orchmig") {
                    "re-run without --resume; keep the damaged ledger to see what happened"
                } else {
                    "pass the ledger file a run wrote with --ledger"
                };
                print_path_error(&f.display().to_string(), &e, help);
                return EXIT_USAGE;
            }
        },
        None => None,
    };
    if let (Some(h), Some(f)) = (&history, &c.resume)
        && let Some(n) = h.torn
    {
        super::ui::note(&format!(
            "orchmig run: {}: line {n} is incomplete (the run was killed while writing it); it \
             is ignored, and cut off before the resume appends",
            f.display()
        ));
    }
    let asked_pipeline = c.args.pipeline.clone();
    if let Some(h) = &history {
        let mut args = h.args.clone();
        if c.faults_given {
            args.fail = c.args.fail.clone();
            args.hang = c.args.hang.clone();
            args.set_output = c.args.set_output.clone();
        }
        args.path = c.args.path.clone();
        args.pipeline = Some(h.pipeline.clone());
        // The runner is the command line's (default dry), never the ledger's: a resume must not
        // run step bodies the user did not ask to run.
        if args.runner != c.args.runner {
            super::ui::note(&format!(
                "orchmig run: the ledger's run used the {} runner; this resume uses the {} runner, \
                 as the command line says{}",
                args.runner,
                c.args.runner,
                if args.runner == "python" {
                    " (pass --runner python to run the step bodies)"
                } else {
                    ""
                }
            ));
        }
        args.runner = c.args.runner.clone();
        c.args = args;
    }
    let Some(file) = read_one(Path::new(&c.args.path)) else {
        return EXIT_USAGE;
    };
    let pipeline = match pick(&file, c.args.pipeline.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            match &history {
                Some(h) => print_path_error(
                    &c.resume
                        .as_deref()
                        .map(|l| l.display().to_string())
                        .unwrap_or_default(),
                    &format!(
                        "the ledger is of pipeline `{}` ({}), which {} does not define",
                        h.pipeline, h.file, file.path
                    ),
                    "resume with the pipeline file the ledger was written for",
                ),
                None => print_path_error("--pipeline", &e, "name one of the pipelines listed"),
            }
            return EXIT_USAGE;
        }
    };
    if let Some(n) = c.schedule_preview {
        return preview(pipeline, c.from.as_deref(), n, c.format);
    }
    if let Some(h) = &history {
        if let Some(a) = asked_pipeline.filter(|a| *a != pipeline.id && *a != pipeline.name) {
            print_path_error(
                "--pipeline",
                &format!(
                    "names `{a}`, but the ledger being resumed is of pipeline `{}`",
                    h.pipeline
                ),
                "drop --pipeline: a resume runs the ledger's pipeline",
            );
            return EXIT_USAGE;
        }
        if !same_pipeline(&c, h, &file, pipeline) {
            return EXIT_USAGE;
        }
    }
    for spec in &c.args.set_output {
        if let Err(e) = crate::exec::fault::parse_set_output(spec) {
            print_path_error(
                "--set-output",
                &e,
                "write NODE=JSON, e.g. --set-output 'pick=\"load\"'",
            );
            return EXIT_USAGE;
        }
    }
    let unknown = c.args.faults().unknown(&step_paths(&file, pipeline));
    if !unknown.is_empty() {
        print_path_error(
            &unknown.join(", "),
            &format!("names no step of pipeline `{}`", pipeline.id),
            "use a step id as `orchmig ir` shows it (sub-pipeline steps as parent::child)",
        );
        return EXIT_USAGE;
    }
    if let Err(e) = crate::exec::partitions_for(pipeline, &c.args) {
        print_path_error(
            "--partition/--backfill",
            &e,
            "pass keys of the pipeline's partitions (orchmig ir shows them)",
        );
        return EXIT_USAGE;
    }
    if let Some(m) = &c.ledger
        && !ledger_target_ok(m, &[(Path::new(&c.args.path), "the pipeline file")])
    {
        return EXIT_USAGE;
    }
    let mut runner = match make_runner(&c.args) {
        Ok(r) => r,
        Err(e) => {
            print_path_error(
                "--runner",
                &e,
                "the python runner needs python3 on PATH (or ORCHMIG_PYTHON)",
            );
            return EXIT_USAGE;
        }
    };
    let mut writer = match open_ledger(&c, history.as_ref()) {
        Ok(w) => w,
        Err(code) => return code,
    };
    match execute(
        &file,
        pipeline,
        &c.args,
        runner.as_mut(),
        writer.as_mut(),
        history.as_ref(),
        &mut |w| super::ui::note(&format!("orchmig run: {w}")),
    ) {
        Ok(trace) => {
            let text = match c.format {
                Format::Json => versioned_json("orchmig.run/1", &trace),
                _ => trace.table(),
            };
            write_stdout(&text);
            if trace.succeeded() {
                EXIT_OK
            } else {
                EXIT_FINDINGS
            }
        }
        Err(e) => {
            print_path_error(
                &file.path,
                &e,
                "fix the pipeline or the arguments and run again",
            );
            EXIT_USAGE
        }
    }
}

fn preview(p: &Pipeline, from: Option<&str>, n: usize, format: Format) -> i32 {
    let from = match from {
        None => chrono::Utc::now(),
        Some(text) => match schedule::parse_naive(text, None) {
            Some(naive) => chrono::TimeZone::from_utc_datetime(&chrono::Utc, &naive),
            None => {
                print_path_error(
                    "--from",
                    &format!("`{text}` is not a date or date-time"),
                    "write it as 2024-03-01 or 2024-03-01T06:00 (UTC)",
                );
                return EXIT_USAGE;
            }
        },
    };
    match schedule::preview(p, from, n) {
        Ok(times) => {
            let zone = schedule::pipeline_zone(p)
                .map(|z| z.name().to_string())
                .unwrap_or_default();
            let text = match format {
                Format::Json => {
                    serde_json::to_string_pretty(&serde_json::json!({
                        "schema": "orchmig.run.schedule/1",
                        "pipeline": p.id,
                        "timezone": zone,
                        "runs": times.iter().map(|t| t.to_rfc3339()).collect::<Vec<_>>(),
                    }))
                    .unwrap_or_default()
                        + "\n"
                }
                _ => {
                    let mut t = comfy_table::Table::new();
                    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
                    t.set_header(vec!["#", &format!("run time ({zone})"), "UTC"]);
                    for (i, x) in times.iter().enumerate() {
                        t.add_row(vec![
                            (i + 1).to_string(),
                            x.format("%Y-%m-%d %H:%M %Z").to_string(),
                            x.with_timezone(&chrono::Utc)
                                .format("%Y-%m-%d %H:%M")
                                .to_string(),
                        ]);
                    }
                    format!("{t}\n")
                }
            };
            write_stdout(&text);
            EXIT_OK
        }
        Err(e) => {
            print_path_error(
                &p.id,
                &e,
                "only cron, preset and interval schedules have run times",
            );
            EXIT_USAGE
        }
    }
}
