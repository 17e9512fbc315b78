//! The module text: the assets, task functions and dags written, with the support code and
//! imports they need.

use serde::Serialize;

use super::names::sdk;
use super::state::ModuleState;
use crate::emit::module::{FunctionCtx, PipelineCtx};
use crate::ir::Framework;
use crate::report::Ledger;

#[derive(Serialize)]
struct ModuleCtx {
    header: String,
    imports: Vec<String>,
    support: String,
    gap: &'static str,
    helpers: Vec<&'static str>,
    assets: Vec<String>,
    tasks: Vec<FunctionCtx>,
    dags: Vec<PipelineCtx>,
}

/// The module text of everything written, and the ledgers.
pub(super) fn render(m: ModuleState) -> Result<(String, Vec<Ledger>), String> {
    let ModuleState {
        file,
        target,
        table,
        mut imports,
        helpers,
        tasks,
        dags,
        mut ledgers,
        assets,
        ..
    } = m;
    let mut emitted = FunctionCtx::text_of(&tasks);
    for d in &dags {
        emitted.push_str(&d.statements.join("\n"));
        emitted.push_str(&d.decorator);
    }
    let mut own: Vec<&str> = vec![
        "dag",
        "task",
        "TaskGroup",
        "Asset",
        "Param",
        "pendulum",
        "timedelta",
    ];
    own.extend(tasks.iter().map(|t| t.name.as_str()));
    own.extend(assets.list.iter().map(|(c, _)| c.as_str()));
    let support =
        crate::emit::module::support(file, &emitted, Framework::Airflow, &own, &mut imports);
    support.report_foreign(&mut ledgers, table);
    // A body rewritten to read the run context (`prefect.runtime` fields).
    if emitted.contains("get_current_context()") && !imports.binds("get_current_context") {
        imports.name(sdk(target), "get_current_context");
    }
    if emitted.contains("timedelta(") {
        imports.name("datetime", "timedelta");
    }
    let ctx = ModuleCtx {
        header: crate::emit::module::header(&file.path, &target.label()),
        imports: imports.lines(),
        gap: support.gap(),
        support: support.code,
        helpers,
        assets: assets.lines(),
        tasks,
        dags,
    };
    let text = crate::emit::templates::render("airflow/module.py.j2", &ctx)?;
    Ok((text, ledgers))
}
