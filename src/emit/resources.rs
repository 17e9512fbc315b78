//! Dagster resources and config in a target without them: a resource parameter (or a
//! `context.resources.x` read) becomes a local built from the resource's binding, a `Config`
//! parameter becomes a local built from its defaults, and the resource and config classes
//! themselves become plain settings classes (`_Settings` keeps their annotated defaults).

use crate::ir::{Callable, Framework, Pipeline, Resource, Value};
use crate::python::print::Expr;

/// The locals a Dagster body needs in another framework, and the parameters they replace.
#[derive(Debug, Default)]
pub struct Locals {
    /// `name = Class(...)` lines to put first in the body.
    pub prelude: Vec<String>,
    /// Parameters no longer in the signature.
    pub dropped: Vec<String>,
    /// The body with `context.resources.x` read as `x`.
    pub body: String,
}

/// The base class of ported resource and config classes: keyword arguments over class defaults.
pub const SETTINGS_HELPER: &str = include_str!("../../templates/common/settings.py");

/// The bases of the Dagster classes that become `_Settings`.
const SETTINGS_BASES: &[&str] = &[
    "dg.ConfigurableResource",
    "dagster.ConfigurableResource",
    "ConfigurableResource",
    "dg.Config",
    "dagster.Config",
    "Config",
];

/// Resource and config parameters of `c` (and `context.resources.x` in `body`) as locals.
pub fn locals(c: &Callable, body: &str, pipeline: &Pipeline, config_classes: &[String]) -> Locals {
    let resources = &pipeline.resources;
    let mut out = Locals {
        body: body.to_string(),
        ..Locals::default()
    };
    // `context.op_config` reads the op's entry of the job's run config.
    if out.body.contains("context.op_config") {
        let config = op_config(pipeline, &c.name).unwrap_or(Value::Dict(Default::default()));
        out.body = out.body.replace("context.op_config", "op_config");
        out.prelude.push(format!(
            "op_config = {}",
            crate::python::print::value(&config).flat()
        ));
        out.dropped.push("context".into());
    }
    let construct = |r: &Resource| {
        format!(
            "{} = {}",
            r.key,
            resource_call(r, Framework::Airflow).flat()
        )
    };
    for p in &c.params {
        if let Some(r) = resources.iter().find(|r| r.key == p.name) {
            out.prelude.push(construct(r));
            out.dropped.push(p.name.clone());
        } else if let Some(ann) = p
            .annotation
            .as_deref()
            .filter(|a| config_classes.iter().any(|k| k == a))
        {
            out.prelude.push(format!("{} = {ann}()", p.name));
            out.dropped.push(p.name.clone());
        }
    }
    for r in resources {
        let read = format!("context.resources.{}", r.key);
        if out.body.contains(&read) {
            out.body = out.body.replace(&read, &r.key);
            if !out.dropped.contains(&r.key) {
                out.prelude.push(construct(r));
                out.dropped.push(r.key.clone());
            }
        }
    }
    out
}

/// The call that builds a resource: its class as the target names it, with its literal arguments.
pub fn resource_call(r: &Resource, target: Framework) -> Expr {
    let dagster = target == Framework::Dagster;
    let class = match r.class.as_deref() {
        Some(c) if dagster && c.starts_with("dagster.") => {
            format!("dg.{}", crate::python::imports::last_part(c))
        }
        Some(c) => crate::python::imports::last_part(c).to_string(),
        None if dagster => "dg.FilesystemIOManager".into(),
        None => "dict".into(),
    };
    let args = r
        .args
        .iter()
        .map(|(k, v)| Expr::kw(k, crate::python::print::value(v)))
        .collect();
    Expr::call(&class, args)
}

/// The `config` of an op in its job's run config (`{"ops": {op: {"config": {...}}}}`).
fn op_config(pipeline: &Pipeline, op: &str) -> Option<Value> {
    let field = |v: &Value, k: &str| match v {
        Value::Dict(d) => d.get(k).cloned(),
        _ => None,
    };
    let ops = field(pipeline.extra.get("config")?, "ops")?;
    field(&field(&ops, op)?, "config")
}

/// A Dagster resource or config class as a plain settings class, if `text` is one.
pub fn settings_class(text: &str) -> Option<String> {
    let first = text.lines().next()?;
    if !first.starts_with("class ") {
        return None;
    }
    let base = SETTINGS_BASES
        .iter()
        .find(|b| first.contains(&format!("({b})")))?;
    Some(text.replacen(&format!("({base})"), "(_Settings)", 1))
}

/// The names of the Dagster config classes among a module's support classes.
pub fn config_classes(support: &[crate::ir::SupportItem]) -> Vec<String> {
    support
        .iter()
        .filter(|i| settings_class(&i.text).is_some())
        .flat_map(|i| i.binds.clone())
        .collect()
}

/// Records what each of a Dagster pipeline's resources becomes in an Airflow or Prefect port
/// (`file` is the source as read): a user's resource class is a settings object built in each
/// step that uses it; a Dagster integration's class stays imported from its Dagster package;
/// an IO manager gives way to the target's own passing of values.
pub fn record_resources(
    file: &crate::ir::SourceFile,
    ledgers: &mut [crate::report::Ledger],
    target: Framework,
) {
    use crate::report::{Anchor, Fidelity, Scope};
    if file.framework != Some(Framework::Dagster) || target == Framework::Dagster {
        return;
    }
    let passing = match target {
        Framework::Airflow => "XCom",
        _ => "task results",
    };
    for (i, p) in file.pipelines.iter().enumerate() {
        let Some(ledger) = ledgers.get_mut(i) else {
            continue;
        };
        for r in &p.resources {
            let class = r.class.as_deref().unwrap_or("");
            let name = crate::python::imports::last_part(class);
            let package = class.split('.').next().unwrap_or("");
            let built = format!("{} = {name}(", r.key);
            let used = p.nodes.iter().any(|n| {
                n.callable.as_ref().is_some_and(|c| {
                    c.params.iter().any(|x| x.name == r.key)
                        || c.body.contains(&format!("context.resources.{}", r.key))
                })
            });
            let (fidelity, note, at) = if r.key == "io_manager" || name.ends_with("IOManager") {
                (
                    Fidelity::None,
                    format!(
                        "values pass by {passing}: the IO manager's storage (`{name}`) is not used; read and write that storage in the steps if other code reads it"
                    ),
                    None,
                )
            } else if !used {
                (
                    Fidelity::None,
                    "no step of this pipeline uses it: nothing of it is written".to_string(),
                    None,
                )
            } else if package == "dagster" || package.starts_with("dagster_") {
                (
                    Fidelity::Redesign,
                    format!(
                        "`{name}` is Dagster's (`{package}`): each step that uses it builds one, so the port needs that package installed; replace it with the target's connection"
                    ),
                    Some(Anchor::at(Scope::Module).then(&built)),
                )
            } else {
                (
                    Fidelity::Approximate,
                    format!(
                        "a plain settings object built in each step that uses it (`{name}(...)`), with no resource lifecycle (setup, teardown)"
                    ),
                    Some(Anchor::at(Scope::Module).then(&built)),
                )
            };
            ledger.reclassify("resource", &r.key, fidelity, note, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::CallableParam as Param;
    use std::collections::BTreeMap;

    #[test]
    fn resource_parameters_become_locals() {
        let c = Callable {
            name: "contacts".into(),
            params: vec![Param {
                name: "crm".into(),
                annotation: Some("CrmClient".into()),
                default: None,
            }],
            ..Callable::default()
        };
        let r = Resource {
            key: "crm".into(),
            class: Some("CrmClient".into()),
            args: BTreeMap::from([("base_url".into(), Value::Str("https://x".into()))]),
            span: Default::default(),
        };
        let p = Pipeline {
            resources: vec![r],
            ..Pipeline::default()
        };
        let l = locals(&c, "return crm.list()\n", &p, &[]);
        assert_eq!(l.prelude, ["crm = CrmClient(base_url=\"https://x\")"]);
        assert_eq!(l.dropped, ["crm"]);
    }

    #[test]
    fn resource_classes_become_settings() {
        let t = "class Flags(dg.ConfigurableResource):\n    on: bool = True\n";
        assert_eq!(
            settings_class(t).unwrap(),
            "class Flags(_Settings):\n    on: bool = True\n"
        );
        assert!(settings_class("class Plain:\n    pass\n").is_none());
    }
}
