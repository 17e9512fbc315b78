//! Dagster multi-assets written back as one `@dg.multi_asset`: the assets the reader split out of
//! one function (its `outs=` or `specs=`) are gathered again, each as its `dg.AssetOut` or
//! `dg.AssetSpec`.

use crate::ir::{Node, SourceFile, Value, multi_asset_output};
use crate::python::print::{self as python, Expr};
use crate::report::{Fidelity, Ledger, Translations};

/// Per-asset options of `@dg.asset` that move into each output of a multi-asset.
const PER_ASSET: &[&str] = &[
    "key_prefix",
    "name",
    "group_name",
    "description",
    "owners",
    "tags",
    "kinds",
    "io_manager_key",
    "metadata",
    "code_version",
    "compute_kind",
];

/// The assets of the multi-asset `n` belongs to, in the order of its outputs (just `n` when it
/// is a plain asset); they may be spread over several pipelines of the file.
pub fn members<'f>(file: &'f SourceFile, n: &Node) -> Vec<&'f Node> {
    let Some(function) = n.extra.get("multi_asset").and_then(Value::as_str) else {
        return Vec::new();
    };
    if multi_asset_output(n).is_none() {
        return Vec::new();
    }
    let at = n.callable.as_ref().map(|c| c.span.start);
    let mut out: Vec<&Node> = Vec::new();
    for m in file.pipelines.iter().flat_map(|p| &p.nodes) {
        if m.extra.get("multi_asset").and_then(Value::as_str) == Some(function)
            && m.callable.as_ref().map(|c| c.span.start) == at
            && multi_asset_output(m).is_some()
            && !out.iter().any(|x| x.id == m.id)
        {
            out.push(m);
        }
    }
    out.sort_by_key(|m| multi_asset_output(m).and_then(|o| n.outputs.iter().position(|x| *x == o)));
    out
}

/// An asset key as Dagster code writes it: `"name"`, or `dg.AssetKey(["a", "b"])` for a path.
pub fn key_expr(id: &str) -> Expr {
    if id.contains('/') {
        Expr::call(
            "dg.AssetKey",
            vec![Expr::List(id.split('/').map(Expr::str).collect())],
        )
    } else {
        Expr::str(id)
    }
}

/// `@dg.multi_asset(...)` from the options the first asset would have had (`kw`), with the
/// per-asset ones moved into each member's `dg.AssetOut` (an `outs=` multi-asset) or
/// `dg.AssetSpec` (a `specs=` one).
pub fn decorator(
    kw: Vec<Expr>,
    members: &[&Node],
    ledger: &mut Ledger,
    table: &Translations,
    at: &crate::report::Anchor,
) -> String {
    let specs = members.iter().all(|m| !m.extra.contains_key("output"));
    let mut shared_deps: Vec<Expr> = Vec::new();
    let mut kw: Vec<Expr> = kw
        .into_iter()
        .filter(|e| match e {
            Expr::Keyword(k, v) if specs && k == "deps" => {
                if let Expr::List(items) = &**v {
                    shared_deps.extend(items.iter().cloned());
                }
                false
            }
            Expr::Keyword(k, _) => !PER_ASSET.contains(&k.as_str()),
            _ => true,
        })
        .collect();
    let outputs: Vec<(Expr, Expr)> = members
        .iter()
        .map(|m| {
            let name = multi_asset_output(m).unwrap_or_else(|| m.id.clone());
            (Expr::str(&name), asset_out(m, &name))
        })
        .collect();
    if specs {
        let list = members
            .iter()
            .map(|m| asset_spec(m, &shared_deps))
            .collect();
        kw.insert(0, Expr::kw("specs", Expr::List(list)));
    } else {
        kw.insert(0, Expr::kw("outs", Expr::Dict(outputs)));
    }
    for m in members {
        for key in ["multi_asset", "output"] {
            if m.extra.contains_key(key) {
                ledger.consume_as(
                    table,
                    "extra",
                    &format!("{}.{key}", m.id),
                    m.span,
                    at.clone(),
                    Fidelity::Exact,
                    "written back as one `@dg.multi_asset`".into(),
                );
            }
        }
    }
    python::decorator("dg.multi_asset", kw)
}

/// The options one asset of a multi-asset has on its own (group, description, owners, IO manager).
fn own_options(m: &Node) -> Vec<Expr> {
    let mut kw = Vec::new();
    if let Some(g) = m.group.as_ref().filter(|g| !g.is_empty()) {
        kw.push(Expr::kw("group_name", Expr::str(&python::identifier(g))));
    }
    if let Some(d) = &m.description {
        kw.push(Expr::kw(
            "description",
            Expr::str(d.lines().next().unwrap_or("")),
        ));
    }
    if let Some(o) = m
        .policy
        .owner
        .as_ref()
        .filter(|o| o.contains('@') || o.starts_with("team:"))
    {
        kw.push(Expr::kw("owners", Expr::List(vec![Expr::str(o)])));
    }
    if let Some(io) = &m.io_manager {
        kw.push(Expr::kw("io_manager_key", Expr::str(io)));
    }
    kw
}

/// `dg.AssetOut(key_prefix=…, …)` of one output (its key is the prefix plus the output name,
/// else written whole).
fn asset_out(m: &Node, name: &str) -> Expr {
    let parts: Vec<&str> = m.id.split('/').collect();
    let mut kw = Vec::new();
    match parts.split_last() {
        Some((last, prefix)) if *last == name => {
            if !prefix.is_empty() {
                kw.push(Expr::kw(
                    "key_prefix",
                    Expr::List(prefix.iter().map(|x| Expr::str(x)).collect()),
                ));
            }
        }
        _ => kw.push(Expr::kw(
            "key",
            Expr::List(parts.iter().map(|x| Expr::str(x)).collect()),
        )),
    }
    kw.extend(own_options(m));
    Expr::call("dg.AssetOut", kw)
}

/// `dg.AssetSpec(key, deps=[…], …)` of one asset of a `specs=` multi-asset.
fn asset_spec(m: &Node, shared_deps: &[Expr]) -> Expr {
    let mut args = vec![key_expr(&m.id)];
    let mut deps: Vec<Expr> = m
        .inlets
        .iter()
        .filter_map(|a| a.name.as_deref())
        .map(key_expr)
        .collect();
    for d in shared_deps {
        if !deps.contains(d) {
            deps.push(d.clone());
        }
    }
    if !deps.is_empty() {
        args.push(Expr::kw("deps", Expr::List(deps)));
    }
    args.extend(own_options(m));
    Expr::call("dg.AssetSpec", args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{AssetRef, NodeKind, Span};

    fn member(id: &str, output: Option<&str>) -> Node {
        let mut n = Node::new(id, NodeKind::Asset, Span::default());
        n.extra
            .insert("multi_asset".into(), Value::Str("compute".into()));
        if let Some(o) = output {
            n.extra.insert("output".into(), Value::Str(o.into()));
        }
        n.outputs = vec!["a".into(), "b".into()];
        n
    }

    #[test]
    fn outs_keep_their_key_prefix_and_own_options() {
        let mut a = member("mk/a", Some("a"));
        a.group = Some("mk".into());
        let mut b = member("mk/b", Some("b"));
        b.io_manager = Some("scratch".into());
        let table = Translations::builtin().unwrap();
        let mut ledger = Ledger::new("f.py", "p", "dagster");
        let kw = vec![
            Expr::kw("name", Expr::str("a")),
            Expr::kw("retry_policy", Expr::raw("rp")),
        ];
        let d = decorator(
            kw,
            &[&a, &b],
            &mut ledger,
            &table,
            &crate::report::Anchor::at(crate::report::Scope::Module),
        );
        assert!(d.starts_with("@dg.multi_asset(\n    outs={"), "{d}");
        assert!(
            d.contains("\"a\": dg.AssetOut(key_prefix=[\"mk\"], group_name=\"mk\")"),
            "{d}"
        );
        assert!(d.contains("io_manager_key=\"scratch\""), "{d}");
        assert!(d.contains("retry_policy=rp"), "{d}");
        assert!(
            !d.lines().any(|l| l.trim_start().starts_with("name=")),
            "{d}"
        );
    }

    #[test]
    fn specs_carry_their_deps() {
        let mut a = member("a", None);
        a.inlets = vec![AssetRef {
            name: Some("tickets".into()),
            uri: None,
        }];
        let b = member("b", None);
        let table = Translations::builtin().unwrap();
        let mut ledger = Ledger::new("f.py", "p", "dagster");
        let d = decorator(
            Vec::new(),
            &[&a, &b],
            &mut ledger,
            &table,
            &crate::report::Anchor::at(crate::report::Scope::Module),
        );
        assert!(
            d.contains("dg.AssetSpec(\"a\", deps=[\"tickets\"])")
                && d.contains("dg.AssetSpec(\"b\")"),
            "{d}"
        );
    }
}
