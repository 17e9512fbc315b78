//! An estate for `orchmig port`: pipeline files under fuzzed folder and file names (line ends,
//! quotes, `..`, `.`, non-ASCII), a `--out` folder that already holds a user file and a symlink
//! to a folder outside it, and the promises a port owes the user's disk: nothing written or
//! changed outside `--out`, no user file overwritten without `--force`, every generated file free
//! of injected calls and raw control characters.

use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use arbitrary::Arbitrary;

use crate::grammar::Module;

/// A whole estate and how `port` is asked to run over it.
#[derive(Debug, Arbitrary)]
pub struct Estate {
    files: Vec<EstateFile>,
    to: u8,
    force: bool,
    inputs: InputForm,
    symlink_in_out: bool,
}

#[derive(Debug, Arbitrary)]
struct EstateFile {
    folders: Vec<Part>,
    name: Part,
    module: Module,
}

impl Estate {
    /// Each file's name and text as the target writes them (for `render`).
    pub fn rendered_files(&self) -> Vec<(String, String)> {
        self.files
            .iter()
            .take(4)
            .map(|f| (f.name.render(), f.module.render()))
            .collect()
    }
}

/// How the inputs are named on the command line.
#[derive(Debug, Arbitrary, Clone, Copy)]
enum InputForm {
    /// The estate folder.
    Folder,
    /// Each file.
    Files,
    /// Each file through a `..` detour (`in/../in/a/x.py`).
    Detours,
}

/// One path component.
#[derive(Debug, Arbitrary)]
enum Part {
    Word(u8),
    Raw(String),
    Up,
    Here,
}

const WORDS: [&str; 10] = [
    "dags",
    "etl",
    "a b",
    "x\ny",
    "q\"\"\"z",
    "r\rs",
    "stolen()",
    "données",
    "-rf",
    "orchmig-report",
];

const TARGETS: [&str; 5] = ["airflow", "dagster", "prefect", "airflow@2", "prefect@2"];

impl Part {
    fn render(&self) -> String {
        match self {
            Part::Word(w) => WORDS[*w as usize % WORDS.len()].to_string(),
            Part::Raw(s) => {
                let s: String = s
                    .chars()
                    .filter(|c| *c != '/' && *c != '\0')
                    .take(24)
                    .collect();
                if s.is_empty() || s == "." || s == ".." {
                    "x".into()
                } else {
                    s
                }
            }
            Part::Up => "..".into(),
            Part::Here => ".".into(),
        }
    }
}

static RUNS: AtomicU64 = AtomicU64::new(0);

/// Writes the estate in a fresh temporary folder, runs `orchmig port` over it, checks every
/// promise, and removes the folder; panics on a broken promise.
pub fn check(estate: &Estate) {
    let root = std::env::temp_dir().join(format!(
        "orchmig-fuzz-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&root);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(estate, &root)));
    let _ = std::fs::remove_dir_all(&root);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

fn run(estate: &Estate, root: &Path) {
    let (input_dir, out, outside) = (root.join("in"), root.join("out"), root.join("outside"));
    for d in [&input_dir, &out, &outside] {
        std::fs::create_dir_all(d).expect("temp folder");
    }
    std::fs::write(outside.join("victim.py"), "VICTIM = 1\n").expect("temp file");
    std::fs::write(out.join("keep.py"), "USER = 1\n").expect("temp file");
    if estate.symlink_in_out {
        let _ = std::os::unix::fs::symlink(&outside, out.join("link"));
    }
    let mut words = HashSet::new();
    let mut sources = String::new();
    let mut inputs = Vec::new();
    for f in estate.files.iter().take(4) {
        let mut rel = PathBuf::new();
        for p in f.folders.iter().take(3) {
            rel.push(p.render());
        }
        rel.push(format!("{}.py", f.name.render()));
        // Only files that stay inside the estate folder (`..` may climb within it).
        let Some(rel) = lexical(&rel) else { continue };
        if rel.starts_with("..") || rel.as_os_str().is_empty() {
            continue;
        }
        let path = input_dir.join(&rel);
        let text = f.module.render();
        sources.push_str(&text);
        sources.push('\n');
        if let Ok(suite) = orchmig::python::parse::parse_module(
            &orchmig::python::source::SourceText::new("in.py", &text),
        ) {
            words.extend(orchmig::robustness::injection::code_words(&suite));
        }
        if path
            .parent()
            .is_some_and(|d| std::fs::create_dir_all(d).is_ok())
            && std::fs::write(&path, &text).is_ok()
        {
            inputs.push((rel, path));
        }
    }
    let paths: Vec<PathBuf> = match estate.inputs {
        InputForm::Folder => vec![input_dir.clone()],
        InputForm::Files => inputs.iter().map(|(_, p)| p.clone()).collect(),
        InputForm::Detours => inputs
            .iter()
            .map(|(rel, _)| root.join("in").join("..").join("in").join(rel))
            .collect(),
    };
    if paths.is_empty() {
        return;
    }
    let before = files_outside(root, &out);
    let to = TARGETS[estate.to as usize % TARGETS.len()];
    orchmig::cli::port::run(orchmig::cli::port::PortArgs {
        paths: &paths,
        to,
        out: Some(&out),
        check: false,
        force: estate.force,
        report: None,
        fail_on: None,
        format: orchmig::cli::args::Format::Json,
    });
    let after = files_outside(root, &out);
    assert_eq!(
        before,
        after,
        "port --out {} changed files outside it",
        out.display()
    );
    if !estate.force {
        assert_eq!(
            std::fs::read_to_string(out.join("keep.py")).ok().as_deref(),
            Some("USER = 1\n"),
            "a user file in --out was overwritten without --force"
        );
    }
    for entry in walkdir::WalkDir::new(&out).follow_links(false) {
        let Ok(entry) = entry else { continue };
        let p = entry.path();
        if !entry.file_type().is_file() || p.extension().is_none_or(|e| e != "py") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(p) else {
            continue;
        };
        if !text.starts_with("# Generated by orchmig") {
            continue;
        }
        check_generated(p, &text, (&words, &sources));
    }
}

fn check_generated(p: &Path, text: &str, (words, sources): (&HashSet<String>, &str)) {
    use orchmig::robustness::injection;
    if let Some((at, c)) = injection::raw_control_not_copied(text, sources) {
        panic!("{}: raw control character {c:?} at byte {at}", p.display());
    }
    let src = orchmig::python::source::SourceText::new("port.py", text);
    let suite = orchmig::python::parse::parse_module(&src)
        .unwrap_or_else(|d| panic!("{}: the port does not parse: {}", p.display(), d.message));
    let foreign = injection::foreign_calls(&suite, words);
    assert!(
        foreign.is_empty(),
        "{}: injected calls {foreign:?}",
        p.display()
    );
    if let Err(e) = crate::cpython::compiles_sampled(text) {
        panic!("{}: CPython refuses the port: {e}", p.display());
    }
}

/// Every file below `root` but not below `out`, with its contents (symlinks not followed).
fn files_outside(root: &Path, out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.path().starts_with(out) && !e.file_type().is_dir())
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (e.into_path(), bytes)
        })
        .collect()
}

/// `rel` with `.` and `..` resolved lexically; `None` when it climbs above its start.
fn lexical(rel: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(out)
}
