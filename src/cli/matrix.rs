//! `orchmig matrix`: the matrix, a shape's ranking, or the ranking of real pipelines.

use std::path::{Path, PathBuf};

use super::args::Format;
use super::input::read_reporting;
use super::output::{EXIT_OK, EXIT_USAGE, write_stdout};
use crate::diag::MatrixError;
use crate::matrix::{Engine, Matrix, environment, nearest, parse_weights, render};

/// The built-in matrix, or a team's from `--matrix DIR`.
pub fn load(dir: Option<&Path>) -> Result<Matrix, MatrixError> {
    match dir {
        Some(d) => Matrix::from_dir(d),
        None => Matrix::builtin(),
    }
}

/// [`load`], printing a matrix that does not load (the exit code is `Err`).
pub fn load_or_exit(dir: Option<&Path>) -> Result<Matrix, i32> {
    load(dir).map_err(|e| {
        eprintln!("{}", e.render());
        EXIT_USAGE
    })
}

/// The matrix's rule engine, printing a rule that does not compile (the exit code is `Err`).
pub fn engine_or_exit<'m>(
    matrix: &'m Matrix,
    env: &'m minijinja::Environment<'static>,
) -> Result<Engine<'m>, i32> {
    Engine::new(matrix, env).map_err(|e| {
        eprintln!("{}", e.render());
        EXIT_USAGE
    })
}

/// Runs `orchmig matrix`; returns the exit code.
pub fn run(
    paths: &[PathBuf],
    shape: Option<&str>,
    weights: Option<&str>,
    dir: Option<&Path>,
    format: Format,
) -> i32 {
    let matrix = match load_or_exit(dir) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let env = environment();
    let engine = match engine_or_exit(&matrix, &env) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let md = format == Format::Markdown;
    if let Some(id) = shape {
        let Some(s) = matrix.shape(id) else {
            let ids = matrix.shape_ids();
            let hint = nearest(id, &ids)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            super::ui::print_path_error(
                &format!("--shape {id}"),
                "unknown pipeline shape",
                &format!("{hint}valid shapes: {}", ids.join(", ")),
            );
            return EXIT_USAGE;
        };
        let mut w = s.weights.clone();
        if let Some(text) = weights {
            match parse_weights(text, &matrix) {
                Ok(over) => w.extend(over),
                Err(e) => {
                    super::ui::print_path_error(
                        &format!("--weights {text}"),
                        &e,
                        "pass weights as dim=N,dim=N with non-negative numbers",
                    );
                    return EXIT_USAGE;
                }
            }
        }
        let ranking = engine.rank(s, &w);
        let text = match format {
            Format::Json => super::output::versioned_json("orchmig.matrix.shape/1", &ranking),
            _ => render::ranking_text(&matrix, &ranking, md),
        };
        write_stdout(&text);
        return EXIT_OK;
    }
    if paths.is_empty() {
        let text = match format {
            Format::Json => {
                serde_json::to_string_pretty(&render::matrix_json(&matrix)).unwrap_or_default()
                    + "\n"
            }
            _ => render::matrix_text(&matrix, md),
        };
        write_stdout(&text);
        return EXIT_OK;
    }
    let (estate, code) = read_reporting(paths);
    let mut items = Vec::new();
    for file in &estate.files {
        for p in &file.pipelines {
            match engine.assess(p) {
                Ok(a) => items.push((format!("{}:{}", file.path, p.span.line), a)),
                Err(e) => {
                    eprintln!("{}", e.render());
                    return EXIT_USAGE;
                }
            }
        }
    }
    let text = match format {
        Format::Json => {
            let doc = serde_json::json!({
                "schema": "orchmig.matrix.pipelines/1",
                "pipelines": items.iter().map(|(loc, a)| {
                    let mut v = serde_json::to_value(a).unwrap_or_default();
                    v["location"] = serde_json::Value::String(loc.clone());
                    v
                }).collect::<Vec<_>>(),
                "summary": render::summary(&items),
            });
            serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
        }
        _ => render::assessments_text(&items, md, crate::text::fit::target_width()),
    };
    write_stdout(&text);
    code
}
