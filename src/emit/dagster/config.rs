//! Run config: the `dg.Config` class of a pipeline's params and the run config of the assets
//! that read them.

use std::collections::BTreeMap;

use super::state::ModuleState;
use crate::emit::plan::{Plan, Source, Step};
use crate::emit::template;
use crate::ir::{Framework, Pipeline, Value};
use crate::python::print::{self as python, Expr, identifier};
use crate::report::{Anchor, Fidelity, Ledger, Translations};

/// Whether an asset reads the Airflow run parameters (a `params` argument, or `{{ params.x }}`
/// in its shell command): it then takes the pipeline's config class.
pub(super) fn reads_params(plan: &Plan, step: &Step) -> bool {
    let p = plan.pipeline;
    if p.params.is_empty() {
        return false;
    }
    // A Prefect flow parameter the step is passed (the partition parameter is the partition key).
    if p.framework == Some(Framework::Prefect) {
        let partition = p.partition_parameter();
        // (A parameter the call's condition tests counts too.)
        let tested = step.node.condition.as_deref().is_some_and(|c| {
            p.params.iter().any(|prm| {
                Some(prm.name.as_str()) != partition
                    && config_field(&prm.name)
                    && crate::emit::inline::mentions(c, &prm.name)
            })
        });
        return tested
            || step.inputs.iter().any(|i| match &i.source {
                Source::Param(name) => Some(name.as_str()) != partition && config_field(name),
                Source::Literal(Value::Expr(e)) => p.params.iter().any(|prm| {
                    Some(prm.name.as_str()) != partition
                        && config_field(&prm.name)
                        && crate::emit::inline::mentions(e, &prm.name)
                }),
                _ => false,
            });
    }
    if p.framework != Some(Framework::Airflow) {
        return false;
    }
    // A `params` argument, or the params of the run context (`context["params"]`).
    let takes = step.node.callable.as_ref().is_some_and(|c| {
        c.params.iter().any(|x| x.name == "params")
            || ["[\"params\"]", "['params']"]
                .iter()
                .any(|k| c.body.contains(k))
    });
    takes
        || template::shell_command(plan, step, &|n| n.to_string())
            .is_some_and(|r| !template::params(&r).is_empty())
}

/// The name of a pipeline's run config class (`CustomerChurnReportConfig`).
pub(super) fn config_class_name(p: &Pipeline) -> String {
    let mut name: String = identifier(&p.id)
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    name.push_str("Config");
    // `1st_run` must not give `1stRunConfig`, which is no identifier.
    identifier(&name)
}

/// The run config class of a pipeline's params (Airflow params, Prefect flow parameters): one
/// field per param, its default kept (a Prefect partition parameter is the partition key).
fn config_class(p: &Pipeline, ledger: &mut Ledger, table: &Translations) -> String {
    let name = config_class_name(p);
    let prefect = p.framework == Some(Framework::Prefect);
    let what = if prefect {
        "flow parameters"
    } else {
        "Airflow params"
    };
    let mut text = format!(
        "class {name}(dg.Config):\n    {}\n\n",
        python::docstring(&format!("The run parameters of {} ({what}).", p.id))
    );
    for prm in &p.params {
        if p.partition_parameter() == Some(prm.name.as_str())
            || (prefect && !config_field(&prm.name))
        {
            continue;
        }
        let by_type = match prm.r#type.as_deref() {
            Some("integer" | "int") => Some("int".to_string()),
            Some("number" | "float") => Some("float".to_string()),
            Some("string" | "str") => Some("str".to_string()),
            Some("boolean" | "bool") => Some("bool".to_string()),
            // A Prefect annotation of builtin types (`list[str]`, `dict[str, int] | None`).
            Some(t) if prefect && builtin_annotation(t) => Some(t.to_string()),
            _ => None,
        };
        let ann = by_type.or(match &prm.default {
            Some(Value::Int(_)) => Some("int".into()),
            Some(Value::Float(_)) => Some("float".into()),
            Some(Value::Bool(_)) => Some("bool".into()),
            Some(Value::Str(_)) => Some("str".into()),
            Some(Value::List(_)) => Some("list".into()),
            Some(Value::Dict(_)) => Some("dict".into()),
            _ => None,
        });
        let field = match (ann, &prm.default) {
            (Some(t), Some(d)) if *d != Value::None => {
                format!(
                    "{}: {t} = {}",
                    identifier(&prm.name),
                    python::value(d).flat()
                )
            }
            (Some(t), _) => format!("{}: {t} | None = None", identifier(&prm.name)),
            (None, _) => format!("{}: str | None = None", identifier(&prm.name)),
        };
        text.push_str(&format!("    {field}\n"));
        ledger.consume_as(
            table,
            "param",
            &prm.name,
            p.span,
            Anchor::statement(&format!("class {name}"), format!("{}:", identifier(&prm.name))),
            Fidelity::Approximate,
            if prefect {
                format!(
                    "a field of `{name}` (dg.Config) with its default: each asset that reads it takes the config (set per asset in the run config)"
                )
            } else {
                format!(
                    "a field of `{name}` (dg.Config) with its default: each asset that reads it takes the config (set per asset in the run config); Param's schema checks are not kept"
                )
            },
        );
    }
    text.trim_end().to_string()
}

/// Whether a flow parameter can be a field of a `dg.Config` class: pydantic warns when a field
/// shadows one of the model's own attributes (`schema`, `json`, `model_dump`, …), so such a
/// parameter keeps its default as a constant instead.
pub(super) fn config_field(name: &str) -> bool {
    const TAKEN: &[&str] = &[
        "construct",
        "copy",
        "dict",
        "from_orm",
        "json",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "to_config_schema",
        "to_fields_dict",
        "update_forward_refs",
        "validate",
    ];
    !name.starts_with("model_") && !name.starts_with('_') && !TAKEN.contains(&name)
}

/// Whether an annotation names builtin types only (`list[str]`, `dict[str, int] | None`), so a
/// Config field can carry it as written.
fn builtin_annotation(t: &str) -> bool {
    const BUILTINS: &[&str] = &[
        "int", "float", "str", "bool", "list", "dict", "tuple", "set", "None", "Any",
    ];
    t.len() <= 200
        && t.split(|c: char| "[], |".contains(c))
            .filter(|w| !w.is_empty())
            .all(|w| BUILTINS.contains(&w) && w != "Any")
}

/// The assets of a pipeline that take its run config class, and the fields it has.
#[derive(Default)]
pub(super) struct ConfiguredAssets {
    /// Function (op) names of the assets that take the config.
    functions: Vec<String>,
    /// The config class's fields.
    fields: Vec<String>,
    /// The parameter that is the partition key, if any.
    pub(super) partition: Option<String>,
}

impl ConfiguredAssets {
    /// The assets of `plan` written here that read the pipeline's params.
    pub(super) fn new(plan: &Plan) -> ConfiguredAssets {
        let p = plan.pipeline;
        let functions = plan
            .steps
            .iter()
            .filter(|s| s.defines && reads_params(plan, s))
            .map(|s| s.func.clone())
            .collect();
        let fields = p
            .params
            .iter()
            .filter(|x| p.partition_parameter() != Some(x.name.as_str()))
            .map(|x| x.name.clone())
            .collect();
        let partition = p.partition_parameter().map(str::to_string);
        ConfiguredAssets {
            functions,
            fields,
            partition,
        }
    }

    /// `{"ops": {asset: {"config": {...}}}}` for the given parameters the config has, if any.
    pub(super) fn run_config(&self, parameters: &BTreeMap<String, Value>) -> Option<Expr> {
        let values: Vec<(Expr, Expr)> = parameters
            .iter()
            .filter(|(k, _)| self.fields.contains(k))
            .map(|(k, v)| (Expr::str(k), python::value(v)))
            .collect();
        if values.is_empty() || self.functions.is_empty() {
            return None;
        }
        let ops = self
            .functions
            .iter()
            .map(|f| {
                let config = Expr::Dict(vec![(Expr::str("config"), Expr::Dict(values.clone()))]);
                (Expr::str(f), config)
            })
            .collect();
        Some(Expr::Dict(vec![(Expr::str("ops"), Expr::Dict(ops))]))
    }

    /// The parameters of `given` no asset reads (the partition key is read: see `partition`).
    pub(super) fn unread(&self, given: &BTreeMap<String, Value>) -> Vec<String> {
        given
            .keys()
            .filter(|k| self.partition.as_ref() != Some(*k))
            .filter(|k| self.functions.is_empty() || !self.fields.contains(k))
            .cloned()
            .collect()
    }
}

/// Writes the run config class of a pipeline whose assets read its params; when only another
/// pipeline's assets read them, claims each param at their run config.
pub(super) fn write_config(m: &mut ModuleState, plan: &Plan, ledger: &mut Ledger) {
    let (table, p) = (m.table, plan.pipeline);
    if plan
        .steps
        .iter()
        .any(|s| s.defines && reads_params(plan, s))
    {
        m.definitions.push(config_class(p, ledger, table));
    } else if let Some(reader) = plan.steps.iter().find(|s| reads_params(plan, s)) {
        // Every asset that reads them is another pipeline's (a flow variant's): their
        // run config carries the parameters.
        for prm in &p.params {
            ledger.consume_as(
                table,
                "param",
                &prm.name,
                p.span,
                Anchor::body(&reader.func, "config"),
                Fidelity::Approximate,
                "read by assets this job shares with another pipeline: set it in their run config (its default is that pipeline's)".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{builtin_annotation, config_field};

    #[test]
    fn flow_parameters_become_config_fields_unless_pydantic_reserves_the_name() {
        assert!(config_field("stores") && config_field("batch_id"));
        for taken in ["schema", "json", "model_name", "_private"] {
            assert!(!config_field(taken), "{taken}");
        }
        assert!(builtin_annotation("list[str]") && builtin_annotation("dict[str, int] | None"));
        assert!(!builtin_annotation("pd.DataFrame") && !builtin_annotation("Any"));
    }
}
