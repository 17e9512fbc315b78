//! `orchmig port`: write pipelines for another framework, with the loss/gain report and `--check`.

use std::path::{Path, PathBuf};

use super::args::Format;
use super::input::report_reading;
use super::output::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, write_stdout};
use super::ui::print_path_error;
use crate::emit::port_file;
use crate::report::{Fidelity, Report};

/// What `orchmig port` was asked to do.
pub struct PortArgs<'a> {
    /// Inputs.
    pub paths: &'a [PathBuf],
    /// Target profile text.
    pub to: &'a str,
    /// Output folder.
    pub out: Option<&'a Path>,
    /// Compare instead of writing.
    pub check: bool,
    /// Overwrite existing files.
    pub force: bool,
    /// Where the report goes (default: beside the output).
    pub report: Option<&'a Path>,
    /// Exit 1 when an entry of this class or worse appears.
    pub fail_on: Option<&'a str>,
    /// Report format on stdout.
    pub format: Format,
}

/// Runs `orchmig port`; returns the exit code.
pub fn run(a: PortArgs) -> i32 {
    let target = match super::ui::target_or_exit(a.to) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let fail_on = match super::ui::fail_on_or_exit(a.fail_on) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let table = match super::ui::translations_or_exit() {
        Ok(t) => t,
        Err(code) => return code,
    };
    if let Some(out) = a.out
        && let Some(bad) = a.paths.iter().find(|p| p.is_dir() && is_inside(out, p))
    {
        print_path_error(
            &out.display().to_string(),
            &format!("--out is inside the input folder {}", bad.display()),
            "choose an output folder outside the inputs, so ports never mix with sources",
        );
        return EXIT_USAGE;
    }
    // The matrix's cost rules are half of each pipeline's effort (docs/effort.md).
    let matrix = match super::matrix::load_or_exit(super::config::active().matrix_dir.as_deref()) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let env = crate::matrix::environment();
    let engine = match super::matrix::engine_or_exit(&matrix, &env) {
        Ok(e) => e,
        Err(code) => return code,
    };
    // Each file is read and written on the reader pool; only its output and ledgers outlive it.
    let (found, walk_errors) = super::input::collect_files(a.paths);
    let done = super::parallel::map_ordered_as("reading and porting", &found, |p| {
        let mut file = crate::frontend::read_path_here(p);
        let ported = (!file.pipelines.is_empty()).then(|| {
            port_or_copy(&file, p, target, &table).map(|(text, mut ledgers)| {
                let assessed = super::effort::assess_all(&file, &engine);
                super::effort::add_cost_rules(&mut ledgers, &file, &assessed);
                (text, ledgers)
            })
        });
        file.pipelines = Vec::new();
        file.support = Vec::new();
        (file, ported)
    });
    let (read, ported): (Vec<_>, Vec<_>) = done.into_iter().unzip();
    let mut code = report_reading(a.paths, &walk_errors, &read);
    let not_ported = unread(&read, &ported, a.paths);
    // A file named on the command line that gave no pipeline is not ported: say so (exit 1).
    if not_ported
        .iter()
        .any(|u| a.paths.iter().any(|p| Path::new(&u.path) == p))
    {
        code = code.max(EXIT_FINDINGS);
    }
    let files: Vec<_> = read
        .iter()
        .zip(ported)
        .filter_map(|(f, p)| Some((f, p?)))
        .collect();
    if a.out.is_none() && files.len() > 1 {
        print_path_error(
            "--out",
            &format!("{} files have pipelines", files.len()),
            "pass --out DIR to port several files (one output file per source file)",
        );
        return EXIT_USAGE;
    }
    let mut report = Report {
        schema: "orchmig.port/1",
        target: target.label(),
        pipelines: Vec::new(),
        gains: table
            .gains
            .get(target.framework.id())
            .cloned()
            .unwrap_or_default(),
        unread: not_ported,
    };
    let mut outputs: Vec<(PathBuf, String)> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    for (f, result) in files {
        match result {
            Ok((text, ledgers)) => {
                outputs.push((PathBuf::from(&f.path), text));
                counts.push(ledgers.len());
                report.pipelines.extend(ledgers);
            }
            Err(e) => {
                print_path_error(
                    &f.path,
                    &e,
                    "report this to the orchmig developers; the other files were still ported",
                );
                report.unread.push(crate::report::Unread {
                    path: f.path.clone(),
                    line: 0,
                    why: format!("the port failed: {e}"),
                });
                code = code.max(EXIT_FINDINGS);
            }
        }
    }
    let outputs = output_names(outputs);
    // Each ledger points at its generated file by its name below `--out`.
    let mut ledgers = report.pipelines.iter_mut();
    for ((name, _), &n) in outputs.iter().zip(&counts) {
        for l in ledgers.by_ref().take(n) {
            l.set_output_path(&name.display().to_string());
        }
    }
    let Some(out) = a.out else {
        if let Some((_, text)) = outputs.first() {
            write_stdout(text);
        }
        super::ui::note(report.table().trim_end());
        return finish(code, &report, fail_on);
    };
    let report_path = a
        .report
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out.join("orchmig-report.md"));
    let report_text = report.markdown();
    let json_path = report_path.with_extension("json");
    let mut all: Vec<(PathBuf, String)> =
        outputs.into_iter().map(|(n, t)| (out.join(n), t)).collect();
    all.push((report_path.clone(), report_text));
    // The JSON report (the largest output) is serialised straight into its file, not held.
    let json_text = || serde_json::to_string_pretty(&report).unwrap_or_default() + "\n";
    if let Some(clash) = output_clash(&all).or_else(|| {
        all.iter()
            .any(|(p, _)| *p == json_path)
            .then_some(json_path.as_path())
    }) {
        print_path_error(
            &clash.display().to_string(),
            "several inputs would be written to this one output file",
            "port the inputs with the same file name separately, each with its own --out",
        );
        return EXIT_USAGE;
    }
    // Each path is resolved once: comparing every output with every input would be quadratic.
    let inputs: std::collections::HashSet<PathBuf> = read
        .iter()
        .filter_map(|f| std::fs::canonicalize(&f.path).ok())
        .collect();
    if let Some(src) = all
        .iter()
        .map(|(p, _)| p)
        .chain([&json_path])
        .find(|p| std::fs::canonicalize(p).is_ok_and(|c| inputs.contains(&c)))
    {
        print_path_error(
            &src.display().to_string(),
            "is an input file: the port would replace its own source",
            "choose an output folder that holds none of the inputs (even --force never overwrites an input)",
        );
        return EXIT_USAGE;
    }
    if a.check {
        let mut stale = false;
        let json = (json_path.clone(), json_text());
        for (path, text) in all.iter().chain([&json]) {
            let current = std::fs::read_to_string(path).unwrap_or_default();
            if &current != text {
                stale = true;
                print!(
                    "{}",
                    unified_diff(&path.display().to_string(), &current, text)
                );
            }
        }
        // A port whose source was deleted or renamed stays behind: it is stale too.
        let expected: std::collections::HashSet<&Path> =
            all.iter().map(|(p, _)| p.as_path()).collect();
        for orphan in orphaned_ports(out, &expected) {
            stale = true;
            println!(
                "{}: orphaned: orchmig wrote it, but no input ports to it now (its source was removed or renamed)",
                orphan.display()
            );
        }
        if stale {
            eprintln!(
                "orchmig port --check: the output in {} is stale; run the same command with --force instead of --check to update it (delete orphaned files by hand)",
                out.display()
            );
            return EXIT_FINDINGS;
        }
        return finish(code, &report, fail_on);
    }
    if let Err(e) = std::fs::create_dir_all(out) {
        print_path_error(
            &out.display().to_string(),
            &format!("cannot create the output folder: {e}"),
            "check the path and your permissions",
        );
        return EXIT_USAGE;
    }
    let inside_out = all
        .iter()
        .map(|(p, _)| p.as_path())
        .filter(|p| p.starts_with(out));
    if let Some(bad) = escapes_out(inside_out, out) {
        print_path_error(
            &bad.display().to_string(),
            "would be written outside the output folder (a folder on its way is a symlink out of it)",
            "remove the symlink from the output folder, or choose another --out",
        );
        return EXIT_USAGE;
    }
    if !a.force {
        let differs =
            |p: &Path, t: &str| p.exists() && std::fs::read_to_string(p).ok().as_deref() != Some(t);
        let mut existing: Vec<String> = all
            .iter()
            .filter(|(p, t)| differs(p, t))
            .map(|(p, _)| p.display().to_string())
            .collect();
        if json_path.exists() && differs(&json_path, &json_text()) {
            existing.push(json_path.display().to_string());
        }
        if !existing.is_empty() {
            print_path_error(
                &existing.join(", "),
                "would be overwritten",
                "pass --force to overwrite, or --check to see what would change",
            );
            return EXIT_USAGE;
        }
    }
    remove_stale_temp_files(out);
    let json = |w: &mut dyn std::io::Write| {
        serde_json::to_writer_pretty(&mut *w, &report)?;
        w.write_all(b"\n")
    };
    // All or nothing: every output is staged beside its place first; only when all are
    // written (a full disk fails here) are they renamed into place, so an estate is never left
    // half-updated.
    let mut staged = Vec::with_capacity(all.len() + 1);
    let progress = super::parallel::phase_bar("writing", all.len() + 1);
    let stages = all
        .iter()
        .map(|(path, text)| (path, stage(path, |w| w.write_all(text.as_bytes()))))
        .chain([(&json_path, stage(&json_path, json))]);
    for (path, written) in stages {
        progress.inc(1);
        match written {
            Ok(tmp) => staged.push((path, tmp)),
            Err(e) => {
                print_path_error(
                    &path.display().to_string(),
                    &format!("cannot write: {e}"),
                    "check that the output folder is writable and has room; no output was changed",
                );
                return EXIT_USAGE;
            }
        }
    }
    progress.finish_and_clear();
    for (path, tmp) in staged {
        if let Err(e) = tmp.persist(path) {
            print_path_error(
                &path.display().to_string(),
                &format!("cannot write: {}", e.error),
                "check that the output folder is writable",
            );
            return EXIT_USAGE;
        }
    }
    match a.format {
        Format::Json => {
            // Buffered: stdout flushes at every newline, and the report has millions of lines.
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let _ = serde_json::to_writer_pretty(&mut stdout, &report)
                .map_err(std::io::Error::from)
                .and_then(|_| std::io::Write::write_all(&mut stdout, b"\n"))
                .and_then(|_| std::io::Write::flush(&mut stdout));
        }
        Format::Markdown => {
            write_stdout(&report.markdown());
        }
        Format::Table => {
            write_stdout(&report.table());
        }
    }
    finish(code, &report, fail_on)
}

fn finish(code: i32, report: &Report, fail_on: Option<Fidelity>) -> i32 {
    match fail_on {
        Some(f) if report.worst() >= f => {
            eprintln!(
                "orchmig port --fail-on {}: the report has entries of class {}; read them in the port report (each says what to do), or pass a higher --fail-on",
                f.name(),
                report.worst().name()
            );
            code.max(EXIT_FINDINGS)
        }
        _ => code.max(EXIT_OK),
    }
}

/// Ports a file read from `path` as `orchmig port` does (issue 20): a file already written for
/// the target is copied through unchanged, its report saying so; any other is written by the
/// target's writer.
pub(super) fn port_or_copy(
    file: &crate::ir::SourceFile,
    path: &Path,
    target: crate::emit::Target,
    table: &crate::report::Translations,
) -> Result<(String, Vec<crate::report::Ledger>), String> {
    if file.framework == Some(target.framework)
        && let Ok(text) = std::fs::read_to_string(path)
    {
        return Ok(crate::emit::copy_through(file, &text, target, table));
    }
    port_file(file, target, table)
}

/// The files with no pipeline to port (`ported` is `None` for them) that the report lists, with
/// their first error: every file read with an error, and a file named in `paths` that imports
/// a framework but gave no pipeline (a helper module found in a folder is not listed).
fn unread<T>(
    read: &[crate::ir::SourceFile],
    ported: &[Option<T>],
    paths: &[PathBuf],
) -> Vec<crate::report::Unread> {
    read.iter()
        .zip(ported)
        .filter(|(_, p)| p.is_none())
        .filter_map(|(f, _)| {
            let named = paths.iter().any(|p| Path::new(&f.path) == p);
            let d = f.diagnostics.iter().find(|d| {
                d.severity == crate::ir::Severity::Error || (named && d.code == "no-pipeline")
            })?;
            Some(crate::report::Unread {
                path: f.path.clone(),
                line: d.line.unwrap_or(0),
                why: d.message.clone(),
            })
        })
        .collect()
}

/// True when `inner` is `outer` or below it (compared on canonical paths where they exist).
fn is_inside(inner: &Path, outer: &Path) -> bool {
    canonical(inner).starts_with(canonical(outer))
}

/// `p` with its deepest existing ancestor canonicalised (symlinks resolved) and the components
/// that do not exist yet appended as written.
fn canonical(p: &Path) -> PathBuf {
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut base = std::fs::canonicalize(if existing.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &existing
    })
    .unwrap_or(existing);
    for r in rest.into_iter().rev() {
        base.push(r);
    }
    base
}

/// The output file of each ported source: its file name, or, when two sources share a file
/// name (`a/etl.py`, `b/etl.py`), every source's path below the folder they all share, so that
/// the output mirrors the inputs' layout instead of merging them.
pub(super) fn output_names<T>(ported: Vec<(PathBuf, T)>) -> Vec<(PathBuf, T)> {
    let name = |p: &Path| {
        p.file_name()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("pipeline.py"))
    };
    let mut seen = std::collections::BTreeSet::new();
    let clash = ported.iter().any(|(p, _)| !seen.insert(name(p)));
    if !clash {
        return ported.into_iter().map(|(p, t)| (name(&p), t)).collect();
    }
    // Canonical paths: `dags/../shared/x.py` must not leave `..` in an output name.
    let absolute: Vec<PathBuf> = ported
        .iter()
        .map(|(p, _)| {
            std::fs::canonicalize(p)
                .or_else(|_| std::path::absolute(p))
                .unwrap_or_else(|_| p.clone())
        })
        .collect();
    let mut common: PathBuf = absolute[0]
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for p in &absolute[1..] {
        while !p.starts_with(&common) && common.pop() {}
    }
    ported
        .into_iter()
        .zip(absolute)
        .map(|((p, t), abs)| {
            let rel = abs
                .strip_prefix(&common)
                .map(plain_components)
                .ok()
                .filter(|r| !r.as_os_str().is_empty());
            (rel.unwrap_or_else(|| name(&p)), t)
        })
        .collect()
}

/// Only the plain names of a relative path: no `..`, no root, no `.`; an output name can then
/// never climb out of `--out`.
fn plain_components(rel: &Path) -> PathBuf {
    rel.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(n) => Some(n),
            _ => None,
        })
        .collect()
}

/// The first output whose folder, once symlinks are resolved, is not below `out`: a symlinked
/// subfolder of `--out` must not carry a port elsewhere. `out` must exist.
fn escapes_out<'a>(outputs: impl Iterator<Item = &'a Path>, out: &Path) -> Option<&'a Path> {
    let root = std::fs::canonicalize(out).ok()?;
    // The output's folder decides where the write lands (the file itself is renamed over).
    outputs
        .into_iter()
        .find(|p| !canonical(p.parent().unwrap_or(Path::new("."))).starts_with(&root))
}

/// The `.py` files below `out` that orchmig generated (they start with its header) and that no
/// input ports to now, sorted.
fn orphaned_ports(out: &Path, expected: &std::collections::HashSet<&Path>) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = walkdir::WalkDir::new(out)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "py"))
        .map(|e| e.into_path())
        .filter(|p| !expected.contains(p.as_path()))
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| t.starts_with("# Generated by orchmig "))
        })
        .collect();
    found.sort();
    found
}

/// The first output path two outputs share, if any.
fn output_clash(all: &[(PathBuf, String)]) -> Option<&Path> {
    let mut seen = std::collections::BTreeSet::new();
    all.iter()
        .map(|(p, _)| p.as_path())
        .find(|p| !seen.insert(*p))
}

/// Prefix and suffix of the temporary files [`write_atomic`] renames into place.
const TEMP_PREFIX: &str = ".orchmig-";
const TEMP_SUFFIX: &str = ".tmp";

/// Removes temporary files a killed earlier port left in `dir` (only orchmig's own).
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX)
            && name.ends_with(TEMP_SUFFIX)
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Refuses a single-file `--out` that is a folder, one of the command's inputs (even with
/// `--force`), or that exists without `--force`, with the diagnostic and the exit code to return;
/// `example` names a typical file (`review.html`).
pub fn refuse_out_file(
    out: &Path,
    inputs: &[&Path],
    force: bool,
    example: Option<&str>,
) -> Option<i32> {
    let shown = out.display().to_string();
    if let Some(input) = reads_as_input(out, inputs) {
        print_path_error(
            &shown,
            &format!(
                "is one of the inputs ({}): writing it would replace a source",
                input.display()
            ),
            "choose an --out outside the inputs (even --force never overwrites an input)",
        );
        return Some(EXIT_USAGE);
    }
    if out.is_dir() {
        let hint = match example {
            Some(e) => format!("pass a file name to --out, e.g. {e}"),
            None => "pass a file name to --out".to_string(),
        };
        print_path_error(&shown, "is a folder", &hint);
        return Some(EXIT_USAGE);
    }
    if out.exists() && !force {
        print_path_error(
            &shown,
            "already exists",
            "pass --force to overwrite it, or choose another --out",
        );
        return Some(EXIT_FINDINGS);
    }
    None
}

/// The input `out` would replace, if any: an input file itself, or a file of the kinds orchmig
/// reads (`.py`, `.yaml`, `.yml`) inside an input folder. Compared on canonical paths.
fn reads_as_input<'a>(out: &Path, inputs: &[&'a Path]) -> Option<&'a Path> {
    let target = std::fs::canonicalize(out).ok()?;
    let readable = target
        .extension()
        .is_some_and(|e| e == "py" || e == "yaml" || e == "yml");
    inputs.iter().copied().find(|input| {
        std::fs::canonicalize(input).is_ok_and(|c| {
            if c.is_dir() {
                readable && target.starts_with(&c)
            } else {
                c == target
            }
        })
    })
}

/// Writes through a temporary file in the same folder and a rename, so readers never see half a file.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(text.as_bytes()))
}

/// Like [`write_atomic`], with the content written by `fill` (a large output streamed in).
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    stage(path, fill)?.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes the content `fill` gives into a synced temporary file beside `path`, to be renamed into
/// place (`persist`); dropped unrenamed, the temporary file is removed.
pub fn stage(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    // A temp file is private (0600); the output gets the mode a plain write would (0666 - umask).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    {
        let mut buffered = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut buffered)?;
        std::io::Write::flush(&mut buffered)?;
    }
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// A unified diff of two texts (3 lines of context, via `similar`), as `--check` prints it:
/// control characters of names and of the files on disk shown as escapes (a file in `--out`
/// may hold anything).
fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    crate::text::multiline(&diff)
}

#[cfg(test)]
mod tests {
    use super::write_atomic;

    /// An output written atomically gets the mode a plain write gives (not the temp file's 0600),
    /// so a port or a review page is as readable as any file the user writes.
    #[cfg(unix)]
    #[test]
    fn atomic_write_keeps_the_usual_file_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.py");
        std::fs::write(&plain, "x = 1\n").unwrap();
        let atomic = dir.path().join("atomic.py");
        write_atomic(&atomic, "x = 1\n").unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&atomic), mode(&plain));
        assert_eq!(std::fs::read_to_string(&atomic).unwrap(), "x = 1\n");
    }
}
