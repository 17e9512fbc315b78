//! What a function body uses of Dagster: context attributes, API calls, yields, and the
//! severities of the check results it returns.

use crate::python::ast::{Expr, Stmt};
use std::collections::{BTreeMap, BTreeSet};

use super::names::api;
use crate::python::imports::ImportMap;
use crate::python::visit::each_expr;

/// What a body scan found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BodyFacts {
    /// Sorted, unique: `context.<attr>` for attributes read on the context parameter, the
    /// Dagster API names called (`MaterializeResult`, `Output`, …) and `yield`.
    pub uses: Vec<String>,
    /// Severity of the `AssetCheckResult`s built, by `check_name` (`None` when not named):
    /// `warn` when any of them is `AssetCheckSeverity.WARN`, else `error`.
    pub severities: BTreeMap<Option<String>, String>,
}

/// Scans a body; `context` is the name of the context parameter, if the function has one.
pub fn scan(body: &[Stmt], imports: &ImportMap, context: Option<&str>) -> BodyFacts {
    let mut uses = BTreeSet::new();
    let mut severities: BTreeMap<Option<String>, String> = BTreeMap::new();
    each_expr(body, &mut |e| match e {
        Expr::Attribute(a) => {
            if let (Expr::Name(n), Some(ctx)) = (&*a.value, context)
                && n.id.as_str() == ctx
            {
                uses.insert(format!("context.{}", a.attr));
            }
        }
        Expr::Yield(_) | Expr::YieldFrom(_) => {
            uses.insert("yield".to_string());
        }
        Expr::Call(c) => {
            let Some(q) = imports.qualify(&c.func) else {
                return;
            };
            let Some(name) = api(&q) else { return };
            uses.insert(name.to_string());
            if name == "AssetCheckResult" {
                let mut check = None;
                let mut severity = "error";
                for kw in &c.arguments.keywords {
                    match (kw.arg.as_deref(), &kw.value) {
                        (Some("check_name"), Expr::StringLiteral(s)) => {
                            check = Some(s.value.to_string());
                        }
                        (Some("severity"), v)
                            if imports
                                .qualify(v)
                                .is_some_and(|s| s.ends_with(".WARN") || s == "WARN") =>
                        {
                            severity = "warn";
                        }
                        _ => {}
                    }
                }
                let entry = severities.entry(check).or_insert_with(|| "error".into());
                if severity == "warn" {
                    *entry = "warn".into();
                }
            }
        }
        _ => {}
    });
    BodyFacts {
        uses: uses.into_iter().collect(),
        severities,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::ast;

    #[test]
    fn finds_context_uses_api_calls_and_severities() {
        let src = "import dagster as dg\n\
                   def f(context, x):\n    \
                   day = context.partition_key\n    \
                   context.add_output_metadata({'n': 1})\n    \
                   context.log.info('x')\n    \
                   yield dg.Output(x)\n    \
                   yield dg.AssetCheckResult(check_name='a', passed=True, severity=dg.AssetCheckSeverity.WARN)\n    \
                   yield dg.AssetCheckResult(check_name='b', passed=True)\n";
        let suite = crate::python::parse::parse_suite(src).unwrap();
        let imports = ImportMap::from_suite(&suite);
        let ast::Stmt::FunctionDef(f) = &suite[1] else {
            panic!()
        };
        let facts = scan(&f.body, &imports, Some("context"));
        assert_eq!(
            facts.uses,
            [
                "AssetCheckResult",
                "Output",
                "context.add_output_metadata",
                "context.log",
                "context.partition_key",
                "yield"
            ]
        );
        assert_eq!(facts.severities[&Some("a".to_string())], "warn");
        assert_eq!(facts.severities[&Some("b".to_string())], "error");
    }
}
