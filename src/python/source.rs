//! A source file's text with a line index, for spans and source slices.

use ruff_text_size::TextRange;

use crate::ir::Span;

/// A file's text and where its lines start.
pub struct SourceText<'a> {
    /// The path as shown to the user.
    pub path: &'a str,
    /// The full text.
    pub text: &'a str,
    line_starts: Vec<u32>,
}

impl<'a> SourceText<'a> {
    /// Indexes `text`'s lines.
    pub fn new(path: &'a str, text: &'a str) -> SourceText<'a> {
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        SourceText {
            path,
            text,
            line_starts,
        }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: u32) -> u32 {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i as u32 + 1,
            Err(i) => i as u32,
        }
    }

    /// 1-based character column of a byte offset.
    pub fn col_of(&self, offset: u32) -> u32 {
        let line = self.line_of(offset) as usize;
        let start = self.line_starts[line - 1] as usize;
        let end = (offset as usize).min(self.text.len());
        self.text
            .get(start..end)
            .map_or(1, |s| s.chars().count() as u32 + 1)
    }

    /// The span of an AST range.
    pub fn span(&self, range: TextRange) -> Span {
        let start = u32::from(range.start());
        let end = u32::from(range.end());
        Span {
            line: self.line_of(start),
            col: self.col_of(start),
            end_line: self.line_of(end.saturating_sub(1).max(start)),
            start,
            end,
        }
    }

    /// The source text of an AST range.
    pub fn slice(&self, range: TextRange) -> &'a str {
        let start = u32::from(range.start()) as usize;
        let end = u32::from(range.end()) as usize;
        self.text.get(start..end).unwrap_or("")
    }

    /// The text of one 1-based line, without its newline.
    pub fn line_text(&self, line: u32) -> &'a str {
        let i = (line.max(1) - 1) as usize;
        let Some(&start) = self.line_starts.get(i) else {
            return "";
        };
        let end = self
            .line_starts
            .get(i + 1)
            .map_or(self.text.len(), |&e| e as usize);
        self.text
            .get(start as usize..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }
}

/// Removes the body's indentation (that of its first non-blank line, where its first statement
/// starts) from every line: a line indented less (a continuation inside brackets, a line of a
/// string) loses only its leading whitespace, never code.
pub fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .map_or(0, |l| l.len() - l.trim_start_matches([' ', '\t']).len());
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.trim().is_empty() {
            out.push('\n');
        } else {
            let own = line.len() - line.trim_start_matches([' ', '\t']).len();
            out.push_str(&line[own.min(indent)..]);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let s = SourceText::new("f.py", "ab\ncdé\nx");
        assert_eq!(s.line_of(0), 1);
        assert_eq!(s.line_of(3), 2);
        assert_eq!(s.col_of(4), 2);
        assert_eq!(s.line_of(9), 3);
        assert_eq!(s.line_text(2), "cdé");
    }

    #[test]
    fn dedents_bodies() {
        assert_eq!(dedent("    a\n      b\n\n    c"), "a\n  b\n\nc\n");
    }

    #[test]
    fn a_continuation_line_indented_less_keeps_its_code() {
        let body = "    rows = [\n        1\n,   2]\n    return rows";
        assert_eq!(dedent(body), "rows = [\n    1\n,   2]\nreturn rows\n");
    }
}
