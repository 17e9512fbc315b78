//! Python source helpers for the writers and the executor: literals as ruff would format them,
//! identifiers, and calls wrapped the way black/ruff wrap them at 88 columns.

use crate::ir::{DateTime, Value};

/// Black's and ruff's default line length.
pub const LINE_LENGTH: usize = 88;

/// A Python string literal, double-quoted unless that needs more escapes (ruff's preference).
pub fn string(s: &str) -> String {
    let quote = if s.contains('"') && !s.contains('\'') {
        '\''
    } else {
        '"'
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Text made safe for a `# …` comment line: no line end or control character from user input
/// can end the comment and start code (see `crate::text::inline`).
pub fn comment_text(s: &str) -> String {
    crate::text::inline(s)
}

/// A one-line docstring literal (`"""…"""`) holding `s` as plain text: quotes, backslashes and
/// line ends are escaped, so no input can close it early.
pub fn docstring(s: &str) -> String {
    let body = string(s);
    let inner = &body[1..body.len() - 1];
    // `string` escaped only its own quote; inside triple double quotes every `"` is escaped.
    let inner = if body.starts_with('\'') {
        inner.replace("\\'", "'").replace('"', "\\\"")
    } else {
        inner.to_string()
    };
    format!("\"\"\"{inner}\"\"\"")
}

/// Python's `repr` of a float.
pub fn float(f: f64) -> String {
    if f.is_nan() {
        return "float(\"nan\")".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "float(\"inf\")".into()
        } else {
            "-float(\"inf\")".into()
        };
    }
    if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// A valid Python identifier from any name (`load.eu-west` → `load_eu_west`).
pub fn identifier(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// A Python expression for a duration, as `timedelta(...)` with the largest exact units.
pub fn timedelta(seconds: f64) -> Expr {
    let mut parts = Vec::new();
    let mut rest = seconds;
    for (unit, size) in [("days", 86_400.0), ("hours", 3_600.0), ("minutes", 60.0)] {
        let n = (rest / size + 1e-9).floor();
        if n >= 1.0 {
            parts.push(Expr::kw(unit, Expr::raw(format!("{}", n as i64))));
            rest -= n * size;
        }
    }
    if rest > 1e-9 || parts.is_empty() {
        let s = if rest.fract() == 0.0 {
            format!("{}", rest as i64)
        } else {
            float(rest)
        };
        parts.push(Expr::kw("seconds", Expr::raw(s)));
    }
    Expr::call("timedelta", parts)
}

/// A Python expression tree, kept structured so it can be wrapped like black wraps it.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Source text that is printed as is.
    Raw(String),
    /// `name=value` inside a call.
    Keyword(String, Box<Expr>),
    /// `func(args…)`.
    Call(String, Vec<Expr>),
    /// `[…]`.
    List(Vec<Expr>),
    /// `(…)` with a trailing comma for one element.
    Tuple(Vec<Expr>),
    /// `{key: value, …}`.
    Dict(Vec<(Expr, Expr)>),
    /// A call of the value of another expression: `f.override(task_id="x")(a, b)`.
    CallOn(Box<Expr>, Vec<Expr>),
    /// A method called on the value of another expression: `t.with_options(name="x").submit(a)`.
    Method(Box<Expr>, String, Vec<Expr>),
}

impl Expr {
    /// Raw source.
    pub fn raw(s: impl Into<String>) -> Expr {
        Expr::Raw(s.into())
    }

    /// A keyword argument; with no name, the value as a positional argument (a positional
    /// argument the source passed, say to `.expand(…)`, is never printed as `=value`).
    pub fn kw(name: &str, value: Expr) -> Expr {
        if name.is_empty() {
            return value;
        }
        Expr::Keyword(name.to_string(), Box::new(value))
    }

    /// A call.
    pub fn call(func: &str, args: Vec<Expr>) -> Expr {
        Expr::Call(func.to_string(), args)
    }

    /// A string literal.
    pub fn str(s: &str) -> Expr {
        Expr::Raw(string(s))
    }

    /// The expression on one line.
    pub fn flat(&self) -> String {
        match self {
            Expr::Raw(s) => s.clone(),
            Expr::Keyword(k, v) => format!("{k}={}", v.flat()),
            Expr::Call(f, args) => format!("{f}({})", join(args)),
            Expr::CallOn(callee, args) => format!("{}({})", callee.flat(), join(args)),
            Expr::Method(callee, method, args) => {
                format!("{}.{method}({})", callee.flat(), join(args))
            }
            Expr::List(items) => format!("[{}]", join(items)),
            Expr::Tuple(items) if items.len() == 1 => format!("({},)", items[0].flat()),
            Expr::Tuple(items) => format!("({})", join(items)),
            Expr::Dict(items) => format!(
                "{{{}}}",
                items
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.flat(), v.flat()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The expression formatted at an indent, wrapped as ruff would when it does not fit in
    /// `LINE_LENGTH - indent - suffix` columns. Continuation lines carry their own indentation.
    pub fn format(&self, indent: usize, suffix: usize) -> String {
        self.format_lead(indent, 0, suffix)
    }

    /// Like [`Expr::format`] when `lead` characters precede the expression on its first line
    /// (`x = `, `name=`); continuation lines are indented from `indent`, as black does.
    pub fn format_lead(&self, indent: usize, lead: usize, suffix: usize) -> String {
        let flat = self.flat();
        if indent + lead + flat.chars().count() + suffix <= LINE_LENGTH || !self.splittable() {
            return flat;
        }
        if let Expr::CallOn(callee, args) = self {
            // Black splits the last brackets when their head fits, else the callee's brackets.
            let head = callee.flat();
            if indent + lead + head.chars().count() < LINE_LENGTH {
                return Expr::Call(head, args.clone()).format_lead(indent, lead, suffix);
            }
            let tail = format!("({})", join(args));
            return format!(
                "{}{tail}",
                callee.format_lead(indent, lead, suffix + tail.chars().count())
            );
        }
        if let Expr::Method(callee, method, args) = self {
            // The same, and empty last brackets are never split.
            let head = format!("{}.{method}", callee.flat());
            if !args.is_empty() && indent + lead + head.chars().count() < LINE_LENGTH {
                return Expr::Call(head, args.clone()).format_lead(indent, lead, suffix);
            }
            // Else the callee's brackets, and the method's own when `).method(…)` is too long.
            let flat_tail = format!(".{method}({})", join(args));
            let tail = if indent + 1 + flat_tail.chars().count() + suffix <= LINE_LENGTH {
                flat_tail
            } else {
                Expr::Call(format!(".{method}"), args.clone()).format_lead(indent, 1, suffix)
            };
            let first = tail.lines().next().map_or(0, |l| l.chars().count());
            return format!("{}{tail}", callee.format_lead(indent, lead, suffix + first));
        }
        let (open, close, items): (String, &str, Vec<String>) = match self {
            Expr::Keyword(k, v) => {
                return format!("{k}={}", v.format_lead(indent, lead + k.len() + 1, suffix));
            }
            Expr::Call(f, args) => (
                format!("{f}("),
                ")",
                args.iter()
                    .map(|a| a.format_lead(indent + 4, 0, 1))
                    .collect(),
            ),
            Expr::List(items) => (
                "[".into(),
                "]",
                items
                    .iter()
                    .map(|a| a.format_lead(indent + 4, 0, 1))
                    .collect(),
            ),
            Expr::Tuple(items) => (
                "(".into(),
                ")",
                items
                    .iter()
                    .map(|a| a.format_lead(indent + 4, 0, 1))
                    .collect(),
            ),
            Expr::Dict(items) => (
                "{".into(),
                "}",
                items
                    .iter()
                    .map(|(k, v)| {
                        let key = k.flat();
                        format!("{key}: {}", v.format_lead(indent + 4, key.len() + 2, 1))
                    })
                    .collect(),
            ),
            Expr::Raw(_) | Expr::CallOn(..) | Expr::Method(..) => return flat,
        };
        let pad = " ".repeat(indent + 4);
        let inner = self.children_flat();
        // For a call, black first tries the arguments on one indented line (no trailing comma);
        // a collection literal that is split always gets one element per line.
        if matches!(self, Expr::Call(..)) && indent + 4 + inner.chars().count() <= LINE_LENGTH {
            return format!("{open}\n{pad}{inner}\n{}{close}", " ".repeat(indent));
        }
        // …then one element per line with a magic trailing comma.
        let mut out = format!("{open}\n");
        for item in items {
            out.push_str(&pad);
            out.push_str(&item);
            out.push_str(",\n");
        }
        out.push_str(&" ".repeat(indent));
        out.push_str(close);
        out
    }

    fn splittable(&self) -> bool {
        match self {
            Expr::Raw(_) => false,
            Expr::Keyword(_, v) => v.splittable(),
            Expr::Call(_, a) | Expr::List(a) | Expr::Tuple(a) => !a.is_empty(),
            Expr::CallOn(..) | Expr::Method(..) => true,
            Expr::Dict(d) => !d.is_empty(),
        }
    }

    fn children_flat(&self) -> String {
        match self {
            Expr::Call(_, a) | Expr::List(a) | Expr::Tuple(a) => join(a),
            Expr::Dict(d) => d
                .iter()
                .map(|(k, v)| format!("{}: {}", k.flat(), v.flat()))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.flat(),
        }
    }
}

fn join(items: &[Expr]) -> String {
    items.iter().map(Expr::flat).collect::<Vec<_>>().join(", ")
}

/// The Python expression of an IR value (imports it needs are the caller's business:
/// `timedelta` for durations, `pendulum` for datetimes).
pub fn value(v: &Value) -> Expr {
    match v {
        Value::None => Expr::raw("None"),
        Value::Bool(b) => Expr::raw(if *b { "True" } else { "False" }),
        Value::Int(i) => Expr::raw(i.to_string()),
        Value::Float(f) => Expr::raw(float(*f)),
        Value::Str(s) => Expr::str(s),
        Value::List(items) => Expr::List(items.iter().map(value).collect()),
        Value::Dict(m) => Expr::Dict(m.iter().map(|(k, v)| (Expr::str(k), value(v))).collect()),
        Value::Duration(s) => timedelta(*s),
        Value::DateTime(d) => datetime(d),
        Value::Call(c) => {
            let mut args: Vec<Expr> = c.args.iter().map(value).collect();
            args.extend(c.kwargs.iter().map(|(k, v)| Expr::kw(k, value(v))));
            // Framework classes are written by their short name (the writer imports them);
            // anything else keeps its qualified spelling (`os.path.join`).
            let framework = ["airflow.", "dagster.", "prefect."]
                .iter()
                .any(|p| c.func.starts_with(p));
            let name = if framework {
                super::imports::last_part(&c.func)
            } else {
                c.func.as_str()
            };
            Expr::call(name, args)
        }
        Value::Expr(src) => Expr::raw(src.clone()),
    }
}

/// `pendulum.datetime(y, m, d[, h, mi, s], tz="…")`.
pub fn datetime(d: &DateTime) -> Expr {
    let mut args = vec![
        Expr::raw(d.year.to_string()),
        Expr::raw(d.month.to_string()),
        Expr::raw(d.day.to_string()),
    ];
    if d.hour != 0 || d.minute != 0 || d.second != 0 {
        args.push(Expr::raw(d.hour.to_string()));
        args.push(Expr::raw(d.minute.to_string()));
        if d.second != 0 {
            args.push(Expr::raw(d.second.to_string()));
        }
    }
    args.push(Expr::kw("tz", Expr::str(d.tz.as_deref().unwrap_or("UTC"))));
    Expr::call("pendulum.datetime", args)
}

/// A decorator line: `@name` without arguments, else `@name(…)` wrapped as black would.
pub fn decorator(name: &str, args: Vec<Expr>) -> String {
    if args.is_empty() {
        format!("@{name}")
    } else {
        format!("@{}", Expr::call(name, args).format_lead(0, 1, 0))
    }
}

/// Re-indents a dedented body to `indent` spaces (blank lines stay empty).
pub fn indent_body(body: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    for line in body.trim_end_matches('\n').lines() {
        if line.trim().is_empty() {
            out.push('\n');
        } else {
            out.push_str(&pad);
            out.push_str(line);
            out.push('\n');
        }
    }
    if out.is_empty() {
        out = format!("{pad}pass\n");
    }
    rejoin_hugs(&out)
}

/// Joins black's "hug" splits that fit on one line again after a body moved to a shallower
/// indentation, as ruff would: `x = f(\n    a, b\n)` becomes `x = f(a, b)` when it fits. Only
/// the three-line form without a trailing comma is joined (a magic trailing comma stays split).
pub fn rejoin_hugs(text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut changed = true;
    while changed {
        changed = false;
        let mut i = 0;
        while i + 2 < lines.len() {
            let (open, mid, close) = (&lines[i], &lines[i + 1], &lines[i + 2]);
            let indent = open.len() - open.trim_start().len();
            let mid_indent = mid.len() - mid.trim_start().len();
            let close_t = close.trim_start();
            let opener = open.trim_end().chars().last();
            let closer = close_t.chars().next();
            let pair = matches!(
                (opener, closer),
                (Some('('), Some(')')) | (Some('['), Some(']')) | (Some('{'), Some('}'))
            );
            let mid_t = mid.trim();
            let simple = pair
                && mid_indent == indent + 4
                && close.len() - close_t.len() == indent
                && !mid_t.ends_with(',')
                && !mid_t.contains('#')
                && balanced(mid_t)
                && close_t.len() <= 3
                && !open.trim_start().starts_with('#');
            if simple {
                let joined = format!("{}{}{}", open.trim_end(), mid_t, close_t);
                if joined.chars().count() <= LINE_LENGTH {
                    lines.splice(i..i + 3, [joined]);
                    changed = true;
                    continue;
                }
            }
            i += 1;
        }
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// True when brackets balance and quotes close within one line of code.
fn balanced(line: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in line.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugs_that_fit_again_are_joined() {
        let body = "with open(p) as fh:\n    json.dump(\n        {\"a\": 1}, fh\n    )\nx = f(\n    a,\n)\n";
        assert_eq!(
            rejoin_hugs(body),
            "with open(p) as fh:\n    json.dump({\"a\": 1}, fh)\nx = f(\n    a,\n)\n"
        );
        let long = format!("y = g(\n    {}\n)\n", "a".repeat(90));
        assert_eq!(rejoin_hugs(&long), long);
    }

    #[test]
    fn strings_prefer_double_quotes() {
        assert_eq!(string("a"), "\"a\"");
        assert_eq!(string("say \"hi\""), "'say \"hi\"'");
        assert_eq!(string("it's \"x\""), "\"it's \\\"x\\\"\"");
        assert_eq!(string("a\nb"), "\"a\\nb\"");
    }

    #[test]
    fn a_keyword_without_a_name_is_a_positional_argument() {
        let call = Expr::call(
            "op.expand",
            vec![Expr::kw("", Expr::str("x")), Expr::kw("a", Expr::raw("1"))],
        );
        assert_eq!(call.format(0, 0), "op.expand(\"x\", a=1)");
    }

    #[test]
    fn floats_and_identifiers() {
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(0.25), "0.25");
        assert_eq!(identifier("load.eu-west"), "load_eu_west");
        assert_eq!(identifier("class"), "class_");
        assert_eq!(identifier("1st"), "_1st");
    }

    #[test]
    fn durations_use_the_largest_exact_units() {
        assert_eq!(timedelta(300.0).flat(), "timedelta(minutes=5)");
        assert_eq!(timedelta(90.0).flat(), "timedelta(minutes=1, seconds=30)");
        assert_eq!(timedelta(86_400.0 * 2.0).flat(), "timedelta(days=2)");
        assert_eq!(timedelta(0.5).flat(), "timedelta(seconds=0.5)");
        assert_eq!(timedelta(0.0).flat(), "timedelta(seconds=0)");
    }

    #[test]
    fn method_calls_split_their_last_brackets_unless_empty() {
        let variant = || {
            Expr::call(
                "partner_export_finished.with_options",
                vec![Expr::kw("name", Expr::str("wait_for_export"))],
            )
        };
        let empty = Expr::Method(Box::new(variant()), "submit".into(), vec![]);
        assert_eq!(
            empty.format_lead(4, "wait_for_export_out = ".len(), 0),
            "partner_export_finished.with_options(\n        name=\"wait_for_export\"\n    ).submit()"
        );
        let args = vec![Expr::kw(
            "wait_for",
            Expr::raw("[upstream_of_the_export_out]"),
        )];
        let fits = Expr::Method(Box::new(Expr::raw("settle")), "submit".into(), args.clone());
        assert_eq!(
            fits.format_lead(4, 11, 0),
            "settle.submit(wait_for=[upstream_of_the_export_out])"
        );
        let both = Expr::Method(
            Box::new(variant()),
            "submit".into(),
            vec![
                Expr::kw("domestic", Expr::raw("pack_orders_out")),
                Expr::kw(
                    "international",
                    Expr::raw("customs_clearance_assign_tariff_codes_out"),
                ),
            ],
        );
        assert_eq!(
            both.format_lead(4, "book_carrier_pickups_out = ".len(), 0),
            "partner_export_finished.with_options(\n        name=\"wait_for_export\"\n    ).submit(\n        domestic=pack_orders_out,\n        international=customs_clearance_assign_tariff_codes_out,\n    )"
        );
        let long = Expr::Method(Box::new(variant()), "submit".into(), args);
        assert_eq!(
            long.format_lead(4, 0, 0),
            "partner_export_finished.with_options(name=\"wait_for_export\").submit(\n        wait_for=[upstream_of_the_export_out]\n    )"
        );
    }

    #[test]
    fn calls_wrap_like_black() {
        let short = Expr::call("task", vec![Expr::kw("retries", Expr::raw("3"))]);
        assert_eq!(short.format(0, 0), "task(retries=3)");
        let args: Vec<Expr> = (0..6)
            .map(|i| Expr::kw(&format!("argument_{i}"), Expr::str("value")))
            .collect();
        let long = Expr::call("some_function", args.clone());
        assert_eq!(
            long.format(0, 0),
            "some_function(\n    argument_0=\"value\",\n    argument_1=\"value\",\n    argument_2=\"value\",\n    argument_3=\"value\",\n    argument_4=\"value\",\n    argument_5=\"value\",\n)"
        );
        let list = Expr::List(
            args[..4]
                .iter()
                .map(|a| match a {
                    Expr::Keyword(_, v) => (**v).clone(),
                    o => o.clone(),
                })
                .cycle()
                .take(12)
                .collect::<Vec<_>>(),
        );
        assert!(
            list.format(0, 0).ends_with(",\n]"),
            "split lists are exploded with a trailing comma"
        );
        let mid = Expr::call("some_function", args[..4].to_vec());
        assert_eq!(
            mid.format(0, 0),
            "some_function(\n    argument_0=\"value\", argument_1=\"value\", argument_2=\"value\", argument_3=\"value\"\n)"
        );
    }
}
