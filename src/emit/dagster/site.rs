//! One asset being written: its step with the plan and facts around it, and how a pipeline
//! parameter's value reads in it.

use crate::emit::plan::{Plan, Step};
use crate::ir::Framework;
use crate::python::print::{self as python, Expr, identifier};

use super::config::config_field;
use super::facts::{StepFacts, asset_key};

/// One asset being written: its step, the plan and facts around it, and its partitions and
/// run config class.
pub(super) struct AssetSite<'a, 'p> {
    /// The plan of the pipeline.
    pub(super) plan: &'a Plan<'p>,
    /// The step written as the asset.
    pub(super) step: &'a Step<'p>,
    /// The facts of the plan.
    pub(super) facts: &'a StepFacts,
    /// The source's framework.
    pub(super) from: Framework,
    /// The name of the asset's partitions definition, if any.
    pub(super) partitions: Option<&'a str>,
    /// The pipeline's run config class, when the asset reads the pipeline's params.
    pub(super) config: Option<String>,
}

impl AssetSite<'_, '_> {
    /// A pipeline parameter's value in the asset: the partition key or its default.
    pub(super) fn param_value(&self, name: &str) -> String {
        let (plan, from, partitions, config) =
            (self.plan, self.from, self.partitions, &self.config);
        // A Prefect flow parameter is a field of the run config.
        if from == Framework::Prefect
            && config.is_some()
            && config_field(name)
            && plan.pipeline.params.iter().any(|x| x.name == name)
            && plan.pipeline.partition_parameter() != Some(name)
        {
            return format!("config.{}", identifier(name));
        }
        let default = plan
            .pipeline
            .params
            .iter()
            .find(|x| x.name == name)
            .and_then(|x| x.default.clone());
        let is_partition = plan.pipeline.partition_parameter() == Some(name);
        if is_partition && partitions.is_some() {
            "context.partition_key".to_string()
        } else {
            default.map_or_else(|| "None".into(), |v| python::value(&v).flat())
        }
    }
}

/// `dg.AssetIn(...)` naming an upstream asset by the key it is written with.
pub(super) fn asset_in(plan: &Plan, facts: &StepFacts, up: usize, from: Framework) -> Expr {
    let id = &plan.steps[up].node.id;
    if from == Framework::Dagster && id.contains('/') {
        Expr::call(
            "dg.AssetIn",
            vec![Expr::kw(
                "key",
                Expr::List(id.split('/').map(Expr::str).collect()),
            )],
        )
    } else {
        Expr::call(
            "dg.AssetIn",
            vec![Expr::str(&asset_key(facts, &plan.steps[up]))],
        )
    }
}
