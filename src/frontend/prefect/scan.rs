//! What a task or flow body uses of Prefect's runtime API: the run logger, artifacts,
//! `prefect.runtime` fields, pauses. Found by walking every expression of the body.

use rustpython_parser::ast::{self, Expr, Stmt};
use std::collections::BTreeMap;

use super::names::{Symbol, classify};
use crate::frontend::imports::ImportMap;
use crate::ir::Value;

/// Calls every expression of a suite, outer expressions before inner ones; nested function
/// bodies are included (a helper defined inside a task still runs inside it).
pub fn walk_suite<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a Expr)) {
    for s in stmts {
        walk_stmt(s, f);
    }
}

fn walk_stmt<'a>(s: &'a Stmt, f: &mut dyn FnMut(&'a Expr)) {
    match s {
        Stmt::Expr(e) => walk_expr(&e.value, f),
        Stmt::Assign(a) => {
            a.targets.iter().for_each(|t| walk_expr(t, f));
            walk_expr(&a.value, f);
        }
        Stmt::AnnAssign(a) => {
            walk_expr(&a.target, f);
            if let Some(v) = &a.value {
                walk_expr(v, f);
            }
        }
        Stmt::AugAssign(a) => {
            walk_expr(&a.target, f);
            walk_expr(&a.value, f);
        }
        Stmt::Return(r) => {
            if let Some(v) = &r.value {
                walk_expr(v, f);
            }
        }
        Stmt::If(i) => {
            walk_expr(&i.test, f);
            walk_suite(&i.body, f);
            walk_suite(&i.orelse, f);
        }
        Stmt::While(w) => {
            walk_expr(&w.test, f);
            walk_suite(&w.body, f);
            walk_suite(&w.orelse, f);
        }
        Stmt::For(l) => {
            walk_expr(&l.iter, f);
            walk_suite(&l.body, f);
            walk_suite(&l.orelse, f);
        }
        Stmt::AsyncFor(l) => {
            walk_expr(&l.iter, f);
            walk_suite(&l.body, f);
            walk_suite(&l.orelse, f);
        }
        Stmt::With(w) => {
            w.items.iter().for_each(|i| walk_expr(&i.context_expr, f));
            walk_suite(&w.body, f);
        }
        Stmt::AsyncWith(w) => {
            w.items.iter().for_each(|i| walk_expr(&i.context_expr, f));
            walk_suite(&w.body, f);
        }
        Stmt::Try(t) => {
            walk_suite(&t.body, f);
            for h in &t.handlers {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                walk_suite(&h.body, f);
            }
            walk_suite(&t.orelse, f);
            walk_suite(&t.finalbody, f);
        }
        Stmt::TryStar(t) => {
            walk_suite(&t.body, f);
            walk_suite(&t.orelse, f);
            walk_suite(&t.finalbody, f);
        }
        Stmt::FunctionDef(d) => walk_suite(&d.body, f),
        Stmt::AsyncFunctionDef(d) => walk_suite(&d.body, f),
        Stmt::Raise(r) => {
            if let Some(e) = &r.exc {
                walk_expr(e, f);
            }
        }
        Stmt::Assert(a) => walk_expr(&a.test, f),
        Stmt::Match(m) => {
            walk_expr(&m.subject, f);
            for case in &m.cases {
                walk_suite(&case.body, f);
            }
        }
        _ => {}
    }
}

/// Calls `f` on an expression and every expression inside it.
pub fn walk_expr<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    let each = |xs: &'a [Expr], f: &mut dyn FnMut(&'a Expr)| {
        for x in xs {
            walk_expr(x, f);
        }
    };
    match e {
        Expr::BoolOp(b) => each(&b.values, f),
        Expr::NamedExpr(n) => walk_expr(&n.value, f),
        Expr::BinOp(b) => {
            walk_expr(&b.left, f);
            walk_expr(&b.right, f);
        }
        Expr::UnaryOp(u) => walk_expr(&u.operand, f),
        Expr::Lambda(l) => walk_expr(&l.body, f),
        Expr::IfExp(i) => {
            walk_expr(&i.test, f);
            walk_expr(&i.body, f);
            walk_expr(&i.orelse, f);
        }
        Expr::Dict(d) => {
            for k in d.keys.iter().flatten() {
                walk_expr(k, f);
            }
            each(&d.values, f);
        }
        Expr::Set(s) => each(&s.elts, f),
        Expr::List(l) => each(&l.elts, f),
        Expr::Tuple(t) => each(&t.elts, f),
        Expr::ListComp(c) => {
            walk_expr(&c.elt, f);
            walk_generators(&c.generators, f);
        }
        Expr::SetComp(c) => {
            walk_expr(&c.elt, f);
            walk_generators(&c.generators, f);
        }
        Expr::GeneratorExp(c) => {
            walk_expr(&c.elt, f);
            walk_generators(&c.generators, f);
        }
        Expr::DictComp(c) => {
            walk_expr(&c.key, f);
            walk_expr(&c.value, f);
            walk_generators(&c.generators, f);
        }
        Expr::Await(a) => walk_expr(&a.value, f),
        Expr::Yield(y) => {
            if let Some(v) = &y.value {
                walk_expr(v, f);
            }
        }
        Expr::YieldFrom(y) => walk_expr(&y.value, f),
        Expr::Compare(c) => {
            walk_expr(&c.left, f);
            each(&c.comparators, f);
        }
        Expr::Call(c) => {
            walk_expr(&c.func, f);
            each(&c.args, f);
            for k in &c.keywords {
                walk_expr(&k.value, f);
            }
        }
        Expr::FormattedValue(v) => walk_expr(&v.value, f),
        Expr::JoinedStr(j) => each(&j.values, f),
        Expr::Attribute(a) => walk_expr(&a.value, f),
        Expr::Subscript(s) => {
            walk_expr(&s.value, f);
            walk_expr(&s.slice, f);
        }
        Expr::Starred(s) => walk_expr(&s.value, f),
        Expr::Slice(s) => {
            for part in [&s.lower, &s.upper, &s.step].into_iter().flatten() {
                walk_expr(part, f);
            }
        }
        Expr::Name(_) | Expr::Constant(_) => {}
    }
}

fn walk_generators<'a>(gens: &'a [ast::Comprehension], f: &mut dyn FnMut(&'a Expr)) {
    for g in gens {
        walk_expr(&g.iter, f);
        for cond in &g.ifs {
            walk_expr(cond, f);
        }
    }
}

/// The runtime API a body uses, as `extra` entries: `run_logger`, `artifacts`, `runtime`, `pauses`.
pub fn runtime_uses(body: &[Stmt], imports: &ImportMap) -> BTreeMap<String, Value> {
    let mut logger = false;
    let mut artifacts: Vec<Value> = Vec::new();
    let mut runtime: Vec<String> = Vec::new();
    let mut pauses = false;
    walk_suite(body, &mut |e| match e {
        Expr::Call(c) => {
            let Some(q) = imports.qualify(&c.func) else {
                return;
            };
            match classify(&q) {
                Some(Symbol::RunLogger) => logger = true,
                Some(Symbol::Artifact(kind)) => {
                    let mut m = BTreeMap::new();
                    m.insert("kind".to_string(), Value::Str(kind.into()));
                    if let Some(key) = c.keywords.iter().find(|k| k.arg.as_deref() == Some("key"))
                        && let Expr::Constant(k) = &key.value
                        && let ast::Constant::Str(s) = &k.value
                    {
                        m.insert("key".to_string(), Value::Str(s.clone()));
                    }
                    artifacts.push(Value::Dict(m));
                }
                Some(Symbol::Pause) => pauses = true,
                _ => {}
            }
        }
        Expr::Attribute(_) => {
            if let Some(q) = imports.qualify(e)
                && let Some(rest) = q.strip_prefix("prefect.runtime.")
            {
                let mut parts = rest.split('.');
                if let (Some(object), Some(field)) = (parts.next(), parts.next()) {
                    let used = format!("{object}.{field}");
                    if !runtime.contains(&used) {
                        runtime.push(used);
                    }
                }
            }
        }
        _ => {}
    });
    let mut out = BTreeMap::new();
    if logger {
        out.insert("run_logger".to_string(), Value::Bool(true));
    }
    if !artifacts.is_empty() {
        out.insert("artifacts".to_string(), Value::List(artifacts));
    }
    if !runtime.is_empty() {
        out.insert(
            "runtime".to_string(),
            Value::List(runtime.into_iter().map(Value::Str).collect()),
        );
    }
    if pauses {
        out.insert("pauses".to_string(), Value::Bool(true));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustpython_parser::Parse;

    #[test]
    fn finds_logger_artifacts_and_runtime() {
        let text = "from prefect import get_run_logger\nfrom prefect.artifacts import create_markdown_artifact\nfrom prefect.runtime import flow_run\ndef body():\n    log = get_run_logger()\n    create_markdown_artifact(key='daily-report', markdown='# hi')\n    print(flow_run.name)\n";
        let suite = ast::Suite::parse(text, "t.py").unwrap();
        let imports = ImportMap::from_suite(&suite);
        let Stmt::FunctionDef(f) = &suite[3] else {
            panic!()
        };
        let uses = runtime_uses(&f.body, &imports);
        assert_eq!(uses["run_logger"], Value::Bool(true));
        let Value::List(arts) = &uses["artifacts"] else {
            panic!()
        };
        let Value::Dict(a) = &arts[0] else { panic!() };
        assert_eq!(a["kind"], Value::Str("markdown".into()));
        assert_eq!(a["key"], Value::Str("daily-report".into()));
        assert_eq!(
            uses["runtime"],
            Value::List(vec![Value::Str("flow_run.name".into())])
        );
    }
}
