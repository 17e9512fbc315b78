//! `orchmig run`: reads one pipeline file, picks the pipeline, and runs it (or previews its
//! schedule); prints the trace and returns 0 when the run succeeded, 1 when it failed, 2 on usage.

use std::path::{Path, PathBuf};

use super::ledger::{self, LedgerWriter};
use super::runner::Runner;
use super::runner::dry::DryRunner;
use super::runner::python::PythonRunner;
use super::{RunArgs, execute, schedule, step_paths};
use crate::cli::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, Format, write_stdout};
use crate::diag::print_path_error;
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
    /// Whether `--fail`/`--hang` were given (they replace the ledger's on a resume).
    pub faults_given: bool,
    /// Output format.
    pub format: Format,
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
    crate::diag::print_all(std::slice::from_ref(&file), true);
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

/// The pipeline to run: the named one, or the only one that no other pipeline of the file calls.
pub fn pick<'f>(file: &'f SourceFile, name: Option<&str>) -> Result<&'f Pipeline, String> {
    let ids: Vec<&str> = file.pipelines.iter().map(|p| p.id.as_str()).collect();
    if let Some(n) = name {
        return file
            .pipelines
            .iter()
            .find(|p| p.id == n)
            .or_else(|| file.pipelines.iter().find(|p| p.name == n))
            .ok_or_else(|| {
                format!(
                    "no pipeline `{n}` in {} (it has {})",
                    file.path,
                    ids.join(", ")
                )
            });
    }
    let called: Vec<&str> = file
        .pipelines
        .iter()
        .flat_map(|p| p.nodes.iter())
        .filter_map(|n| n.extra.get("pipeline").and_then(crate::ir::Value::as_str))
        .collect();
    let top: Vec<&Pipeline> = file
        .pipelines
        .iter()
        .filter(|p| !called.contains(&p.id.as_str()))
        .collect();
    match top.as_slice() {
        [one] => Ok(one),
        _ if file.pipelines.len() == 1 => Ok(&file.pipelines[0]),
        _ => Err(format!(
            "{} defines several pipelines ({}): pass --pipeline NAME",
            file.path,
            ids.join(", ")
        )),
    }
}

/// Makes the runner a run asks for.
pub fn make_runner(args: &RunArgs) -> Result<Box<dyn Runner>, String> {
    match args.runner.as_str() {
        "dry" => Ok(Box::new(DryRunner::new(args.faults()))),
        "python" => Ok(Box::new(PythonRunner::new(
            args.attempt_timeout,
            args.faults(),
        )?)),
        other => Err(format!("unknown runner `{other}`: use dry or python")),
    }
}

/// Runs `orchmig run`; returns the exit code.
pub fn run(mut c: RunCommand) -> i32 {
    let history = match &c.resume {
        Some(f) => match ledger::read(f) {
            Ok(h) => Some(h),
            Err(e) => {
                print_path_error(
                    &f.display().to_string(),
                    &e,
                    "pass the ledger file a run wrote with --ledger",
                );
                return EXIT_USAGE;
            }
        },
        None => None,
    };
    if let Some(h) = &history {
        let mut args = h.args.clone().unwrap_or_default();
        if c.faults_given {
            args.fail = c.args.fail.clone();
            args.hang = c.args.hang.clone();
        }
        args.path = c.args.path.clone();
        args.pipeline = Some(h.pipeline.clone());
        c.args = args;
    }
    let Some(file) = read_one(Path::new(&c.args.path)) else {
        return EXIT_USAGE;
    };
    let pipeline = match pick(&file, c.args.pipeline.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            print_path_error("--pipeline", &e, "name one of the pipelines listed");
            return EXIT_USAGE;
        }
    };
    if let Some(n) = c.schedule_preview {
        return preview(pipeline, c.from.as_deref(), n, c.format);
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
    if let Err(e) = super::partitions_for(pipeline, &c.args) {
        print_path_error(
            "--partition/--backfill",
            &e,
            "pass keys of the pipeline's partitions (orchmig ir shows them)",
        );
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
    let ledger_path = c.resume.clone().or(c.ledger.clone());
    let mut writer = match (&ledger_path, history.is_some()) {
        (None, _) => None,
        (Some(p), resumed) => {
            let opened = if resumed && c.ledger.is_none() {
                LedgerWriter::append(p)
            } else {
                LedgerWriter::create(c.ledger.as_deref().unwrap_or(p))
            };
            match opened {
                Ok(w) => Some(w),
                Err(e) => {
                    print_path_error(
                        &p.display().to_string(),
                        &format!("cannot open the ledger: {e}"),
                        "check the path and your permissions",
                    );
                    return EXIT_USAGE;
                }
            }
        }
    };
    match execute(
        &file,
        pipeline,
        &c.args,
        runner.as_mut(),
        writer.as_mut(),
        history.as_ref(),
    ) {
        Ok(trace) => {
            let text = match c.format {
                Format::Json => trace.json(),
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
