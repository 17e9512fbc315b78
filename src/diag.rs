//! User-facing diagnostics: IR diagnostics rendered with miette (file, line, snippet, hint).

use miette::{LabeledSpan, MietteDiagnostic, NamedSource, Report};

use crate::ir::{Diagnostic, Severity};

/// Renders one diagnostic of a file as miette would print it, with a snippet when the file is readable.
pub fn render(file_path: &str, diag: &Diagnostic, source: Option<&str>) -> String {
    let span = diag.span.map(|s| s.start as usize..s.end as usize);
    let severity = match diag.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    };
    render_with(
        file_path,
        source.unwrap_or(""),
        diag.line,
        if source.is_some() { span } else { None },
        &diag.code,
        &diag.message,
        diag.help.as_deref().unwrap_or(""),
        severity,
    )
}

/// Renders an error about a text file (e.g. a matrix TOML file) with an optional byte span.
pub fn render_text(
    file: &str,
    text: &str,
    line: Option<u32>,
    span: Option<std::ops::Range<usize>>,
    code: &str,
    message: &str,
    help: &str,
) -> String {
    render_with(
        file,
        text,
        line,
        span,
        code,
        message,
        help,
        miette::Severity::Error,
    )
}

/// Renders an error about a text file at a byte span, working out the line from the span.
pub fn render_text_at(
    file: &str,
    text: &str,
    span: Option<std::ops::Range<usize>>,
    code: &str,
    message: &str,
    help: &str,
) -> String {
    let line = span
        .as_ref()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u32 + 1);
    render_text(file, text, line, span, code, message, help)
}

#[allow(clippy::too_many_arguments)]
fn render_with(
    file: &str,
    text: &str,
    line: Option<u32>,
    span: Option<std::ops::Range<usize>>,
    code: &str,
    message: &str,
    help: &str,
    severity: miette::Severity,
) -> String {
    // Paths and messages carry names from user input: no raw escape sequence reaches the terminal.
    let file = &crate::text::inline(file);
    let mut m = MietteDiagnostic::new(crate::text::multiline(message))
        .with_code(format!("orchmig::{code}"))
        .with_severity(severity);
    if !help.is_empty() {
        m = m.with_help(crate::text::multiline(help));
    }
    let location = match line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_string(),
    };
    match span {
        Some(span) if !text.is_empty() => {
            let start = span.start.min(text.len());
            let len = span
                .end
                .saturating_sub(start)
                .min(text.len() - start)
                .min(200);
            let m = m.with_label(LabeledSpan::at(start..start + len, "here"));
            let report = Report::new(m).with_source_code(NamedSource::new(file, text.to_string()));
            format!("{location}: {report:?}")
        }
        _ => format!("{location}: {:?}", Report::new(m)),
    }
}

/// A plain error about an input path (no file content to show), rendered for the terminal.
pub fn path_error(path: &str, message: &str, help: &str) -> String {
    let m = MietteDiagnostic::new(format!(
        "{}: {}",
        crate::text::inline(path),
        crate::text::multiline(message)
    ))
    .with_code("orchmig::input")
    .with_help(help.to_string());
    format!("{:?}", Report::new(m))
}

/// A problem in a matrix data file (matrix/*.toml, the translation table included), with the TOML
/// span it points at.
#[derive(Debug, Clone)]
pub struct MatrixError {
    /// The file (as shown to the user).
    pub file: String,
    /// The file's text, for the snippet.
    pub text: String,
    /// Byte range in the file.
    pub span: Option<std::ops::Range<usize>>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: String,
}

impl MatrixError {
    /// Renders the error as a miette report with file:line and snippet.
    pub fn render(&self) -> String {
        render_text_at(
            &self.file,
            &self.text,
            self.span.clone(),
            "matrix",
            &self.message,
            &self.help,
        )
    }
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
