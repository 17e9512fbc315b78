//! Rewriting framework API use inside function bodies to the target's idiom.

use crate::ir::Framework;
use crate::report::Fidelity;

/// The result of rewriting one body.
#[derive(Debug, Clone, Default)]
pub struct Rewritten {
    /// The new body text.
    pub body: String,
    /// Construct id → (fidelity, note) for every API use found.
    pub uses: Vec<(&'static str, Fidelity, String)>,
    /// Names the module must import or define (`logging`, `get_run_logger`, `_check_result`, …).
    pub needs: Vec<&'static str>,
    /// The body reads the partition key (the target must provide it).
    pub partition_key: bool,
    /// The body still refers to `context` after rewriting.
    pub uses_context: bool,
}

/// A textual rewrite: construct, pattern, replacement per target, fidelity, note, need.
struct Rule {
    construct: &'static str,
    pattern: &'static str,
    airflow: Option<&'static str>,
    dagster: Option<&'static str>,
    prefect: Option<&'static str>,
    fidelity: Fidelity,
    note: &'static str,
    need: &'static [(&'static str, Framework)],
}

const RULES: &[Rule] = &[
    Rule {
        construct: "body.logger",
        pattern: "get_run_logger()",
        airflow: Some("logging.getLogger(\"airflow.task\")"),
        dagster: Some("get_dagster_logger()"),
        prefect: None,
        fidelity: Fidelity::Exact,
        note: "logger rewritten to the target's run logger",
        need: &[
            ("logging", Framework::Airflow),
            ("get_dagster_logger", Framework::Dagster),
            ("get_run_logger", Framework::Prefect),
        ],
    },
    Rule {
        construct: "body.logger",
        pattern: "get_dagster_logger()",
        airflow: Some("logging.getLogger(\"airflow.task\")"),
        dagster: None,
        prefect: Some("get_run_logger()"),
        fidelity: Fidelity::Exact,
        note: "logger rewritten to the target's run logger",
        need: &[
            ("logging", Framework::Airflow),
            ("get_dagster_logger", Framework::Dagster),
            ("get_run_logger", Framework::Prefect),
        ],
    },
    Rule {
        construct: "body.logger",
        pattern: "context.log.",
        airflow: Some("logging.getLogger(\"airflow.task\")."),
        dagster: None,
        prefect: Some("get_run_logger()."),
        fidelity: Fidelity::Exact,
        note: "context.log rewritten to the target's run logger",
        need: &[
            ("logging", Framework::Airflow),
            ("get_run_logger", Framework::Prefect),
        ],
    },
    Rule {
        construct: "body.logger",
        pattern: "logging.getLogger(\"airflow.task\")",
        airflow: None,
        dagster: Some("get_dagster_logger()"),
        prefect: Some("get_run_logger()"),
        fidelity: Fidelity::Exact,
        note: "task logger rewritten to the target's run logger",
        need: &[
            ("logging", Framework::Airflow),
            ("get_dagster_logger", Framework::Dagster),
            ("get_run_logger", Framework::Prefect),
        ],
    },
    Rule {
        construct: "body.partition_key",
        pattern: "context.partition_time_window",
        airflow: Some("partition_time_window"),
        dagster: None,
        prefect: Some("partition_time_window"),
        fidelity: Fidelity::Approximate,
        note: "the partition's time window becomes the data interval (Airflow) or is computed from the partition parameter (Prefect)",
        need: &[
            ("SimpleNamespace", Framework::Airflow),
            ("_partition_window", Framework::Prefect),
        ],
    },
    Rule {
        construct: "body.partition_key",
        pattern: "context.partition_key",
        airflow: Some("ds"),
        dagster: None,
        prefect: Some("partition_key"),
        fidelity: Fidelity::Approximate,
        note: "the partition key becomes the logical date (Airflow) or a partition parameter (Prefect): check the interval semantics",
        need: &[],
    },
    Rule {
        construct: "body.output_metadata",
        pattern: "context.add_output_metadata(",
        airflow: Some("print("),
        dagster: None,
        prefect: Some("print("),
        fidelity: Fidelity::Approximate,
        note: "output metadata is printed to the run log",
        need: &[],
    },
    Rule {
        construct: "body.output_metadata",
        pattern: "MaterializeResult(",
        airflow: Some("dict("),
        dagster: None,
        prefect: Some("dict("),
        fidelity: Fidelity::Approximate,
        note: "MaterializeResult becomes a plain dict return value",
        need: &[],
    },
    Rule {
        construct: "body.output_metadata",
        pattern: "create_markdown_artifact(",
        airflow: Some("print("),
        dagster: Some("get_dagster_logger().info("),
        prefect: None,
        fidelity: Fidelity::Approximate,
        note: "the artifact is written to the run log",
        need: &[("get_dagster_logger", Framework::Dagster)],
    },
    Rule {
        construct: "body.check_result",
        pattern: "AssetCheckResult(",
        airflow: Some("_check_result("),
        dagster: None,
        prefect: Some("_check_result("),
        fidelity: Fidelity::Approximate,
        note: "the check result raises when not passed",
        need: &[
            ("_check_result", Framework::Airflow),
            ("_check_result", Framework::Prefect),
        ],
    },
    Rule {
        construct: "body.check_result",
        pattern: "AssetCheckSeverity.ERROR",
        airflow: Some("\"error\""),
        dagster: None,
        prefect: Some("\"error\""),
        fidelity: Fidelity::Approximate,
        note: "the check severity is kept as text",
        need: &[],
    },
    Rule {
        construct: "body.check_result",
        pattern: "AssetCheckSeverity.WARN",
        airflow: Some("\"warn\""),
        dagster: None,
        prefect: Some("\"warn\""),
        fidelity: Fidelity::Approximate,
        note: "the check severity is kept as text",
        need: &[],
    },
    Rule {
        construct: "body.output_metadata",
        pattern: "DynamicOutput(",
        airflow: Some("_dynamic_output("),
        dagster: None,
        prefect: Some("_dynamic_output("),
        fidelity: Fidelity::Approximate,
        note: "yielded dynamic outputs become the list the task returns",
        need: &[
            ("_outputs", Framework::Airflow),
            ("_outputs", Framework::Prefect),
        ],
    },
    Rule {
        construct: "body.output_metadata",
        pattern: "Output(",
        airflow: Some("_output("),
        dagster: None,
        prefect: Some("_output("),
        fidelity: Fidelity::Approximate,
        note: "the yielded output becomes the task's return value",
        need: &[
            ("_outputs", Framework::Airflow),
            ("_outputs", Framework::Prefect),
        ],
    },
    Rule {
        construct: "body.check_result",
        pattern: "PokeReturnValue(",
        airflow: None,
        dagster: Some("_poke_result("),
        prefect: Some("_poke_result("),
        fidelity: Fidelity::Approximate,
        note: "the sensor's poke result raises until done",
        need: &[
            ("_poke_result", Framework::Dagster),
            ("_poke_result", Framework::Prefect),
        ],
    },
];

/// Rewrites a body written for `from` so that it runs under `to`.
pub fn rewrite(body: &str, from: Framework, to: Framework) -> Rewritten {
    let mut out = Rewritten {
        body: body.to_string(),
        ..Rewritten::default()
    };
    if from == to {
        // Same framework: framework API use stays as written.
        for construct in crate::report::body_apis(body) {
            out.uses
                .push((construct, Fidelity::Exact, "kept as written".into()));
        }
        return out;
    }
    // `dg.MaterializeResult(`, `prefect.get_run_logger()`: drop the module alias first.
    for r in RULES {
        for alias in ["dg.", "dagster.", "prefect.", "af."] {
            let prefixed = format!("{alias}{}", r.pattern);
            if out.body.contains(&prefixed) {
                out.body = out.body.replace(&prefixed, r.pattern);
            }
        }
    }
    for r in RULES {
        if !out.body.contains(r.pattern) {
            continue;
        }
        let replacement = match to {
            Framework::Airflow => r.airflow,
            Framework::Dagster => r.dagster,
            Framework::Prefect => r.prefect,
        };
        if r.construct == "body.partition_key" {
            out.partition_key = true;
        }
        if let Some(new) = replacement {
            out.body = out.body.replace(r.pattern, new);
            for (need, fw) in r.need {
                if *fw == to && !out.needs.contains(need) {
                    out.needs.push(need);
                }
            }
            if !out.uses.iter().any(|(c, _, _)| *c == r.construct) {
                out.uses.push((r.construct, r.fidelity, r.note.to_string()));
            }
        } else if !out.uses.iter().any(|(c, _, _)| *c == r.construct) {
            out.uses
                .push((r.construct, Fidelity::Exact, "kept as written".into()));
            for (need, fw) in r.need {
                if *fw == to && !out.needs.contains(need) {
                    out.needs.push(need);
                }
            }
        }
    }
    if to != Framework::Dagster && out.body.contains("context") {
        out.uses_context = out
            .body
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|w| w == "context");
    }
    // API use the rules above did not rewrite is left as written (and said so).
    for construct in crate::report::body_apis(&out.body) {
        if !out.uses.iter().any(|(c, _, _)| *c == construct) {
            out.uses.push((
                construct,
                Fidelity::Approximate,
                "left as written: check it in the target".into(),
            ));
        }
    }
    if let Some(api) = ["get_current_context(", "xcom_pull("]
        .iter()
        .find(|a| out.body.contains(**a))
    {
        let construct = if api.starts_with("xcom") {
            "body.xcom"
        } else {
            "body.context"
        };
        if to != Framework::Airflow {
            out.uses.push((
                construct,
                Fidelity::None,
                format!("`{api}…)` is Airflow API and is left in place: port it by hand"),
            ));
        } else if !out.uses.iter().any(|(c, _, _)| *c == construct) {
            out.uses
                .push((construct, Fidelity::Exact, "kept as written".into()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loggers_follow_the_target() {
        let r = rewrite(
            "logger = get_run_logger()\nlogger.info('x')\n",
            Framework::Prefect,
            Framework::Airflow,
        );
        assert_eq!(
            r.body,
            "logger = logging.getLogger(\"airflow.task\")\nlogger.info('x')\n"
        );
        assert_eq!(r.needs, ["logging"]);
        let r = rewrite(
            "context.log.info('x')\n",
            Framework::Dagster,
            Framework::Prefect,
        );
        assert_eq!(r.body, "get_run_logger().info('x')\n");
    }

    #[test]
    fn check_results_and_partition_keys() {
        let r = rewrite(
            "day = context.partition_key\nreturn dg.AssetCheckResult(passed=True)\n",
            Framework::Dagster,
            Framework::Prefect,
        );
        assert_eq!(
            r.body,
            "day = partition_key\nreturn _check_result(passed=True)\n"
        );
        assert!(r.partition_key);
        assert!(!r.uses_context);
        assert!(r.needs.contains(&"_check_result"));
    }

    #[test]
    fn airflow_only_calls_are_reported() {
        let r = rewrite(
            "ctx = get_current_context()\n",
            Framework::Airflow,
            Framework::Prefect,
        );
        assert!(
            r.uses
                .iter()
                .any(|(c, f, _)| *c == "body.context" && *f == Fidelity::None)
        );
    }

    #[test]
    fn same_framework_is_untouched() {
        let r = rewrite(
            "context.log.info('x')",
            Framework::Dagster,
            Framework::Dagster,
        );
        assert_eq!(r.body, "context.log.info('x')");
        assert!(r.uses.iter().all(|(_, f, _)| *f == Fidelity::Exact));
    }
}
