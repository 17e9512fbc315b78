//! User-facing diagnostics: IR diagnostics rendered with miette (file, line, snippet, hint).

use miette::{LabeledSpan, MietteDiagnostic, NamedSource, Report};

use crate::ir::{Diagnostic, Severity, SourceFile};

/// Renders one diagnostic of a file as miette would print it, with a snippet when the file is readable.
pub fn render(file_path: &str, diag: &Diagnostic, source: Option<&str>) -> String {
    let mut m = MietteDiagnostic::new(diag.message.clone())
        .with_code(format!("orchmig::{}", diag.code))
        .with_severity(match diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        });
    if let Some(help) = &diag.help {
        m = m.with_help(help.clone());
    }
    let location = match diag.line {
        Some(line) => format!("{file_path}:{line}"),
        None => file_path.to_string(),
    };
    let mut report_text = String::new();
    if let (Some(span), Some(text)) = (diag.span, source) {
        let start = (span.start as usize).min(text.len());
        let len = (span.end as usize)
            .saturating_sub(start)
            .min(text.len() - start)
            .min(200);
        let m = m.with_label(LabeledSpan::at(start..start + len, "here"));
        let report = Report::new(m).with_source_code(NamedSource::new(file_path, text.to_string()));
        report_text.push_str(&format!("{location}: {report:?}"));
    } else {
        let report = Report::new(m);
        report_text.push_str(&format!("{location}: {report:?}"));
    }
    report_text
}

/// Prints every diagnostic of the files to stderr; returns how many were errors.
pub fn print_all(files: &[SourceFile], quiet_warnings: bool) -> usize {
    let mut errors = 0;
    for file in files {
        if file.diagnostics.is_empty() {
            continue;
        }
        let source = std::fs::read_to_string(&file.path).ok();
        for d in &file.diagnostics {
            if d.severity == Severity::Error {
                errors += 1;
            } else if quiet_warnings {
                continue;
            }
            eprintln!("{}", render(&file.path, d, source.as_deref()));
        }
    }
    errors
}

/// Prints a plain error about an input path (no file content to show).
pub fn print_path_error(path: &str, message: &str, help: &str) {
    let m = MietteDiagnostic::new(format!("{path}: {message}"))
        .with_code("orchmig::input")
        .with_help(help.to_string());
    eprintln!("{:?}", Report::new(m));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Span;

    #[test]
    fn renders_file_line_snippet_and_hint() {
        let text = "x = 1\ndef f(:\n";
        let d = Diagnostic {
            severity: Severity::Error,
            code: "syntax".into(),
            line: Some(2),
            span: Some(Span {
                line: 2,
                col: 7,
                end_line: 2,
                start: 12,
                end: 13,
            }),
            message: "invalid Python syntax".into(),
            help: Some("fix it".into()),
        };
        let out = render("dags/bad.py", &d, Some(text));
        assert!(out.starts_with("dags/bad.py:2"), "{out}");
        assert!(out.contains("invalid Python syntax"));
        assert!(out.contains("def f(:"));
        assert!(out.contains("fix it"));
    }
}
