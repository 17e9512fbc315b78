//! Rewriting framework API use inside function bodies to the target's idiom.

use crate::ir::Framework;
use crate::python::print::Expr;
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
                out.body = replace_words(&out.body, &prefixed, r.pattern);
            }
        }
    }
    // Prefect-only calls whose arguments must be rebuilt (artifacts, `prefect.runtime`).
    if from == Framework::Prefect {
        prefect_calls(&mut out, to);
    }
    for r in RULES {
        // Whole names in code only: `mydg.MaterializeResult(` and a pattern inside a string
        // literal stay as written.
        if !out.body.contains(r.pattern) || !has_word(&out.body, r.pattern) {
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
            out.body = replace_words(&out.body, r.pattern, new);
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
    // The partition's time window is bound once, first, so the lines that read it keep their length.
    if from == Framework::Dagster
        && to != Framework::Dagster
        && body.contains("context.partition_time_window")
    {
        let window = if to == Framework::Airflow {
            "SimpleNamespace(\n    start=data_interval_start, end=data_interval_end\n)"
        } else {
            "_partition_window(partition_key)"
        };
        out.body = format!("partition_time_window = {window}\n{}", out.body);
    }
    out.body = logger_local(&out.body, to);
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

/// Airflow run-parameter reads in a body (`params["x"]`, `context["params"]["x"]`,
/// `get_current_context()["params"]["x"]`) for the named parameters, as `{prefix}x`
/// (`config.x`); the second value says whether the body still reads `params` some other way.
pub fn airflow_params(body: &str, names: &[String], prefix: &str) -> (String, bool) {
    let mut out = body.to_string();
    for whole in [
        "get_current_context()[\"params\"]",
        "get_current_context()['params']",
        "context[\"params\"]",
        "context['params']",
    ] {
        out = replace_words(&out, whole, "params");
    }
    for name in names {
        for q in ['"', '\''] {
            out = replace_words(
                &out,
                &format!("params[{q}{name}{q}]"),
                &format!("{prefix}{name}"),
            );
        }
    }
    let still = has_word(&out, "params");
    (out, still)
}

/// An Airflow body's run context for a Dagster or Prefect target: the `**context` dict the
/// task took (named `kwargs_name`) and each `get_current_context()` become
/// `_airflow_context(…)`, a dict of the same keys built from the target's run (a key it does not
/// build raises `NotImplementedError`). In a Dagster asset, whose `context` is Dagster's, the
/// Airflow dict is the local `airflow_context`. `None` when the body reads neither.
pub fn airflow_context(body: &str, kwargs_name: Option<&str>, to: Framework) -> Option<String> {
    let call = match to {
        Framework::Dagster => "_airflow_context(context)",
        _ => "_airflow_context()",
    };
    let mut out = body.to_string();
    let mut changed = false;
    if let Some(name) = kwargs_name.filter(|n| has_word(body, n)) {
        let local = if to == Framework::Dagster && name == "context" {
            out = replace_words(&out, "context", "airflow_context");
            "airflow_context"
        } else {
            name
        };
        out = insert_first(&out, &format!("{local} = {call}"));
        changed = true;
    }
    for api in ["airflow.sdk.get_current_context()", "get_current_context()"] {
        if has_word(&out, api) {
            out = replace_words(&out, api, call);
            changed = true;
        }
    }
    changed.then_some(out)
}

/// The keys of Airflow's context that `_airflow_context` builds in a Dagster or Prefect port
/// (templates/common/helpers.py.j2); another key raises `NotImplementedError`.
pub const AIRFLOW_CONTEXT_KEYS: &[&str] = &[
    "dag",
    "data_interval_end",
    "data_interval_start",
    "ds",
    "ds_nodash",
    "execution_date",
    "logical_date",
    "params",
    "run_id",
    "ts",
];

/// The keys a rewritten body reads of Airflow's context (`ctx["key"]`, `ctx.get("key")` on a
/// local bound to `_airflow_context(…)`, or on the call itself) that `_airflow_context` does
/// not build, in order, once each.
pub fn unported_airflow_context_keys(body: &str) -> Vec<String> {
    let mut holders: Vec<String> = vec![
        "_airflow_context(context)".into(),
        "_airflow_context()".into(),
    ];
    for line in body.lines() {
        if let Some((lhs, rhs)) = line.split_once('=')
            && rhs.trim_start().starts_with("_airflow_context(")
        {
            let name = lhs.trim();
            if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                holders.push(name.to_string());
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    for h in &holders {
        for opener in ["[\"", "['", ".get(\"", ".get('"] {
            for key in names_after(body, &format!("{h}{opener}")) {
                if !AIRFLOW_CONTEXT_KEYS.contains(&key.as_str()) && !out.contains(&key) {
                    out.push(key);
                }
            }
        }
    }
    out
}

/// The identifiers that follow each occurrence of `prefix` in the code of `body` (not in a
/// string or comment, not the tail of a longer name or attribute chain), in order.
fn names_after(body: &str, prefix: &str) -> Vec<String> {
    let mask = code_mask(body);
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(off) = body[from..].find(prefix) {
        let at = from + off;
        from = at + prefix.len();
        let whole =
            at == 0 || !body[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.');
        if !whole || !mask.get(at).copied().unwrap_or(false) {
            continue;
        }
        let name: String = body[from..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// The attributes of Dagster's context a stand-in provides in another target.
pub const DAGSTER_CONTEXT_FIELDS: &[&str] = &["run_id", "run", "job_name", "asset_key"];

/// A Dagster body that still reads `context` after rewriting, for an Airflow or Prefect target:
/// the body with `context = _dagster_context("asset")` first (a stand-in built from the target's
/// run; another attribute raises `NotImplementedError`), and the attributes it reads that the
/// stand-in lacks. `None` when the body does not read `context`.
pub fn dagster_context(body: &str, asset: &str) -> Option<(String, Vec<String>)> {
    if !has_word(body, "context") {
        return None;
    }
    let mut missing: Vec<String> = Vec::new();
    for attr in names_after(body, "context.") {
        if !DAGSTER_CONTEXT_FIELDS.contains(&attr.as_str()) && !missing.contains(&attr) {
            missing.push(attr);
        }
    }
    let line = format!(
        "context = _dagster_context({})",
        crate::python::print::string(asset)
    );
    Some((insert_first(body, &line), missing))
}

/// A Prefect artifact call: function, positional parameters, the parameter holding the content.
const ARTIFACTS: &[(&str, &[&str], &str)] = &[
    (
        "create_table_artifact",
        &["table", "key", "description"],
        "table",
    ),
    (
        "create_markdown_artifact",
        &["markdown", "key", "description"],
        "markdown",
    ),
    (
        "create_link_artifact",
        &["link", "link_text", "key", "description"],
        "link",
    ),
    (
        "create_progress_artifact",
        &["progress", "key", "description"],
        "progress",
    ),
];

/// `prefect.runtime.flow_run` fields: (attribute, local name, Airflow expression, Dagster
/// expression).
const FLOW_RUN: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    (
        "name",
        "run_id",
        Some("get_current_context()[\"run_id\"]"),
        Some("context.run_id"),
    ),
    (
        "id",
        "run_id",
        Some("get_current_context()[\"run_id\"]"),
        Some("context.run_id"),
    ),
    (
        "flow_name",
        "dag_id",
        Some("get_current_context()[\"dag\"].dag_id"),
        Some("context.job_name"),
    ),
    (
        "scheduled_start_time",
        "logical_date",
        Some("get_current_context()[\"logical_date\"]"),
        None,
    ),
    (
        "parameters",
        "params",
        Some("get_current_context()[\"params\"]"),
        None,
    ),
];

/// Rewrites Prefect artifact calls and `flow_run` fields for another target, with their ledger
/// uses: artifacts become run-log lines (Airflow) or asset output metadata (Dagster), run fields
/// become the target's run context.
fn prefect_calls(out: &mut Rewritten, to: Framework) {
    if to == Framework::Prefect {
        return;
    }
    for prefix in ["prefect.artifacts.", "artifacts."] {
        for (func, _, _) in ARTIFACTS {
            out.body = replace_words(&out.body, &format!("{prefix}{func}("), &format!("{func}("));
        }
    }
    for (func, params, content) in ARTIFACTS {
        let mut done = false;
        while let Some(call) = find_call(&out.body, func) {
            let args = call.named(params);
            let Some(value) = args.get(*content).cloned() else {
                break;
            };
            let kind = func
                .trim_start_matches("create_")
                .trim_end_matches("_artifact");
            let label = args
                .get("key")
                .or_else(|| args.get("description").filter(|_| *content != "progress"))
                .cloned()
                .unwrap_or_else(|| crate::python::print::string(kind));
            let expr = match (to, kind) {
                (Framework::Dagster, "progress") => Expr::call(
                    "context.log.info",
                    vec![
                        Expr::str("progress %s: %s"),
                        Expr::raw(args.get("description").cloned().unwrap_or(label)),
                        Expr::raw(value),
                    ],
                ),
                (Framework::Dagster, _) => {
                    let v = match kind {
                        "markdown" => Expr::call("dg.MetadataValue.md", vec![Expr::raw(value)]),
                        "link" => Expr::call("dg.MetadataValue.url", vec![Expr::raw(value)]),
                        _ => Expr::raw(value),
                    };
                    Expr::call(
                        "context.add_output_metadata",
                        vec![Expr::Dict(vec![(Expr::raw(label), v)])],
                    )
                }
                (_, "progress") => Expr::call(
                    "print",
                    vec![
                        Expr::str("progress:"),
                        Expr::raw(value),
                        Expr::raw(args.get("description").cloned().unwrap_or(label)),
                    ],
                ),
                _ => Expr::call("print", vec![Expr::raw(colon(&label)), Expr::raw(value)]),
            };
            out.body = call.replace(&out.body, &expr);
            done = true;
        }
        if done
            && !out
                .uses
                .iter()
                .any(|(c, _, _)| *c == "body.output_metadata")
        {
            let note = match to {
                Framework::Dagster => {
                    "artifacts become the asset's output metadata (progress is logged)"
                }
                _ => "artifacts are printed to the task log",
            };
            out.uses
                .push(("body.output_metadata", Fidelity::Approximate, note.into()));
        }
    }
    // Global concurrency limits and rate limits: the target's step takes no slot.
    let mut limited = false;
    for prefix in [
        "prefect.concurrency.sync.",
        "prefect.concurrency.asyncio.",
        "",
    ] {
        for func in ["concurrency", "rate_limit"] {
            let call = format!("{prefix}{func}(");
            if has_word(&out.body, &call) {
                out.body = replace_words(&out.body, &call, &format!("_{func}("));
                limited = true;
            }
        }
    }
    if limited {
        out.needs.push("_concurrency");
        let note = match to {
            Framework::Airflow => {
                "Prefect's concurrency and rate limits are not enforced (`_concurrency` and `_rate_limit` hold no slot and never wait): give the task an Airflow pool"
            }
            _ => {
                "Prefect's concurrency and rate limits are not enforced (`_concurrency` and `_rate_limit` hold no slot and never wait): give the asset a Dagster pool"
            }
        };
        out.uses
            .push(("body.concurrency", Fidelity::Redesign, note.into()));
    }
    // `flow_run.name`, `runtime.flow_run.name`, `prefect.runtime.flow_run.name`.
    for prefix in ["prefect.runtime.", "runtime."] {
        out.body = replace_words(&out.body, &format!("{prefix}flow_run."), "flow_run.");
    }
    let mut rewritten = false;
    for (attr, local, airflow, dagster) in FLOW_RUN {
        let replacement = match to {
            Framework::Airflow => airflow,
            _ => dagster,
        };
        let pattern = format!("flow_run.{attr}");
        let Some(new) = replacement.filter(|_| has_word(&out.body, &pattern)) else {
            continue;
        };
        rewritten = true;
        let inline = replace_words(&out.body, &pattern, new);
        // Bodies are written one level into their function: a line that no longer fits reads
        // the field once into a local instead.
        if inline
            .lines()
            .all(|l| 4 + l.chars().count() <= crate::python::print::LINE_LENGTH)
        {
            out.body = inline;
            continue;
        }
        let name = if has_word(&out.body, local) {
            format!("flow_run_{attr}")
        } else {
            local.to_string()
        };
        let body = replace_words(&out.body, &pattern, &name);
        out.body = insert_first(&body, &format!("{name} = {new}"));
    }
    if rewritten {
        let note = match to {
            Framework::Airflow => "prefect.runtime's flow_run becomes the task's run context",
            _ => "prefect.runtime's flow_run becomes the asset's run context",
        };
        out.uses
            .push(("body.context", Fidelity::Approximate, note.into()));
        if to == Framework::Airflow && !out.needs.contains(&"get_current_context") {
            out.needs.push("get_current_context");
        }
    }
}

/// A body whose rewritten logger calls made a line too long for its function: the target's
/// logger is bound once to a local first (`log = logging.getLogger("airflow.task")`) and the
/// calls use it, so every line fits again (the body of a port is not reformatted).
fn logger_local(body: &str, to: Framework) -> String {
    let logger = match to {
        Framework::Airflow => "logging.getLogger(\"airflow.task\")",
        Framework::Dagster => "get_dagster_logger()",
        Framework::Prefect => "get_run_logger()",
    };
    let too_long = |l: &str| 4 + l.chars().count() > crate::python::print::LINE_LENGTH;
    if !body.lines().any(|l| too_long(l) && l.contains(logger)) {
        return body.to_string();
    }
    let Some(name) = ["log", "run_log", "task_log"]
        .into_iter()
        .find(|n| !has_word(body, n))
    else {
        return body.to_string();
    };
    insert_first(
        &replace_words(body, logger, name),
        &format!("{name} = {logger}"),
    )
}

/// The body with `line` as its first statement (after a docstring).
pub fn insert_first(body: &str, line: &str) -> String {
    let mask = code_mask(body);
    let trimmed = body.trim_start();
    let lead = body.len() - trimmed.len();
    let mut at = lead;
    if trimmed.starts_with(['"', '\'']) {
        // Skip the docstring: the string literal, then the rest of its line.
        let mut i = lead;
        while i < mask.len() && !mask[i] {
            i += 1;
        }
        at = body[i..].find('\n').map_or(body.len(), |k| i + k + 1);
    }
    format!("{}{line}\n{}", &body[..at], &body[at..])
}

/// `"key"` → `"key:"`; another expression is kept as it is.
fn colon(label: &str) -> String {
    // A plain string literal is read and printed anew (escaped), never edited as text: its
    // raw bytes (a control character the user's literal held) do not reach new code.
    let parsed = crate::python::parse::parse_expression(label);
    match parsed.as_ref().and_then(crate::python::str_literal) {
        Some(value) => crate::python::print::string(&format!("{value}:")),
        None => label.to_string(),
    }
}

/// One call found in a body: byte offsets of its start and of the closing bracket, and its
/// top-level arguments as source text.
struct Call {
    start: usize,
    end: usize,
    args: Vec<String>,
}

impl Call {
    /// Arguments by parameter name (positionals named by `params`).
    fn named(&self, params: &[&str]) -> std::collections::BTreeMap<String, String> {
        let mut out = std::collections::BTreeMap::new();
        let mut pos = 0;
        for a in &self.args {
            match keyword_of(a) {
                Some((k, v)) => {
                    out.insert(k.to_string(), v.trim().to_string());
                }
                None => {
                    if let Some(p) = params.get(pos) {
                        out.insert(p.to_string(), a.trim().to_string());
                    }
                    pos += 1;
                }
            }
        }
        out
    }

    /// The body with this call replaced by `expr`: wrapped as ruff would when the call is a
    /// statement of its own, else on one line.
    fn replace(&self, body: &str, expr: &Expr) -> String {
        let line_start = body[..self.start].rfind('\n').map_or(0, |i| i + 1);
        let lead = &body[line_start..self.start];
        let rest_of_line = body[self.end + 1..].split('\n').next().unwrap_or("");
        let statement = lead.trim().is_empty() && rest_of_line.trim().is_empty();
        let text = if statement && !expr.flat().contains('\n') {
            // Bodies are written one level into their function.
            expr.format(lead.len() + 4, 0).replace("\n    ", "\n")
        } else {
            expr.flat()
        };
        format!("{}{text}{}", &body[..self.start], &body[self.end + 1..])
    }
}

/// `name=value` (not `==`) → (name, value).
fn keyword_of(arg: &str) -> Option<(&str, &str)> {
    let arg = arg.trim();
    let eq = arg.find('=')?;
    let (name, value) = (arg[..eq].trim(), &arg[eq + 1..]);
    let ident = !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    (ident && !value.starts_with('=')).then_some((name, value))
}

/// Which bytes of a body are code (not inside a string literal or a comment).
fn code_mask(text: &str) -> Vec<bool> {
    let b = text.as_bytes();
    let mut mask = vec![true; b.len()];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                let s = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                mask[s..i].fill(false);
            }
            q @ (b'\'' | b'"') => {
                let mut k = i;
                while k > 0 && b[k - 1].is_ascii_alphabetic() && i - k < 2 {
                    k -= 1;
                }
                let raw = b[k..i].iter().any(|c| matches!(c, b'r' | b'R'));
                let triple = b[i..].starts_with(&[q, q, q]);
                let s = i;
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    if !raw && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if triple && b[i..].starts_with(&[q, q, q]) {
                        i += 3;
                        break;
                    }
                    if !triple && (b[i] == q || b[i] == b'\n') {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                let e = i.min(b.len());
                mask[s..e].fill(false);
            }
            _ => i += 1,
        }
    }
    mask
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The first call of `func` in code (a name, not an attribute, not inside a string).
fn find_call(body: &str, func: &str) -> Option<Call> {
    let mask = code_mask(body);
    let b = body.as_bytes();
    let mut from = 0;
    while let Some(off) = body[from..].find(func) {
        let start = from + off;
        from = start + func.len();
        let before_ok = start == 0 || !(is_ident_byte(b[start - 1]) || b[start - 1] == b'.');
        if !mask[start] || !before_ok || b.get(from) != Some(&b'(') {
            continue;
        }
        let (mut depth, mut arg_start, mut args) = (0usize, from + 1, Vec::new());
        for i in from..b.len() {
            if !mask[i] {
                continue;
            }
            match b[i] {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        let last = body[arg_start..i].trim();
                        if !last.is_empty() {
                            args.push(last.to_string());
                        }
                        return Some(Call {
                            start,
                            end: i,
                            args,
                        });
                    }
                }
                b',' if depth == 1 => {
                    args.push(body[arg_start..i].trim().to_string());
                    arg_start = i + 1;
                }
                _ => {}
            }
        }
        return None;
    }
    None
}

/// Whether a body reads `name` as a whole name in code (not in strings or comments).
pub fn mentions_name(body: &str, name: &str) -> bool {
    has_word(body, name)
}

/// Whether `pattern` occurs in code as a whole name (`flow_run.name`, not `flow_run.names`).
fn has_word(body: &str, pattern: &str) -> bool {
    replace_words(body, pattern, "\u{0}") != body
}

/// Replaces whole-name occurrences of `pattern` in code (not in strings or comments).
fn replace_words(body: &str, pattern: &str, new: &str) -> String {
    let mask = code_mask(body);
    let b = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(off) = body[from..].find(pattern) {
        let start = from + off;
        let end = start + pattern.len();
        from = end;
        let before_ok = start == 0 || !(is_ident_byte(b[start - 1]) || b[start - 1] == b'.');
        let after_ok = !pattern.bytes().last().is_some_and(is_ident_byte)
            || end >= b.len()
            || !is_ident_byte(b[end]);
        if mask[start] && before_ok && after_ok {
            out.push_str(&body[last..start]);
            out.push_str(new);
            last = end;
        }
    }
    out.push_str(&body[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn airflow_params_reads_become_config_fields() {
        let names = vec!["risk_threshold".to_string()];
        let (body, still) = airflow_params(
            "t = params[\"risk_threshold\"]\nu = context[\"params\"]['risk_threshold']\n",
            &names,
            "config.",
        );
        assert_eq!(
            body,
            "t = config.risk_threshold\nu = config.risk_threshold\n"
        );
        assert!(!still);
        let (body, still) = airflow_params("x = params.get(\"other\")\n", &names, "config.");
        assert_eq!(body, "x = params.get(\"other\")\n");
        assert!(still);
    }

    #[test]
    fn prefect_limits_become_unenforced_helpers_with_a_redesign_row() {
        let body = "async with concurrency(\"api\", occupy=2):\n    x = 1\nrate_limit(\"db\")\nmax_concurrency(3)\n";
        for to in [Framework::Airflow, Framework::Dagster] {
            let r = rewrite(body, Framework::Prefect, to);
            assert_eq!(
                r.body,
                "async with _concurrency(\"api\", occupy=2):\n    x = 1\n_rate_limit(\"db\")\nmax_concurrency(3)\n"
            );
            assert!(r.needs.contains(&"_concurrency"));
            assert!(r.uses.iter().any(|(c, f, note)| *c == "body.concurrency"
                && *f == Fidelity::Redesign
                && note.contains("pool")));
        }
        // Only Prefect has these: a function of the same name elsewhere is the user's own.
        let r = rewrite(body, Framework::Airflow, Framework::Dagster);
        assert_eq!(r.body, body);
        assert!(!r.uses.iter().any(|(c, _, _)| *c == "body.concurrency"));
    }

    #[test]
    fn airflow_run_context_is_built_from_the_target_run() {
        let body = "floor = context[\"params\"][\"min\"]\nctx = get_current_context()\nprint(ctx[\"ds\"], \"context\")\n";
        // Prefect: the `**context` dict and get_current_context() are the helper's dict.
        let p = airflow_context(body, Some("context"), Framework::Prefect).unwrap();
        assert_eq!(
            p,
            "context = _airflow_context()\nfloor = context[\"params\"][\"min\"]\nctx = _airflow_context()\nprint(ctx[\"ds\"], \"context\")\n"
        );
        // Dagster: `context` is Dagster's, so the Airflow dict is another local (strings kept).
        let d = airflow_context(body, Some("context"), Framework::Dagster).unwrap();
        assert_eq!(
            d,
            "airflow_context = _airflow_context(context)\nfloor = airflow_context[\"params\"][\"min\"]\nctx = _airflow_context(context)\nprint(ctx[\"ds\"], \"context\")\n"
        );
        // A body that reads neither is left alone.
        assert_eq!(
            airflow_context("return 1\n", Some("kwargs"), Framework::Prefect),
            None
        );
    }

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
    fn an_artifact_key_is_printed_anew_with_its_control_characters_escaped() {
        // The fuzzer's finding: the key's raw control bytes were copied into a new literal.
        let r = rewrite(
            "create_table_artifact(key=\"r\u{16}s\", table=rows)\ncreate_table_artifact(key='t', table=rows)\n",
            Framework::Prefect,
            Framework::Airflow,
        );
        assert_eq!(r.body, "print(\"r\\x16s:\", rows)\nprint(\"t:\", rows)\n");
    }

    #[test]
    fn only_whole_names_in_code_are_rewritten() {
        // The fuzzer's finding: `yiel60dg.MaterializeResult(` became a call of `yiel60dict`.
        let r = rewrite(
            "mydg.MaterializeResult(a=1)\nlog('dg.MaterializeResult(')\nreturn dg.MaterializeResult(b=2)\n",
            Framework::Dagster,
            Framework::Airflow,
        );
        assert_eq!(
            r.body,
            "mydg.MaterializeResult(a=1)\nlog('dg.MaterializeResult(')\nreturn dict(b=2)\n"
        );
    }

    #[test]
    fn partition_windows_are_bound_first() {
        let r = rewrite(
            "w = context.partition_time_window\n",
            Framework::Dagster,
            Framework::Airflow,
        );
        assert_eq!(
            r.body,
            "partition_time_window = SimpleNamespace(\n    start=data_interval_start, end=data_interval_end\n)\nw = partition_time_window\n"
        );
        assert_eq!(r.needs, ["SimpleNamespace"]);
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
    fn prefect_artifacts_become_logs_or_output_metadata() {
        let body = "rows = [1]\ncreate_table_artifact(key=\"sales\", table=rows)\nx = \"create_link_artifact(\"\nreturn create_link_artifact(\"https://a.b\", key=\"board\")\n";
        let r = rewrite(body, Framework::Prefect, Framework::Airflow);
        assert_eq!(
            r.body,
            "rows = [1]\nprint(\"sales:\", rows)\nx = \"create_link_artifact(\"\nreturn print(\"board:\", \"https://a.b\")\n"
        );
        let r = rewrite(body, Framework::Prefect, Framework::Dagster);
        assert!(
            r.body
                .contains("context.add_output_metadata({\"sales\": rows})\n"),
            "{}",
            r.body
        );
        assert!(r.body.contains("dg.MetadataValue.url(\"https://a.b\")"));
        assert!(
            r.uses
                .iter()
                .any(|(c, f, _)| *c == "body.output_metadata" && *f == Fidelity::Approximate)
        );
        let r = rewrite(
            "create_progress_artifact(progress=50.0, description=\"half\")\n",
            Framework::Prefect,
            Framework::Dagster,
        );
        assert_eq!(
            r.body,
            "context.log.info(\"progress %s: %s\", \"half\", 50.0)\n"
        );
    }

    #[test]
    fn prefect_runtime_fields_become_the_run_context() {
        let body = "return {\"run\": flow_run.name, \"n\": subflow_run.name}\n";
        let r = rewrite(body, Framework::Prefect, Framework::Airflow);
        assert_eq!(
            r.body,
            "return {\"run\": get_current_context()[\"run_id\"], \"n\": subflow_run.name}\n"
        );
        assert!(r.needs.contains(&"get_current_context"));
        let r = rewrite(body, Framework::Prefect, Framework::Dagster);
        assert!(r.body.contains("\"run\": context.run_id,"));
        assert!(r.uses.iter().any(|(c, _, _)| *c == "body.context"));
        let same = rewrite(body, Framework::Prefect, Framework::Prefect);
        assert_eq!(same.body, body);
        // A line that would no longer fit reads the field into a local after the docstring.
        let long = "\"\"\"Doc.\"\"\"\nreturn {\"partition\": partition_key, \"count\": merged[\"count\"], \"run\": flow_run.name}\n";
        let r = rewrite(long, Framework::Prefect, Framework::Airflow);
        assert_eq!(
            r.body,
            "\"\"\"Doc.\"\"\"\nrun_id = get_current_context()[\"run_id\"]\nreturn {\"partition\": partition_key, \"count\": merged[\"count\"], \"run\": run_id}\n"
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

#[cfg(test)]
mod airflow_context_tests {
    use super::unported_airflow_context_keys;

    #[test]
    fn keys_the_helper_does_not_build_are_named_once_in_order() {
        let body = "ctx = _airflow_context()\nconf = ctx[\"dag_run\"].conf\nday = ctx['ds']\nti = ctx.get(\"ti\")\nagain = ctx[\"dag_run\"]\n# ctx[\"comment\"]\ns = \"ctx['in_a_string']\"\n";
        assert_eq!(unported_airflow_context_keys(body), ["dag_run", "ti"]);
        assert_eq!(
            unported_airflow_context_keys("return _airflow_context(context)[\"task\"]\n"),
            ["task"]
        );
        assert!(
            unported_airflow_context_keys("ctx = _airflow_context()\nreturn ctx[\"params\"]\n")
                .is_empty()
        );
    }
}

#[cfg(test)]
mod logger_local_tests {
    use super::rewrite;
    use crate::ir::Framework;

    #[test]
    fn a_logger_call_that_no_longer_fits_uses_a_local_logger() {
        let body = "context.log.info(\"refund e-mails to %s and a long tail of words\", \", \".join(customers))\nreturn 1\n";
        let r = rewrite(body, Framework::Dagster, Framework::Airflow);
        assert_eq!(
            r.body,
            "log = logging.getLogger(\"airflow.task\")\nlog.info(\"refund e-mails to %s and a long tail of words\", \", \".join(customers))\nreturn 1\n"
        );
        // A short call keeps the logger inline.
        let r = rewrite(
            "context.log.info(\"x\")\n",
            Framework::Dagster,
            Framework::Airflow,
        );
        assert_eq!(r.body, "logging.getLogger(\"airflow.task\").info(\"x\")\n");
    }
}
