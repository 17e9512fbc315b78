//! The body of an asset function: locals bound first, a mapped step as a loop inside the asset.

use crate::emit::module::Imports;
use crate::emit::plan::{Source, Step};
use crate::emit::shared;
use crate::ir::Framework;
use crate::python::print::{self as python, Expr};
use crate::report::{Anchor, Fidelity, Ledger, Translations};

/// The body of an asset: non-edge parameters assigned first, mapping expanded to a loop.
#[allow(clippy::too_many_arguments)]
pub(super) fn asset_body(
    step: &Step,
    from: Framework,
    prelude: &[String],
    (shell, params): (Option<&str>, &[String]),
    imports: &mut Imports,
    helpers: &mut Vec<&'static str>,
    ledger: &mut Ledger,
    table: &Translations,
) -> (String, bool) {
    let n = step.node;
    let (_, inner, _) = shared::body_for(
        step,
        from,
        Framework::Dagster,
        imports,
        helpers,
        ledger,
        table,
        None,
        (None, &[]),
    );
    // A rendered shell command replaces the operator's body; Airflow params read the config.
    let inner = match shell {
        Some(b) => python::indent_body(b, 4).trim_end().to_string(),
        None if !params.is_empty() => {
            crate::emit::rewrite::airflow_params(&inner, params, "config.")
                .0
                .replace(
                    "_airflow_context(context)",
                    "_airflow_context(context, config.model_dump())",
                )
        }
        None => inner,
    };
    let uses_context = inner
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == "context");
    let mut text = String::new();
    if let Some(m) = &n.mapping {
        let text = mapped_body(step, m, from, prelude, &inner, imports, ledger, table);
        return (text, uses_context);
    }
    // A docstring stays the body's first statement, before the locals.
    let inner = match leading_docstring(&inner) {
        Some((doc, rest)) if !prelude.is_empty() => {
            text.push_str(&doc);
            text.push('\n');
            rest
        }
        _ => inner,
    };
    // A local the body never reads is not written (ruff F841).
    let read = |name: &str, rest: &[String]| {
        std::iter::once(inner.as_str())
            .chain(rest.iter().map(String::as_str))
            .any(|t| crate::emit::inline::mentions(t, name))
    };
    for (i, l) in prelude.iter().enumerate() {
        let name = l.split(" = ").next().unwrap_or("");
        if read(name, &prelude[i + 1..]) {
            text.push_str(&format!("    {l}\n"));
        }
    }
    // A nested function after the locals is set apart by a blank line (as ruff formats it).
    if !text.is_empty() && inner.trim_start().starts_with("def ") {
        text.push('\n');
    }
    text.push_str(&inner);
    (text.trim_end().to_string(), uses_context)
}

/// The body of a mapped asset: the step's body as `_one`, called once per element (zipped,
/// crossed or keyword rows as the source maps them) in a list comprehension.
#[allow(clippy::too_many_arguments)]
fn mapped_body(
    step: &Step,
    m: &crate::ir::Mapping,
    from: Framework,
    prelude: &[String],
    inner: &str,
    imports: &mut Imports,
    ledger: &mut Ledger,
    table: &Translations,
) -> String {
    let n = step.node;
    let mut text = String::new();
    // One call per element, inside the asset.
    let mut params: Vec<String> = n
        .callable
        .as_ref()
        .map(|c| {
            c.params
                .iter()
                .filter(|p| p.name != "context")
                .map(|p| p.name.clone())
                .collect()
        })
        .unwrap_or_default();
    if n.callable.is_none() {
        params = m
            .over
            .iter()
            .map(|a| a.param.clone())
            .filter(|p| !p.is_empty())
            .collect();
    }
    text.push_str(&format!("def _one({}):\n{inner}\n\n", params.join(", ")));
    for l in prelude {
        text.push_str(l);
        text.push('\n');
    }
    let first = m.over.first();
    // Names in scope for each call: the prelude's locals and the asset's unmapped inputs.
    let defined: Vec<&str> = prelude
        .iter()
        .filter_map(|l| l.split(" = ").next())
        .chain(
            step.inputs
                .iter()
                .filter(|i| !i.mapped && matches!(i.source, Source::Step(_)))
                .map(|i| i.param.as_str()),
        )
        .collect();
    // Nothing mapped (`.map(x=unmapped(…))`, which Prefect refuses at run time): no call.
    let items_expr = match (first, first.and_then(|a| a.literal.clone())) {
        (_, Some(v)) => python::value(&v),
        (Some(a), None) if !a.param.is_empty() => Expr::raw(a.param.clone()),
        _ => Expr::raw("[]"),
    };
    let zipped: Vec<&crate::ir::MappedArg> =
        m.over.iter().filter(|a| !a.param.is_empty()).collect();
    let mut items_expr = items_expr;
    let (call, target) = if m.kwargs {
        ("_one(**row)".to_string(), "row".to_string())
    } else if zipped.len() > 1 {
        // Several iterables: Prefect's `.map(a, b)` pairs them element-wise (zip), Airflow's
        // `expand(x=…, y=…)` runs every combination (itertools.product).
        let pairing = if from == Framework::Prefect {
            "zip"
        } else {
            imports.module("itertools");
            "itertools.product"
        };
        items_expr = Expr::call(
            pairing,
            zipped
                .iter()
                .map(|a| {
                    a.literal
                        .as_ref()
                        .map_or_else(|| Expr::raw(a.param.clone()), python::value)
                })
                .collect(),
        );
        let over: Vec<&str> = zipped.iter().map(|a| a.param.as_str()).collect();
        let args: Vec<String> = params
            .iter()
            .filter(|p| over.contains(&p.as_str()) || defined.contains(&p.as_str()))
            .map(|p| format!("{p}={p}"))
            .collect();
        (format!("_one({})", args.join(", ")), over.join(", "))
    } else {
        let over = first.map(|a| a.param.clone()).unwrap_or_default();
        let args: Vec<String> = params
            .iter()
            .filter(|p| **p == over || defined.contains(&p.as_str()))
            .map(|p| {
                if *p == over {
                    format!("{p}=item")
                } else {
                    format!("{p}={p}")
                }
            })
            .collect();
        (format!("_one({})", args.join(", ")), "item".to_string())
    };
    let mut items = items_expr.flat();
    // An assignment expression may not be a comprehension's iterable (CPython refuses the
    // module): such a collection is bound to a local first.
    if items.contains(":=") {
        text.push_str(&format!("_items = {items}\n"));
        items = "_items".into();
        items_expr = Expr::raw("_items");
    }
    let one_line = format!("return [{call} for {target} in {items}]");
    let inner = format!("{call} for {target} in {items}");
    if 4 + one_line.len() <= python::LINE_LENGTH {
        text.push_str(&one_line);
    } else if 8 + inner.len() <= python::LINE_LENGTH {
        text.push_str(&format!("return [\n    {inner}\n]"));
    } else {
        let lead = format!("for {target} in ");
        text.push_str(&format!(
            "return [\n    {call}\n    {lead}{}\n]",
            items_expr
                .format_lead(8, lead.len(), 0)
                .replace("\n        ", "\n    ")
        ));
    }
    text.push('\n');
    ledger.consume_as(
        table,
        "mapping",
        &n.id,
        n.span,
        Anchor::body(&step.func, "for "),
        Fidelity::Approximate,
        "mapped calls run in a loop inside one asset (no per-element retries)".into(),
    );
    python::indent_body(&text, 4).trim_end().to_string()
}

/// A body's leading docstring and the rest, both indented as the body is; `None` when it does
/// not start with one.
fn leading_docstring(inner: &str) -> Option<(String, String)> {
    use crate::python::ast::{Ranged, Stmt};
    let text = crate::python::source::dedent(inner);
    let suite = crate::python::parse::parse_body_text(&text)?;
    let (first, second) = (suite.first()?, suite.get(1)?);
    let Stmt::Expr(e) = first else { return None };
    if !e.value.is_string_literal_expr() {
        return None;
    }
    let doc = text.get(..usize::from(first.range().end()))?;
    let rest = text.get(usize::from(second.range().start())..)?;
    let rest = rest.trim_end();
    Some((
        python::indent_body(doc, 4).trim_end().to_string(),
        python::indent_body(rest, 4).trim_end().to_string(),
    ))
}
