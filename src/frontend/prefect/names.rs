//! What Prefect's public names mean, once imports are resolved to qualified names.

use crate::python::imports::ImportMap;

pub(crate) use crate::ir::is_node_id;

/// A recognised Prefect API symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbol {
    /// The `@flow` decorator (or `flow(fn, ...)`).
    FlowDecorator,
    /// The `@task` decorator (or `task(fn, ...)`).
    TaskDecorator,
    /// The `Flow` class (`Flow.from_source(...)`).
    FlowClass,
    /// `unmapped(value)`: an argument held constant by `.map()`.
    Unmapped,
    /// `allow_failure(future)`: run downstream even if that upstream fails.
    AllowFailure,
    /// `quote(value)` / `opaque(value)`: an argument Prefect does not introspect.
    Quote,
    /// `prefect.futures.wait(futures)`.
    Wait,
    /// `prefect.futures.as_completed(futures)`.
    AsCompleted,
    /// `get_run_logger()`.
    RunLogger,
    /// `with tags("a", "b"):` — tags for the runs created inside.
    Tags,
    /// `prefect.serve(deployment, ...)`.
    Serve,
    /// `prefect.deploy(deployment, ...)`.
    Deploy,
    /// `exponential_backoff(backoff_factor=...)`.
    ExponentialBackoff,
    /// The Prefect 2 `Deployment` class (`Deployment.build_from_flow(...)`).
    DeploymentClass,
    /// `create_*_artifact(...)`; the payload is the artifact kind (`markdown`, `table`, …).
    Artifact(&'static str),
    /// `pause_flow_run` / `suspend_flow_run`: waits for a human or an event.
    Pause,
    /// `run_deployment(name, ...)`: starts another deployment's run.
    RunDeployment,
    /// `@materialize(asset, …)`: a task that materialises the assets it names.
    Materialize,
}

/// Classifies a qualified name; `None` for anything that is not a Prefect API symbol.
pub fn classify(qualified: &str) -> Option<Symbol> {
    let parts: Vec<&str> = qualified.split('.').collect();
    if parts.first() != Some(&"prefect") || parts.len() < 2 {
        return None;
    }
    let last = *parts.last()?;
    if !parts[..parts.len() - 1].iter().all(|p| is_module(p)) {
        return None;
    }
    Some(match last {
        "flow" => Symbol::FlowDecorator,
        "task" => Symbol::TaskDecorator,
        "Flow" => Symbol::FlowClass,
        "unmapped" => Symbol::Unmapped,
        "allow_failure" => Symbol::AllowFailure,
        "quote" | "opaque" => Symbol::Quote,
        "wait" => Symbol::Wait,
        "as_completed" => Symbol::AsCompleted,
        "get_run_logger" => Symbol::RunLogger,
        "tags" => Symbol::Tags,
        "serve" => Symbol::Serve,
        "deploy" => Symbol::Deploy,
        "exponential_backoff" => Symbol::ExponentialBackoff,
        "Deployment" => Symbol::DeploymentClass,
        "create_markdown_artifact" => Symbol::Artifact("markdown"),
        "create_table_artifact" => Symbol::Artifact("table"),
        "create_link_artifact" => Symbol::Artifact("link"),
        "create_progress_artifact" => Symbol::Artifact("progress"),
        "create_image_artifact" => Symbol::Artifact("image"),
        "pause_flow_run" | "suspend_flow_run" => Symbol::Pause,
        "run_deployment" => Symbol::RunDeployment,
        "materialize" => Symbol::Materialize,
        _ => return None,
    })
}

/// The kind of a schedule class (`Cron`, `CronSchedule`, …): `cron`, `interval` or `rrule`.
pub fn schedule_class(qualified: &str) -> Option<&'static str> {
    if !qualified.starts_with("prefect.") {
        return None;
    }
    match qualified.rsplit('.').next().unwrap_or("") {
        "Cron" | "CronSchedule" => Some("cron"),
        "Interval" | "IntervalSchedule" => Some("interval"),
        "RRule" | "RRuleSchedule" => Some("rrule"),
        _ => None,
    }
}

/// Module path components that may precede an API symbol (`prefect.futures`, …).
fn is_module(part: &str) -> bool {
    part.chars()
        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
}

/// The API generation implied by a module's imports: `prefect@2` when it uses APIs removed in 3.
pub fn source_version(imports: &ImportMap) -> &'static str {
    let prefect2 = imports.modules.iter().any(|m| {
        m.starts_with("prefect.orion")
            || m == "prefect.deployments.deployments"
            || m == "prefect.infrastructure"
            || m.starts_with("prefect.infrastructure.")
            || m == "prefect.filesystems"
    }) || ["Deployment", "ConcurrentTaskRunner", "SequentialTaskRunner"]
        .iter()
        .any(|name| {
            imports.get(name).is_some_and(|q| {
                q == "prefect.deployments.Deployment"
                    || q == "prefect.task_runners.ConcurrentTaskRunner"
                    || q == "prefect.task_runners.SequentialTaskRunner"
            })
        });
    if prefect2 { "prefect@2" } else { "prefect@3" }
}

/// Standard-library and builtin roots whose functions never start Prefect runs.
const STDLIB: &[&str] = &[
    "abc",
    "asyncio",
    "base64",
    "bisect",
    "collections",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "functools",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "io",
    "itertools",
    "json",
    "logging",
    "math",
    "operator",
    "os",
    "pathlib",
    "pprint",
    "random",
    "re",
    "shutil",
    "sqlite3",
    "statistics",
    "string",
    "sys",
    "tempfile",
    "textwrap",
    "time",
    "typing",
    "uuid",
    "zoneinfo",
    "pendulum",
];

/// True when a qualified callee is a function imported from a module orchmig cannot see into
/// (neither Prefect nor the standard library).
pub fn is_external_function(imports: &ImportMap, local_head: &str, qualified: &str) -> bool {
    if imports.get(local_head).is_none() {
        return false;
    }
    let root = qualified.split('.').next().unwrap_or("");
    !(root == "prefect" || root.is_empty() || STDLIB.contains(&root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_api_symbols() {
        assert_eq!(classify("prefect.flow"), Some(Symbol::FlowDecorator));
        assert_eq!(classify("prefect.flows.flow"), Some(Symbol::FlowDecorator));
        assert_eq!(classify("prefect.tasks.task"), Some(Symbol::TaskDecorator));
        assert_eq!(classify("prefect.futures.wait"), Some(Symbol::Wait));
        assert_eq!(
            classify("prefect.artifacts.create_table_artifact"),
            Some(Symbol::Artifact("table"))
        );
        assert_eq!(
            classify("prefect.deployments.Deployment"),
            Some(Symbol::DeploymentClass)
        );
        assert_eq!(classify("mylib.flow"), None);
        assert_eq!(classify("prefect"), None);
    }

    #[test]
    fn schedule_classes() {
        assert_eq!(schedule_class("prefect.schedules.Cron"), Some("cron"));
        assert_eq!(
            schedule_class("prefect.client.schemas.schedules.IntervalSchedule"),
            Some("interval")
        );
        assert_eq!(schedule_class("croniter.Cron"), None);
    }
}
