//! matrix/operators.toml: the catalog of classic operators (category, import paths, templates).

use serde::Deserialize;
use std::sync::OnceLock;

/// One catalogued operator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorInfo {
    /// Class name.
    pub class: String,
    /// python | shell | sql | sensor | transfer | trigger | noop | branch.
    pub category: String,
    /// Airflow 3 module.
    pub import: String,
    /// Airflow 2 modules.
    pub legacy: Vec<String>,
    /// Templated arguments.
    pub templated: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    operator: Vec<OperatorInfo>,
}

fn catalog() -> &'static [OperatorInfo] {
    static CATALOG: OnceLock<Vec<OperatorInfo>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        toml::from_str::<File>(include_str!("../../matrix/operators.toml"))
            .map(|f| f.operator)
            .unwrap_or_default()
    })
}

/// The catalog entry of an operator class.
pub fn lookup(class: &str) -> Option<&'static OperatorInfo> {
    catalog().iter().find(|o| o.class == class)
}

/// The construct id of an operator class's implementation (`operator.python`, `operator.shell`,
/// `operator.unknown`); `None` when the node kind already says it all (no-op, sensor, trigger).
pub fn operator_category(class: &str) -> Option<&'static str> {
    match lookup(class).map(|o| o.category.as_str()) {
        Some("python") | Some("branch") => Some("operator.python"),
        Some("shell") => Some("operator.shell"),
        Some("noop") | Some("sensor") | Some("trigger") => None,
        _ => Some("operator.unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_loads() {
        assert!(catalog().len() >= 15);
        assert_eq!(
            lookup("BashOperator").unwrap().import,
            "airflow.providers.standard.operators.bash"
        );
        assert_eq!(operator_category("BashOperator"), Some("operator.shell"));
        assert_eq!(operator_category("EmptyOperator"), None);
        assert_eq!(
            operator_category("SnowflakeOperator"),
            Some("operator.unknown")
        );
    }
}
