//! When and from what a review page was made: the generation date (UTC, or `SOURCE_DATE_EPOCH`
//! for reproducible output) and the git commit each input was read at.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What the page says when an input is not inside a git work tree (or git is not installed).
pub const NOT_A_CHECKOUT: &str = "not a git checkout";

/// The commit one input was read at.
#[derive(Debug, Clone, Serialize)]
pub struct InputCommit {
    /// The input path, as given.
    pub input: String,
    /// `git rev-parse HEAD` of its repository, or why there is none.
    pub commit: String,
}

/// The generation date as `YYYY-MM-DD HH:MM UTC`: `SOURCE_DATE_EPOCH` (seconds) when it is set
/// to a number, else now. The second value is a warning when the variable is set but unusable.
pub fn generated(source_date_epoch: Option<&str>) -> (String, Option<String>) {
    let now = chrono::Utc::now();
    let (at, warning) = match source_date_epoch {
        None => (now, None),
        Some(v) => match v
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        {
            Some(at) => (at, None),
            None => (
                now,
                Some(format!(
                    "SOURCE_DATE_EPOCH={v:?} is not a number of seconds since 1970; the page is dated now"
                )),
            ),
        },
    };
    (at.format("%Y-%m-%d %H:%M UTC").to_string(), warning)
}

/// The commit of every input (one entry per input, in the order given).
pub fn commits(inputs: &[PathBuf]) -> Vec<InputCommit> {
    inputs
        .iter()
        .map(|p| InputCommit {
            input: p.display().to_string(),
            commit: commit_of(p).unwrap_or_else(|| NOT_A_CHECKOUT.to_string()),
        })
        .collect()
}

/// `git -C <folder> rev-parse HEAD` for the folder of `path`; `None` when git is missing, the
/// folder is no work tree, or the repository has no commit. Never fails the report.
fn commit_of(path: &Path) -> Option<String> {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().filter(|d| !d.as_os_str().is_empty())?
    };
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        // Only the input's own repository, whatever the caller's environment points git at.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .args(["rev-parse", "--verify", "--quiet", "HEAD"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let hash = text.trim();
    (out.status.success() && !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_date_epoch_fixes_the_date() {
        assert_eq!(
            generated(Some("1700000000")),
            ("2023-11-14 22:13 UTC".to_string(), None)
        );
        let (_, warning) = generated(Some("yesterday"));
        assert!(warning.is_some_and(|w| w.contains("SOURCE_DATE_EPOCH")));
    }

    #[test]
    fn a_folder_outside_git_has_no_commit() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(commit_of(dir.path()), None);
        assert_eq!(
            commits(&[dir.path().to_path_buf()])[0].commit,
            NOT_A_CHECKOUT
        );
    }
}
