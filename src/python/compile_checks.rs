//! The errors CPython raises when it *compiles* a module that parses: `return` or `yield`
//! outside a function, `await` outside an async function, `break`/`continue` outside a loop,
//! `nonlocal` at module level, an assignment expression in a comprehension's iterable.
//! `ruff_python_parser` accepts all of them, and a file CPython refuses must not be read (and
//! ported) as if it loaded.

use super::ast::visitor::{self, Visitor};
use super::ast::{Expr, Ranged, Stmt, TextSize};

/// The first compile error in `suite`: its offset and CPython's message.
pub fn first_compile_error(suite: &[Stmt]) -> Option<(TextSize, &'static str)> {
    let mut checker = Checker {
        scope: Scope::Module,
        in_loop: false,
        found: None,
    };
    checker.visit_body(suite);
    checker.found
}

/// The innermost scope the walk is in, as CPython's compiler sees it.
#[derive(Clone, Copy, PartialEq)]
enum Scope {
    Module,
    Class,
    Function { is_async: bool },
}

/// The walk's state: where it is and the first error found.
struct Checker {
    scope: Scope,
    in_loop: bool,
    found: Option<(TextSize, &'static str)>,
}

impl Checker {
    /// Records an error unless an earlier one was found (the walk is in source order).
    fn report(&mut self, at: TextSize, message: &'static str) {
        if self.found.is_none() {
            self.found = Some((at, message));
        }
    }

    /// Walks `f` inside a new scope; a loop around the definition does not reach its body.
    fn within(&mut self, scope: Scope, f: impl FnOnce(&mut Self)) {
        let outer = (self.scope, self.in_loop);
        self.scope = scope;
        self.in_loop = false;
        f(self);
        (self.scope, self.in_loop) = outer;
    }

    /// Walks a loop's body with `break`/`continue` allowed (its `else:` is outside the loop).
    fn loop_body(&mut self, body: &[Stmt]) {
        let outer = self.in_loop;
        self.in_loop = true;
        self.visit_body(body);
        self.in_loop = outer;
    }

    fn in_function(&self) -> bool {
        matches!(self.scope, Scope::Function { .. })
    }
}

impl<'a> Visitor<'a> for Checker {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.found.is_some() {
            return;
        }
        match stmt {
            Stmt::FunctionDef(def) => {
                for decorator in &def.decorator_list {
                    self.visit_decorator(decorator);
                }
                self.visit_parameters(&def.parameters);
                if let Some(returns) = &def.returns {
                    self.visit_annotation(returns);
                }
                let scope = Scope::Function {
                    is_async: def.is_async,
                };
                self.within(scope, |c| c.visit_body(&def.body));
            }
            Stmt::ClassDef(class) => {
                for decorator in &class.decorator_list {
                    self.visit_decorator(decorator);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
                self.within(Scope::Class, |c| c.visit_body(&class.body));
            }
            Stmt::For(l) => {
                self.visit_expr(&l.target);
                self.visit_expr(&l.iter);
                self.loop_body(&l.body);
                self.visit_body(&l.orelse);
            }
            Stmt::While(w) => {
                self.visit_expr(&w.test);
                self.loop_body(&w.body);
                self.visit_body(&w.orelse);
            }
            Stmt::Return(r) if !self.in_function() => {
                self.report(r.start(), "'return' outside function")
            }
            Stmt::Break(b) if !self.in_loop => self.report(b.start(), "'break' outside loop"),
            Stmt::Continue(c) if !self.in_loop => {
                self.report(c.start(), "'continue' not properly in loop")
            }
            Stmt::Nonlocal(n) if self.scope == Scope::Module => self.report(
                n.start(),
                "nonlocal declaration not allowed at module level",
            ),
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found.is_some() {
            return;
        }
        match expr {
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_parameters(parameters);
                }
                let scope = Scope::Function { is_async: false };
                self.within(scope, |c| c.visit_expr(&lambda.body));
            }
            Expr::Yield(_) | Expr::YieldFrom(_) if !self.in_function() => {
                self.report(expr.start(), "'yield' outside function")
            }
            // CPython refuses `:=` anywhere in an iterable of a comprehension, a lambda's body
            // there included (3.11).
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                let generators = match expr {
                    Expr::ListComp(c) => &c.generators,
                    Expr::SetComp(c) => &c.generators,
                    Expr::DictComp(c) => &c.generators,
                    Expr::Generator(c) => &c.generators,
                    _ => unreachable!("matched above"),
                };
                for g in generators {
                    let mut named = NamedIn { found: None };
                    named.visit_expr(&g.iter);
                    if let Some(at) = named.found {
                        self.report(
                            at,
                            "assignment expression cannot be used in a comprehension iterable expression",
                        );
                    }
                }
                visitor::walk_expr(self, expr)
            }
            Expr::Await(_) => match self.scope {
                Scope::Function { is_async: true } => visitor::walk_expr(self, expr),
                Scope::Function { is_async: false } => {
                    self.report(expr.start(), "'await' outside async function")
                }
                Scope::Module | Scope::Class => {
                    self.report(expr.start(), "'await' outside function")
                }
            },
            _ => visitor::walk_expr(self, expr),
        }
    }
}

/// Finds the first assignment expression (`:=`) in an expression.
struct NamedIn {
    found: Option<TextSize>,
}

impl<'a> Visitor<'a> for NamedIn {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found.is_some() {
            return;
        }
        if let Expr::Named(n) = expr {
            self.found = Some(n.start());
            return;
        }
        visitor::walk_expr(self, expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> Option<(u32, &'static str)> {
        let parsed = ruff_python_parser::parse_module(text).expect("parses");
        first_compile_error(parsed.suite()).map(|(at, m)| (u32::from(at), m))
    }

    #[test]
    fn statements_cpython_refuses_outside_their_context_are_found() {
        let cases = [
            ("x = 1\nreturn x\n", "'return' outside function"),
            ("class C:\n    return 1\n", "'return' outside function"),
            (
                "def f():\n    class C:\n        return 1\n",
                "'return' outside function",
            ),
            ("yield 1\n", "'yield' outside function"),
            ("x = [(yield from y)]\n", "'yield' outside function"),
            ("await g()\n", "'await' outside function"),
            (
                "def f():\n    await g()\n",
                "'await' outside async function",
            ),
            (
                "async def f():\n    h = lambda: await g()\n",
                "'await' outside async function",
            ),
            ("break\n", "'break' outside loop"),
            (
                "for x in y:\n    pass\nelse:\n    break\n",
                "'break' outside loop",
            ),
            (
                "while x:\n    def f():\n        continue\n",
                "'continue' not properly in loop",
            ),
            (
                "nonlocal x\n",
                "nonlocal declaration not allowed at module level",
            ),
            // Each checked against CPython 3.11's compile().
            (
                "[x for x in [(y := 1)]]\n",
                "assignment expression cannot be used in a comprehension iterable expression",
            ),
            (
                "{x: 1 for x in (lambda: (y := 1))()}\n",
                "assignment expression cannot be used in a comprehension iterable expression",
            ),
            (
                "(x for z in [1] for x in [[(y := z)] for q in z])\n",
                "assignment expression cannot be used in a comprehension iterable expression",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(error_of(text).map(|(_, m)| m), Some(want), "{text:?}");
        }
    }

    #[test]
    fn the_same_statements_in_their_context_are_fine() {
        let fine = [
            "def f():\n    return 1\n",
            "def f():\n    yield 1\n",
            "f = lambda: (yield)\n",
            "async def f():\n    await g()\n    async for x in y:\n        break\n",
            "for x in y:\n    if x:\n        continue\n    try:\n        break\n    finally:\n        pass\n",
            "while True:\n    match x:\n        case 1:\n            break\n",
            "def f():\n    x = 1\n    def g():\n        nonlocal x\n",
            "[x for x in [1] if (y := x)]\n",
            "[(y := x) for x in [1]]\n",
            "f([(y := 1)])\n",
        ];
        for text in fine {
            assert_eq!(error_of(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_error_is_at_the_offending_statement() {
        assert_eq!(
            error_of("a = 1\n\nreturn a\n"),
            Some((7, "'return' outside function"))
        );
    }
}
