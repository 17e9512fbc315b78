//! Function definitions as IR callables: signature, decorators and body source with spans.

use crate::ir::{Callable, CallableParam};
use crate::python::ast::{self, Expr, Ranged, Stmt, TextRange};
use crate::python::source::{SourceText, dedent};

/// A `def` or `async def` seen uniformly.
#[derive(Clone, Copy)]
pub struct FunctionDef<'a> {
    /// Function name.
    pub name: &'a str,
    /// Parameters.
    pub args: &'a ast::Parameters,
    /// Body statements.
    pub body: &'a [Stmt],
    /// Decorators (`@` and expression).
    pub decorators: &'a [ast::Decorator],
    /// Return annotation.
    pub returns: Option<&'a Expr>,
    /// `async def`.
    pub is_async: bool,
    /// The whole statement's range.
    pub range: TextRange,
}

impl<'a> FunctionDef<'a> {
    /// The function definition a statement is, if it is one.
    pub fn of(stmt: &'a Stmt) -> Option<FunctionDef<'a>> {
        match stmt {
            Stmt::FunctionDef(f) => Some(FunctionDef {
                name: f.name.as_str(),
                args: &f.parameters,
                body: &f.body,
                decorators: &f.decorator_list,
                returns: f.returns.as_deref(),
                is_async: f.is_async,
                range: f.range,
            }),
            _ => None,
        }
    }

    /// Parameter names in positional order (positional-only, then regular).
    pub fn positional_names(&self) -> Vec<&'a str> {
        self.args
            .posonlyargs
            .iter()
            .chain(&self.args.args)
            .map(|a| a.parameter.name.as_str())
            .collect()
    }

    /// The docstring, if the body starts with one.
    pub fn docstring(&self) -> Option<String> {
        match self.body.first() {
            Some(Stmt::Expr(e)) => {
                crate::python::str_literal(&e.value).map(|s| s.trim().to_string())
            }
            _ => None,
        }
    }

    /// The IR callable: signature and body source, with spans.
    pub fn to_callable(&self, src: &SourceText) -> Callable {
        let mut params = Vec::new();
        let a = self.args;
        for p in a.posonlyargs.iter().chain(&a.args).chain(&a.kwonlyargs) {
            params.push(CallableParam {
                name: p.parameter.name.to_string(),
                annotation: p
                    .parameter
                    .annotation
                    .as_ref()
                    .map(|e| src.slice(e.range()).to_string()),
                default: p.default.as_ref().map(|e| src.slice(e.range()).to_string()),
            });
        }
        if let Some(v) = &a.vararg {
            params.push(CallableParam {
                name: format!("*{}", v.name),
                annotation: None,
                default: None,
            });
        }
        if let Some(k) = &a.kwarg {
            params.push(CallableParam {
                name: format!("**{}", k.name),
                annotation: None,
                default: None,
            });
        }
        let (body, body_range) = match (self.body.first(), self.body.last()) {
            (Some(first), Some(last)) => {
                let first_start = u32::from(first.range().start());
                let line_start = line_start_offset(src, first_start);
                let indent_only = src.text[line_start as usize..first_start as usize]
                    .trim()
                    .is_empty();
                let start = if indent_only { line_start } else { first_start };
                let range = TextRange::new(start.into(), last.range().end());
                (
                    dedent(src.slice(range)),
                    TextRange::new(first.range().start(), last.range().end()),
                )
            }
            _ => (String::new(), self.range),
        };
        Callable {
            name: self.name.to_string(),
            params,
            returns: self.returns.map(|e| src.slice(e.range()).to_string()),
            decorators: self
                .decorators
                .iter()
                .map(|d| src.slice(d.expression.range()).to_string())
                .collect(),
            is_async: self.is_async,
            body,
            body_span: src.span(body_range),
            span: src.span(self.range),
        }
    }
}

/// The source text of a statement, dedented as a function body would be (from the start of its
/// line when only indentation comes before it, so continuation lines keep their shape).
pub fn statement_text(src: &SourceText, range: TextRange) -> String {
    let start = u32::from(range.start());
    let line_start = line_start_offset(src, start);
    let indent_only = src
        .text
        .get(line_start as usize..start as usize)
        .is_some_and(|t| t.trim().is_empty());
    let from = if indent_only { line_start } else { start };
    dedent(src.slice(TextRange::new(from.into(), range.end())))
}

fn line_start_offset(src: &SourceText, offset: u32) -> u32 {
    let text = &src.text.as_bytes()[..(offset as usize).min(src.text.len())];
    text.iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p as u32 + 1)
}
