//! The one place Python source is parsed (with `ruff_python_parser`); everything else sees an
//! AST or a diagnostic. A syntax error is reported where `python -m py_compile` reports it.

use ruff_python_parser::{
    LexicalErrorType, Mode, ParseError, ParseErrorType, ParseOptions, parse_unchecked,
};

use super::ast::{self, Expr, Ranged, Stmt, Suite, TextRange, TextSize};
use crate::ir::{Diagnostic, Severity, Span};
use crate::python::source::SourceText;

/// Deepest bracket nesting accepted before parsing; deeper input is refused with a diagnostic.
pub const MAX_NESTING: usize = 200;

/// Deepest expression nesting accepted after parsing (`not not …`, `a.b.c…`, `1 + 1 + …`):
/// CPython itself refuses to compile expressions a few thousand levels deep, and the readers'
/// recursive walks must stay bounded.
pub const MAX_EXPR_DEPTH: usize = 1000;

/// The names a text of Python code refers to: its identifier tokens (so nothing inside a string
/// literal or a comment, but the names in f-string replacement fields), except attribute names
/// (`x.name`) and names followed by `=` (keyword arguments, assignment targets). `None` when the
/// text is nested too deeply to tokenise safely (the caller falls back to a textual scan).
pub fn referenced_names(text: &str) -> Option<std::collections::HashSet<String>> {
    use ast::token::TokenKind;
    if text.contains('\0') || too_deep(text).is_some() || too_long_chain(text).is_some() {
        return None;
    }
    let parsed = parse_unchecked(text, ParseOptions::from(Mode::Module));
    let tokens: Vec<_> = parsed
        .tokens()
        .iter()
        .filter(|t| !t.kind().is_trivia())
        .collect();
    let mut out = std::collections::HashSet::new();
    for (i, t) in tokens.iter().enumerate() {
        if !(t.kind() == TokenKind::Name || t.kind().is_soft_keyword()) {
            continue;
        }
        let after_dot = i > 0 && tokens[i - 1].kind() == TokenKind::Dot;
        let before_equal = tokens
            .get(i + 1)
            .is_some_and(|n| n.kind() == TokenKind::Equal);
        if !after_dot && !before_equal {
            let range = t.range();
            if let Some(name) = text.get(usize::from(range.start())..usize::from(range.end())) {
                out.insert(name.to_string());
            }
        }
    }
    Some(out)
}

/// Parses a module, or explains why it cannot be parsed.
pub fn parse_module(src: &SourceText) -> Result<Suite, Diagnostic> {
    parse(src, true)
}

/// Parses the text of a function body already read from a parsed module (dedented): as a
/// module, except that `return`, `yield` and `await` are where a body may have them.
pub fn parse_body(src: &SourceText) -> Result<Suite, Diagnostic> {
    parse(src, false)
}

/// Parses `src` as a module; `compile_checks` adds the errors CPython raises only when it
/// compiles a whole module.
fn parse(src: &SourceText, compile_checks: bool) -> Result<Suite, Diagnostic> {
    if let Some(offset) = src.text.find('\0') {
        // CPython refuses the whole file, even when the NUL byte is inside a string or comment.
        let help = "remove the NUL byte (CPython refuses to compile the file too); the other files were still read";
        return Err(syntax_error(
            src,
            offset as u32,
            "source code cannot contain null bytes",
            help,
        ));
    }
    if let Some((offset, depth)) = too_deep(src.text) {
        return Err(too_deep_error(
            src,
            offset as u32,
            format!("expression nesting reaches {depth} levels (limit {MAX_NESTING})"),
        ));
    }
    if let Some((offset, depth)) = too_long_chain(src.text) {
        return Err(too_deep_error(
            src,
            offset as u32,
            format!(
                "expression nesting reaches {depth} levels (limit {MAX_EXPR_DEPTH}) in a chain of operators: `- - - x`, `a.b.c…` and `1 + 1 + …` nest one level each"
            ),
        ));
    }
    let parsed = parse_unchecked(src.text, ParseOptions::from(Mode::Module));
    if let Some(err) = parsed.errors().iter().min_by_key(|e| e.location.start()) {
        // CPython's tokenizer errors about brackets win over the parser's where they come first.
        let (offset, what) = match brackets(parsed.tokens()) {
            Some(Brackets::Mismatch { at, close, open }) if at <= err.location.start() => (
                at,
                format!(
                    "closing parenthesis '{close}' does not match opening parenthesis '{open}'"
                ),
            ),
            // As CPython: when parsing stops at the end of the file, or on a later line than
            // the bracket (on its own line, the parser's error stands).
            Some(Brackets::Unclosed { at, open })
                if src
                    .text
                    .get(usize::from(err.location.start())..)
                    .is_none_or(|rest| rest.trim().is_empty())
                    || src.line_of(u32::from(err.location.start()))
                        > src.line_of(u32::from(at)) =>
            {
                (at, format!("'{open}' was never closed"))
            }
            _ => (err.location.start(), python_message(src, err)),
        };
        let help = "fix the syntax error (python -m py_compile FILE shows it too); the other files were still read";
        return Err(syntax_error(src, u32::from(offset), &what, help));
    }
    let Some(module) = parsed.try_into_module() else {
        unreachable!("a module parse gives a module")
    };
    let mut suite = module.into_suite();
    normalise(src.text, &mut suite);
    if let Some((offset, depth)) = too_deep_ast(&suite) {
        return Err(too_deep_error(
            src,
            offset,
            format!("expression nesting reaches {depth} levels (limit {MAX_EXPR_DEPTH})"),
        ));
    }
    if let Some((offset, what)) = compile_checks
        .then(|| super::compile_checks::first_compile_error(&suite))
        .flatten()
    {
        let help = "CPython parses this file but refuses to compile it (python -m py_compile FILE shows it too); the other files were still read";
        return Err(syntax_error(src, u32::from(offset), what, help));
    }
    Ok(suite)
}

/// A syntax error at `offset`, worded as CPython words it.
fn syntax_error(src: &SourceText, offset: u32, what: &str, help: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: "syntax".into(),
        line: Some(src.line_of(offset)),
        span: Some(point(src, offset)),
        message: format!("invalid Python syntax: {what}"),
        help: Some(help.into()),
    }
}

/// The error for input nested too deep to parse or walk, at `offset`.
fn too_deep_error(src: &SourceText, offset: u32, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: "too-deep".into(),
        line: Some(src.line_of(offset)),
        span: Some(point(src, offset)),
        message,
        help: Some(
            "orchmig refuses pathologically nested code (CPython cannot compile it either); split the expression".into(),
        ),
    }
}

/// A bracket error as CPython's tokenizer reports it.
enum Brackets {
    /// A closing bracket of another kind than the innermost open one, at the closing one.
    Mismatch {
        at: TextSize,
        close: char,
        open: char,
    },
    /// The innermost bracket still open at the end of the file, at that bracket.
    Unclosed { at: TextSize, open: char },
}

/// The first bracket error in the tokens, if any.
fn brackets(tokens: &ast::token::Tokens) -> Option<Brackets> {
    use ast::token::TokenKind;
    let mut open: Vec<(TextSize, char)> = Vec::new();
    for t in tokens.iter() {
        let close = match t.kind() {
            TokenKind::Lpar => {
                open.push((t.start(), '('));
                continue;
            }
            TokenKind::Lsqb => {
                open.push((t.start(), '['));
                continue;
            }
            TokenKind::Lbrace => {
                open.push((t.start(), '{'));
                continue;
            }
            TokenKind::Rpar => ')',
            TokenKind::Rsqb => ']',
            TokenKind::Rbrace => '}',
            _ => continue,
        };
        match open.pop() {
            Some((_, o)) if matches!((o, close), ('(', ')') | ('[', ']') | ('{', '}')) => {}
            Some((_, o)) => {
                return Some(Brackets::Mismatch {
                    at: t.start(),
                    close,
                    open: o,
                });
            }
            None => {}
        }
    }
    open.pop().map(|(at, open)| Brackets::Unclosed { at, open })
}

/// CPython's wording for a parse error where it has a fixed one, else ruff's.
fn python_message(src: &SourceText, err: &ParseError) -> String {
    match &err.error {
        ParseErrorType::UnexpectedIndentation => "unexpected indent".into(),
        ParseErrorType::Lexical(LexicalErrorType::IndentationError) => {
            "unindent does not match any outer indentation level".into()
        }
        ParseErrorType::Lexical(LexicalErrorType::UnclosedStringError) => {
            let text = src.slice(err.location);
            let quotes = text.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let triple = quotes.starts_with("\"\"\"") || quotes.starts_with("'''");
            let (start, end) = (
                u32::from(err.location.start()),
                u32::from(err.location.end()),
            );
            format!(
                "unterminated {}string literal (detected at line {})",
                if triple { "triple-quoted " } else { "" },
                src.line_of(end.saturating_sub(1).max(start))
            )
        }
        ParseErrorType::ExpectedToken {
            expected: ast::token::TokenKind::Colon,
            ..
        } => "expected ':'".into(),
        ParseErrorType::Lexical(LexicalErrorType::UnrecognizedToken { .. }) => {
            "invalid syntax".into()
        }
        ParseErrorType::Lexical(LexicalErrorType::Eof) => {
            "unexpected end of file (an unclosed bracket or block?)".into()
        }
        ParseErrorType::Lexical(e) => lower_first(&e.to_string()),
        e => lower_first(&e.to_string()),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Shapes ruff's tree the way CPython's `ast` module has it, which the readers walk:
/// - the range of a decorated `def`/`class` starts at its keyword (`async` included), not at its
///   first decorator (a function is reported at its `def` line; decorators are listed apart);
/// - an `elif` is an `if` alone in the `else` of the one before it, from `elif` to the end of
///   the whole statement (see [`super::orelse`]).
fn normalise(text: &str, stmts: &mut [Stmt]) {
    for stmt in stmts {
        match stmt {
            Stmt::FunctionDef(f) => {
                if !f.decorator_list.is_empty() {
                    let mut start = keyword_before(text, f.name.start(), "def");
                    if f.is_async {
                        start = start.and_then(|s| keyword_before(text, s, "async"));
                    }
                    if let Some(start) = start {
                        f.range = TextRange::new(start, f.range.end());
                    }
                }
                normalise(text, &mut f.body);
            }
            Stmt::ClassDef(c) => {
                if !c.decorator_list.is_empty()
                    && let Some(start) = keyword_before(text, c.name.start(), "class")
                {
                    c.range = TextRange::new(start, c.range.end());
                }
                normalise(text, &mut c.body);
            }
            Stmt::For(s) => {
                normalise(text, &mut s.body);
                normalise(text, &mut s.orelse);
            }
            Stmt::While(s) => {
                normalise(text, &mut s.body);
                normalise(text, &mut s.orelse);
            }
            Stmt::If(s) => {
                nest_elif(s);
                normalise(text, &mut s.body);
                for clause in &mut s.elif_else_clauses {
                    normalise(text, &mut clause.body);
                }
            }
            Stmt::With(s) => normalise(text, &mut s.body),
            Stmt::Match(s) => {
                for case in &mut s.cases {
                    normalise(text, &mut case.body);
                }
            }
            Stmt::Try(s) => {
                normalise(text, &mut s.body);
                for h in &mut s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    normalise(text, &mut h.body);
                }
                normalise(text, &mut s.orelse);
                normalise(text, &mut s.finalbody);
            }
            _ => {}
        }
    }
}

/// Turns `if a: … elif b: … else: …` into `if a: … else: (if b: … else: …)`; the inner `if`
/// is nested in turn when [`normalise`] walks the `else`.
fn nest_elif(s: &mut ast::StmtIf) {
    if s.elif_else_clauses.first().is_none_or(|c| c.test.is_none()) {
        return;
    }
    let mut clauses = std::mem::take(&mut s.elif_else_clauses);
    let elif = clauses.remove(0);
    let range = TextRange::new(elif.range.start(), s.range.end());
    let Some(test) = elif.test else {
        unreachable!("checked above")
    };
    let inner = ast::StmtIf {
        node_index: ast::AtomicNodeIndex::default(),
        range,
        test: Box::new(test),
        body: elif.body,
        elif_else_clauses: clauses,
    };
    s.elif_else_clauses = vec![ast::ElifElseClause {
        range,
        node_index: ast::AtomicNodeIndex::default(),
        test: None,
        body: std::iter::once(Stmt::If(inner)).collect(),
    }];
}

/// The offset of `keyword` ending just before `at`, across whitespace and line continuations.
fn keyword_before(text: &str, at: TextSize, keyword: &str) -> Option<TextSize> {
    let mut end = usize::from(at);
    let bytes = text.as_bytes();
    loop {
        let before = &bytes[..end];
        match before.last() {
            Some(b' ' | b'\t' | b'\x0c') => end -= 1,
            Some(b'\n') if before.ends_with(b"\\\n") => end -= 2,
            Some(b'\n') if before.ends_with(b"\\\r\n") => end -= 3,
            _ => break,
        }
    }
    let start = end.checked_sub(keyword.len())?;
    if text.get(start..end)? != keyword {
        return None;
    }
    TextSize::try_from(start).ok()
}

/// The start offset and depth of the first expression nested deeper than [`MAX_EXPR_DEPTH`].
/// Depth is counted from the expressions' ranges in a pre-order walk: an expression is inside
/// every open one whose range contains it.
fn too_deep_ast(suite: &[Stmt]) -> Option<(u32, usize)> {
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

/// Parses a module's text with no file behind it (tests, generated code); `None` on an error.
pub fn parse_suite(text: &str) -> Option<Suite> {
    parse_module(&SourceText::new("<string>", text)).ok()
}

/// Parses a function body's text with no file behind it (a callable's body in the IR); `None`
/// on an error.
pub fn parse_body_text(text: &str) -> Option<Suite> {
    parse_body(&SourceText::new("<body>", text)).ok()
}

/// Parses one expression (a call site already read from a parsed module); `None` if it is not one.
pub fn parse_expression(text: &str) -> Option<Expr> {
    if too_deep(text).is_some() {
        return None;
    }
    ruff_python_parser::parse_expression(text)
        .ok()
        .map(|p| p.into_expr())
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

/// The offset and length where a chain of nesting operators first exceeds [`MAX_EXPR_DEPTH`]:
/// unary and binary arithmetic, shifts and bitwise operators, attribute dots, calls and
/// subscripts chained on a value, `not`, `await`, `lambda` and conditional `if`/`else`, counted
/// from the start of the innermost expression (a `,`, `:`, `;`, `=` or a new line starts one;
/// a bracket continues its enclosing chain). `and`, `or` and comparisons build flat nodes and do
/// not count. One linear pass over the bytes, before parsing: the parser and every walk over its
/// tree recurse once a level, so a 5 MB chain of `-` overflowed any stack.
fn too_long_chain(text: &str) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    // (chain length when the bracket opened, current chain length) per open bracket.
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    let mut i = 0;
    let mut prev_value = false;
    while i < b.len() {
        let c = b[i];
        let top = stack.len() - 1;
        let count = |stack: &mut Vec<(usize, usize)>, at: usize| {
            stack[top].1 += 1;
            (stack[top].1 > MAX_EXPR_DEPTH).then_some((at, stack[top].1))
        };
        match c {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\'' | b'"' => {
                i = skip_string(b, i);
                prev_value = true;
                continue;
            }
            b'\n' if stack.len() == 1 => stack[0] = (0, 0),
            b'(' | b'[' | b'{' => {
                if prev_value
                    && c != b'{'
                    && let Some(f) = count(&mut stack, i)
                {
                    return Some(f);
                }
                let now = stack[stack.len() - 1].1;
                stack.push((now, now));
                prev_value = false;
                i += 1;
                continue;
            }
            b')' | b']' | b'}' => {
                if stack.len() > 1 {
                    stack.pop();
                }
                prev_value = true;
                i += 1;
                continue;
            }
            b',' | b':' | b';' => stack[top].1 = stack[top].0,
            b'=' => {
                let comparison = i > 0 && matches!(b[i - 1], b'=' | b'<' | b'>' | b'!')
                    || b.get(i + 1) == Some(&b'=');
                if !comparison {
                    stack[top].1 = stack[top].0;
                }
            }
            // `<<` and `>>` nest; `<` and `>` compare (flat, not counted).
            b'<' | b'>' if b.get(i + 1) == Some(&c) => {
                if let Some(f) = count(&mut stack, i) {
                    return Some(f);
                }
                i += 2;
                prev_value = false;
                continue;
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'~' | b'@' | b'.' => {
                if let Some(f) = count(&mut stack, i) {
                    return Some(f);
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &b[start..i];
                if matches!(word, b"not" | b"await" | b"lambda" | b"if" | b"else") {
                    if let Some(f) = count(&mut stack, start) {
                        return Some(f);
                    }
                    prev_value = false;
                } else {
                    prev_value =
                        !matches!(word, b"and" | b"or" | b"in" | b"is" | b"for" | b"return");
                }
                // A string prefix (`f"…"`, `rb'…'`) is part of the string.
                continue;
            }
            c if c.is_ascii_digit() => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                prev_value = true;
                continue;
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() && c != b'\\' {
            prev_value = false;
        }
        i += 1;
    }
    None
}

/// The index just past the string literal that starts at `i` (a quote), triple-quoted or not;
/// the end of the text when it is not closed.
fn skip_string(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            c if c == q && (!triple || (b.get(j + 1) == Some(&q) && b.get(j + 2) == Some(&q))) => {
                return j + if triple { 3 } else { 1 };
            }
            b'\n' if !triple => return j,
            _ => j += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_operator_chains_are_refused_before_parsing_and_big_literals_are_not() {
        for (text, what) in [
            (format!("x = {}1\n", "-".repeat(5000)), "unary"),
            (format!("x = a{}\n", ".b".repeat(5000)), "attributes"),
            (format!("x = 1{}\n", " + 1".repeat(5000)), "binary"),
            (format!("x = f{}\n", "()".repeat(5000)), "calls"),
            (format!("x = {}1\n", "not ".repeat(5000)), "not"),
        ] {
            let src = SourceText::new("deep.py", &text);
            let d = parse_module(&src).unwrap_err();
            assert_eq!(d.code, "too-deep", "{what}: {}", d.message);
            assert_eq!(d.line, Some(1), "{what}");
        }
        // Flat things stay readable however long: data rows, `and` chains, comparisons, strings.
        let rows: String = (0..20_000)
            .map(|k| format!("{{\"a\": -{k}, \"b\": x.y.z}},\n"))
            .collect();
        let ands = vec!["a"; 5000].join(" and ");
        let text = format!(
            "ROWS = [\n{rows}]\nOK = {ands}\nS = \"{}\"\nC = 1 < 2 < 3 < 4\n# {}\n",
            "-".repeat(5000),
            "+".repeat(5000)
        );
        assert!(parse_module(&SourceText::new("flat.py", &text)).is_ok());
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
    fn a_nul_byte_anywhere_is_a_syntax_error_as_in_cpython() {
        // CPython: "source code cannot contain null bytes", even inside a string or a comment.
        for text in ["x = \"a\0b\"\n", "x = 1\n# c\0\n", "x = 1\0\n"] {
            let src = SourceText::new("nul.py", text);
            let d = parse_module(&src).unwrap_err();
            assert_eq!(d.code, "syntax");
            assert!(d.message.contains("null bytes"), "{}", d.message);
            let want = text[..text.find('\0').unwrap()].matches('\n').count() as u32 + 1;
            assert_eq!(d.line, Some(want), "{text:?}");
        }
    }

    #[test]
    fn an_unclosed_bracket_is_reported_where_it_opens() {
        let src = SourceText::new("eof.py", "x = 1\nprint((1, 2\n\n\n");
        let d = parse_module(&src).unwrap_err();
        assert_eq!(d.line, Some(2));
        assert_eq!(d.span.unwrap().col, 7);
        assert!(d.message.contains("'(' was never closed"), "{}", d.message);
    }

    #[test]
    fn bracket_and_string_errors_read_as_cpython_words_them() {
        let cases = [
            ("x = (1,\ny = 2\n", 1, "'(' was never closed"),
            ("print((1, 2", 1, "'(' was never closed"),
            (
                "x = 1\ndef f(:\n    pass\n",
                2,
                "expected a parameter or the end of the parameter list",
            ),
            (
                "x = (1, 2]\n",
                1,
                "closing parenthesis ']' does not match opening parenthesis '('",
            ),
            (
                "x = 1\ny = \"abc\nz = 1\n",
                2,
                "unterminated string literal (detected at line 2)",
            ),
            (
                "x = \"\"\"abc\ny = 1\n",
                1,
                "unterminated triple-quoted string literal (detected at line 2)",
            ),
            ("if x\n    pass\n", 1, "expected ':'"),
            (
                "def f():\n        a = 1\n    b = 2\n",
                3,
                "unindent does not match any outer indentation level",
            ),
        ];
        for (text, line, words) in cases {
            let d = parse_module(&SourceText::new("c.py", text)).unwrap_err();
            assert_eq!(
                (d.line, d.message.as_str()),
                (
                    Some(line),
                    format!("invalid Python syntax: {words}").as_str()
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn an_unexpected_indent_is_named_as_python_names_it() {
        let src = SourceText::new("i.py", "def f():\n    a()\n      b()\n");
        let d = parse_module(&src).unwrap_err();
        assert_eq!(d.line, Some(3));
        assert!(d.message.ends_with("unexpected indent"), "{}", d.message);
    }

    #[test]
    fn pep701_fstrings_parse() {
        let text = "row = {}\nx = f\"{row[\"id\"]}\"\ny = f\"{x=}\"\nz = f\"\"\"{\n    row[\"a\"]  # the key\n}\"\"\"\n";
        let src = SourceText::new("f.py", text);
        let suite = parse_module(&src).expect("PEP 701 f-strings parse");
        assert_eq!(suite.len(), 4);
        assert!(
            suite[1..]
                .iter()
                .all(|s| matches!(s, Stmt::Assign(a) if a.value.is_f_string_expr()))
        );
    }

    #[test]
    fn decorated_definitions_start_at_their_keyword() {
        let text = "@a\n@b(1)\nasync  def f():\n    pass\n\n@c\nclass K:\n    @d\n    def m(self):\n        pass\n";
        let src = SourceText::new("d.py", text);
        let suite = parse_module(&src).unwrap();
        assert!(src.slice(suite[0].range()).starts_with("async  def f"));
        assert!(src.slice(suite[1].range()).starts_with("class K"));
        let Stmt::ClassDef(k) = &suite[1] else {
            panic!()
        };
        assert!(src.slice(k.body[0].range()).starts_with("def m"));
    }

    #[test]
    fn ranges_are_byte_offsets_across_crlf_and_non_ascii() {
        let text = "import x\r\n\r\n@x.task\r\nasync def données(é: int):\r\n    \"\"\"Doc\r\n    string\"\"\"\r\n    return é\r\n";
        let src = SourceText::new("c.py", text);
        let suite = parse_module(&src).unwrap();
        let Stmt::FunctionDef(f) = &suite[1] else {
            panic!("not a def: {:?}", suite[1])
        };
        assert_eq!(src.span(f.range).line, 4);
        assert!(src.slice(f.range).starts_with("async def données(é: int):"));
        assert!(src.slice(f.range).ends_with("return é"));
        assert_eq!(src.span(f.body[0].range()).end_line, 6);
        let ret = src.span(f.body[1].range());
        assert_eq!((ret.line, ret.col), (7, 5));
        assert_eq!(src.slice(f.body[1].range()), "return é");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("x = {}1{}\n", "(".repeat(500), ")".repeat(500));
        let src = SourceText::new("deep.py", &text);
        assert_eq!(parse_module(&src).unwrap_err().code, "too-deep");
    }
}
