//! The one place Python source is parsed; everything else sees an AST or a diagnostic.

use rustpython_parser::ast::Suite;
use rustpython_parser::{Parse, ParseErrorType};

use super::source::SourceText;
use crate::ir::{Diagnostic, Severity, Span};

/// Deepest bracket nesting accepted before parsing; deeper input is refused with a diagnostic.
pub const MAX_NESTING: usize = 200;

/// Deepest expression nesting accepted after parsing (`not not …`, `a.b.c…`, `1 + 1 + …`):
/// CPython itself refuses to compile expressions a few thousand levels deep, and the readers'
/// recursive walks must stay bounded.
pub const MAX_EXPR_DEPTH: usize = 1000;

/// Parses a module, or explains why it cannot be parsed.
pub fn parse_module(src: &SourceText) -> Result<Suite, Diagnostic> {
    if let Some((offset, depth)) = too_deep(src.text) {
        let line = src.line_of(offset as u32);
        return Err(Diagnostic {
            severity: Severity::Error,
            code: "too-deep".into(),
            line: Some(line),
            span: Some(point(src, offset as u32)),
            message: format!("expression nesting reaches {depth} levels (limit {MAX_NESTING})"),
            help: Some("orchmig refuses pathologically nested code; split the expression".into()),
        });
    }
    let suite = Suite::parse(src.text, src.path).map_err(|err| {
        let offset = u32::from(err.offset);
        let line = src.line_of(offset);
        let (message, help) = explain(src, &err.error, line);
        Diagnostic {
            severity: Severity::Error,
            code: "syntax".into(),
            line: Some(line),
            span: Some(point(src, offset)),
            message,
            help: Some(help),
        }
    })?;
    if let Some((offset, depth)) = too_deep_ast(&suite) {
        let line = src.line_of(offset);
        return Err(Diagnostic {
            severity: Severity::Error,
            code: "too-deep".into(),
            line: Some(line),
            span: Some(point(src, offset)),
            message: format!(
                "expression nesting reaches {depth} levels (limit {MAX_EXPR_DEPTH})"
            ),
            help: Some(
                "orchmig refuses pathologically nested code (CPython cannot compile it either); split the expression".into(),
            ),
        });
    }
    Ok(suite)
}

/// The start offset and depth of the first expression nested deeper than [`MAX_EXPR_DEPTH`].
/// Depth is counted from the expressions' ranges in a pre-order walk: an expression is inside
/// every open one whose range contains it.
fn too_deep_ast(suite: &Suite) -> Option<(u32, usize)> {
    use rustpython_parser::ast::Ranged;
    let mut open: Vec<(u32, u32)> = Vec::new();
    let mut found = None;
    super::visit::each_expr(suite, &mut |e| {
        if found.is_some() {
            return;
        }
        let (start, end) = (u32::from(e.start()), u32::from(e.end()));
        while let Some(&(s, t)) = open.last() {
            if s <= start && end <= t {
                break;
            }
            open.pop();
        }
        open.push((start, end));
        if open.len() > MAX_EXPR_DEPTH {
            found = Some((start, open.len()));
        }
    });
    found
}

/// Parses one expression (a call site already read from a parsed module); `None` if it is not one.
pub fn parse_expression(text: &str) -> Option<rustpython_parser::ast::Expr> {
    if too_deep(text).is_some() {
        return None;
    }
    rustpython_parser::ast::Expr::parse(text, "<expression>").ok()
}

fn point(src: &SourceText, offset: u32) -> Span {
    let offset = offset.min(src.text.len() as u32);
    Span {
        line: src.line_of(offset),
        col: src.col_of(offset),
        end_line: src.line_of(offset),
        start: offset,
        end: offset,
    }
}

fn explain(src: &SourceText, err: &ParseErrorType, line: u32) -> (String, String) {
    let near = (line.saturating_sub(1)..=line + 1)
        .filter(|&l| l >= 1)
        .any(|l| reuses_outer_quote(src.line_text(l)));
    if near || reuses_outer_quote(src.line_text(line)) {
        return (
            "this f-string reuses its outer quote inside a replacement field (PEP 701, Python 3.12)"
                .into(),
            "orchmig's parser reads Python up to 3.11 f-strings: use the other quote inside the braces, e.g. f\"{row['id']}\"; the other files were still read".into(),
        );
    }
    let what = match err {
        ParseErrorType::Eof => "unexpected end of file (an unclosed bracket or block?)".to_string(),
        ParseErrorType::Lexical(e) if e.to_string().contains("EOF") => {
            "unexpected end of file (an unclosed bracket or block?)".to_string()
        }
        ParseErrorType::Lexical(e) => format!("invalid token: {e}"),
        ParseErrorType::UnrecognizedToken(tok, expected) => match expected {
            Some(exp) => format!("unexpected `{tok}`, expected {exp}"),
            None => format!("unexpected `{tok}`"),
        },
        ParseErrorType::InvalidToken => "invalid token".to_string(),
        ParseErrorType::ExtraToken(tok) => format!("unexpected extra `{tok}`"),
    };
    (
        format!("invalid Python syntax: {what}"),
        "fix the syntax error (python -m py_compile FILE shows it too); the other files were still read".into(),
    )
}

/// True when a line holds an f-string whose replacement field uses the f-string's own quote.
fn reuses_outer_quote(line: &str) -> bool {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        let prefix_f = matches!(bytes[i], b'f' | b'F')
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
        if prefix_f && matches!(bytes[i + 1], b'"' | b'\'') {
            let quote = bytes[i + 1];
            let mut j = i + 2;
            let mut depth = 0usize;
            while j < bytes.len() {
                let b = bytes[j];
                if depth == 0 && b == quote {
                    break;
                }
                if b == b'{' {
                    depth += 1;
                } else if b == b'}' {
                    depth = depth.saturating_sub(1);
                } else if depth > 0 && b == quote {
                    return true;
                }
                j += 1;
            }
            i = j + 1;
        } else {
            i += 1;
        }
    }
    false
}

/// The offset and depth where bracket nesting first exceeds [`MAX_NESTING`], ignoring strings
/// and comments only roughly (over-counting is harmless: real code never comes close).
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((i, depth));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_pep701_quote_reuse() {
        assert!(reuses_outer_quote(r#"x = f"{row["id"]}""#));
        assert!(!reuses_outer_quote(r#"x = f"{row['id']}""#));
        assert!(!reuses_outer_quote(r#"x = "{a["b"]}""#));
    }

    #[test]
    fn syntax_error_has_line_and_hint() {
        let src = SourceText::new("bad.py", "x = 1\ndef f(:\n    pass\n");
        let d = parse_module(&src).unwrap_err();
        assert_eq!(d.line, Some(2));
        assert_eq!(d.code, "syntax");
        assert!(d.help.unwrap().contains("other files"));
    }

    #[test]
    fn pep701_gets_its_own_message() {
        let src = SourceText::new("f.py", "row = {}\nx = f\"{row[\"id\"]}\"\n");
        let d = parse_module(&src).unwrap_err();
        assert!(d.message.contains("PEP 701"), "{}", d.message);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("x = {}1{}\n", "(".repeat(500), ")".repeat(500));
        let src = SourceText::new("deep.py", &text);
        assert_eq!(parse_module(&src).unwrap_err().code, "too-deep");
    }
}
