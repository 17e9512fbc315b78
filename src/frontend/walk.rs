//! Walking input paths: sorted, deterministic, skipping folders that never hold pipelines.

use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// A path that could not be walked.
#[derive(Debug, Clone)]
pub struct WalkError {
    /// The path.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

/// Folder names never descended into.
const SKIPPED_DIRS: &[&str] = &["__pycache__", "node_modules", "site-packages"];

fn skipped_dir(path: &Path, depth: usize) -> bool {
    if depth == 0 {
        return false;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with('.') || SKIPPED_DIRS.contains(&name) || path.join("pyvenv.cfg").exists()
}

/// Why the walker left an entry out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A folder never walked: hidden, `__pycache__`, `node_modules`, `site-packages`, a virtualenv.
    NeverWalked,
    /// A walked file or folder that the caller's exclusion test matched.
    Excluded,
}

/// The `.py` files under the given paths (files are taken as given), sorted and de-duplicated.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<WalkError>) {
    collect_files_excluding(paths, &|_| false, &|_, _| {})
}

/// [`collect_files`] with an exclusion test (applied to walked entries, not to named files);
/// `skipped` hears of every folder or file left out, and why.
pub fn collect_files_excluding(
    paths: &[PathBuf],
    excluded: &dyn Fn(&Path) -> bool,
    skipped: &dyn Fn(&Path, Skip),
) -> (Vec<PathBuf>, Vec<WalkError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        match std::fs::metadata(root) {
            Ok(meta) if meta.is_file() => files.push(root.clone()),
            Ok(meta) if !meta.is_dir() => errors.push(WalkError {
                path: root.clone(),
                message: "not a regular file (a FIFO, socket or device); not read".to_string(),
            }),
            Ok(_) => {
                let walker = WalkDir::new(root)
                    .follow_links(true)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_entry(|e| {
                        if e.file_type().is_dir() && skipped_dir(e.path(), e.depth()) {
                            skipped(e.path(), Skip::NeverWalked);
                            return false;
                        }
                        if e.depth() > 0 && excluded(e.path()) {
                            skipped(e.path(), Skip::Excluded);
                            return false;
                        }
                        true
                    });
                for entry in walker {
                    match entry {
                        Ok(e) if e.file_type().is_file() => {
                            if e.path().extension().is_some_and(|x| x == "py") {
                                files.push(e.into_path());
                            }
                        }
                        Ok(_) => {}
                        Err(err) => {
                            let path = err
                                .path()
                                .map(Path::to_path_buf)
                                .unwrap_or_else(|| root.clone());
                            let message = if err.loop_ancestor().is_some() {
                                "symlink loop; not followed".to_string()
                            } else {
                                err.io_error()
                                    .map_or_else(|| err.to_string(), |e| e.to_string())
                            };
                            errors.push(WalkError { path, message });
                        }
                    }
                }
            }
            Err(e) => errors.push(WalkError {
                path: root.clone(),
                message: if e.kind() == std::io::ErrorKind::NotFound {
                    "no such file or folder".to_string()
                } else {
                    e.to_string()
                },
            }),
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excluded_entries_are_not_walked_but_named_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("legacy")).unwrap();
        for f in ["a.py", "legacy/b.py", "test_c.py"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let excluded = |p: &Path| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name == "legacy" || name.starts_with("test_")
        };
        let (files, errors) =
            collect_files_excluding(&[dir.path().to_path_buf()], &excluded, &|_, _| {});
        assert!(errors.is_empty());
        assert_eq!(files, vec![dir.path().join("a.py")]);
        let named = dir.path().join("test_c.py");
        let (files, _) =
            collect_files_excluding(std::slice::from_ref(&named), &excluded, &|_, _| {});
        assert_eq!(files, vec![named]);
    }
}
