//! `orchmig report`: a self-contained HTML page for a design review that leads with the answer —
//! the estate's shapes, the recommendation and its reasons, the effort per target, the riskiest
//! pipelines, the unreadable files — then the inventory, the decision matrix and each
//! pipeline's section (graph, source link, the loss/gain ledger of porting it to each other
//! framework, ported in memory). Above `--inline-max` pipelines the sections are pages of their
//! own in a folder beside the page, so the page stays small.

mod links;
mod page;
mod render;
mod section;
mod stamp;
mod summary;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::input::read_reporting_all;
use super::output::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use super::ui::print_path_error;
pub use page::{Page, Placement, Sources, build};
pub use render::{render_html, render_pipeline_pages};
pub use section::{PipelineSection, PortSection};

/// Whether `path` is a page `orchmig report` wrote (its footer names the command).
fn written_by_orchmig(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| {
        text.starts_with("<!DOCTYPE html>") && text.contains("(<code>orchmig report</code>)")
    })
}

/// Runs `orchmig report`; returns the exit code.
pub fn run(paths: &[PathBuf], out: &Path, force: bool, inline_max: usize) -> i32 {
    let inputs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    // A page orchmig wrote itself is regenerated without --force; anything else is kept.
    let ours = written_by_orchmig(out);
    if let Some(code) =
        super::port::refuse_out_file(out, &inputs, force || ours, Some("review.html"))
    {
        return code;
    }
    let matrix = match super::matrix::load_or_exit(super::config::active().matrix_dir.as_deref()) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let env = crate::matrix::environment();
    let engine = match super::matrix::engine_or_exit(&matrix, &env) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let table = match super::ui::translations_or_exit() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let (estate, walk_errors, code) = read_reporting_all(paths);
    if code == EXIT_USAGE {
        return code;
    }
    let count: usize = estate.files.iter().map(|f| f.pipelines.len()).sum();
    let place = Placement {
        page_dir: folder_of(out),
        pages_dir: (count > inline_max).then(|| links::pages_folder(out)),
    };
    let (generated, warning) = stamp::generated(std::env::var("SOURCE_DATE_EPOCH").ok().as_deref());
    if let Some(w) = warning {
        super::ui::note(&format!("warning: {w}"));
    }
    let sources = Sources {
        inputs: paths,
        estate: &estate,
        walk_errors: &walk_errors,
        matrix: &matrix,
        engine: &engine,
        table: &table,
    };
    let page = build(&sources, &place, generated, stamp::commits(paths));
    match write(out, &page, place.pages_dir.as_deref(), force) {
        Ok(()) => code.max(EXIT_OK),
        Err(code) => code,
    }
}

/// The folder a file is written in (`.` for a bare name).
fn folder_of(out: &Path) -> PathBuf {
    out.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// Renders and writes the page and, with `pages_dir`, each pipeline's page (first, so the page
/// never links to a page not written yet); removes the pages of an earlier run it no longer has.
fn write(out: &Path, page: &Page, pages_dir: Option<&Path>, force: bool) -> Result<(), i32> {
    let shown = out.display().to_string();
    let bug = |e: String| {
        print_path_error(&shown, &e, "this is a bug in orchmig's report template");
        EXIT_FINDINGS
    };
    let html = render_html(page).map_err(bug)?;
    let back = format!(
        "../{}",
        links::encode_segment(&out.file_name().unwrap_or_default().to_string_lossy())
    );
    let pages = match pages_dir {
        Some(_) => render_pipeline_pages(page, &back).map_err(bug)?,
        None => Vec::new(),
    };
    let dir = pages_dir.map_or_else(|| links::pages_folder(out), Path::to_path_buf);
    if pages_dir.is_some() {
        refuse_pages(&dir, &pages, force)?;
    }
    let files: Vec<(PathBuf, &str)> = pages
        .iter()
        .map(|(name, text)| (dir.join(name), text.as_str()))
        .chain([(out.to_path_buf(), html.as_str())])
        .collect();
    write_all(&files)?;
    let kept: BTreeSet<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    remove_stale_pages(&dir, &kept);
    let extra = match pages_dir {
        Some(d) => format!(" (one page each in {})", d.display()),
        None => String::new(),
    };
    super::ui::note(&format!(
        "wrote {shown}: {} pipelines{extra}, {} ports",
        page.pipelines.len(),
        page.pipelines.iter().map(|p| p.ports.len()).sum::<usize>()
    ));
    Ok(())
}

/// Writes every file or none: each is staged (written and synced beside its place, on the
/// reader pool) before any is renamed into place, in order (the page last).
fn write_all(files: &[(PathBuf, &str)]) -> Result<(), i32> {
    let failed = |path: &Path, e: std::io::Error| {
        print_path_error(
            &path.display().to_string(),
            &format!("cannot be written: {e}"),
            "check that the folder is writable and has room; no file was changed",
        );
        EXIT_FINDINGS
    };
    let staged = super::parallel::map_ordered_as("writing", files, |(path, text)| {
        super::port::stage(path, |w| w.write_all(text.as_bytes()))
    });
    let mut ready = Vec::with_capacity(staged.len());
    for ((path, _), tmp) in files.iter().zip(staged) {
        ready.push((path, tmp.map_err(|e| failed(path, e))?));
    }
    for (path, tmp) in ready {
        tmp.persist(path).map_err(|e| failed(path, e.error))?;
    }
    Ok(())
}

/// Refuses a pages folder that is a link or a file (pages are written only inside --out's
/// folder), and pages that exist and are not orchmig's unless `force`.
fn refuse_pages(dir: &Path, pages: &[(String, String)], force: bool) -> Result<(), i32> {
    let shown = dir.display().to_string();
    if let Ok(meta) = std::fs::symlink_metadata(dir)
        && (meta.file_type().is_symlink() || !meta.is_dir())
    {
        print_path_error(
            &shown,
            "is in the way of the pipelines' pages: it is a link or not a folder",
            "move it away, or choose another --out (the pages go in <out name>-pipelines/)",
        );
        return Err(EXIT_USAGE);
    }
    if force {
        return Ok(());
    }
    let theirs: Vec<PathBuf> = pages
        .iter()
        .map(|(name, _)| dir.join(name))
        .filter(|p| std::fs::symlink_metadata(p).is_ok() && !written_by_orchmig(p))
        .collect();
    if let Some(first) = theirs.first() {
        let more = match theirs.len() {
            1 => String::new(),
            n => format!(" (and {} more pages)", n - 1),
        };
        print_path_error(
            &first.display().to_string(),
            &format!("already exists and orchmig did not write it{more}"),
            "pass --force to overwrite it, or choose another --out",
        );
        return Err(EXIT_FINDINGS);
    }
    Ok(())
}

/// Removes the pages orchmig wrote in `dir` on an earlier run that this run did not write, and
/// the folder when nothing is left in it; anything else is left alone.
fn remove_stale_pages(dir: &Path, kept: &BTreeSet<&str>) {
    if !std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if links::is_page_name(&name)
            && !kept.contains(name.as_str())
            && entry.file_type().is_ok_and(|t| t.is_file())
            && written_by_orchmig(&path)
            && let Err(e) = std::fs::remove_file(&path)
        {
            super::ui::note(&format!(
                "warning: {}: an old page could not be removed: {e}",
                path.display()
            ));
        }
    }
    if kept.is_empty() {
        let _ = std::fs::remove_dir(dir); // only when empty
    }
}
