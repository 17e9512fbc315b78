//! Evaluates a call-site condition (`if report["ok"]:`, `if "load" in choice:`) over known JSON
//! values, so the dry runner decides conditions whose inputs are known (flow parameters, forced
//! outputs) without running Python. Only a small, side-effect-free part of Python is understood;
//! anything else is "cannot tell" (`None`), and the step then runs.

use std::collections::BTreeMap;

use serde_json::Value as J;

use crate::python::ast::{self, BoolOp, CmpOp, Expr, Number, UnaryOp};

/// Deepest nesting evaluated; deeper conditions are "cannot tell".
const MAX_DEPTH: usize = 64;

use crate::ir::STATE_METHODS;

/// The key under which a run's final state (`success`, `failed`, `upstream_failed`,
/// `skipped`) is bound for a local that holds its future or state.
pub fn state_key(name: &str) -> String {
    format!("\u{0}state:{name}")
}

/// The state bound for the local an expression names (`x` or `x.state`), if any.
fn state_of<'n>(e: &Expr, names: &'n BTreeMap<String, J>) -> Option<&'n str> {
    let name = match e {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) if a.attr.as_str() == "state" => match &*a.value {
            Expr::Name(n) => n.id.as_str(),
            _ => return None,
        },
        _ => return None,
    };
    names.get(&state_key(name)).and_then(J::as_str)
}

/// The truth of `expr` with `names` bound, or `None` when it cannot be told.
pub fn truth(expr: &str, names: &BTreeMap<String, J>) -> Option<bool> {
    let parsed = crate::python::parse::parse_expression(expr.trim())?;
    truth_of(&parsed, names, 0)
}

/// Truthiness with three values: `a and b` is false as soon as one operand is known false, even
/// when another cannot be told (and `or` true as soon as one is known true).
fn truth_of(e: &Expr, names: &BTreeMap<String, J>, depth: usize) -> Option<bool> {
    if depth > MAX_DEPTH {
        return None;
    }
    match e {
        Expr::BoolOp(b) => {
            let decisive = matches!(b.op, BoolOp::Or);
            let mut all_known = true;
            for x in &b.values {
                match truth_of(x, names, depth + 1) {
                    Some(t) if t == decisive => return Some(decisive),
                    Some(_) => {}
                    None => all_known = false,
                }
            }
            all_known.then_some(!decisive)
        }
        Expr::UnaryOp(u) if u.op == UnaryOp::Not => {
            truth_of(&u.operand, names, depth + 1).map(|t| !t)
        }
        _ => value(e, names, depth).map(|v| truthy(&v)),
    }
}

/// The value of an expression over known names, or `None` when it cannot be told.
pub fn evaluate(expr: &Expr, names: &BTreeMap<String, J>) -> Option<J> {
    value(expr, names, 0)
}

/// The value of a literal expression (a parameter's default), or `None`.
pub fn literal(expr: &str) -> Option<J> {
    let parsed = crate::python::parse::parse_expression(expr.trim())?;
    value(&parsed, &BTreeMap::new(), 0)
}

/// Python truthiness of a JSON value.
pub fn truthy(v: &J) -> bool {
    match v {
        J::Null => false,
        J::Bool(b) => *b,
        J::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        J::String(s) => !s.is_empty(),
        J::Array(a) => !a.is_empty(),
        J::Object(o) => !o.is_empty(),
    }
}

fn value(e: &Expr, names: &BTreeMap<String, J>, depth: usize) -> Option<J> {
    if depth > MAX_DEPTH {
        return None;
    }
    let go = |x: &Expr| value(x, names, depth + 1);
    match e {
        Expr::Name(n) => names.get(n.id.as_str()).cloned(),
        Expr::BooleanLiteral(b) => Some(J::Bool(b.value)),
        Expr::NoneLiteral(_) => Some(J::Null),
        Expr::StringLiteral(s) => Some(J::String(s.value.to_str().to_string())),
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_i64().map(J::from),
            Number::Float(f) => serde_json::Number::from_f64(*f).map(J::Number),
            Number::Complex { .. } => None,
        },
        Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) => elts
            .iter()
            .map(go)
            .collect::<Option<Vec<_>>>()
            .map(J::Array),
        Expr::UnaryOp(u) if u.op == UnaryOp::Not => go(&u.operand).map(|v| J::Bool(!truthy(&v))),
        Expr::BoolOp(b) => {
            // Python's `and`/`or` return the deciding operand.
            let mut last = None;
            for x in &b.values {
                let v = go(x)?;
                let decides = match b.op {
                    BoolOp::And => !truthy(&v),
                    BoolOp::Or => truthy(&v),
                };
                last = Some(v);
                if decides {
                    break;
                }
            }
            last
        }
        // A local bound to a run's future is None exactly when the call did not happen.
        Expr::Compare(c)
            if c.ops.len() == 1
                && matches!(c.ops[0], CmpOp::Is | CmpOp::IsNot)
                && c.comparators[0].is_none_literal_expr()
                && state_of(&c.left, names).is_some() =>
        {
            let none = state_of(&c.left, names) == Some("skipped");
            Some(J::Bool(if c.ops[0] == CmpOp::Is { none } else { !none }))
        }
        Expr::Compare(c) => {
            let mut left = go(&c.left)?;
            for (op, right) in c.ops.iter().zip(c.comparators.iter()) {
                let right = go(right)?;
                if !compare(*op, &left, &right)? {
                    return Some(J::Bool(false));
                }
                left = right;
            }
            Some(J::Bool(true))
        }
        Expr::Subscript(s) => {
            let base = go(&s.value)?;
            let key = go(&s.slice)?;
            match (&base, &key) {
                (J::Object(o), J::String(k)) => o.get(k).cloned(),
                (J::Array(a), J::Number(n)) => {
                    let i = n.as_i64()?;
                    let i = if i < 0 { a.len() as i64 + i } else { i };
                    usize::try_from(i).ok().and_then(|i| a.get(i)).cloned()
                }
                _ => None,
            }
        }
        Expr::If(x) => {
            if truthy(&go(&x.test)?) {
                go(&x.body)
            } else {
                go(&x.orelse)
            }
        }
        Expr::Call(call) => self::call(call, names, depth),
        _ => None,
    }
}

/// `bool(x)`, `len(x)`, `isinstance(x, str)` (and the other JSON types) and `x.result()` (a
/// future's value, which the run binds directly).
fn call(call: &ast::ExprCall, names: &BTreeMap<String, J>, depth: usize) -> Option<J> {
    if !call.arguments.keywords.is_empty() {
        return None;
    }
    let args = &call.arguments.args;
    match (&*call.func, args.len()) {
        (Expr::Name(f), 1) if f.id.as_str() == "bool" => {
            value(&args[0], names, depth + 1).map(|v| J::Bool(truthy(&v)))
        }
        (Expr::Name(f), 1) if f.id.as_str() == "len" => match value(&args[0], names, depth + 1)? {
            J::String(s) => Some(J::from(s.chars().count())),
            J::Array(a) => Some(J::from(a.len())),
            J::Object(o) => Some(J::from(o.len())),
            _ => None,
        },
        (Expr::Attribute(a), 0) if STATE_METHODS.contains(&a.attr.as_str()) => {
            let state = state_of(&a.value, names)?;
            Some(J::Bool(match a.attr.as_str() {
                "is_failed" => matches!(state, "failed" | "upstream_failed"),
                "is_completed" => state == "success",
                _ => false,
            }))
        }
        (Expr::Name(f), 2) if f.id.as_str() == "isinstance" => {
            let v = value(&args[0], names, depth + 1)?;
            let Expr::Name(t) = &args[1] else { return None };
            let is = match t.id.as_str() {
                "str" => v.is_string(),
                "list" | "tuple" => v.is_array(),
                "dict" => v.is_object(),
                "bool" => v.is_boolean(),
                "int" => v.is_i64() || v.is_u64() || v.is_boolean(),
                "float" => v.is_f64(),
                _ => return None,
            };
            Some(J::Bool(is))
        }
        (Expr::Attribute(a), 0) if a.attr.as_str() == "result" => value(&a.value, names, depth + 1),
        // A ported branch's test: did it choose one of these ids (one id, a list, or none)?
        (Expr::Name(f), n) if f.id.as_str() == "_chosen" && n >= 1 => {
            let chosen = match value(&args[0], names, depth + 1)? {
                J::String(s) => vec![J::String(s)],
                J::Array(a) => a,
                J::Null => Vec::new(),
                _ => return None,
            };
            let mut any = false;
            for id in &args[1..] {
                any |= chosen.contains(&value(id, names, depth + 1)?);
            }
            Some(J::Bool(any))
        }
        _ => None,
    }
}

fn compare(op: CmpOp, l: &J, r: &J) -> Option<bool> {
    let num = |v: &J| v.as_f64();
    Some(match op {
        CmpOp::Eq => equal(l, r),
        CmpOp::NotEq => !equal(l, r),
        CmpOp::Is => matches!((l, r), (J::Null, J::Null)) || (l.is_boolean() && l == r),
        CmpOp::IsNot => !(matches!((l, r), (J::Null, J::Null)) || (l.is_boolean() && l == r)),
        CmpOp::In => contains(r, l)?,
        CmpOp::NotIn => !contains(r, l)?,
        CmpOp::Lt | CmpOp::LtE | CmpOp::Gt | CmpOp::GtE => {
            let ord = match (l, r) {
                (J::String(a), J::String(b)) => a.cmp(b),
                _ => num(l)?.partial_cmp(&num(r)?)?,
            };
            match op {
                CmpOp::Lt => ord.is_lt(),
                CmpOp::LtE => ord.is_le(),
                CmpOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            }
        }
    })
}

/// Python equality: numbers compare by value (`1 == 1.0`), the rest structurally.
fn equal(l: &J, r: &J) -> bool {
    match (l.as_f64(), r.as_f64()) {
        (Some(a), Some(b)) if l.is_number() && r.is_number() => a == b,
        _ => l == r,
    }
}

/// `needle in haystack` for a list, a dict's keys or a substring.
fn contains(haystack: &J, needle: &J) -> Option<bool> {
    match (haystack, needle) {
        (J::Array(a), _) => Some(a.iter().any(|x| equal(x, needle))),
        (J::Object(o), J::String(k)) => Some(o.contains_key(k)),
        (J::String(s), J::String(n)) => Some(s.contains(n.as_str())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(pairs: &[(&str, J)]) -> BTreeMap<String, J> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn decides_what_it_can_and_says_so_otherwise() {
        let n = names(&[
            ("report", serde_json::json!({"ok": false, "bad": [1]})),
            ("strict", J::Bool(true)),
            ("choice", serde_json::json!(["load", "notify"])),
        ]);
        assert_eq!(truth("report[\"ok\"]", &n), Some(false));
        assert_eq!(truth("not (report['ok'])", &n), Some(true));
        assert_eq!(truth("(strict) and (report['ok'])", &n), Some(false));
        assert_eq!(truth("'load' in choice", &n), Some(true));
        assert_eq!(truth("'skip' not in choice", &n), Some(true));
        assert_eq!(truth("len(report['bad']) >= 1", &n), Some(true));
        assert_eq!(truth("report.result()['ok'] is False", &n), Some(true));
        assert_eq!(truth("1 < 2 < 2", &n), Some(false));
        let arm = |v: J| {
            let n = names(&[("c", v)]);
            truth("\"load\" in ([c] if isinstance(c, str) else c or [])", &n)
        };
        assert_eq!(arm(J::String("load".into())), Some(true));
        assert_eq!(arm(J::String("load_all".into())), Some(false));
        assert_eq!(arm(serde_json::json!(["x", "load"])), Some(true));
        assert_eq!(arm(J::Null), Some(false));
        // Unknown names, calls and syntax are "cannot tell", never a guess.
        assert_eq!(truth("missing", &n), None);
        let runs = names(&[
            (&state_key("a_out"), J::String("failed".into())),
            (&state_key("b_out"), J::String("skipped".into())),
            (&state_key("c"), J::String("success".into())),
        ]);
        assert_eq!(truth("a_out.state.is_failed()", &runs), Some(true));
        assert_eq!(
            truth("c.is_completed() and not c.is_failed()", &runs),
            Some(true)
        );
        assert_eq!(
            truth("b_out is not None and b_out.state.is_failed()", &runs),
            Some(false)
        );
        assert_eq!(truth("d.state.is_failed()", &runs), None);
        assert!(
            crate::ir::tests_run_states("x.state.is_failed()")
                && !crate::ir::tests_run_states("x.failed")
        );
        assert_eq!(truth("missing and strict", &n), None);
        assert_eq!(truth("missing and report['ok']", &n), Some(false));
        assert_eq!(truth("missing or strict", &n), Some(true));
        assert_eq!(truth("not (missing or strict)", &n), Some(false));
        assert_eq!(truth("check(report)", &n), None);
        assert_eq!(truth("report[", &n), None);
        assert_eq!(
            truth(&format!("{}x{}", "(".repeat(500), ")".repeat(500)), &n),
            None
        );
    }
}
