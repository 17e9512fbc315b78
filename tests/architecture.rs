//! The layers of docs/architecture.md, held by the code: every `crate::` path under `src/` (use
//! lines and inline paths, `super::` and `self::` resolved) is an arrow from its file to the file
//! that defines the module it names. The test fails on an arrow the layer table forbids, naming
//! the file, the line and the arrow, and on any cycle between files.
//!
//! Unit-test code (`#[cfg(test)]` items and test-only module files) is not part of a layer: a
//! writer's test may build its input with a reader, as a crate's dev-dependencies may.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every layer, the files it holds (a folder under `src/` ends in `/`), and the layers it may use
/// besides itself. `text` (escaping text shown to people) uses nothing and every layer but the IR
/// may use it.
const LAYERS: &[(&str, &[&str], &[&str])] = &[
    ("cli", &["cli/", "main.rs"], &["*"]),
    (
        "verify",
        &["verify/", "robustness/"],
        &[
            "frontend", "lower", "emit", "exec", "report", "ir", "python", "diag", "text",
        ],
    ),
    (
        "emit",
        &["emit/"],
        &["ir", "python", "report", "lower", "text"],
    ),
    ("lower", &["lower/"], &["ir", "python", "report", "text"]),
    (
        "frontend",
        &["frontend/"],
        &["ir", "python", "diag", "text"],
    ),
    ("exec", &["exec/"], &["ir", "python", "text"]),
    ("graph", &["graph/"], &["ir", "text"]),
    ("report", &["report/"], &["ir", "diag", "text"]),
    ("matrix", &["matrix/"], &["ir", "diag", "text"]),
    ("diag", &["diag.rs"], &["ir", "text"]),
    ("python", &["python/"], &["ir", "text"]),
    ("text", &["text/"], &[]),
    ("ir", &["ir/"], &[]),
    // The library root only declares the modules.
    ("root", &["lib.rs"], &[]),
];

/// Forbidden arrows not removed yet, as `from-file -> to-file` (paths under `src/`). This list may
/// only shrink.
const EXCEPTIONS: &[&str] = &[];

/// A source file: its path under `src/` (with `/`), and its text.
#[derive(Debug, Clone)]
struct Source {
    path: String,
    text: String,
}

/// One arrow: a path written in `from` at `line` that names a module defined in `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Arrow {
    from: String,
    line: usize,
    to: String,
    written: String,
}

/// The layer a file under `src/` belongs to.
fn layer_of(path: &str) -> Option<&'static str> {
    LAYERS
        .iter()
        .find(|(_, files, _)| {
            files.iter().any(|f| {
                if f.ends_with('/') {
                    path.starts_with(f)
                } else {
                    path == *f
                }
            })
        })
        .map(|(name, _, _)| *name)
}

/// Whether layer `from` may use layer `to`.
fn allowed(from: &str, to: &str) -> bool {
    from == to
        || LAYERS
            .iter()
            .find(|(name, _, _)| *name == from)
            .is_some_and(|(_, _, uses)| uses.iter().any(|u| *u == "*" || *u == to))
}

/// The module path a file defines (`emit/python.rs` → `emit::python`, `emit/mod.rs` → `emit`;
/// the crate roots → the empty path).
fn module_of(path: &str) -> Vec<String> {
    let stem = path.strip_suffix(".rs").unwrap_or(path);
    let mut parts: Vec<String> = stem.split('/').map(String::from).collect();
    if matches!(parts.last().map(String::as_str), Some("mod")) {
        parts.pop();
    }
    if parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main") {
        parts.clear();
    }
    parts
}

/// The text with comments, string and character literals blanked out (line ends kept).
fn strip(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        if c[i] == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if (c[i] == 'r' || (c[i] == 'b' && at(i + 1) == 'r')) && !prev_is_ident(&c, i) && {
            let mut k = if c[i] == 'b' { i + 2 } else { i + 1 };
            while at(k) == '#' {
                k += 1;
            }
            at(k) == '"'
        } {
            // A raw string: r"…", r#"…"#, br"…".
            let mut k = if c[i] == 'b' { i + 2 } else { i + 1 };
            let mut hashes = 0;
            while at(k) == '#' {
                hashes += 1;
                k += 1;
            }
            k += 1;
            while k < c.len() {
                if c[k] == '"' && (1..=hashes).all(|h| at(k + h) == '#') {
                    k += 1 + hashes;
                    break;
                }
                k += 1;
            }
            for &ch in &c[i..k.min(c.len())] {
                blank(&mut out, ch);
            }
            i = k;
        } else if c[i] == '"' {
            blank(&mut out, c[i]);
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            if i < c.len() {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A character literal ('x', '\n', '\u{1b}'); a lifetime has no closing quote.
            blank(&mut out, c[i]);
            i += 1;
            if at(i) == '\\' {
                blank(&mut out, c[i]);
                i += 1;
            }
            while i < c.len() && c[i] != '\'' {
                blank(&mut out, c[i]);
                i += 1;
            }
            if i < c.len() {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(c: &[char], i: usize) -> bool {
    i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')
}

/// A token of stripped source: an identifier, `::`, or one punctuation character.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    line: usize,
}

fn tokens(text: &str) -> Vec<Token> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            // A raw identifier (r#type) is the identifier.
            out.push(Token { text: word, line });
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Token {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                text: ch.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Marks the tokens of `#[cfg(test)]` items; also returns the names of test-only module files
/// (`#[cfg(test)] mod tests;`).
fn test_items(toks: &[Token]) -> (Vec<bool>, Vec<String>) {
    let mut in_test = vec![false; toks.len()];
    let mut modules = Vec::new();
    let text = |k: usize| toks.get(k).map(|t| t.text.as_str()).unwrap_or("");
    let mut i = 0;
    while i < toks.len() {
        let cfg_test = text(i) == "#"
            && text(i + 1) == "["
            && text(i + 2) == "cfg"
            && text(i + 3) == "("
            && text(i + 4) == "test"
            && text(i + 5) == ")"
            && text(i + 6) == "]";
        if !cfg_test {
            i += 1;
            continue;
        }
        let start = i;
        let mut k = i + 7;
        if text(k) == "pub" {
            k += 1;
        }
        if text(k) == "mod" && text(k + 2) == ";" {
            modules.push(text(k + 1).to_string());
        }
        // The item runs to its first `;` outside brackets, or to the brace closing its body.
        let mut depth = 0i32;
        while k < toks.len() {
            match text(k) {
                "{" | "(" | "[" => depth += 1,
                "}" | ")" | "]" => {
                    depth -= 1;
                    if depth == 0 && text(k) == "}" {
                        break;
                    }
                }
                ";" if depth == 0 => break,
                _ => {}
            }
            k += 1;
        }
        for flag in in_test
            .iter_mut()
            .take(k.min(toks.len() - 1) + 1)
            .skip(start)
        {
            *flag = true;
        }
        i = k + 1;
    }
    (in_test, modules)
}

/// A use tree flattened: each leaf path, the name it binds (if any), and the line of its last segment.
fn use_leaves(
    toks: &[Token],
    mut k: usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, Option<String>, usize)>,
) -> usize {
    let text = |k: usize| toks.get(k).map(|t| t.text.as_str()).unwrap_or("");
    let mut path = prefix.to_vec();
    if text(k) == "::" {
        k += 1;
    }
    loop {
        let t = text(k);
        if t == "{" {
            k += 1;
            while text(k) != "}" && k < toks.len() {
                k = use_leaves(toks, k, &path, out);
                if text(k) == "," {
                    k += 1;
                }
            }
            return k + 1;
        } else if t == "*" {
            out.push((path, None, toks.get(k).map(|t| t.line).unwrap_or(0)));
            return k + 1;
        } else if is_ident(t) {
            let line = toks[k].line;
            if t == "self" && !path.is_empty() {
                let name = path.last().cloned();
                let (leaf, k2) = alias(toks, k + 1, name);
                out.push((path, leaf, line));
                return k2;
            }
            path.push(t.to_string());
            k += 1;
            if text(k) == "::" {
                k += 1;
                continue;
            }
            let name = path.last().cloned();
            let (leaf, k2) = alias(toks, k, name);
            out.push((path, leaf, line));
            return k2;
        } else {
            return k;
        }
    }
}

fn alias(toks: &[Token], k: usize, name: Option<String>) -> (Option<String>, usize) {
    if toks.get(k).is_some_and(|t| t.text == "as") {
        let n = toks.get(k + 1).map(|t| t.text.clone()).filter(|n| n != "_");
        (n, k + 2)
    } else {
        (name, k)
    }
}

/// The module paths of the files (`emit::python` → `emit/python.rs`), the binary left out.
type Modules = BTreeMap<Vec<String>, String>;
/// Per file, the names its `pub use` lines re-export and the paths they stand for.
type Reexports = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Every arrow between the files, test code left out. A path through a re-export
/// (`pub use shared::record;` in `emit/mod.rs`) is an arrow to the file that defines the item.
fn arrows(files: &[Source]) -> Vec<Arrow> {
    let modules: Modules = files
        .iter()
        .filter(|f| f.path != "main.rs")
        .map(|f| (module_of(&f.path), f.path.clone()))
        .collect();
    // Files declared as `#[cfg(test)] mod x;` hold test code only.
    let mut test_files = BTreeSet::new();
    let mut parsed = Vec::new();
    for f in files {
        let toks = tokens(&strip(&f.text));
        let (in_test, test_mods) = test_items(&toks);
        for m in test_mods {
            let mut p = module_of(&f.path);
            p.push(m);
            if let Some(file) = modules.get(&p) {
                test_files.insert(file.clone());
            }
        }
        parsed.push((f, toks, in_test));
    }
    parsed.retain(|(f, _, _)| !test_files.contains(&f.path));
    let mut reexports = Reexports::new();
    for (f, toks, in_test) in &parsed {
        let (_, public) = scan(f, toks, in_test, &modules, &Reexports::new());
        reexports.insert(f.path.clone(), public.into_iter().collect());
    }
    let mut out = Vec::new();
    for (f, toks, in_test) in &parsed {
        out.extend(scan(f, toks, in_test, &modules, &reexports).0);
    }
    out.retain(|a| a.from != a.to && a.to != "lib.rs");
    out
}

/// The file that defines what an absolute path names: the longest prefix that is a file's module,
/// followed through that file's re-exports.
fn defining_file(path: &[String], modules: &Modules, reexports: &Reexports) -> Option<String> {
    let mut path = path.to_vec();
    for _ in 0..8 {
        let n = (1..=path.len())
            .rev()
            .find(|n| modules.contains_key(&path[..*n]))?;
        let file = &modules[&path[..n]];
        match path
            .get(n)
            .and_then(|name| reexports.get(file).and_then(|r| r.get(name)))
        {
            Some(to) if to.as_slice() != path.as_slice() => {
                let mut next = to.clone();
                next.extend(path[n + 1..].iter().cloned());
                path = next;
            }
            _ => return Some(file.clone()),
        }
    }
    None
}

/// One file's arrows, and the names its top-level `pub use` lines bind with the absolute paths
/// they stand for.
fn scan(
    f: &Source,
    toks: &[Token],
    in_test: &[bool],
    modules: &Modules,
    reexports: &Reexports,
) -> (Vec<Arrow>, Vec<(String, Vec<String>)>) {
    let mut out = Vec::new();
    let mut public = Vec::new();
    let file_module = module_of(&f.path);
    let text = |k: usize| toks.get(k).map(|t| t.text.as_str()).unwrap_or("");
    // The module a path is written in, inline `mod x { … }` blocks included.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let resolve = |segs: &[String],
                   current: &[String],
                   aliases: &BTreeMap<String, Vec<String>>|
     -> Option<Vec<String>> {
        let first = segs.first()?.as_str();
        let mut base: Vec<String>;
        let mut rest = &segs[1..];
        match first {
            "crate" => base = Vec::new(),
            "orchmig" if f.path == "main.rs" => base = Vec::new(),
            "self" => base = current.to_vec(),
            "super" => {
                base = current.to_vec();
                base.pop()?;
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
            }
            name => {
                let mut child = current.to_vec();
                child.push(name.to_string());
                if modules.contains_key(&child) {
                    base = child;
                } else if let Some(a) = aliases.get(name) {
                    base = a.clone();
                } else {
                    return None;
                }
            }
        }
        base.extend(rest.iter().cloned());
        Some(base)
    };
    let mut k = 0;
    while k < toks.len() {
        let t = text(k);
        let current: Vec<String> = file_module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(m, _)| m.clone()))
            .collect();
        match t {
            "{" => {
                depth += 1;
                k += 1;
            }
            "}" => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                k += 1;
            }
            "mod" if is_ident(text(k + 1)) && text(k + 2) == "{" => {
                inline.push((text(k + 1).to_string(), depth + 1));
                k += 2;
            }
            "use" => {
                // `pub use`, `pub(crate) use`, `pub(super) use` at the top of the file.
                let is_pub = k >= 1 && text(k - 1) == "pub"
                    || k >= 4 && text(k - 1) == ")" && text(k - 4) == "pub";
                let mut leaves = Vec::new();
                let end = use_leaves(toks, k + 1, &[], &mut leaves);
                for (path, bound, line) in leaves {
                    let Some(abs) = resolve(&path, &current, &aliases) else {
                        continue;
                    };
                    if let Some(name) = &bound {
                        if modules.contains_key(&abs) {
                            aliases.insert(name.clone(), abs.clone());
                        }
                        if is_pub && inline.is_empty() && depth == 0 {
                            public.push((name.clone(), abs.clone()));
                        }
                    }
                    if let Some(to) = defining_file(&abs, modules, reexports)
                        && !in_test[k]
                    {
                        out.push(Arrow {
                            from: f.path.clone(),
                            line,
                            to,
                            written: path.join("::"),
                        });
                    }
                }
                k = end.max(k + 1);
            }
            _ if is_ident(t) && text(k + 1) == "::" && (k == 0 || text(k - 1) != "::") => {
                let line = toks[k].line;
                let mut segs = vec![t.to_string()];
                let mut j = k + 1;
                while text(j) == "::" && is_ident(text(j + 1)) {
                    segs.push(text(j + 1).to_string());
                    j += 2;
                }
                if let Some(abs) = resolve(&segs, &current, &aliases)
                    && let Some(to) = defining_file(&abs, modules, reexports)
                    && !in_test[k]
                {
                    out.push(Arrow {
                        from: f.path.clone(),
                        line,
                        to,
                        written: segs.join("::"),
                    });
                }
                k = j;
            }
            _ => k += 1,
        }
    }
    (out, public)
}

/// The forbidden arrows, one line each: `file:line: from-layer → to-layer (path)`.
fn forbidden(arrows: &[Arrow], exceptions: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for a in arrows {
        let from = layer_of(&a.from).unwrap_or("?");
        let to = layer_of(&a.to).unwrap_or("?");
        if allowed(from, to) || exceptions.contains(&format!("{} -> {}", a.from, a.to).as_str()) {
            continue;
        }
        out.push(format!(
            "src/{}:{}: {from} → {to} ({}, defined in src/{})",
            a.from, a.line, a.written, a.to
        ));
    }
    out
}

/// The cycles between files: for each group of files that reach each other, a shortest loop
/// through its first file (in arrow order), and every file of the group.
fn cycles(arrows: &[Arrow]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for a in arrows {
        next.entry(a.from.as_str())
            .or_default()
            .insert(a.to.as_str());
    }
    let nodes: BTreeSet<&str> = arrows
        .iter()
        .flat_map(|a| [a.from.as_str(), a.to.as_str()])
        .collect();
    let reach = |start: &str| -> BTreeMap<String, String> {
        // Breadth-first parents from `start`.
        let mut parent: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.to_string()]);
        while let Some(n) = queue.pop_front() {
            for m in next.get(n.as_str()).into_iter().flatten() {
                if !parent.contains_key(*m) {
                    parent.insert(m.to_string(), n.clone());
                    queue.push_back(m.to_string());
                }
            }
        }
        parent
    };
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for n in nodes {
        if seen.contains(n) {
            continue;
        }
        let parent = reach(n);
        if !parent.contains_key(n) {
            continue;
        }
        // The files on a cycle with n: those reachable from n that reach n.
        let group: Vec<String> = parent
            .keys()
            .filter(|m| reach(m).contains_key(n))
            .cloned()
            .collect();
        seen.extend(group.iter().cloned());
        let mut cycle = vec![n.to_string()];
        let mut at = parent[n].clone();
        while at != n {
            cycle.push(at.clone());
            at = parent[&at].clone();
        }
        cycle[1..].reverse();
        out.push((cycle, group));
    }
    out
}

/// The places outside test code where a file prints (`println!`, `eprintln!`, `print!`, `eprint!`,
/// `dbg!`), takes stdout or stderr (`io::stdout()`, `io::stderr()`) or ends the process
/// (`process::exit`): `line: what`.
fn prints_or_exits(f: &Source) -> Vec<String> {
    let toks = tokens(&strip(&f.text));
    let (in_test, _) = test_items(&toks);
    let text = |k: usize| toks.get(k).map(|t| t.text.as_str()).unwrap_or("");
    let mut out = Vec::new();
    for (k, t) in toks.iter().enumerate() {
        if in_test[k] {
            continue;
        }
        let what = match t.text.as_str() {
            "println" | "eprintln" | "print" | "eprint" | "dbg" if text(k + 1) == "!" => {
                format!("{}!", t.text)
            }
            "stdout" | "stderr" if k >= 2 && text(k - 1) == "::" && text(k - 2) == "io" => {
                format!("io::{}", t.text)
            }
            "exit" if k >= 2 && text(k - 1) == "::" && text(k - 2) == "process" => {
                "process::exit".to_string()
            }
            _ => continue,
        };
        out.push(format!("src/{}:{}: {what}", f.path, t.line));
    }
    out
}

fn sources(root: &Path) -> Vec<Source> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<Source>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("src/ is readable")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).expect("under src/");
                out.push(Source {
                    path: rel.to_string_lossy().replace('\\', "/"),
                    text: std::fs::read_to_string(&p).expect("utf-8 source"),
                });
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn every_file_has_a_layer() {
    let files = sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let lost: Vec<&str> = files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| layer_of(p).is_none())
        .collect();
    assert!(
        lost.is_empty(),
        "files in no layer (add them to LAYERS and docs/architecture.md): {lost:?}"
    );
}

#[test]
fn no_forbidden_arrow() {
    let files = sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let all = arrows(&files);
    let bad = forbidden(&all, EXCEPTIONS);
    assert!(
        bad.is_empty(),
        "forbidden arrows (docs/architecture.md, \"Layers\"):\n{}",
        bad.join("\n")
    );
    // An exception that no longer happens is taken off the list.
    let stale: Vec<&&str> = EXCEPTIONS
        .iter()
        .filter(|e| !all.iter().any(|a| format!("{} -> {}", a.from, a.to) == **e))
        .collect();
    assert!(
        stale.is_empty(),
        "exceptions that no longer happen: {stale:?}"
    );
}

#[test]
fn no_cycle_between_files() {
    let files = sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let all = arrows(&files);
    let shown: Vec<String> = cycles(&all)
        .iter()
        .map(|(c, group)| {
            // Each step of the loop, at the first line that makes it.
            let steps: Vec<String> = (0..c.len())
                .map(|i| {
                    let (from, to) = (&c[i], &c[(i + 1) % c.len()]);
                    all.iter()
                        .find(|a| &a.from == from && &a.to == to)
                        .map(|a| {
                            format!(
                                "  src/{}:{} uses {} (src/{})",
                                a.from, a.line, a.written, a.to
                            )
                        })
                        .unwrap_or_default()
                })
                .collect();
            format!(
                "{} → {} (the files that reach each other: {})\n{}",
                c.join(" → "),
                c[0],
                group.join(", "),
                steps.join("\n")
            )
        })
        .collect();
    assert!(
        shown.is_empty(),
        "cycles between files:\n{}",
        shown.join("\n")
    );
}

#[test]
fn only_the_cli_prints_or_exits() {
    let files = sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let found: Vec<String> = files
        .iter()
        .filter(|f| layer_of(&f.path) != Some("cli"))
        .flat_map(prints_or_exits)
        .collect();
    assert!(
        found.is_empty(),
        "only src/cli/ prints, takes stdout or stderr, or exits; return the text or the error to it:\n{}",
        found.join("\n")
    );
}

#[cfg(test)]
mod checker {
    use super::*;

    fn src(path: &str, text: &str) -> Source {
        Source {
            path: path.into(),
            text: text.into(),
        }
    }

    fn edges(files: &[Source]) -> Vec<(String, usize, String)> {
        arrows(files)
            .into_iter()
            .map(|a| (a.from, a.line, a.to))
            .collect()
    }

    #[test]
    fn reads_use_trees_inline_paths_super_and_aliases() {
        let files = [
            src("lib.rs", "pub mod emit;\npub mod ir;\npub mod python;\n"),
            src("ir/mod.rs", "pub mod value;\npub struct Pipeline;\n"),
            src("ir/value.rs", "pub enum Value {}\n"),
            src("python/mod.rs", "pub mod print;\n"),
            src("python/print.rs", "pub fn string() {}\n"),
            src(
                "emit/mod.rs",
                "mod shared;\nmod dagster;\npub use shared::record;\nfn f() { dagster::write(); }\n",
            ),
            src(
                "emit/shared.rs",
                "use crate::{ir::{self, value::Value}, python as py};\n\
                 // crate::frontend in a comment is no arrow\n\
                 fn g() { let s = \"crate::cli\"; py::print::string(); ir::Pipeline; }\n",
            ),
            src(
                "emit/dagster.rs",
                "use super::shared;\nfn h() { super::super::python::print::string(); }\n\
                 #[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::ir::value::Value;\n}\n",
            ),
        ];
        let got = edges(&files);
        let want = [
            ("emit/mod.rs", 3, "emit/shared.rs"),
            ("emit/mod.rs", 4, "emit/dagster.rs"),
            ("emit/shared.rs", 1, "ir/mod.rs"),
            ("emit/shared.rs", 1, "ir/value.rs"),
            ("emit/shared.rs", 1, "python/mod.rs"),
            ("emit/shared.rs", 3, "python/print.rs"),
            ("emit/shared.rs", 3, "ir/mod.rs"),
            ("emit/dagster.rs", 1, "emit/shared.rs"),
            ("emit/dagster.rs", 2, "python/print.rs"),
        ];
        let want: Vec<(String, usize, String)> = want
            .iter()
            .map(|(a, l, b)| (a.to_string(), *l, b.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn catches_a_forbidden_arrow_with_its_line() {
        let files = [
            src("lib.rs", "pub mod emit;\npub mod frontend;\npub mod ir;\n"),
            src("ir/mod.rs", "pub struct Pipeline;\n"),
            src("frontend/mod.rs", "pub fn read() {}\n"),
            src(
                "emit/mod.rs",
                "use crate::ir::Pipeline;\n\nfn f() { crate::frontend::read(); }\n",
            ),
        ];
        let bad = forbidden(&arrows(&files), &[]);
        assert_eq!(
            bad,
            [
                "src/emit/mod.rs:3: emit → frontend (crate::frontend::read, defined in src/frontend/mod.rs)"
            ]
        );
        // Listed as an exception, it passes.
        assert!(forbidden(&arrows(&files), &["emit/mod.rs -> frontend/mod.rs"]).is_empty());
        // Anything → cli is forbidden; cli → anything is allowed.
        let files = [
            src(
                "cli/mod.rs",
                "pub const EXIT_OK: i32 = 0;\nfn f() { crate::exec::run(); }\n",
            ),
            src("exec/mod.rs", "use crate::cli::EXIT_OK;\npub fn run() {}\n"),
        ];
        assert_eq!(
            forbidden(&arrows(&files), &[]),
            ["src/exec/mod.rs:1: exec → cli (crate::cli::EXIT_OK, defined in src/cli/mod.rs)"]
        );
    }

    #[test]
    fn catches_a_cycle_between_files() {
        let files = [
            src(
                "cli/mod.rs",
                "mod analyze;\npub const EXIT_OK: i32 = 0;\nfn run() { analyze::run(); }\n",
            ),
            src("cli/analyze.rs", "use super::EXIT_OK;\npub fn run() {}\n"),
            src("ir/mod.rs", "pub struct Pipeline;\n"),
            src("cli/port.rs", "use crate::ir::Pipeline;\n"),
        ];
        let pair = vec!["cli/analyze.rs".to_string(), "cli/mod.rs".to_string()];
        assert_eq!(cycles(&arrows(&files)), [(pair.clone(), pair)]);
        // Declaring a child module is no import; a child using a sibling is.
        let files = [
            src("cli/mod.rs", "mod analyze;\nmod output;\n"),
            src("cli/analyze.rs", "use super::output::EXIT_OK;\n"),
            src("cli/output.rs", "pub const EXIT_OK: i32 = 0;\n"),
        ];
        assert!(cycles(&arrows(&files)).is_empty());
    }

    #[test]
    fn a_path_through_a_re_export_reaches_the_defining_file() {
        let files = [
            src(
                "emit/mod.rs",
                "mod target;\nmod airflow;\npub use target::Target;\nfn f() { airflow::write(); }\n",
            ),
            src("emit/target.rs", "pub struct Target;\n"),
            src("emit/airflow.rs", "use super::Target;\npub fn write() {}\n"),
        ];
        let got = edges(&files);
        assert!(
            got.contains(&("emit/airflow.rs".into(), 1, "emit/target.rs".into())),
            "{got:?}"
        );
        assert!(cycles(&arrows(&files)).is_empty());
        // An item the parent defines itself makes the loop.
        let files = [
            src(
                "emit/mod.rs",
                "mod airflow;\npub struct Target;\nfn f() { airflow::write(); }\n",
            ),
            src("emit/airflow.rs", "use super::Target;\npub fn write() {}\n"),
        ];
        assert_eq!(cycles(&arrows(&files)).len(), 1);
    }

    #[test]
    fn finds_printing_and_exiting_outside_tests() {
        let f = src(
            "exec/mod.rs",
            "fn f() {\n    eprintln!(\"x\");\n    let _ = \"println!\";\n    std::process::exit(2);\n}\n\
             fn g() { let _ = std::io::stderr(); }\n#[cfg(test)]\nmod tests {\n    fn t() { println!(); }\n}\n",
        );
        assert_eq!(
            prints_or_exits(&f),
            [
                "src/exec/mod.rs:2: eprintln!",
                "src/exec/mod.rs:4: process::exit",
                "src/exec/mod.rs:6: io::stderr"
            ]
        );
    }

    #[test]
    fn every_layer_in_the_table_is_known() {
        for (name, _, uses) in LAYERS {
            for u in *uses {
                assert!(
                    *u == "*" || LAYERS.iter().any(|(n, _, _)| n == u),
                    "layer {name} may use an unknown layer {u}"
                );
            }
        }
        assert_eq!(layer_of("emit/python.rs"), Some("emit"));
        assert_eq!(layer_of("main.rs"), Some("cli"));
        assert_eq!(layer_of("emitter.rs"), None);
        assert!(!allowed("frontend", "emit"));
        assert!(!allowed("emit", "frontend"));
        assert!(!allowed("ir", "python"));
        assert!(allowed("cli", "ir"));
    }
}
