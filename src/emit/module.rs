//! What a generated module needs: its imports (exactly those used), helpers and the header.

use std::collections::{BTreeMap, BTreeSet};

/// A generated function as the templates write it: decorator, `def` line and body.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FunctionCtx {
    /// The decorator line(s), formatted.
    pub decorator: String,
    /// Function name.
    pub name: String,
    /// Everything after the name up to the colon: parameters and return annotation.
    pub signature: String,
    /// The indented body.
    pub body: String,
    /// `async def`.
    pub is_async: bool,
}

impl FunctionCtx {
    /// The text of the functions a module writes (decorators, signatures, bodies), for the
    /// scans that decide its imports and support code.
    pub fn text_of(functions: &[FunctionCtx]) -> String {
        let mut text = String::new();
        for f in functions {
            text.push_str(&f.decorator);
            text.push_str(&f.signature);
            text.push_str(&f.body);
        }
        text
    }
}

/// A generated pipeline function (Airflow `@dag`, Prefect `@flow`): decorator, `def` line, body statements.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PipelineCtx {
    /// The decorator line(s), formatted.
    pub decorator: String,
    /// Function name.
    pub name: String,
    /// Parameters, after the name.
    pub signature: String,
    /// Body statements, each already indented.
    pub statements: Vec<String>,
    /// `async def`.
    pub is_async: bool,
}

/// Imports of a generated module, grouped as ruff/isort would: stdlib, then third party.
#[derive(Debug, Default, Clone)]
pub struct Imports {
    plain: BTreeSet<String>,
    from: BTreeMap<String, BTreeSet<String>>,
}

/// Python 3.11's standard library modules (`sys.stdlib_module_names`), for isort's sections.
const STDLIB: &[&str] = &[
    "abc",
    "aifc",
    "antigravity",
    "argparse",
    "array",
    "ast",
    "asynchat",
    "asyncio",
    "asyncore",
    "atexit",
    "audioop",
    "base64",
    "bdb",
    "binascii",
    "bisect",
    "builtins",
    "bz2",
    "cProfile",
    "calendar",
    "cgi",
    "cgitb",
    "chunk",
    "cmath",
    "cmd",
    "code",
    "codecs",
    "codeop",
    "collections",
    "colorsys",
    "compileall",
    "concurrent",
    "configparser",
    "contextlib",
    "contextvars",
    "copy",
    "copyreg",
    "crypt",
    "csv",
    "ctypes",
    "curses",
    "dataclasses",
    "datetime",
    "dbm",
    "decimal",
    "difflib",
    "dis",
    "distutils",
    "doctest",
    "email",
    "encodings",
    "ensurepip",
    "enum",
    "errno",
    "faulthandler",
    "fcntl",
    "filecmp",
    "fileinput",
    "fnmatch",
    "fractions",
    "ftplib",
    "functools",
    "gc",
    "genericpath",
    "getopt",
    "getpass",
    "gettext",
    "glob",
    "graphlib",
    "grp",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "idlelib",
    "imaplib",
    "imghdr",
    "imp",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "keyword",
    "lib2to3",
    "linecache",
    "locale",
    "logging",
    "lzma",
    "mailbox",
    "mailcap",
    "marshal",
    "math",
    "mimetypes",
    "mmap",
    "modulefinder",
    "msilib",
    "msvcrt",
    "multiprocessing",
    "netrc",
    "nis",
    "nntplib",
    "nt",
    "ntpath",
    "nturl2path",
    "numbers",
    "opcode",
    "operator",
    "optparse",
    "os",
    "ossaudiodev",
    "pathlib",
    "pdb",
    "pickle",
    "pickletools",
    "pipes",
    "pkgutil",
    "platform",
    "plistlib",
    "poplib",
    "posix",
    "posixpath",
    "pprint",
    "profile",
    "pstats",
    "pty",
    "pwd",
    "py_compile",
    "pyclbr",
    "pydoc",
    "pydoc_data",
    "pyexpat",
    "queue",
    "quopri",
    "random",
    "re",
    "readline",
    "reprlib",
    "resource",
    "rlcompleter",
    "runpy",
    "sched",
    "secrets",
    "select",
    "selectors",
    "shelve",
    "shlex",
    "shutil",
    "signal",
    "site",
    "smtpd",
    "smtplib",
    "sndhdr",
    "socket",
    "socketserver",
    "spwd",
    "sqlite3",
    "sre_compile",
    "sre_constants",
    "sre_parse",
    "ssl",
    "stat",
    "statistics",
    "string",
    "stringprep",
    "struct",
    "subprocess",
    "sunau",
    "symtable",
    "sys",
    "sysconfig",
    "syslog",
    "tabnanny",
    "tarfile",
    "telnetlib",
    "tempfile",
    "termios",
    "textwrap",
    "this",
    "threading",
    "time",
    "timeit",
    "tkinter",
    "token",
    "tokenize",
    "tomllib",
    "trace",
    "traceback",
    "tracemalloc",
    "tty",
    "turtle",
    "turtledemo",
    "types",
    "typing",
    "unicodedata",
    "unittest",
    "urllib",
    "uu",
    "uuid",
    "venv",
    "warnings",
    "wave",
    "weakref",
    "webbrowser",
    "winreg",
    "winsound",
    "wsgiref",
    "xdrlib",
    "xml",
    "xmlrpc",
    "zipapp",
    "zipfile",
    "zipimport",
    "zlib",
    "zoneinfo",
];

impl Imports {
    /// `import module`.
    pub fn module(&mut self, module: &str) {
        self.plain.insert(module.to_string());
    }

    /// `from module import name`.
    pub fn name(&mut self, module: &str, name: &str) {
        self.from
            .entry(module.to_string())
            .or_default()
            .insert(name.to_string());
    }

    /// True when a local name is already imported.
    pub fn binds(&self, local: &str) -> bool {
        self.plain
            .iter()
            .any(|m| m == local || m.ends_with(&format!(" as {local}")))
            || self.from.values().any(|names| {
                names
                    .iter()
                    .any(|n| n == local || n.ends_with(&format!(" as {local}")))
            })
    }

    /// The import lines: stdlib first, a blank line, then the rest, each block sorted.
    pub fn lines(&self) -> Vec<String> {
        let top = |m: &str| m.split('.').next().unwrap_or(m).to_string();
        let mut std_lines = Vec::new();
        let mut other = Vec::new();
        for m in &self.plain {
            let line = format!("import {m}");
            if STDLIB.contains(&top(m).as_str()) {
                std_lines.push(line)
            } else {
                other.push(line)
            }
        }
        for (m, names) in &self.from {
            let line = format!(
                "from {m} import {}",
                names.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            let line = if line.len() > crate::python::print::LINE_LENGTH {
                format!(
                    "from {m} import (\n{})",
                    names
                        .iter()
                        .map(|n| format!("    {n},\n"))
                        .collect::<String>()
                )
            } else {
                line
            };
            if STDLIB.contains(&top(m).as_str()) {
                std_lines.push(line)
            } else {
                other.push(line)
            }
        }
        // isort order within a section: `import x` lines first, then `from x import …`, by module.
        let key = |l: &String| {
            (
                l.starts_with("from "),
                l.trim_start_matches("from ")
                    .trim_start_matches("import ")
                    .to_string(),
            )
        };
        std_lines.sort_by_key(key);
        other.sort_by_key(key);
        let mut out = std_lines;
        if !out.is_empty() && !other.is_empty() {
            out.push(String::new());
        }
        out.extend(other);
        out
    }
}

/// The header comment of a generated file.
pub fn header(source: &str, target: &str) -> String {
    format!(
        "# Generated by orchmig {} from {source} for {target}.\n# Re-run `orchmig port` instead of editing by hand; the port report lists what changed.",
        env!("CARGO_PKG_VERSION"),
        source = crate::python::print::comment_text(source),
        target = crate::python::print::comment_text(target),
    )
}

/// The support code a generated module needs: the source's imports, constants and helpers that
/// the emitted code uses (transitively), except imports of another framework than the target.
pub struct Support {
    /// Code blocks in source order, already separated by blank lines as ruff would.
    pub code: String,
    /// Imports of another framework the bodies still use (reported by the writer).
    pub foreign: Vec<String>,
}

impl Support {
    /// Blank lines between the imports and the support code: two before a def or class, one before
    /// other statements (isort's `lines-after-imports`).
    pub fn gap(&self) -> &'static str {
        if ["def ", "class ", "async "]
            .iter()
            .any(|k| self.code.starts_with(k))
        {
            "\n\n"
        } else {
            "\n"
        }
    }

    /// Records each dropped import of another framework that a body still uses.
    pub fn report_foreign(
        &self,
        ledgers: &mut [crate::report::Ledger],
        table: &crate::report::Translations,
    ) {
        let Some(l) = ledgers.first_mut() else { return };
        for line in &self.foreign {
            l.lose(
                table,
                "body.framework_call",
                line,
                crate::ir::Span::default(),
                format!("`{line}` is another framework's API used in a body: port it by hand"),
            );
        }
    }
}

/// Names a text refers to: identifiers, except attribute names (`x.name`) and keyword-argument
/// names (`name=`), which never refer to a module-level binding. Read from the tokens, so a
/// name inside a string (a stub's message, a log line) carries no import.
fn words(text: &str) -> std::collections::HashSet<String> {
    crate::python::parse::referenced_names(text).unwrap_or_else(|| scanned_words(text))
}

/// [`words`] by a textual scan, for text too deeply nested to tokenise: strings count as code.
fn scanned_words(text: &str) -> std::collections::HashSet<String> {
    // Comments name things without using them.
    let code: String = text
        .lines()
        .map(|l| l.split_once(" # ").map_or(l, |(c, _)| c))
        .map(|l| {
            if l.trim_start().starts_with('#') {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let text = code.as_str();
    let bytes = text.as_bytes();
    let mut out = std::collections::HashSet::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let after_dot = start > 0 && bytes[start - 1] == b'.';
            let mut j = i;
            while j < bytes.len() && bytes[j] == b' ' {
                j += 1;
            }
            let keyword = j < bytes.len() && bytes[j] == b'=' && bytes.get(j + 1) != Some(&b'=');
            if !after_dot && !keyword {
                out.insert(text[start..i].to_string());
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Selects the support items used by `emitted`, adds their imports, and returns the code.
pub fn support(
    file: &crate::ir::SourceFile,
    emitted: &str,
    target: crate::ir::Framework,
    own: &[&str],
    imports: &mut Imports,
) -> Support {
    let mut used = words(emitted);
    let mut take = vec![false; file.support.len()];
    // Dagster resource and config classes travel as plain settings classes.
    let settings: Vec<Option<String>> = file
        .support
        .iter()
        .map(|i| {
            (i.framework == Some(crate::ir::Framework::Dagster)
                && target != crate::ir::Framework::Dagster)
                .then(|| super::resources::settings_class(&i.text))
                .flatten()
        })
        .collect();
    loop {
        let mut changed = false;
        for (i, item) in file.support.iter().enumerate() {
            let is_settings = settings[i].is_some();
            if !take[i]
                && !item.import
                && (item.framework.is_none_or(|f| f == target) || is_settings)
                && item.binds.iter().any(|b| used.contains(b))
                && !item.binds.iter().any(|b| own.contains(&b.as_str()))
            {
                take[i] = true;
                used.extend(words(settings[i].as_deref().unwrap_or(&item.text)));
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut foreign = Vec::new();
    for item in file.support.iter().filter(|i| i.import) {
        let Some(bind) = item.binds.first() else {
            continue;
        };
        if !used.contains(bind) || own.contains(&bind.as_str()) || imports.binds(bind) {
            continue;
        }
        if item.framework.is_some_and(|f| f != target) {
            foreign.push(item.text.clone());
            continue;
        }
        add_import_line(imports, &item.text);
    }
    let mut code = String::new();
    let mut prev_def = false;
    for (i, item) in file.support.iter().enumerate() {
        if !take[i] {
            continue;
        }
        let is_def = item.text.starts_with("def ")
            || item.text.starts_with("async def ")
            || item.text.starts_with("class ");
        if !code.is_empty() {
            code.push_str(if is_def || prev_def { "\n\n\n" } else { "\n" });
        }
        code.push_str(settings[i].as_deref().unwrap_or(&item.text).trim_end());
        prev_def = is_def;
    }
    if settings.iter().zip(&take).any(|(s, t)| *t && s.is_some()) {
        code = format!(
            "{}\n\n\n{code}",
            super::resources::SETTINGS_HELPER.trim_end()
        );
    }
    Support { code, foreign }
}

/// Adds `import a as b` / `from m import n as x` text to the import set.
fn add_import_line(imports: &mut Imports, line: &str) {
    if let Some(rest) = line.strip_prefix("from ") {
        if let Some((module, name)) = rest.split_once(" import ") {
            imports.name(module, name);
        }
    } else if let Some(rest) = line.strip_prefix("import ") {
        imports.module(rest);
    }
}
