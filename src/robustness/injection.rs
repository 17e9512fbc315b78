//! The injection oracle: a port may only call what it defines, imports, what the input's own
//! code names, or a harmless builtin. A name that reaches a call any other way came from a
//! string, a comment or a file name of the input: code steered by input.

use std::collections::HashSet;

use crate::python::ast::{
    self, Alias, ExceptHandler, Expr, Parameter, Ranged, Stmt, Suite,
    visitor::{self, Visitor},
};

/// Python's builtins a port may call without defining them. Those that run or load code
/// (`__import__`, `eval`, `exec`, `compile`, `open`, `breakpoint`) are left out on purpose:
/// calling one needs the input's own code to name it.
const HARMLESS_BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "ascii",
    "bin",
    "bool",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "complex",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "ord",
    "pow",
    "print",
    "property",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
];

/// Every identifier the input's code itself contains (names, attributes, definitions,
/// parameters, keywords, imports) — never the contents of its strings or comments.
pub fn code_words(suite: &Suite) -> HashSet<String> {
    let mut w = Words::default();
    w.visit_body(suite);
    w.all
}

/// Calls in `output` whose callee is neither defined nor imported in it, nor a harmless
/// builtin, nor named by the input's code (`input_words`): each is an injected call.
pub fn foreign_calls(output: &Suite, input_words: &HashSet<String>) -> Vec<String> {
    let mut w = Words::default();
    w.visit_body(output);
    let harmless = |n: &str| HARMLESS_BUILTINS.contains(&n) || n.ends_with("Error");
    let mut found: Vec<String> = w
        .callees
        .into_iter()
        .filter(|n| !w.bound.contains(n) && !harmless(n) && !input_words.contains(n))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Raw characters a generated file must never hold: C0 controls other than line feed and tab,
/// DEL, C1 controls and the Unicode line and paragraph separators.
pub fn raw_control(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        (c < ' ' && c != '\n' && c != '\t')
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || c == '\u{2028}'
            || c == '\u{2029}'
    })
}

/// [`raw_control`], except inside source the port copied from the input as it is: a line, or
/// a token (a string, an f-string part, a comment) that a writer moved into new code. A step
/// body keeps the user's own bytes, control characters in its strings included: that is
/// faithful, not injected. A literal a writer makes from a name escapes them.
pub fn raw_control_not_copied(output: &str, input: &str) -> Option<(usize, char)> {
    // The common case costs one scan: the input's lines and the output's tokens are only
    // looked at when there is a control character to explain.
    raw_control(output)?;
    let copied: HashSet<&str> = input.lines().map(str::trim).collect();
    let tokens = ruff_python_parser::parse_unchecked(
        output,
        ruff_python_parser::ParseOptions::from(ruff_python_parser::Mode::Module),
    );
    let in_copied_token = |at: usize| {
        tokens.tokens().iter().any(|t| {
            let (start, end) = (usize::from(t.start()), usize::from(t.end()));
            start <= at && at < end && output.get(start..end).is_some_and(|s| input.contains(s))
        })
    };
    let mut start = 0;
    for line in output.split_inclusive('\n') {
        let mut rest = line;
        let mut offset = start;
        while let Some((at, c)) = raw_control(rest) {
            if !copied.contains(line.trim()) && !in_copied_token(offset + at) {
                return Some((offset + at, c));
            }
            let skip = at + c.len_utf8();
            rest = &rest[skip..];
            offset += skip;
        }
        start += line.len();
    }
    None
}

/// What one walk collects: every identifier, the names bound, and the bare names called.
#[derive(Default)]
struct Words {
    all: HashSet<String>,
    bound: HashSet<String>,
    callees: Vec<String>,
}

impl Words {
    fn bind(&mut self, name: &str) {
        self.all.insert(name.to_string());
        self.bound.insert(name.to_string());
    }
}

impl<'a> Visitor<'a> for Words {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(d) => self.bind(d.name.as_str()),
            Stmt::ClassDef(c) => self.bind(c.name.as_str()),
            Stmt::Global(g) => g.names.iter().for_each(|n| self.bind(n.as_str())),
            Stmt::Nonlocal(g) => g.names.iter().for_each(|n| self.bind(n.as_str())),
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(n) => {
                self.all.insert(n.id.to_string());
                if !matches!(n.ctx, ast::ExprContext::Load) {
                    self.bound.insert(n.id.to_string());
                }
            }
            Expr::Attribute(a) => {
                self.all.insert(a.attr.to_string());
            }
            Expr::Call(c) => {
                if let Expr::Name(n) = c.func.as_ref() {
                    self.callees.push(n.id.to_string());
                }
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }

    fn visit_parameter(&mut self, p: &'a Parameter) {
        self.bind(p.name.as_str());
        visitor::walk_parameter(self, p);
    }

    fn visit_keyword(&mut self, k: &'a ast::Keyword) {
        if let Some(arg) = &k.arg {
            self.all.insert(arg.to_string());
        }
        visitor::walk_keyword(self, k);
    }

    fn visit_alias(&mut self, a: &'a Alias) {
        for part in a.name.split('.') {
            self.all.insert(part.to_string());
        }
        match &a.asname {
            Some(n) => self.bind(n.as_str()),
            None => self.bind(a.name.split('.').next().unwrap_or_default()),
        }
    }

    fn visit_except_handler(&mut self, h: &'a ExceptHandler) {
        let ExceptHandler::ExceptHandler(h2) = h;
        if let Some(n) = &h2.name {
            self.bind(n.as_str());
        }
        visitor::walk_except_handler(self, h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::{parse::parse_module, source::SourceText};

    fn suite(text: &str) -> Suite {
        parse_module(&SourceText::new("t.py", text)).unwrap()
    }

    #[test]
    fn a_call_that_came_from_a_string_is_foreign_and_generated_names_are_not() {
        let input = suite("from prefect import flow\nt = 'x\\nstolen()'\nhelper()\n");
        let words = code_words(&input);
        assert!(words.contains("helper") && !words.contains("stolen"));
        let output = suite(
            "import dagster as dg\n@dg.asset\ndef x():\n    helper()\n    print(len([]))\n    raise ValueError('x')\n# x\nstolen()\n__import__('os')\n",
        );
        assert_eq!(foreign_calls(&output, &words), ["__import__", "stolen"]);
        // A dangerous builtin the input's own code calls may be carried over.
        let words = code_words(&suite("eval('1')\n"));
        assert!(foreign_calls(&suite("eval('1')\n"), &words).is_empty());
    }

    #[test]
    fn raw_controls_are_found_and_line_ends_and_tabs_are_not() {
        assert_eq!(raw_control("a\n\tb"), None);
        assert_eq!(raw_control("a\rb"), Some((1, '\r')));
        assert_eq!(raw_control("a\u{2028}"), Some((1, '\u{2028}')));
        // A body line copied from the input keeps its bytes; a generated line may not.
        let input = "def f():\n    print('a\u{1}b')\n";
        assert_eq!(
            raw_control_not_copied("# x\ndef g():\n        print('a\u{1}b')\n", input),
            None
        );
        assert_eq!(
            raw_control_not_copied("# x\nname = 'a\u{1}c'\n", input),
            Some((13, '\u{1}'))
        );
        // A string token of the input moved into a new call keeps its bytes too.
        assert_eq!(raw_control_not_copied("x = md('a\u{1}b')\n", input), None);
    }
}
