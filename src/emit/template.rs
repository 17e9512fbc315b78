//! Airflow Jinja templates (`{{ ds }}`, `{{ params.x }}`, `{{ ti.xcom_pull(task_ids='t') }}`) in
//! targets without Jinja: rendered as a Python f-string over values the target supplies.
//! Whatever cannot be rendered is listed, so the writer degrades the step instead of running a
//! command that still holds `{{`.

use super::plan::{Plan, Source, Step};
use crate::ir::{Node, Value};
use crate::python::print::{self as python, Expr};
use crate::report::{Fidelity, Ledger, Translations};

/// A value a rendered template reads, as the target must supply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needed {
    /// The run's logical date, as a datetime local named `logical_date`.
    LogicalDate,
    /// A run parameter (`params.x`).
    Param(String),
    /// The value of an upstream task (`ti.xcom_pull(task_ids='t')`), by task id.
    Upstream(String),
}

/// A template rendered as Python.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    /// `name = expression` lines to put before the command (filters applied to values).
    pub locals: Vec<String>,
    /// The command as a Python expression (an f-string, or a plain string literal).
    pub expr: String,
    /// What the expression reads, in first-use order.
    pub needs: Vec<Needed>,
    /// The placeholders that could not be rendered, as written.
    pub unrendered: Vec<String>,
    /// How many locals each value name has had (`ds_text`, `ds_text_2`, …): naming one more is
    /// a look-up, not a scan of every local (1,000 filtered placeholders were cubic).
    local_names: std::collections::HashMap<String, usize>,
}

/// How the target names the values a template reads.
pub struct Scope<'a> {
    /// A run parameter's expression (`config.team`, `team`).
    pub param: &'a dyn Fn(&str) -> String,
    /// An upstream task's value, by task id: the name it has in the step (`None`: not available).
    pub upstream: &'a dyn Fn(&str) -> Option<String>,
}

/// Whether `text` holds Jinja markup.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// Renders `template` as a Python expression in `scope`.
pub fn render(template: &str, scope: &Scope) -> Rendered {
    let mut out = Rendered::default();
    let mut text = String::new();
    let mut rest = template;
    while let Some(start) = rest.find(['{']) {
        let after = &rest[start..];
        let close = if after.starts_with("{{") {
            "}}"
        } else if after.starts_with("{%") {
            "%}"
        } else if after.starts_with("{#") {
            "#}"
        } else {
            escape_into(&mut text, &rest[..=start]);
            rest = &rest[start + 1..];
            continue;
        };
        let Some(len) = after[2..].find(close) else {
            break;
        };
        escape_into(&mut text, &rest[..start]);
        let inner = after[2..2 + len].trim();
        let whole = &after[..len + 4];
        rest = &after[len + 4..];
        match close {
            "#}" => {}
            "%}" => out.unrendered.push(whole.to_string()),
            _ => match placeholder(inner, scope, &mut out) {
                Some(p) => {
                    text.push('{');
                    text.push_str(&p);
                    text.push('}');
                }
                None => out.unrendered.push(whole.to_string()),
            },
        }
    }
    escape_into(&mut text, rest);
    out.expr = if out.needs.is_empty() && out.locals.is_empty() {
        python::string(&template_text(&text))
    } else {
        format!("f{}", python::string(&text))
    };
    out
}

/// The templated shell command of a step (a `BashOperator`'s literal `bash_command` holding
/// Jinja), rendered with `param` naming the run parameters; an `ti.xcom_pull` reads a direct
/// upstream only (under its function's name).
pub fn shell_command(plan: &Plan, step: &Step, param: &dyn Fn(&str) -> String) -> Option<Rendered> {
    let op = step.node.operator.as_ref()?;
    if op.class != "BashOperator" || step.node.mapping.is_some() {
        return None;
    }
    let Some(Value::Str(cmd)) = op.args.get("bash_command") else {
        return None;
    };
    if !is_template(cmd) {
        return None;
    }
    let ups: Vec<usize> = step
        .after
        .iter()
        .chain(&step.extra_upstreams)
        .copied()
        .chain(step.inputs.iter().filter_map(|i| match i.source {
            Source::Step(j) => Some(j),
            _ => None,
        }))
        .collect();
    let upstream = |task: &str| {
        ups.iter()
            .find(|&&j| plan.steps[j].node.id == task)
            .map(|&j| plan.steps[j].func.clone())
    };
    Some(render(
        cmd,
        &Scope {
            param,
            upstream: &upstream,
        },
    ))
}

/// The upstream steps a rendered command reads, as (function name, step index).
pub fn upstream_steps(plan: &Plan, r: &Rendered) -> Vec<(String, usize)> {
    r.needs
        .iter()
        .filter_map(|n| match n {
            Needed::Upstream(task) => plan
                .steps
                .iter()
                .position(|s| &s.node.id == task)
                .map(|j| (plan.steps[j].func.clone(), j)),
            _ => None,
        })
        .collect()
}

/// The run parameters a rendered command reads.
pub fn params(r: &Rendered) -> Vec<String> {
    r.needs
        .iter()
        .filter_map(|n| match n {
            Needed::Param(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// The body that runs a rendered command in the shell, with `logical_date` bound to the
/// target's expression for the run's logical date; a command holding placeholders that could not
/// be rendered raises instead of running.
pub fn shell_body(r: &Rendered, logical_date: &str) -> String {
    if !r.unrendered.is_empty() {
        let why = format!(
            "orchmig could not render {} in this shell command: port it by hand",
            r.unrendered.join(", ")
        );
        let call = Expr::call("raise RuntimeError", vec![Expr::str(&why)]);
        return format!("{}\n", call.format(4, 0).replace("\n    ", "\n"));
    }
    let mut lines = Vec::new();
    if r.needs.contains(&Needed::LogicalDate) {
        lines.push(format!("logical_date = {logical_date}"));
    }
    lines.extend(r.locals.iter().cloned());
    let call = Expr::call(
        "subprocess.run",
        vec![
            Expr::raw(r.expr.clone()),
            Expr::kw("shell", Expr::raw("True")),
            Expr::kw("check", Expr::raw("True")),
        ],
    );
    lines.push(call.format(4, 0).replace("\n    ", "\n"));
    format!("{}\n", lines.join("\n"))
}

/// The ledger entry of a templated shell command: rendered in Python, saying where the target
/// takes each kind of value from (`dates`, `params`), or degraded.
pub fn record(
    r: &Rendered,
    node: &Node,
    ledger: &mut Ledger,
    table: &Translations,
    (dates, params): (&str, &str),
    at: crate::report::Anchor,
) {
    let (fidelity, note) = if r.unrendered.is_empty() {
        let mut from = Vec::new();
        if r.needs.contains(&Needed::LogicalDate) {
            from.push(format!("dates from {dates}"));
        }
        if r.needs.iter().any(|n| matches!(n, Needed::Param(_))) {
            from.push(format!("params from {params}"));
        }
        if r.needs.iter().any(|n| matches!(n, Needed::Upstream(_))) {
            from.push("xcom_pull from the upstream's value, passed in".to_string());
        }
        (
            Fidelity::Approximate,
            format!(
                "the Jinja template is rendered in Python: {}",
                from.join(", ")
            ),
        )
    } else {
        (
            Fidelity::None,
            format!(
                "{} cannot be rendered outside Airflow: the step raises instead of running the command",
                r.unrendered.join(", ")
            ),
        )
    };
    let subject = format!("{}.bash_command", node.id);
    if fidelity == crate::report::Fidelity::None {
        ledger.lose(table, "extra", &subject, node.span, note);
    } else {
        ledger.consume_as(table, "extra", &subject, node.span, at, fidelity, note);
    }
}

/// `text` with f-string braces doubled.
fn escape_into(out: &mut String, text: &str) {
    out.push_str(&text.replace('{', "{{").replace('}', "}}"));
}

/// The literal text of an f-string body with no placeholders (doubled braces undone).
fn template_text(fstring: &str) -> String {
    fstring.replace("{{", "{").replace("}}", "}")
}

/// The f-string placeholder of one `{{ … }}` expression (without braces), or `None`.
fn placeholder(expr: &str, scope: &Scope, out: &mut Rendered) -> Option<String> {
    let mut parts = split_filters(expr).into_iter();
    let base = parts.next()?;
    let (mut value, name) = value_of(base.trim(), scope, out)?;
    let mut filtered = false;
    for f in parts {
        let f = f.trim();
        let (fname, arg) = match f.split_once('(') {
            Some((n, a)) => (n.trim(), Some(a.strip_suffix(')')?.trim())),
            None => (f, None),
        };
        value = match (fname, arg) {
            ("join", None) => format!("\"\".join(map(str, {value}))"),
            ("join", Some(sep)) => format!("{}.join(map(str, {value}))", literal(sep)?),
            ("upper" | "lower", None) => format!("str({value}).{fname}()"),
            ("trim", None) => format!("str({value}).strip()"),
            ("string", None) => format!("str({value})"),
            _ => return None,
        };
        filtered = true;
    }
    if !filtered {
        return Some(value);
    }
    let k = out.local_names.entry(name.clone()).or_insert(0);
    *k += 1;
    let local = if *k == 1 {
        format!("{name}_text")
    } else {
        format!("{name}_text_{k}")
    };
    out.locals.push(format!("{local} = {value}"));
    Some(local)
}

/// The expression of a template value and a name for it: the logical date's fields, a run
/// parameter, an upstream's value.
fn value_of(base: &str, scope: &Scope, out: &mut Rendered) -> Option<(String, String)> {
    let need = |out: &mut Rendered, n: Needed| {
        if !out.needs.contains(&n) {
            out.needs.push(n);
        }
    };
    let date = match base {
        "ds" => Some("logical_date:%Y-%m-%d"),
        "ds_nodash" => Some("logical_date:%Y%m%d"),
        "ts" | "logical_date" => Some("logical_date.isoformat()"),
        "ts_nodash" => Some("logical_date:%Y%m%dT%H%M%S"),
        _ => None,
    };
    if let Some(d) = date {
        need(out, Needed::LogicalDate);
        return Some((d.to_string(), base.to_string()));
    }
    if let Some(name) = param_name(base) {
        need(out, Needed::Param(name.clone()));
        return Some(((scope.param)(&name), python::identifier(&name)));
    }
    let task = xcom_task(base)?;
    let local = (scope.upstream)(&task)?;
    need(out, Needed::Upstream(task));
    Some((local.clone(), local))
}

/// `params.x`, `params['x']`, `params["x"]` → `x`.
fn param_name(base: &str) -> Option<String> {
    let rest = base.strip_prefix("params")?;
    let name = if let Some(attr) = rest.strip_prefix('.') {
        attr.to_string()
    } else {
        literal_text(rest.strip_prefix('[')?.strip_suffix(']')?.trim())?
    };
    (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(name)
}

/// The task id of `ti.xcom_pull(task_ids='t')` / `task_instance.xcom_pull('t')` (the default
/// key only).
fn xcom_task(base: &str) -> Option<String> {
    let args = ["ti.xcom_pull(", "task_instance.xcom_pull("]
        .iter()
        .find_map(|p| base.strip_prefix(p))?
        .strip_suffix(')')?;
    let mut task = None;
    for arg in args.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        match arg.split_once('=') {
            Some((k, v)) if k.trim() == "task_ids" => task = Some(literal_text(v.trim())?),
            Some((k, v)) if k.trim() == "key" && literal_text(v.trim())? == "return_value" => {}
            None if task.is_none() => task = Some(literal_text(arg)?),
            _ => return None,
        }
    }
    task
}

/// The text of a quoted Jinja string literal.
fn literal_text(s: &str) -> Option<String> {
    let q = s.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let inner = s.strip_prefix(q)?.strip_suffix(q)?;
    (!inner.contains(q) && !inner.contains('\\')).then(|| inner.to_string())
}

/// A Jinja string literal as a Python one.
fn literal(s: &str) -> Option<String> {
    literal_text(s).map(|t| python::string(&t))
}

/// `a | f(x) | g` → `["a", "f(x)", "g"]` (a `|` inside quotes or brackets does not split).
fn split_filters(expr: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    for (i, c) in expr.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, '|') if depth == 0 => {
                parts.push(&expr[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&expr[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope_render(t: &str) -> Rendered {
        let param = |n: &str| format!("config.{n}");
        let upstream = |t: &str| (t == "match").then(|| "match".to_string());
        render(
            t,
            &Scope {
                param: &param,
                upstream: &upstream,
            },
        )
    }

    #[test]
    fn dates_and_params_become_f_string_fields() {
        let r = scope_render("echo 'report {{ ds }} team={{ params.team }} {{ params[\"n\"] }}'");
        assert_eq!(
            r.expr,
            "f\"echo 'report {logical_date:%Y-%m-%d} team={config.team} {config.n}'\""
        );
        assert_eq!(
            r.needs,
            [
                Needed::LogicalDate,
                Needed::Param("team".into()),
                Needed::Param("n".into())
            ]
        );
        assert!(r.unrendered.is_empty());
    }

    #[test]
    fn an_upstream_value_with_a_filter_is_bound_first() {
        let r = scope_render("echo on {{ ds }}: {{ ti.xcom_pull(task_ids='match') | join(',') }}");
        assert_eq!(r.locals, ["match_text = \",\".join(map(str, match))"]);
        assert_eq!(r.expr, "f\"echo on {logical_date:%Y-%m-%d}: {match_text}\"");
        assert_eq!(r.needs[1], Needed::Upstream("match".into()));
    }

    #[test]
    fn shell_braces_are_kept_and_plain_commands_stay_plain() {
        let r = scope_render("awk '{print $1}' {{ ds_nodash }}");
        assert_eq!(r.expr, "f\"awk '{{print $1}}' {logical_date:%Y%m%d}\"");
        assert_eq!(
            scope_render("awk '{print $1}'").expr,
            "\"awk '{print $1}'\""
        );
    }

    #[test]
    fn what_cannot_be_rendered_is_listed() {
        let r = scope_render("{{ var.value.x }} {{ ti.xcom_pull(task_ids='other') }} {% if x %}");
        assert_eq!(
            r.unrendered,
            [
                "{{ var.value.x }}",
                "{{ ti.xcom_pull(task_ids='other') }}",
                "{% if x %}"
            ]
        );
    }
}
