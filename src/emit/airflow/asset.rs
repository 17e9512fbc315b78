//! The module's assets as `Asset` constants, and the `inlets`/`outlets` of tasks.

use super::names::sdk;
use crate::emit::Target;
use crate::emit::module::Imports;
use crate::ir::{AssetRef, Framework, ScheduleKind, SourceFile};
use crate::python::print::{Expr, identifier};
use crate::report::{Anchor, Ledger, Translations};

/// The module's assets as constants (`CRM_ACCOUNTS = Asset(name=…, uri=…)`), one per asset
/// name or URI, so producers' outlets, consumers' inlets and asset schedules all name the same
/// Asset (Airflow activates one asset per name and per URI).
pub(super) struct AssetConsts {
    /// (constant name, the asset with every field any reference gave it).
    pub(super) list: Vec<(String, AssetRef)>,
    /// Whether tasks are written with their inlets.
    inlets: bool,
}

impl AssetConsts {
    /// The assets of every pipeline of `file`: outlets, inlets (as an Airflow source declares
    /// them; a Dagster asset's inlets are its upstream edges), then asset schedules.
    pub(super) fn new(file: &SourceFile) -> AssetConsts {
        let mut consts = AssetConsts {
            list: Vec::new(),
            inlets: file.framework == Some(Framework::Airflow),
        };
        for p in &file.pipelines {
            for n in &p.nodes {
                let inlets = if consts.inlets { &n.inlets[..] } else { &[] };
                for a in n.outlets.iter().chain(inlets) {
                    consts.add(a);
                }
            }
        }
        for p in &file.pipelines {
            if let Some(s) = p
                .schedule
                .as_ref()
                .filter(|s| s.kind == ScheduleKind::Asset)
            {
                for name in &s.assets {
                    if consts.find(name).is_none() {
                        consts.add(&AssetRef {
                            name: Some(name.clone()),
                            uri: None,
                        });
                    }
                }
            }
        }
        consts
    }

    /// Adds an asset, merged with a known one of the same name or URI.
    fn add(&mut self, a: &AssetRef) {
        let same = |b: &AssetRef| {
            (a.name.is_some() && a.name == b.name) || (a.uri.is_some() && a.uri == b.uri)
        };
        if let Some((_, known)) = self.list.iter_mut().find(|(_, b)| same(b)) {
            known.name = known.name.take().or_else(|| a.name.clone());
            known.uri = known.uri.take().or_else(|| a.uri.clone());
            return;
        }
        let Some(key) = a.name.as_ref().or(a.uri.as_ref()) else {
            return;
        };
        let base = identifier(
            key.rsplit(['/', ':'])
                .find(|x| !x.is_empty())
                .unwrap_or(key),
        )
        .to_uppercase();
        let mut name = base.clone();
        let mut k = 1;
        while self.list.iter().any(|(c, _)| *c == name) {
            k += 1;
            name = format!("{base}_{k}");
        }
        self.list.push((name, a.clone()));
    }

    /// The constant of an asset named (or with the URI) `key`.
    fn find(&self, key: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(_, a)| a.name.as_deref() == Some(key) || a.uri.as_deref() == Some(key))
            .map(|(c, _)| c.as_str())
    }

    /// An asset reference in the code: its constant.
    pub(super) fn named(&self, key: &str, target: Target, imports: &mut Imports) -> Expr {
        imports.name(sdk(target), "Asset");
        match self.find(key) {
            Some(c) => Expr::raw(c),
            None => Expr::call("Asset", vec![Expr::kw("name", Expr::str(key))]),
        }
    }

    /// An asset reference in the code: the constant of its name, else of its URI.
    fn reference(&self, a: &AssetRef, target: Target, imports: &mut Imports) -> Expr {
        let key = a
            .name
            .as_ref()
            .or(a.uri.as_ref())
            .cloned()
            .unwrap_or_default();
        self.named(&key, target, imports)
    }

    /// The `outlets=[…]` and `inlets=[…]` arguments of a task.
    pub(super) fn kwargs(
        &self,
        n: &crate::ir::Node,
        imports: &mut Imports,
        target: Target,
    ) -> Vec<Expr> {
        let mut kw = Vec::new();
        for (key, list) in [("inlets", &n.inlets), ("outlets", &n.outlets)] {
            if !list.is_empty() && (key == "outlets" || self.inlets) {
                kw.push(Expr::kw(
                    key,
                    Expr::List(
                        list.iter()
                            .map(|a| self.reference(a, target, imports))
                            .collect(),
                    ),
                ));
            }
        }
        kw
    }

    /// Consumes a node's outlets and inlets where `kwargs` wrote them (`at`: the task).
    pub(super) fn consume(
        &self,
        n: &crate::ir::Node,
        ledger: &mut Ledger,
        table: &Translations,
        at: &Anchor,
    ) {
        if !n.outlets.is_empty() {
            ledger.consume(
                table,
                "assets.outlets",
                &n.id,
                n.span,
                at.clone().then("outlets="),
            );
        }
        if !n.inlets.is_empty() && self.inlets {
            ledger.consume(
                table,
                "assets.inlets",
                &n.id,
                n.span,
                at.clone().then("inlets="),
            );
        }
    }

    /// The module-level definitions, in first-use order.
    pub(super) fn lines(&self) -> Vec<String> {
        self.list
            .iter()
            .map(|(c, a)| {
                let mut args = Vec::new();
                if let Some(n) = &a.name {
                    args.push(Expr::kw("name", Expr::str(n)));
                }
                if let Some(u) = a.uri.as_ref().filter(|u| a.name.as_ref() != Some(*u)) {
                    args.push(Expr::kw("uri", Expr::str(u)));
                }
                format!(
                    "{c} = {}",
                    Expr::call("Asset", args).format_lead(0, c.len() + 3, 0)
                )
            })
            .collect()
    }
}
