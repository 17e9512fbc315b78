//! What Airflow's public names mean, once imports are resolved to qualified names.

/// A recognised Airflow API symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Symbol {
    /// The `DAG` class.
    DagClass,
    /// The `@dag` decorator.
    DagDecorator,
    /// `@task` or `@task.<flavor>`.
    TaskDecorator(Option<String>),
    /// `@setup` / `@teardown`.
    SetupTeardown(&'static str),
    /// `@task_group`.
    TaskGroupDecorator,
    /// The `TaskGroup` class.
    TaskGroupClass,
    /// `chain`.
    Chain,
    /// `chain_linear`.
    ChainLinear,
    /// `cross_downstream`.
    CrossDownstream,
    /// `Label` (edge label).
    Label,
    /// `XComArg(op)`.
    XComArg,
    /// `@asset` (Airflow 3): a one-task DAG materialising an asset.
    AssetDecorator,
    /// `@asset.multi`: a one-task DAG materialising several assets.
    AssetMulti,
}

/// Classifies a qualified name; `None` for anything that is not an Airflow API symbol.
pub fn classify(qualified: &str) -> Option<Symbol> {
    let parts: Vec<&str> = qualified.split('.').collect();
    if parts.first() != Some(&"airflow") {
        return None;
    }
    if let Some(i) = parts.iter().position(|p| *p == "task")
        && i > 0
        && parts[..i].iter().all(|p| is_module(p))
    {
        return match &parts[i + 1..] {
            [] => Some(Symbol::TaskDecorator(None)),
            [flavor] => Some(Symbol::TaskDecorator(Some(flavor.to_string()))),
            _ => None,
        };
    }
    if parts.len() >= 3 && parts[parts.len() - 2] == "asset" && parts[parts.len() - 1] == "multi" {
        return Some(Symbol::AssetMulti);
    }
    let last = *parts.last()?;
    if !parts[..parts.len() - 1].iter().all(|p| is_module(p)) {
        return None;
    }
    Some(match last {
        "DAG" => Symbol::DagClass,
        "dag" => Symbol::DagDecorator,
        "task_group" => Symbol::TaskGroupDecorator,
        "TaskGroup" => Symbol::TaskGroupClass,
        "chain" => Symbol::Chain,
        "chain_linear" => Symbol::ChainLinear,
        "cross_downstream" => Symbol::CrossDownstream,
        "Label" => Symbol::Label,
        "XComArg" => Symbol::XComArg,
        "setup" => Symbol::SetupTeardown("setup"),
        "teardown" => Symbol::SetupTeardown("teardown"),
        "python_task" => Symbol::TaskDecorator(None),
        "asset" => Symbol::AssetDecorator,
        _ => return None,
    })
}

/// Module path components that may precede an API symbol (`airflow.sdk`, `airflow.decorators`, …).
fn is_module(part: &str) -> bool {
    part.chars()
        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
}

/// The IR node kind implied by an operator class name.
pub fn operator_kind(class: &str) -> crate::ir::NodeKind {
    use crate::ir::NodeKind;
    if class.contains("Branch") {
        NodeKind::Branch
    } else if class == "ShortCircuitOperator" {
        NodeKind::ShortCircuit
    } else if class.ends_with("Sensor") || class.ends_with("SensorAsync") {
        NodeKind::Sensor
    } else if class == "EmptyOperator" || class == "DummyOperator" {
        NodeKind::Empty
    } else if class == "TriggerDagRunOperator" {
        NodeKind::Trigger
    } else {
        NodeKind::Task
    }
}

/// The IR node kind implied by a `@task.<flavor>` decorator.
pub fn flavor_kind(flavor: Option<&str>) -> crate::ir::NodeKind {
    use crate::ir::NodeKind;
    match flavor {
        Some("sensor") => NodeKind::Sensor,
        Some(f) if f.starts_with("branch") => NodeKind::Branch,
        Some("short_circuit") => NodeKind::ShortCircuit,
        _ => NodeKind::Task,
    }
}

/// The API generation implied by a module's imports.
pub fn source_version(imports: &crate::python::imports::ImportMap) -> &'static str {
    if imports.imports_from("airflow.sdk") || imports.imports_from("airflow.providers.standard") {
        "airflow@3"
    } else {
        "airflow@2"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_api_symbols() {
        assert_eq!(classify("airflow.sdk.dag"), Some(Symbol::DagDecorator));
        assert_eq!(
            classify("airflow.decorators.task"),
            Some(Symbol::TaskDecorator(None))
        );
        assert_eq!(
            classify("airflow.sdk.task.bash"),
            Some(Symbol::TaskDecorator(Some("bash".into())))
        );
        assert_eq!(classify("airflow.DAG"), Some(Symbol::DagClass));
        assert_eq!(classify("airflow.models.dag.DAG"), Some(Symbol::DagClass));
        assert_eq!(
            classify("airflow.utils.task_group.TaskGroup"),
            Some(Symbol::TaskGroupClass)
        );
        assert_eq!(
            classify("airflow.sdk.task_group"),
            Some(Symbol::TaskGroupDecorator)
        );
        assert_eq!(classify("mylib.dag"), None);
        assert_eq!(
            classify("airflow.providers.standard.operators.bash.BashOperator"),
            None
        );
    }
}
