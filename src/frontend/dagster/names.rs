//! What Dagster's public names mean, once imports are resolved to qualified names.

/// The Dagster API path of a qualified name: `dagster.asset` → `asset`,
/// `dagster.AssetSelection.groups` → `AssetSelection.groups`; module components after
/// `dagster.` (`dagster._core.definitions.asset`) are dropped. `None` outside Dagster.
pub fn api(qualified: &str) -> Option<&str> {
    let rest = qualified.strip_prefix("dagster.")?;
    let mut rest = rest;
    while let Some((head, tail)) = rest.split_once('.') {
        if head.starts_with(|c: char| c == '_' || c.is_ascii_lowercase()) {
            rest = tail;
        } else {
            break;
        }
    }
    Some(rest)
}

/// A recognised Dagster decorator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decorator {
    /// `@asset`.
    Asset,
    /// `@multi_asset`.
    MultiAsset,
    /// `@graph_asset`.
    GraphAsset,
    /// `@asset_check`.
    AssetCheck,
    /// `@multi_asset_check`.
    MultiAssetCheck,
    /// `@op`.
    Op,
    /// `@graph`.
    Graph,
    /// `@job`.
    Job,
    /// `@schedule`.
    Schedule,
    /// `@sensor`, `@asset_sensor`, `@multi_asset_sensor`, `@run_status_sensor`, … (the kind).
    Sensor(&'static str),
}

/// The decorator a qualified name is, if it is a Dagster one.
pub fn decorator(qualified: &str) -> Option<Decorator> {
    Some(match api(qualified)? {
        "asset" => Decorator::Asset,
        "multi_asset" => Decorator::MultiAsset,
        "graph_asset" => Decorator::GraphAsset,
        "graph_multi_asset" => Decorator::MultiAsset,
        "asset_check" => Decorator::AssetCheck,
        "multi_asset_check" => Decorator::MultiAssetCheck,
        "op" => Decorator::Op,
        "graph" => Decorator::Graph,
        "job" => Decorator::Job,
        "schedule" => Decorator::Schedule,
        "sensor" => Decorator::Sensor("sensor"),
        "asset_sensor" => Decorator::Sensor("asset_sensor"),
        "multi_asset_sensor" => Decorator::Sensor("multi_asset_sensor"),
        "run_status_sensor" => Decorator::Sensor("run_status_sensor"),
        "run_failure_sensor" => Decorator::Sensor("run_failure_sensor"),
        "freshness_policy_sensor" => Decorator::Sensor("freshness_policy_sensor"),
        _ => return None,
    })
}

/// True for the parameter annotations that mark the execution context.
pub fn is_context_annotation(api_name: &str) -> bool {
    matches!(
        api_name,
        "AssetExecutionContext"
            | "OpExecutionContext"
            | "AssetCheckExecutionContext"
            | "SensorEvaluationContext"
            | "ScheduleEvaluationContext"
            | "MultiAssetSensorEvaluationContext"
    )
}

/// True for Dagster base classes whose subclasses are resources.
pub fn is_resource_base(api_name: &str) -> bool {
    matches!(
        api_name,
        "ConfigurableResource"
            | "ConfigurableIOManager"
            | "ConfigurableIOManagerFactory"
            | "ConfigurableResourceFactory"
            | "IOManager"
            | "UPathIOManager"
            | "ResourceDefinition"
            | "IOManagerDefinition"
            | "FilesystemIOManager"
            | "InMemoryIOManager"
            | "ResourceParam"
    )
}

/// True for Dagster base classes whose subclasses are run config.
pub fn is_config_base(api_name: &str) -> bool {
    matches!(api_name, "Config" | "PermissiveConfig")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_module_paths() {
        assert_eq!(api("dagster.asset"), Some("asset"));
        assert_eq!(
            api("dagster.AssetSelection.groups"),
            Some("AssetSelection.groups")
        );
        assert_eq!(
            api("dagster._core.definitions.decorators.asset_decorator.asset"),
            Some("asset")
        );
        assert_eq!(api("dagster_dbt.dbt_assets"), None);
        assert_eq!(
            decorator("dagster.multi_asset"),
            Some(Decorator::MultiAsset)
        );
        assert_eq!(
            decorator("dagster.asset_sensor"),
            Some(Decorator::Sensor("asset_sensor"))
        );
        assert_eq!(decorator("mylib.asset"), None);
    }
}
