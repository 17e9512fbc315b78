//! Reading the inputs: the paths walked as orchmig.toml says, the estate read on the reader
//! pool, and what could not be read printed with the exit code it implies.

use std::path::PathBuf;

use super::output::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use super::ui::{detail, print_all, print_path_error};
use crate::frontend::{self, Skip, WalkError};
use crate::ir::{Estate, IR_VERSION, SourceFile};

/// The `.py` files under the given paths (files are taken as given), sorted and de-duplicated;
/// walked files and folders that the `exclude` globs of `orchmig.toml` match are skipped, and
/// under `-v` every skipped folder is named.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<WalkError>) {
    let config = super::config::active();
    frontend::collect_files_excluding(paths, &|p| config.excludes(p), &|p, why| {
        detail(|| match why {
            Skip::NeverWalked => format!("skipped {} (folder never walked)", p.display()),
            Skip::Excluded => format!("skipped {} (excluded in orchmig.toml)", p.display()),
        })
    })
}

/// Reads every Python file under the paths into an estate, in sorted path order, on the
/// reader pool (the result is the same whatever the thread count).
pub fn read_estate(paths: &[PathBuf]) -> (Estate, Vec<WalkError>) {
    let (files, errors) = collect_files(paths);
    let files = super::parallel::map_ordered(&files, |p| {
        let started = std::time::Instant::now();
        let file = frontend::read_path_here(p);
        detail(|| {
            format!(
                "read {} in {:.1} ms ({} pipelines)",
                p.display(),
                started.elapsed().as_secs_f64() * 1000.0,
                file.pipelines.len()
            )
        });
        file
    });
    (
        Estate {
            ir_version: IR_VERSION,
            files,
        },
        errors,
    )
}

/// Reads the estate, prints diagnostics, and says which exit code the inputs imply.
pub fn read_reporting(paths: &[PathBuf]) -> (Estate, i32) {
    let (estate, _, code) = read_reporting_all(paths);
    (estate, code)
}

/// [`read_reporting`], also returning the paths that could not be walked.
pub fn read_reporting_all(paths: &[PathBuf]) -> (Estate, Vec<WalkError>, i32) {
    let (estate, walk_errors) = read_estate(paths);
    let code = report_reading(paths, &walk_errors, &estate.files);
    (estate, walk_errors, code)
}

/// Prints the walk errors and the files' diagnostics; says which exit code they imply.
pub fn report_reading(paths: &[PathBuf], walk_errors: &[WalkError], files: &[SourceFile]) -> i32 {
    let mut code = EXIT_OK;
    for e in walk_errors {
        let missing = e.message == "no such file or folder";
        print_path_error(
            &e.path.display().to_string(),
            &e.message,
            if missing {
                "check the path; the other inputs were still read"
            } else {
                "orchmig skipped it; the other inputs were still read"
            },
        );
        code = if missing && paths.contains(&e.path) {
            EXIT_USAGE
        } else {
            code.max(EXIT_FINDINGS)
        };
    }
    let errors = print_all(files, false);
    if errors > 0 && code == EXIT_OK {
        code = EXIT_FINDINGS;
    }
    code
}
