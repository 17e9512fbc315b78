//! The module-level code that pipeline bodies rely on: imports, constants, helper functions
//! and classes — everything at the top level that is not itself a pipeline construct.

use crate::python::ast::{Expr, Ranged, Stmt};

use crate::ir::{Framework, SupportItem};
use crate::python::imports::ImportMap;
use crate::python::source::SourceText;

/// The support items of a module, in source order.
pub fn support(suite: &[Stmt], src: &SourceText, imports: &ImportMap) -> Vec<SupportItem> {
    let mut out = Vec::new();
    // Names of decorated functions (tasks, flows, assets): code built from them is a pipeline
    // construct, not support code.
    let decorated: Vec<String> = suite
        .iter()
        .filter_map(|s| match s {
            Stmt::FunctionDef(f) if !f.decorator_list.is_empty() => Some(f.name.to_string()),
            _ => None,
        })
        .collect();
    let mentions_decorated = |e: &Expr| {
        let mut found = false;
        walk_names(e, &mut |n| found |= decorated.iter().any(|d| d == n));
        found
    };
    for stmt in suite {
        let text = src.slice(stmt.range()).to_string();
        match stmt {
            Stmt::Import(s) => {
                for a in &s.names {
                    let local = a.asname.as_ref().map_or_else(
                        || a.name.split('.').next().unwrap_or(&a.name).to_string(),
                        |x| x.to_string(),
                    );
                    let line = match &a.asname {
                        Some(x) => format!("import {} as {x}", a.name),
                        None => format!("import {}", a.name),
                    };
                    out.push(SupportItem {
                        text: line,
                        binds: vec![local],
                        framework: framework_of(&a.name),
                        import: true,
                    });
                }
            }
            Stmt::ImportFrom(s) => {
                let level = s.level as usize;
                let module = format!(
                    "{}{}",
                    ".".repeat(level),
                    s.module.as_ref().map_or("", |m| m.as_str())
                );
                for a in &s.names {
                    let local = a.asname.as_ref().unwrap_or(&a.name).to_string();
                    let line = match &a.asname {
                        Some(x) => format!("from {module} import {} as {x}", a.name),
                        None => format!("from {module} import {}", a.name),
                    };
                    out.push(SupportItem {
                        text: line,
                        binds: vec![local],
                        framework: framework_of(&module),
                        import: true,
                    });
                }
            }
            Stmt::Assign(a) => {
                if uses_framework(&a.value, imports)
                    || mentions_decorated(&a.value)
                    || a.value.is_call_expr() && !is_plain_call(&a.value, imports)
                {
                    continue;
                }
                let binds = a.targets.iter().flat_map(names_of).collect();
                out.push(SupportItem {
                    text,
                    binds,
                    framework: None,
                    import: false,
                });
            }
            Stmt::AnnAssign(a) => {
                if a.value.as_ref().is_some_and(|v| uses_framework(v, imports)) {
                    continue;
                }
                out.push(SupportItem {
                    text,
                    binds: names_of(&a.target),
                    framework: None,
                    import: false,
                });
            }
            Stmt::FunctionDef(f) if f.decorator_list.is_empty() => {
                out.push(SupportItem {
                    text,
                    binds: vec![f.name.to_string()],
                    framework: None,
                    import: false,
                });
            }
            Stmt::ClassDef(c) => {
                // A subclass of a framework class (a Dagster resource, say) only exists in that framework.
                let framework = c.bases().iter().find_map(|b| framework_of_expr(b, imports));
                out.push(SupportItem {
                    text,
                    binds: vec![c.name.to_string()],
                    framework,
                    import: false,
                });
            }
            _ => {}
        }
    }
    out
}

fn framework_of(module: &str) -> Option<Framework> {
    let top = module.split('.').next().unwrap_or(module);
    Framework::ALL.into_iter().find(|f| f.id() == top)
}

/// The framework an expression's names come from, if any.
fn framework_of_expr(e: &Expr, imports: &ImportMap) -> Option<Framework> {
    let mut found = None;
    walk_names(e, &mut |name| {
        if found.is_none() {
            found = imports.get(name).and_then(framework_of);
        }
    });
    found
}

fn names_of(target: &Expr) -> Vec<String> {
    match target {
        Expr::Name(n) => vec![n.id.to_string()],
        Expr::Tuple(t) => t.elts.iter().flat_map(names_of).collect(),
        Expr::List(l) => l.elts.iter().flat_map(names_of).collect(),
        _ => Vec::new(),
    }
}

/// True when an expression mentions a name imported from a framework.
fn uses_framework(e: &Expr, imports: &ImportMap) -> bool {
    let mut found = false;
    walk_names(e, &mut |name| {
        if let Some(q) = imports.get(name)
            && framework_of(q).is_some()
        {
            found = true;
        }
    });
    found
}

/// Calls of builtins or standard modules (`dict(...)`, `Path(...)`) are plain code.
fn is_plain_call(e: &Expr, imports: &ImportMap) -> bool {
    let Expr::Call(c) = e else { return true };
    match imports.qualify(&c.func) {
        Some(q) => framework_of(&q).is_none(),
        None => true,
    }
}

fn walk_names(e: &Expr, f: &mut dyn FnMut(&str)) {
    match e {
        Expr::Name(n) => f(n.id.as_str()),
        Expr::Attribute(a) => walk_names(&a.value, f),
        Expr::Call(c) => {
            walk_names(&c.func, f);
            c.arguments.args.iter().for_each(|a| walk_names(a, f));
            c.arguments
                .keywords
                .iter()
                .for_each(|k| walk_names(&k.value, f));
        }
        Expr::List(l) => l.elts.iter().for_each(|x| walk_names(x, f)),
        Expr::Tuple(t) => t.elts.iter().for_each(|x| walk_names(x, f)),
        Expr::Set(t) => t.elts.iter().for_each(|x| walk_names(x, f)),
        Expr::Dict(d) => {
            d.items
                .iter()
                .filter_map(|i| i.key.as_ref())
                .for_each(|x| walk_names(x, f));
            d.items.iter().for_each(|i| walk_names(&i.value, f));
        }
        Expr::BinOp(b) => {
            walk_names(&b.left, f);
            walk_names(&b.right, f);
        }
        Expr::Subscript(s) => {
            walk_names(&s.value, f);
            walk_names(&s.slice, f);
        }
        _ => {}
    }
}
