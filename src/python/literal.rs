//! The small literal evaluator shared by every reader: constants, containers, durations,
//! datetimes, f-strings over constants, and names bound to such values.

use crate::python::ast::{self, Expr, Operator, Ranged, Stmt, UnaryOp};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use crate::ir::{CallValue, DateTime, Value};
use crate::python::imports::ImportMap;
use crate::python::source::SourceText;

/// Longest list the evaluator builds (`range(10**9)` stays an expression).
const MAX_LIST: usize = 100_000;
/// Steps one evaluation may take (nested comprehensions over big ranges stay expressions).
const MAX_WORK: usize = 200_000;
/// Longest string the evaluator builds (`"x" * 1000 * 1000 * 1000` stays an expression).
const MAX_STR: usize = 1 << 20;
/// Deepest expression the evaluator walks; deeper ones stay expressions.
const MAX_DEPTH: usize = 100;
/// Heaviest value a name may be bound to (see [`weight_within`]: one a node): values built
/// from shared references (`L = [L, L]` repeated) double at every step, and past this weight
/// the name is bound to its source text instead (the readers warn `value-budget`).
pub const MAX_BOUND_WEIGHT: usize = 50_000;

/// Evaluates expressions against imports and bound names.
pub struct Evaluator<'s, 'a> {
    /// The file, for source slices of what cannot be evaluated.
    pub src: &'s SourceText<'a>,
    /// The file's imports.
    pub imports: &'s ImportMap,
    /// Names bound to values (module constants, loop variables).
    pub names: HashMap<String, Value>,
    /// Steps left for the current [`Evaluator::eval`] (shared with comprehension scopes).
    work: Rc<Cell<usize>>,
}

impl<'s, 'a> Evaluator<'s, 'a> {
    /// An evaluator with no names bound.
    pub fn new(src: &'s SourceText<'a>, imports: &'s ImportMap) -> Self {
        Evaluator {
            src,
            imports,
            names: HashMap::new(),
            work: Rc::new(Cell::new(MAX_WORK)),
        }
    }

    /// Binds the module-level constants of a suite, in order (later assignments win).
    pub fn bind_module_constants(&mut self, suite: &[Stmt]) {
        for stmt in suite {
            match stmt {
                Stmt::Assign(s) => {
                    let value = self.eval(&s.value);
                    let value = if weight_within(&value, MAX_BOUND_WEIGHT).is_some() {
                        value
                    } else {
                        // Too heavy to copy at every use: the readers warn (`value-budget`).
                        Value::Expr(self.src.slice(s.value.range()).to_string())
                    };
                    for target in &s.targets {
                        self.bind_target(target, &value);
                    }
                }
                Stmt::AnnAssign(s) => {
                    if let (Expr::Name(n), Some(v)) = (&*s.target, &s.value) {
                        let value = self.eval(v);
                        self.names.insert(n.id.to_string(), value);
                    }
                }
                _ => {}
            }
        }
    }

    /// Binds a target (a name or a tuple of names) to a value, unpacking lists.
    pub fn bind_target(&mut self, target: &Expr, value: &Value) {
        match target {
            Expr::Name(n) => {
                self.names.insert(n.id.to_string(), value.clone());
            }
            Expr::Tuple(t) => {
                let items = value.as_list().map(<[Value]>::to_vec);
                for (i, elt) in t.elts.iter().enumerate() {
                    let v = items
                        .as_ref()
                        .and_then(|it| it.get(i).cloned())
                        .unwrap_or_else(|| Value::Expr(self.src.slice(elt.range()).to_string()));
                    self.bind_target(elt, &v);
                }
            }
            _ => {}
        }
    }

    /// The value of an expression; `Value::Expr` with its source when not statically known.
    pub fn eval(&self, expr: &Expr) -> Value {
        self.work.set(MAX_WORK);
        self.eval_depth(expr, 0)
    }

    fn opaque(&self, expr: &Expr) -> Value {
        Value::Expr(self.src.slice(expr.range()).to_string())
    }

    fn eval_depth(&self, expr: &Expr, depth: usize) -> Value {
        if depth > MAX_DEPTH || self.work.get() == 0 {
            return self.opaque(expr);
        }
        self.work.set(self.work.get() - 1);
        let d = depth + 1;
        match expr {
            Expr::StringLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::EllipsisLiteral(_) => constant(expr).unwrap_or_else(|| self.opaque(expr)),
            Expr::Name(n) => match self.names.get(n.id.as_str()) {
                // A name's value is copied: its size counts against the work left, so values
                // built from shared references (`L = [L, L]`, 64 times) stay bounded.
                Some(v) => match weight_within(v, self.work.get()) {
                    Some(w) => {
                        self.work.set(self.work.get() - w);
                        v.clone()
                    }
                    None => self.opaque(expr),
                },
                None if n.id.as_str() == "__file__" => Value::Str(self.src.path.to_string()),
                None => self.opaque(expr),
            },
            Expr::Attribute(a) => self.attribute(expr, a, d),
            Expr::List(l) => Value::List(l.elts.iter().map(|e| self.eval_depth(e, d)).collect()),
            Expr::Tuple(t) => Value::List(t.elts.iter().map(|e| self.eval_depth(e, d)).collect()),
            Expr::Set(s) => Value::List(s.elts.iter().map(|e| self.eval_depth(e, d)).collect()),
            Expr::Dict(dict) => {
                let mut out = BTreeMap::new();
                for item in &dict.items {
                    let v = &item.value;
                    match &item.key {
                        Some(k) => match self.eval_depth(k, d) {
                            Value::Str(s) => {
                                out.insert(s, self.eval_depth(v, d));
                            }
                            Value::Int(i) => {
                                out.insert(i.to_string(), self.eval_depth(v, d));
                            }
                            _ => return self.opaque(expr),
                        },
                        None => match self.eval_depth(v, d) {
                            Value::Dict(m) => out.extend(m),
                            _ => return self.opaque(expr),
                        },
                    }
                }
                Value::Dict(out)
            }
            Expr::UnaryOp(u) => match (u.op, self.eval_depth(&u.operand, d)) {
                (UnaryOp::USub, Value::Int(i)) if i != i64::MIN => Value::Int(-i),
                (UnaryOp::USub, Value::Float(f)) => Value::Float(-f),
                (UnaryOp::USub, Value::Duration(f)) => Value::Duration(-f),
                (UnaryOp::UAdd, v @ (Value::Int(_) | Value::Float(_))) => v,
                (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
                _ => self.opaque(expr),
            },
            Expr::BinOp(b) => {
                let l = self.eval_depth(&b.left, d);
                let r = self.eval_depth(&b.right, d);
                binop(b.op, l, r).unwrap_or_else(|| self.opaque(expr))
            }
            Expr::FString(j) => {
                let mut out = String::new();
                for part in &j.value {
                    let elements = match part {
                        ast::FStringPart::Literal(s) => {
                            out.push_str(s);
                            continue;
                        }
                        ast::FStringPart::FString(f) => &f.elements,
                    };
                    for element in elements {
                        match element {
                            ast::InterpolatedStringElement::Literal(s) => out.push_str(s),
                            // The conversion (`!r`, and the `repr` a bare `{x=}` implies) is
                            // not applied: `str` of the value, as the readers always did.
                            ast::InterpolatedStringElement::Interpolation(f)
                                if f.format_spec.is_none() =>
                            {
                                if let Some(debug) = &f.debug_text {
                                    out.push_str(debug.as_str());
                                }
                                match python_str(&self.eval_depth(&f.expression, d)) {
                                    Some(s) => out.push_str(&s),
                                    None => return self.opaque(expr),
                                }
                            }
                            ast::InterpolatedStringElement::Interpolation(_) => {
                                return self.opaque(expr);
                            }
                        }
                    }
                }
                Value::Str(out)
            }
            Expr::Subscript(s) => {
                let base = self.eval_depth(&s.value, d);
                let index = self.eval_depth(&s.slice, d);
                match (base, index) {
                    (Value::Dict(m), Value::Str(k)) => m.get(&k).cloned(),
                    (Value::List(v), Value::Int(i)) => {
                        let i = if i < 0 { v.len() as i64 + i } else { i };
                        usize::try_from(i).ok().and_then(|i| v.get(i).cloned())
                    }
                    _ => None,
                }
                .unwrap_or_else(|| self.opaque(expr))
            }
            Expr::Compare(c) => self
                .compare(c, d)
                .map(Value::Bool)
                .unwrap_or_else(|| self.opaque(expr)),
            Expr::BoolOp(b) => {
                let vals: Vec<Value> = b.values.iter().map(|v| self.eval_depth(v, d)).collect();
                match (
                    b.op,
                    vals.iter()
                        .map(Value::as_bool)
                        .collect::<Option<Vec<bool>>>(),
                ) {
                    (ast::BoolOp::And, Some(v)) => Value::Bool(v.iter().all(|x| *x)),
                    (ast::BoolOp::Or, Some(v)) => Value::Bool(v.iter().any(|x| *x)),
                    _ => self.opaque(expr),
                }
            }
            Expr::ListComp(c) => self
                .comprehension(&c.elt, &c.generators, d)
                .unwrap_or_else(|| self.opaque(expr)),
            Expr::Call(call) => self.call(expr, call, d),
            _ => self.opaque(expr),
        }
    }

    /// Takes `steps` from the current evaluation's work; false (and nothing taken) when too few are left.
    fn charge(&self, steps: usize) -> bool {
        let left = self.work.get();
        if steps > left {
            self.work.set(0);
            return false;
        }
        self.work.set(left - steps);
        true
    }

    fn compare(&self, c: &ast::ExprCompare, d: usize) -> Option<bool> {
        let mut left = self.eval_depth(&c.left, d);
        for (op, right) in c.ops.iter().zip(c.comparators.iter()) {
            let right = self.eval_depth(right, d);
            if !left.is_literal() || !right.is_literal() {
                return None;
            }
            let ok = match op {
                ast::CmpOp::Eq => left == right,
                ast::CmpOp::NotEq => left != right,
                ast::CmpOp::In | ast::CmpOp::NotIn => {
                    let found = match &right {
                        Value::List(v) => v.contains(&left),
                        Value::Dict(m) => left.as_str().is_some_and(|k| m.contains_key(k)),
                        Value::Str(s) => left.as_str().is_some_and(|k| s.contains(k)),
                        _ => return None,
                    };
                    found == matches!(op, ast::CmpOp::In)
                }
                ast::CmpOp::Lt | ast::CmpOp::LtE | ast::CmpOp::Gt | ast::CmpOp::GtE => {
                    let ord = match (&left, &right) {
                        (Value::Str(a), Value::Str(b)) => a.cmp(b),
                        (a, b) => a.as_f64()?.partial_cmp(&b.as_f64()?)?,
                    };
                    match op {
                        ast::CmpOp::Lt => ord.is_lt(),
                        ast::CmpOp::LtE => ord.is_le(),
                        ast::CmpOp::Gt => ord.is_gt(),
                        _ => ord.is_ge(),
                    }
                }
                _ => return None,
            };
            if !ok {
                return Some(false);
            }
            left = right;
        }
        Some(true)
    }

    fn attribute(&self, expr: &Expr, a: &ast::ExprAttribute, d: usize) -> Value {
        // Str enums whose members are their lowercase names (`TriggerRule.ALL_DONE`).
        if let Some(q) = self.imports.qualify(expr) {
            let mut parts = q.rsplit('.');
            if let (Some(member), Some("TriggerRule" | "WeightRule")) = (parts.next(), parts.next())
            {
                return Value::Str(member.to_ascii_lowercase());
            }
        }
        match (self.eval_depth(&a.value, d), a.attr.as_str()) {
            // `timedelta` fields as Python has them: whole days, then the seconds within the day
            // (`timedelta(minutes=5).seconds` is 300; `timedelta(days=1).seconds` is 0).
            (Value::Duration(s), "days") if s.is_finite() => {
                Value::Int((s / 86_400.0).floor() as i64)
            }
            (Value::Duration(s), "seconds") if s.is_finite() => {
                Value::Int((s.floor() as i64).rem_euclid(86_400))
            }
            (Value::Call(c), attr) if c.func.ends_with("Path") => match (c.args.first(), attr) {
                (Some(Value::Str(p)), "stem") => Value::Str(path_stem(p).to_string()),
                (Some(Value::Str(p)), "name") => Value::Str(path_name(p).to_string()),
                _ => self.opaque(expr),
            },
            _ => self.opaque(expr),
        }
    }

    /// Calls of `str` methods on a known string.
    fn str_method(
        &self,
        base: &str,
        method: &str,
        args: &[Value],
        kwargs: &BTreeMap<String, Value>,
    ) -> Option<Value> {
        let s = |i: usize| args.get(i).and_then(Value::as_str);
        if method == "format" {
            return str_format(base, args, kwargs).map(Value::Str);
        }
        if !kwargs.is_empty() {
            return None;
        }
        Some(match method {
            "replace" => {
                let (from, to) = (s(0)?, s(1)?);
                let hits = if from.is_empty() {
                    base.chars().count() + 1
                } else {
                    base.matches(from).count()
                };
                if base.len() + hits.saturating_mul(to.len()) > MAX_STR {
                    return None;
                }
                Value::Str(base.replace(from, to))
            }
            "lower" => Value::Str(base.to_lowercase()),
            "upper" => Value::Str(base.to_uppercase()),
            "strip" if args.is_empty() => Value::Str(base.trim().to_string()),
            "title" => Value::Str(
                base.split('_')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join("_"),
            ),
            "split" => Value::List(match s(0) {
                Some(sep) => base.split(sep).map(|x| Value::Str(x.to_string())).collect(),
                None => base
                    .split_whitespace()
                    .map(|x| Value::Str(x.to_string()))
                    .collect(),
            }),
            "join" => {
                let items: Option<Vec<&str>> =
                    args.first()?.as_list()?.iter().map(Value::as_str).collect();
                let items = items?;
                let len = items.iter().map(|i| i.len()).sum::<usize>()
                    + base.len().saturating_mul(items.len());
                if len > MAX_STR {
                    return None;
                }
                Value::Str(items.join(base))
            }
            _ => return None,
        })
    }

    fn comprehension(&self, elt: &Expr, gens: &[ast::Comprehension], d: usize) -> Option<Value> {
        let [generator] = gens else { return None };
        let items = match self.eval_depth(&generator.iter, d) {
            Value::List(v) => v,
            Value::Dict(m) => m.into_keys().map(Value::Str).collect(),
            Value::Str(text) => text.chars().map(|c| Value::Str(c.to_string())).collect(),
            _ => return None,
        };
        let mut inner = Evaluator {
            src: self.src,
            imports: self.imports,
            names: self.names.clone(),
            work: Rc::clone(&self.work),
        };
        let mut out = Vec::new();
        for item in items {
            inner.bind_target(&generator.target, &item);
            let mut keep = true;
            for cond in &generator.ifs {
                match inner.eval_depth(cond, d) {
                    Value::Bool(b) => keep &= b,
                    _ => return None,
                }
            }
            if keep {
                let v = inner.eval_depth(elt, d);
                if !v.is_literal() {
                    return None;
                }
                out.push(v);
            }
        }
        Some(Value::List(out))
    }

    fn call(&self, expr: &Expr, call: &ast::ExprCall, d: usize) -> Value {
        if call
            .arguments
            .args
            .iter()
            .any(|a| matches!(a, Expr::Starred(_)))
        {
            return self.opaque(expr);
        }
        let args: Vec<Value> = call
            .arguments
            .args
            .iter()
            .map(|a| self.eval_depth(a, d))
            .collect();
        let mut kwargs = BTreeMap::new();
        for kw in &*call.arguments.keywords {
            match &kw.arg {
                Some(name) => {
                    kwargs.insert(name.to_string(), self.eval_depth(&kw.value, d));
                }
                None => return self.opaque(expr),
            }
        }
        if let Expr::Attribute(a) = &*call.func {
            match self.eval_depth(&a.value, d) {
                Value::Str(base) => {
                    return self
                        .str_method(&base, a.attr.as_str(), &args, &kwargs)
                        .unwrap_or_else(|| self.opaque(expr));
                }
                Value::Duration(s)
                    if a.attr.as_str() == "total_seconds"
                        && args.is_empty()
                        && kwargs.is_empty() =>
                {
                    return Value::Float(s);
                }
                _ => {}
            }
        }
        let Some(func) = self.imports.qualify(&call.func) else {
            return self.opaque(expr);
        };
        let known = match func.as_str() {
            "os.path.basename" => args
                .first()
                .and_then(Value::as_str)
                .map(|p| Value::Str(path_name(p).to_string())),
            "os.path.splitext" => args.first().and_then(Value::as_str).map(|p| {
                let name_start = p.len() - path_name(p).len();
                match p[name_start..].rfind('.') {
                    Some(i) if i > 0 => Value::List(vec![
                        Value::Str(p[..name_start + i].to_string()),
                        Value::Str(p[name_start + i..].to_string()),
                    ]),
                    _ => Value::List(vec![Value::Str(p.to_string()), Value::Str(String::new())]),
                }
            }),
            "datetime.timedelta" | "timedelta" => duration(&args, &kwargs, TIMEDELTA_POSITIONAL),
            "pendulum.duration" | "pendulum.Duration" => {
                duration(&args, &kwargs, DURATION_POSITIONAL)
            }
            "datetime.datetime" | "pendulum.datetime" | "pendulum.DateTime" => {
                datetime(&args, &kwargs)
            }
            "datetime.date" => datetime(&args, &kwargs),
            "pendulum.timezone" | "zoneinfo.ZoneInfo" | "pendulum.Timezone" => args
                .first()
                .and_then(|a| a.as_str())
                .map(|s| Value::Str(s.to_string())),
            "pendulum.parse" => args.first().and_then(|a| a.as_str()).and_then(parse_iso),
            "range" => range(&args).filter(|v| self.charge(v.as_list().map_or(0, <[Value]>::len))),
            "list" | "tuple" | "sorted" => match args.as_slice() {
                [Value::List(v)] if func == "sorted" => {
                    let mut v = v.clone();
                    if v.iter().all(|x| x.as_str().is_some()) {
                        v.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                        Some(Value::List(v))
                    } else {
                        None
                    }
                }
                [Value::List(v)] => Some(Value::List(v.clone())),
                [Value::Dict(m)] => Some(Value::List(m.keys().cloned().map(Value::Str).collect())),
                _ => None,
            },
            "str" => args.first().and_then(python_str).map(Value::Str),
            "dict" if args.is_empty() => Some(Value::Dict(kwargs.clone())),
            _ => None,
        };
        known.unwrap_or(Value::Call(CallValue { func, args, kwargs }))
    }
}

/// `datetime.timedelta`'s positional parameters: the first seven of pendulum's `duration`.
const TIMEDELTA_POSITIONAL: &[&str] = DURATION_POSITIONAL.split_at(7).0;
/// `pendulum.duration`'s positional parameters.
const DURATION_POSITIONAL: &[&str] = &[
    "days",
    "seconds",
    "microseconds",
    "milliseconds",
    "minutes",
    "hours",
    "weeks",
    "years",
    "months",
];

fn duration(
    args: &[Value],
    kwargs: &BTreeMap<String, Value>,
    positional: &[&str],
) -> Option<Value> {
    let mut total = 0.0;
    let named = positional.iter().zip(args).map(|(k, v)| (*k, v));
    for (k, v) in named.chain(kwargs.iter().map(|(k, v)| (k.as_str(), v))) {
        let n = v.as_f64()?;
        total += n * match k {
            "weeks" => 604_800.0,
            "days" => 86_400.0,
            "hours" => 3_600.0,
            "minutes" => 60.0,
            "seconds" => 1.0,
            "milliseconds" => 0.001,
            "microseconds" => 0.000_001,
            "months" => 2_592_000.0,
            "years" => 31_536_000.0,
            _ => return None,
        };
    }
    Some(Value::Duration(total))
}

fn datetime(args: &[Value], kwargs: &BTreeMap<String, Value>) -> Option<Value> {
    let field = |i: usize, name: &str, default: i64| -> Option<i64> {
        match args.get(i).or_else(|| kwargs.get(name)) {
            Some(v) => v.as_int(),
            None => Some(default),
        }
    };
    let tz = match kwargs
        .get("tz")
        .or_else(|| kwargs.get("tzinfo"))
        .or(args.get(7))
    {
        None => None,
        Some(Value::Str(s)) => Some(s.clone()),
        Some(Value::Expr(e)) if e.ends_with("timezone.utc") || e.ends_with("UTC") => {
            Some("UTC".into())
        }
        Some(Value::Call(c)) if c.func.ends_with("timezone") => {
            c.args.first().and_then(|a| a.as_str()).map(str::to_string)
        }
        Some(_) => return None,
    };
    Some(Value::DateTime(DateTime {
        year: field(0, "year", 1)?,
        month: field(1, "month", 1)? as u32,
        day: field(2, "day", 1)? as u32,
        hour: field(3, "hour", 0)? as u32,
        minute: field(4, "minute", 0)? as u32,
        second: field(5, "second", 0)? as u32,
        tz,
    }))
}

fn path_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn path_stem(p: &str) -> &str {
    let name = path_name(p);
    match name.rfind('.') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

/// Parses `YYYY-MM-DD[THH:MM[:SS]]` into a datetime value.
pub fn parse_iso(text: &str) -> Option<Value> {
    let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, ""));
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time
        .split(':')
        .filter(|p| !p.is_empty())
        .map(|p| p.get(..2).and_then(|x| x.parse::<u32>().ok()));
    Some(Value::DateTime(DateTime {
        year,
        month: month as u32,
        day: day as u32,
        hour: t.next().flatten().unwrap_or(0),
        minute: t.next().flatten().unwrap_or(0),
        second: t.next().flatten().unwrap_or(0),
        tz: None,
    }))
}

fn range(args: &[Value]) -> Option<Value> {
    let ints: Option<Vec<i64>> = args.iter().map(Value::as_int).collect();
    let (start, stop, step) = match ints?.as_slice() {
        [stop] => (0, *stop, 1),
        [start, stop] => (*start, *stop, 1),
        [start, stop, step] if *step != 0 => (*start, *stop, *step),
        _ => return None,
    };
    let (start, stop, step) = (start as i128, stop as i128, step as i128);
    let len = if step > 0 {
        (stop - start + step - 1) / step
    } else {
        (start - stop - step - 1) / -step
    };
    if len > MAX_LIST as i128 {
        return None;
    }
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(Value::Int(i64::try_from(i).ok()?));
        i += step;
    }
    Some(Value::List(out))
}

/// The weight of a value (one a node, and one more for every 64 bytes of text) if it is at most
/// `budget`; `None` as soon as it is more. Iterative: the walk stops at the budget whatever the
/// value's shape.
pub fn weight_within(v: &Value, budget: usize) -> Option<usize> {
    let mut weight = 0usize;
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        weight += 1 + match v {
            Value::Str(s) | Value::Expr(s) => s.len() / 64,
            Value::List(items) => {
                todo.extend(items);
                0
            }
            Value::Dict(map) => {
                todo.extend(map.values());
                map.len()
            }
            Value::Call(c) => {
                todo.extend(&c.args);
                todo.extend(c.kwargs.values());
                0
            }
            _ => 0,
        };
        if weight > budget {
            return None;
        }
    }
    Some(weight)
}

fn constant(e: &Expr) -> Option<Value> {
    Some(match e {
        Expr::NoneLiteral(_) => Value::None,
        Expr::BooleanLiteral(b) => Value::Bool(b.value),
        Expr::StringLiteral(s) => Value::Str(s.value.to_string()),
        Expr::NumberLiteral(n) => match &n.value {
            ast::Number::Int(i) => Value::Int(i.as_i64()?),
            ast::Number::Float(f) => Value::Float(*f),
            ast::Number::Complex { .. } => return None,
        },
        _ => return None,
    })
}

/// `template.format(*args, **kwargs)` for plain fields (`{}`, `{0}`, `{name}`, `{{`); `None`
/// for a format spec, a conversion, an attribute or index in a field, or a missing value.
fn str_format(template: &str, args: &[Value], kwargs: &BTreeMap<String, Value>) -> Option<String> {
    let mut out = String::new();
    let mut auto = 0usize;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        ch => field.push(ch),
                    }
                }
                if field.contains([':', '!', '.', '[', '{']) {
                    return None;
                }
                let value = if field.is_empty() {
                    auto += 1;
                    args.get(auto - 1)?
                } else if let Ok(i) = field.parse::<usize>() {
                    args.get(i)?
                } else {
                    kwargs.get(&field)?
                };
                out.push_str(&python_str(value)?);
                if out.len() > MAX_STR {
                    return None;
                }
            }
            '}' => return None,
            ch => out.push(ch),
        }
    }
    Some(out)
}

/// `template % values` for `%s`, `%d`, `%i` and `%%` (a list stands for the tuple of values);
/// `None` for other conversions, named fields or a count that does not match.
fn percent_format(template: &str, values: &Value) -> Option<String> {
    let values: Vec<&Value> = match values {
        Value::List(v) => v.iter().collect(),
        Value::Dict(_) => return None,
        v => vec![v],
    };
    let mut next = values.into_iter();
    let mut out = String::new();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' => out.push_str(&python_str(next.next()?)?),
            'd' | 'i' => match next.next()? {
                Value::Int(i) => out.push_str(&i.to_string()),
                Value::Bool(b) => out.push_str(if *b { "1" } else { "0" }),
                _ => return None,
            },
            _ => return None,
        }
        if out.len() > MAX_STR {
            return None;
        }
    }
    // Python raises when values are left over.
    next.next().is_none().then_some(out)
}

fn binop(op: Operator, l: Value, r: Value) -> Option<Value> {
    use Value::*;
    Some(match (op, l, r) {
        (Operator::Mod, Str(template), values) => Str(percent_format(&template, &values)?),
        (Operator::Add, Str(a), Str(b)) if a.len() + b.len() <= MAX_STR => Str(a + &b),
        (Operator::Add, List(mut a), List(b)) if a.len() + b.len() <= MAX_LIST => {
            a.extend(b);
            List(a)
        }
        (Operator::Add, Int(a), Int(b)) => Int(a.checked_add(b)?),
        (Operator::Sub, Int(a), Int(b)) => Int(a.checked_sub(b)?),
        (Operator::Mult, Int(a), Int(b)) => Int(a.checked_mul(b)?),
        (Operator::FloorDiv, Int(a), Int(b)) => Int(a.checked_div_euclid(b)?),
        (Operator::Mod, Int(a), Int(b)) => Int(a.checked_rem_euclid(b)?),
        (Operator::Pow, Int(a), Int(b)) if (0..64).contains(&b) => Int(a.checked_pow(b as u32)?),
        (Operator::Mult, Str(s), Int(n)) | (Operator::Mult, Int(n), Str(s))
            if (0..=1000).contains(&n) && s.len() * n as usize <= MAX_STR =>
        {
            Str(s.repeat(n as usize))
        }
        (Operator::Mult, List(v), Int(n))
            if usize::try_from(n)
                .ok()
                .and_then(|n| v.len().checked_mul(n))
                .is_some_and(|len| len <= MAX_LIST)
                && usize::try_from(n).is_ok_and(|n| {
                    n == 0 || weight_within(&List(v.clone()), MAX_WORK / n).is_some()
                }) =>
        {
            List(
                v.iter()
                    .cycle()
                    .take(v.len() * n as usize)
                    .cloned()
                    .collect(),
            )
        }
        (Operator::Add, Duration(a), Duration(b)) => Duration(a + b),
        (Operator::Sub, Duration(a), Duration(b)) => Duration(a - b),
        (Operator::Mult, Duration(a), b) | (Operator::Mult, b, Duration(a)) => {
            Duration(a * b.as_f64()?)
        }
        (op, a, b) => {
            let (x, y) = (a.as_f64()?, b.as_f64()?);
            if matches!(a, Bool(_)) || matches!(b, Bool(_)) {
                return Option::None;
            }
            Float(match op {
                Operator::Add => x + y,
                Operator::Sub => x - y,
                Operator::Mult => x * y,
                Operator::Div if y != 0.0 => x / y,
                _ => return Option::None,
            })
        }
    })
}

/// Python's `str()` of a literal value, for f-strings.
pub fn python_str(v: &Value) -> Option<String> {
    Some(match v {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
        Value::Float(f) => f.to_string(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::None => "None".into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_format_and_percent_formatting_evaluate_plain_fields() {
        let e = |x: &str| eval_with("N = 'eu'\nK = 3", x);
        assert_eq!(e("'load_{}'.format(N)"), Value::Str("load_eu".into()));
        assert_eq!(
            e("'{0}_{0}_{k}'.format(N, k=K)"),
            Value::Str("eu_eu_3".into())
        );
        assert_eq!(e("'{{x}}_{}'.format(K)"), Value::Str("{x}_3".into()));
        assert_eq!(e("'check_%s' % N"), Value::Str("check_eu".into()));
        assert_eq!(e("'%s_%d%%' % (N, K)"), Value::Str("eu_3%".into()));
        // Specs, conversions and mismatched counts are not guessed.
        for opaque in [
            "'{:>5}'.format(N)",
            "'{!r}'.format(N)",
            "'%s %s' % N",
            "'%r' % N",
            "'{}{}'.format(N)",
        ] {
            assert!(matches!(e(opaque), Value::Expr(_)), "{opaque}");
        }
        assert_eq!(e("7 % 4"), Value::Int(3));
    }

    fn eval_with(module: &str, expr: &str) -> Value {
        let text = format!("{module}\n__x__ = {expr}\n");
        let suite = crate::python::parse::parse_suite(&text).unwrap();
        let src = SourceText::new("t.py", &text);
        let imports = ImportMap::from_suite(&suite);
        let mut ev = Evaluator::new(&src, &imports);
        ev.bind_module_constants(&suite);
        ev.names["__x__"].clone()
    }

    /// Values that double through shared references stay bounded: `L = [L, L]` 64 times would be
    /// 2^64 nodes (it took 10 GB before the reader was killed); past the work budget the name's
    /// value is its source text, and small values are still evaluated.
    #[test]
    fn values_built_from_shared_references_stay_bounded() {
        let module = format!("L = [1]\n{}", "L = [L, L]\n".repeat(64));
        let v = eval_with(&module, "L");
        assert!(weight_within(&v, MAX_WORK).is_some(), "bounded");
        assert!(matches!(v, Value::Expr(_) | Value::List(_)));
        let module = format!("L = [1]\n{}", "L = [L, L]\n".repeat(3));
        assert!(matches!(eval_with(&module, "L"), Value::List(ref l) if l.len() == 2));
        let module = "S = 'x' * 1000\nT = [S] * 100000\n";
        assert!(
            matches!(eval_with(module, "T"), Value::Expr(_)),
            "repetition of a large value"
        );
    }

    #[test]
    fn constants_and_containers() {
        assert_eq!(
            eval_with("", "[1, 'a', None, True, 2.5]"),
            Value::List(vec![
                Value::Int(1),
                Value::Str("a".into()),
                Value::None,
                Value::Bool(true),
                Value::Float(2.5)
            ])
        );
        let d = eval_with("BASE = {'a': 1}", "{**BASE, 'b': (2, 3)}");
        let Value::Dict(m) = d else {
            panic!("not a dict: {d:?}")
        };
        assert_eq!(m["a"], Value::Int(1));
        assert_eq!(m["b"], Value::List(vec![Value::Int(2), Value::Int(3)]));
    }

    #[test]
    fn durations() {
        assert_eq!(
            eval_with("from datetime import timedelta", "timedelta(minutes=5)"),
            Value::Duration(300.0)
        );
        assert_eq!(
            eval_with("import datetime", "datetime.timedelta(1, hours=1)"),
            Value::Duration(90_000.0)
        );
        assert_eq!(
            eval_with("import pendulum", "pendulum.duration(seconds=30) * 2"),
            Value::Duration(60.0)
        );
        // A duration's fields as numbers (`retry_delay_seconds=timedelta(minutes=5).seconds`
        // was not evaluated, and the port retried at once).
        let td = "from datetime import timedelta";
        assert_eq!(
            eval_with(td, "timedelta(minutes=5).seconds"),
            Value::Int(300)
        );
        assert_eq!(
            eval_with(td, "timedelta(days=1, seconds=7).seconds"),
            Value::Int(7)
        );
        assert_eq!(eval_with(td, "timedelta(hours=49).days"), Value::Int(2));
        assert_eq!(
            eval_with(td, "timedelta(minutes=1, seconds=30).total_seconds()"),
            Value::Float(90.0)
        );
    }

    #[test]
    fn datetimes_with_zones() {
        let v = eval_with(
            "import pendulum",
            "pendulum.datetime(2026, 5, 1, tz='Europe/Paris')",
        );
        assert_eq!(
            v,
            Value::DateTime(DateTime {
                year: 2026,
                month: 5,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0,
                tz: Some("Europe/Paris".into())
            })
        );
        let v = eval_with(
            "from datetime import datetime, timezone",
            "datetime(2021, 1, 2, 3, tzinfo=timezone.utc)",
        );
        let Value::DateTime(dt) = v else { panic!() };
        assert_eq!((dt.day, dt.hour, dt.tz.as_deref()), (2, 3, Some("UTC")));
    }

    #[test]
    fn fstrings_over_constants() {
        assert_eq!(
            eval_with("REGION = 'eu'\nN = 3", "f'load_{REGION}_{N}'"),
            Value::Str("load_eu_3".into())
        );
        assert!(matches!(eval_with("", "f'{unknown}'"), Value::Expr(s) if s == "f'{unknown}'"));
    }

    #[test]
    fn pep701_fstrings_evaluate_like_any_other() {
        assert_eq!(
            eval_with("CFG = {'a': 'eu'}", r#"f"load_{CFG["a"]}""#),
            Value::Str("load_eu".into())
        );
        assert_eq!(eval_with("N = 3", "f'{N=}'"), Value::Str("N=3".into()));
        assert_eq!(
            eval_with("N = 3", "f'''{\n    N  # a comment\n}'''"),
            Value::Str("3".into())
        );
        assert!(matches!(eval_with("N = 3", "f'{N:>4}'"), Value::Expr(_)));
    }

    #[test]
    fn ranges_and_comprehensions() {
        assert_eq!(
            eval_with("", "range(1, 7, 2)"),
            Value::List(vec![Value::Int(1), Value::Int(3), Value::Int(5)])
        );
        assert_eq!(
            eval_with("", "[f't{i}' for i in range(3) if i != 1]"),
            Value::List(vec![Value::Str("t0".into()), Value::Str("t2".into())])
        );
        assert!(matches!(
            eval_with("", "range(10**12)"),
            Value::Call(_) | Value::Expr(_)
        ));
    }

    #[test]
    fn unknown_calls_are_structured_or_opaque() {
        let v = eval_with(
            "from airflow.sdk import Asset",
            "Asset(name='raw', uri='s3://b/raw')",
        );
        let Value::Call(c) = v else { panic!() };
        assert_eq!(c.func, "airflow.sdk.Asset");
        assert_eq!(c.kwargs["name"], Value::Str("raw".into()));
        assert!(matches!(
            eval_with("import os", "os.environ['X']"),
            Value::Expr(_)
        ));
    }

    #[test]
    fn file_names_and_string_methods() {
        assert_eq!(
            eval_with("from pathlib import Path", "Path(__file__).stem"),
            Value::Str("t".into())
        );
        assert_eq!(
            eval_with("import os", "os.path.basename(__file__).replace('.py', '')"),
            Value::Str("t".into())
        );
        assert_eq!(
            eval_with("", "'-'.join(['a', 'b']).upper()"),
            Value::Str("A-B".into())
        );
        assert_eq!(
            eval_with(
                "from airflow.utils.trigger_rule import TriggerRule",
                "TriggerRule.ALL_DONE"
            ),
            Value::Str("all_done".into())
        );
    }

    #[test]
    fn deep_expressions_do_not_overflow() {
        let expr = format!("{}1{}", "[".repeat(150), "]".repeat(150));
        let v = eval_with("", &expr);
        assert!(!v.is_literal());
    }
}
