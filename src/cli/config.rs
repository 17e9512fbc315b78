//! `orchmig.toml`: a repository's defaults (paths, target, excluded globs, matrix overrides).
//!
//! The file is looked up from the current directory upwards; the search stops at the first
//! folder that has `orchmig.toml`, or at the repository root (a folder with `.git`), whichever
//! comes first. Relative paths in it are relative to the folder that holds it. Flags win over it.

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use toml::Spanned;

/// The file name looked for.
pub const FILE_NAME: &str = "orchmig.toml";

/// The keys of `orchmig.toml`, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    paths: Option<Vec<String>>,
    to: Option<Spanned<String>>,
    exclude: Option<Vec<Spanned<String>>>,
    matrix: Option<RawMatrix>,
}

/// The `[matrix]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    dir: Option<String>,
    weights: Option<BTreeMap<String, f64>>,
}

/// The defaults in force: from `orchmig.toml` when one was found, else empty.
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// The file they came from.
    pub file: Option<PathBuf>,
    /// The folder that holds the file (or the repository root, or the current dir): the root of relative paths and SARIF URIs.
    pub root: PathBuf,
    /// Default input paths of `analyze`, `ir` and `port`.
    pub paths: Vec<PathBuf>,
    /// Default `--to` of `port` and `verify`, and `--target` of `analyze --format sarif`.
    pub to: Option<String>,
    /// Globs (relative to [`Config::root`]) of files and folders the walker skips.
    pub exclude: Option<GlobSet>,
    /// Default `--matrix DIR` of `analyze` and `matrix`.
    pub matrix_dir: Option<PathBuf>,
    /// Default `--weights` of `matrix --shape`, as `dim=N,dim=N`.
    pub weights: Option<String>,
}

/// A problem in `orchmig.toml`: rendered with its span, exit 1.
#[derive(Debug, Clone)]
pub struct ConfigError(pub String);

static ACTIVE: OnceLock<Config> = OnceLock::new();

/// Makes a configuration the one in force for this process (the walker reads its excludes).
pub fn activate(config: Config) -> &'static Config {
    ACTIVE.get_or_init(|| config)
}

/// The configuration in force (empty when none was activated).
pub fn active() -> Config {
    ACTIVE.get().cloned().unwrap_or_default()
}

/// Finds `orchmig.toml` from `start` upwards, stopping at the repository root.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// The repository root seen from `start`: the nearest folder with `.git`, else `start` itself.
pub fn repo_root(start: &Path) -> PathBuf {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(start)
}

/// Loads the configuration seen from `cwd` (an empty one when there is no file).
pub fn load(cwd: &Path) -> Result<Config, ConfigError> {
    match find(cwd) {
        None => Ok(Config {
            root: repo_root(cwd),
            ..Config::default()
        }),
        Some(file) => {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                ConfigError(crate::diag::render_text_at(
                    &file.display().to_string(),
                    "",
                    None,
                    "config",
                    &format!("cannot read {FILE_NAME}: {e}"),
                    "check the file's permissions, or remove it",
                ))
            })?;
            parse(&file, &text, cwd)
        }
    }
}

/// Parses the text of an `orchmig.toml` found at `file`; `cwd` decides how paths are shown.
pub fn parse(file: &Path, text: &str, cwd: &Path) -> Result<Config, ConfigError> {
    let shown = shown_path(file, cwd);
    let error = |span: Option<std::ops::Range<usize>>, message: String, help: &str| {
        ConfigError(crate::diag::render_text_at(
            &shown, text, span, "config", &message, help,
        ))
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        error(
            e.span(),
            format!("invalid {FILE_NAME}: {}", e.message().trim()),
            "the keys are paths = [..], to = \"..\", exclude = [..] and [matrix] dir = \"..\", weights = { dim = N }; see the README's Configuration section",
        )
    })?;
    let root = file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let resolve = |p: &str| relative_to_cwd(&root.join(p), cwd);
    let to = match raw.to {
        Some(t) => {
            if let Err(e) = crate::emit::Target::parse(t.get_ref()) {
                return Err(error(
                    Some(t.span()),
                    e,
                    "use airflow, dagster or prefect (optionally @version)",
                ));
            }
            Some(t.into_inner())
        }
        None => None,
    };
    let exclude = match raw.exclude {
        Some(globs) => {
            let mut builder = GlobSetBuilder::new();
            for g in &globs {
                match Glob::new(g.get_ref()) {
                    Ok(glob) => {
                        builder.add(glob);
                    }
                    Err(e) => {
                        return Err(error(
                            Some(g.span()),
                            format!("`{}` is not a valid glob: {}", g.get_ref(), e.kind()),
                            "write globs like \"legacy/**\" or \"**/test_*.py\" (relative to the folder of orchmig.toml)",
                        ));
                    }
                }
            }
            match builder.build() {
                Ok(set) => Some(set),
                Err(e) => {
                    return Err(error(
                        None,
                        format!("the exclude globs cannot be combined: {e}"),
                        "simplify the exclude list",
                    ));
                }
            }
        }
        None => None,
    };
    let matrix = raw.matrix.unwrap_or_default();
    let weights = matrix.weights.map(|w| {
        w.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    });
    Ok(Config {
        file: Some(file.to_path_buf()),
        paths: raw
            .paths
            .unwrap_or_default()
            .iter()
            .map(|p| resolve(p))
            .collect(),
        to,
        exclude,
        matrix_dir: matrix.dir.as_deref().map(resolve),
        weights,
        root,
    })
}

impl Config {
    /// True when the walker must skip this path (matched relative to [`Config::root`]).
    pub fn excludes(&self, path: &Path) -> bool {
        let Some(set) = &self.exclude else {
            return false;
        };
        let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        match absolute.strip_prefix(&self.root) {
            Ok(rel) => set.is_match(rel),
            Err(_) => set.is_match(path),
        }
    }
}

/// `path` relative to `cwd` when it lies below it, else as it is.
fn relative_to_cwd(path: &Path, cwd: &Path) -> PathBuf {
    let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    match path.strip_prefix(&cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rel) => rel.to_path_buf(),
        Err(_) => path.to_path_buf(),
    }
}

fn shown_path(file: &Path, cwd: &Path) -> String {
    relative_to_cwd(file, cwd).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_at(text: &str) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir();
        parse(&dir.join(FILE_NAME), text, &dir)
    }

    #[test]
    fn reads_every_key() {
        let c = parse_at(
            "paths = [\"dags\"]\nto = \"dagster\"\nexclude = [\"legacy/**\"]\n[matrix]\ndir = \"m\"\nweights = { dynamic = 3, assets = 0 }\n",
        )
        .unwrap();
        assert_eq!(c.paths, vec![PathBuf::from("dags")]);
        assert_eq!(c.to.as_deref(), Some("dagster"));
        assert_eq!(c.matrix_dir, Some(PathBuf::from("m")));
        assert_eq!(c.weights.as_deref(), Some("assets=0,dynamic=3"));
        assert!(c.exclude.unwrap().is_match("legacy/a/b.py"));
    }

    #[test]
    fn an_unknown_key_points_at_its_line() {
        let e = parse_at("paths = [\"dags\"]\ntarget = \"dagster\"\n").unwrap_err();
        assert!(e.0.contains("orchmig.toml:2"), "{}", e.0);
        assert!(e.0.contains("target"), "{}", e.0);
    }

    #[test]
    fn a_wrong_type_and_a_bad_target_are_errors() {
        let e = parse_at("paths = \"dags\"\n").unwrap_err();
        assert!(e.0.contains("orchmig.toml:1"), "{}", e.0);
        let e = parse_at("\nto = \"luigi\"\n").unwrap_err();
        assert!(e.0.contains("orchmig.toml:2"), "{}", e.0);
    }
}
