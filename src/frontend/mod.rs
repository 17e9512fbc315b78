//! Readers: Python source → IR. The interpreter core the readers share and the callables live
//! here; the Python language (parsing, spans, imports, literals) in [`crate::python`]; each
//! framework has one reader module with the same entry point.

pub mod airflow;
mod budget;
pub mod callable;
mod context;
pub mod dagster;
pub mod interp;
mod keyed;
pub mod prefect;
pub mod support;
mod walk;
pub mod xcom;

pub(crate) use budget::edge_budget;
pub use context::{FileContext, Reading};
pub use walk::{Skip, WalkError, collect_files, collect_files_excluding};

use crate::python::ast::Stmt;
use std::path::Path;

use crate::ir::{self, Diagnostic, Framework, Severity, SourceFile};
use crate::python::imports::ImportMap;
use crate::python::source::SourceText;

/// Stack size of the thread each file is read on, so deep (but accepted) input cannot
/// overflow the stack of recursive AST walks.
pub(crate) const READER_STACK: usize = 256 * 1024 * 1024;

/// The frameworks a module imports, in a fixed order.
pub fn detect(imports: &ImportMap) -> Vec<Framework> {
    Framework::ALL
        .into_iter()
        .filter(|fw| imports.imports_from(fw.id()))
        .collect()
}

/// Reads a file from disk; I/O and encoding problems become diagnostics.
pub fn read_path(path: &Path) -> SourceFile {
    read_path_with(path, read_source)
}

/// Reads a file from disk on the calling thread, which must have a [`READER_STACK`] stack
/// (the estate reader's worker threads do); a panic becomes an `internal` diagnostic.
pub(crate) fn read_path_here(path: &Path) -> SourceFile {
    read_path_with(path, |shown, text| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_source_here(shown, text)
        }))
        .unwrap_or_else(|_| internal_failure(shown))
    })
}

fn read_path_with(path: &Path, read: impl FnOnce(&str, &str) -> SourceFile) -> SourceFile {
    let shown = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => decode_then(&shown, bytes, read),
        Err(e) => failed(
            &shown,
            "unreadable",
            None,
            format!("cannot read the file: {e}"),
            "check that the path exists and that you may read it".to_string(),
        ),
    }
}

/// Reads a file's bytes into IR pipelines; encoding problems become diagnostics.
pub fn read_bytes(shown: &str, bytes: Vec<u8>) -> SourceFile {
    decode_then(shown, bytes, read_source)
}

/// Decodes a file's bytes as UTF-8 and reads the text with `read`; bad bytes are a diagnostic.
fn decode_then(
    shown: &str,
    bytes: Vec<u8>,
    read: impl FnOnce(&str, &str) -> SourceFile,
) -> SourceFile {
    match String::from_utf8(bytes) {
        Ok(text) => read(shown, &text),
        Err(e) => {
            let bytes = e.as_bytes();
            let bad = e.utf8_error().valid_up_to();
            let line = bytes[..bad].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            let binary = bytes.iter().take(8192).any(|&b| b == 0);
            failed(
                shown,
                "encoding",
                Some(line),
                if binary {
                    "this is a binary file, not Python source".to_string()
                } else {
                    format!("the file is not valid UTF-8 (first bad byte at offset {bad})")
                },
                if binary {
                    "remove it from the analysed folder or exclude it".to_string()
                } else {
                    "re-encode it as UTF-8 (Python 3 source must be UTF-8 unless it declares otherwise)".to_string()
                },
            )
        }
    }
}

fn failed(path: &str, code: &str, line: Option<u32>, message: String, help: String) -> SourceFile {
    SourceFile {
        path: path.to_string(),
        diagnostics: vec![Diagnostic {
            severity: Severity::Error,
            code: code.into(),
            line,
            span: None,
            message,
            help: Some(help),
        }],
        ..SourceFile::default()
    }
}

/// Reads Python source text into IR pipelines, on a thread with a large stack.
pub fn read_source(path: &str, text: &str) -> SourceFile {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(READER_STACK)
            .spawn_scoped(scope, || read_source_here(path, text))
            .ok()
            .and_then(|h| h.join().ok())
            .unwrap_or_else(|| internal_failure(path))
    })
}

fn internal_failure(path: &str) -> SourceFile {
    failed(
        path,
        "internal",
        None,
        "orchmig failed while reading this file".to_string(),
        "please report this file to the orchmig developers; the other files were still read"
            .to_string(),
    )
}

fn read_source_here(path: &str, text: &str) -> SourceFile {
    let src = SourceText::new(path, text);
    let mut file = SourceFile {
        path: path.to_string(),
        ..SourceFile::default()
    };
    let suite = match crate::python::parse::parse_module(&src) {
        Ok(suite) => suite,
        Err(diag) => {
            file.diagnostics.push(diag);
            return file;
        }
    };
    let imports = ImportMap::from_suite(&suite);
    let frameworks = detect(&imports);
    let ctx = FileContext {
        src: &src,
        suite: &suite,
        imports: &imports,
    };
    file.framework = frameworks.first().copied();
    file.diagnostics.extend(star_imports(&src, &suite));
    if frameworks.len() > 1 {
        file.diagnostics.push(Diagnostic {
            severity: Severity::Warning,
            code: "mixed-frameworks".into(),
            line: None,
            span: None,
            message: format!(
                "this file imports several frameworks ({}); each reader reads it",
                frameworks
                    .iter()
                    .map(|f| f.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            help: Some("keep one framework per file so a port has one source model".into()),
        });
    }
    for fw in &frameworks {
        let mut reading = match fw {
            Framework::Airflow => airflow::read(&ctx),
            Framework::Prefect => prefect::read(&ctx),
            Framework::Dagster => dagster::read(&ctx),
        };
        if *fw != Framework::Dagster {
            for p in &mut reading.pipelines {
                keyed::name_outputs(text, p);
            }
        }
        if file.source_version.is_none() {
            file.source_version = reading.source_version;
        }
        file.pipelines.extend(reading.pipelines);
        file.diagnostics.extend(reading.diagnostics);
    }
    if !file.pipelines.is_empty() {
        file.support = support::support(&suite, &src, &imports);
        graph_ops_as_support(&mut file);
    } else if let Some(d) = no_pipeline(&src, &suite, &frameworks, &file.diagnostics) {
        file.diagnostics.push(d);
    }
    for pipeline in &mut file.pipelines {
        // Readers without their own budget: cut here, before any command walks the graph.
        let budget = ir::edge_budget(pipeline.nodes.len());
        if pipeline.edges.len() > budget {
            let cut = pipeline.edges.split_off(budget);
            file.diagnostics.push(edge_budget(cut[0].span, cut.len()));
        }
    }
    file.diagnostics.extend(opaque_warnings(&file.pipelines));
    for pipeline in &file.pipelines {
        for d in ir::validate(pipeline) {
            // A reader may already have explained the same problem in its framework's words.
            if !file
                .diagnostics
                .iter()
                .any(|x| x.code == d.code && x.line == d.line)
            {
                file.diagnostics.push(d);
            }
        }
    }
    file
}

/// Never silent (issue 18): every construct a reader kept as an opaque entry is also a warning
/// at its line (once per line and kind, however many pipelines share it), so a command that
/// reads the file says what it could not model.
fn opaque_warnings(pipelines: &[ir::Pipeline]) -> Vec<Diagnostic> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for p in pipelines {
        for o in &p.opaque {
            let line = if o.span.line > 0 { o.span.line } else { o.line };
            if !seen.insert((line, o.kind.clone())) {
                continue;
            }
            out.push(Diagnostic {
                severity: Severity::Warning,
                code: "opaque".into(),
                line: (line > 0).then_some(line),
                span: (o.span.line > 0).then_some(o.span),
                message: format!("pipeline `{}`: {} ({})", p.id, o.why, o.kind),
                help: Some(
                    "orchmig keeps it as an opaque entry (`orchmig ir` lists it) and a port reports it; check this part by hand".into(),
                ),
            });
        }
    }
    out
}

/// Never silent (issue 18): a file that imports a framework but gives no pipeline, and no
/// error says why, gets a warning at its first import of that framework (a helper module is
/// fine; a pipeline built in a way the reader cannot follow would otherwise vanish unnoticed).
fn no_pipeline(
    src: &SourceText,
    suite: &[Stmt],
    frameworks: &[Framework],
    diagnostics: &[Diagnostic],
) -> Option<Diagnostic> {
    use crate::python::ast::Ranged;
    let fw = *frameworks.first()?;
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return None;
    }
    let of_fw = |module: &str| module == fw.id() || module.starts_with(&format!("{}.", fw.id()));
    let span = suite
        .iter()
        .find(|s| match s {
            Stmt::Import(i) => i.names.iter().any(|a| of_fw(a.name.as_str())),
            Stmt::ImportFrom(i) => i.module.as_ref().is_some_and(|m| of_fw(m.as_str())),
            _ => false,
        })
        .map(|s| src.span(s.range()));
    Some(Diagnostic {
        severity: Severity::Warning,
        code: "no-pipeline".into(),
        line: span.map(|s| s.line),
        span,
        message: format!("this file imports {fw} but orchmig read no pipeline from it"),
        help: Some(
            "fine for a helper module; if it defines a pipeline, orchmig could not follow how (run `orchmig ir` on it, and report the idiom)".into(),
        ),
    })
}

/// A warning for each `from <framework module> import *`: the names it binds are unknown to a
/// static reader, so decorators and operators used through it are not recognised.
fn star_imports(src: &SourceText, suite: &[Stmt]) -> Vec<Diagnostic> {
    use crate::python::ast::Ranged;
    suite
        .iter()
        .filter_map(|s| match s {
            Stmt::ImportFrom(i) if i.names.iter().any(|a| a.name.as_str() == "*") => {
                let module = i.module.as_ref()?.as_str();
                let fw = Framework::ALL.into_iter().find(|fw| {
                    module == fw.id() || module.starts_with(&format!("{}.", fw.id()))
                })?;
                let span = src.span(s.range());
                Some(Diagnostic {
                    severity: Severity::Warning,
                    code: "star-import".into(),
                    line: Some(span.line),
                    span: Some(span),
                    message: format!(
                        "`from {module} import *`: orchmig reads imports statically and cannot tell which {} names this binds",
                        fw.id()
                    ),
                    help: Some(format!(
                        "import the names you use, e.g. `from {module} import dag, task`; pipelines built only from star-imported names are not read"
                    )),
                })
            }
            _ => None,
        })
        .collect()
}

/// The ops a Dagster `@graph_asset` composes become plain support functions, so that a port can
/// call them from the asset's body (the reader leaves their definitions in `graph_op_defs`).
fn graph_ops_as_support(file: &mut SourceFile) {
    let mut items: Vec<ir::SupportItem> = Vec::new();
    for n in file.pipelines.iter_mut().flat_map(|p| p.nodes.iter_mut()) {
        let Some(ir::Value::List(defs)) = n.extra.remove("graph_op_defs") else {
            continue;
        };
        for text in defs.iter().filter_map(ir::Value::as_str) {
            let Some(at) = text
                .find("\ndef ")
                .map(|i| i + 1)
                .or_else(|| text.starts_with("def ").then_some(0))
            else {
                continue;
            };
            let plain = &text[at..];
            let name = plain[4..]
                .split('(')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            if name.is_empty() || items.iter().any(|i| i.binds.contains(&name)) {
                continue;
            }
            items.push(ir::SupportItem {
                text: plain.to_string(),
                binds: vec![name],
                framework: None,
                import: false,
            });
        }
    }
    file.support.extend(items);
}
