//! A pre-order walk over every expression of a suite, for the readers' body scans.

use super::ast::{self, Expr, InterpolatedStringElement, InterpolatedStringElements, Stmt};

/// Calls `f` on every expression in `stmts`, nested bodies included, outer before inner.
pub fn each_expr<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a Expr)) {
    for s in stmts {
        stmt(s, f);
    }
}

fn exprs<'a>(es: impl IntoIterator<Item = &'a Expr>, f: &mut dyn FnMut(&'a Expr)) {
    for e in es {
        expr(e, f);
    }
}

fn stmt<'a>(s: &'a Stmt, f: &mut dyn FnMut(&'a Expr)) {
    match s {
        Stmt::FunctionDef(d) => {
            exprs(d.decorator_list.iter().map(|d| &d.expression), f);
            each_expr(&d.body, f);
        }
        Stmt::ClassDef(c) => {
            exprs(c.bases(), f);
            each_expr(&c.body, f);
        }
        Stmt::Return(r) => exprs(r.value.as_deref(), f),
        Stmt::Delete(d) => exprs(&d.targets, f),
        Stmt::Assign(a) => {
            exprs(&a.targets, f);
            expr(&a.value, f);
        }
        Stmt::TypeAlias(t) => expr(&t.value, f),
        Stmt::AugAssign(a) => {
            expr(&a.target, f);
            expr(&a.value, f);
        }
        Stmt::AnnAssign(a) => {
            expr(&a.target, f);
            exprs(a.value.as_deref(), f);
        }
        Stmt::For(l) => {
            expr(&l.iter, f);
            each_expr(&l.body, f);
            each_expr(&l.orelse, f);
        }
        Stmt::While(w) => {
            expr(&w.test, f);
            each_expr(&w.body, f);
            each_expr(&w.orelse, f);
        }
        Stmt::If(i) => {
            expr(&i.test, f);
            each_expr(&i.body, f);
            for clause in &i.elif_else_clauses {
                exprs(&clause.test, f);
                each_expr(&clause.body, f);
            }
        }
        Stmt::With(w) => {
            for item in &w.items {
                expr(&item.context_expr, f);
            }
            each_expr(&w.body, f);
        }
        Stmt::Match(m) => {
            expr(&m.subject, f);
            for case in &m.cases {
                exprs(case.guard.as_deref(), f);
                each_expr(&case.body, f);
            }
        }
        Stmt::Raise(r) => {
            exprs(r.exc.as_deref(), f);
            exprs(r.cause.as_deref(), f);
        }
        Stmt::Try(t) => {
            each_expr(&t.body, f);
            for h in &t.handlers {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                each_expr(&h.body, f);
            }
            each_expr(&t.orelse, f);
            each_expr(&t.finalbody, f);
        }
        Stmt::Assert(a) => {
            expr(&a.test, f);
            exprs(a.msg.as_deref(), f);
        }
        Stmt::Expr(e) => expr(&e.value, f),
        _ => {}
    }
}

fn comprehensions<'a>(gens: &'a [ast::Comprehension], f: &mut dyn FnMut(&'a Expr)) {
    for g in gens {
        expr(&g.iter, f);
        exprs(&g.ifs, f);
    }
}

/// Every call of a method named `method` (`x.method(…)`) in a body, outer before inner, in source
/// order.
pub fn method_calls<'a>(body: &'a [Stmt], method: &str) -> Vec<&'a ast::ExprCall> {
    let mut out = Vec::new();
    each_expr(body, &mut |e| {
        if let Expr::Call(call) = e
            && let Expr::Attribute(a) = &*call.func
            && a.attr.as_str() == method
        {
            out.push(call);
        }
    });
    out
}

/// Calls `f` on an expression and every expression inside it, outer before inner.
pub fn expr<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    match e {
        Expr::BoolOp(b) => exprs(&b.values, f),
        Expr::Named(n) => expr(&n.value, f),
        Expr::BinOp(b) => {
            expr(&b.left, f);
            expr(&b.right, f);
        }
        Expr::UnaryOp(u) => expr(&u.operand, f),
        Expr::Lambda(l) => expr(&l.body, f),
        Expr::If(i) => {
            expr(&i.test, f);
            expr(&i.body, f);
            expr(&i.orelse, f);
        }
        Expr::Dict(d) => {
            exprs(d.items.iter().filter_map(|i| i.key.as_ref()), f);
            exprs(d.items.iter().map(|i| &i.value), f);
        }
        Expr::Set(s) => exprs(&s.elts, f),
        Expr::ListComp(c) => {
            expr(&c.elt, f);
            comprehensions(&c.generators, f);
        }
        Expr::SetComp(c) => {
            expr(&c.elt, f);
            comprehensions(&c.generators, f);
        }
        Expr::DictComp(c) => {
            exprs(c.key.as_deref(), f);
            expr(&c.value, f);
            comprehensions(&c.generators, f);
        }
        Expr::Generator(c) => {
            expr(&c.elt, f);
            comprehensions(&c.generators, f);
        }
        Expr::Await(a) => expr(&a.value, f),
        Expr::Yield(y) => exprs(y.value.as_deref(), f),
        Expr::YieldFrom(y) => expr(&y.value, f),
        Expr::Compare(c) => {
            expr(&c.left, f);
            exprs(&c.comparators, f);
        }
        Expr::Call(c) => {
            expr(&c.func, f);
            exprs(&*c.arguments.args, f);
            for k in &*c.arguments.keywords {
                expr(&k.value, f);
            }
        }
        Expr::FString(s) => {
            for part in &s.value {
                if let ast::FStringPart::FString(fs) = part {
                    interpolations(&fs.elements, f);
                }
            }
        }
        Expr::TString(s) => {
            for t in &s.value {
                interpolations(&t.elements, f);
            }
        }
        Expr::Attribute(a) => expr(&a.value, f),
        Expr::Subscript(s) => {
            expr(&s.value, f);
            expr(&s.slice, f);
        }
        Expr::Starred(s) => expr(&s.value, f),
        Expr::List(l) => exprs(&l.elts, f),
        Expr::Tuple(t) => exprs(&t.elts, f),
        Expr::Slice(s) => {
            exprs(s.lower.as_deref(), f);
            exprs(s.upper.as_deref(), f);
            exprs(s.step.as_deref(), f);
        }
        Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::NumberLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_)
        | Expr::EllipsisLiteral(_)
        | Expr::Name(_)
        | Expr::IpyEscapeCommand(_) => {}
    }
}

/// The replacement fields of an f-string (their values; format specs are not walked).
fn interpolations<'a>(elements: &'a InterpolatedStringElements, f: &mut dyn FnMut(&'a Expr)) {
    for element in elements {
        if let InterpolatedStringElement::Interpolation(i) = element {
            expr(&i.expression, f);
        }
    }
}
