//! The module text: the task and flow functions written, the `serve` call of their
//! deployments, with the support code and imports they need.

use serde::Serialize;

use super::state::ModuleState;
use crate::emit::module::{FunctionCtx, PipelineCtx};
use crate::ir::Framework;
use crate::python::print::Expr;
use crate::report::Ledger;

#[derive(Serialize)]
struct ModuleCtx {
    header: String,
    imports: Vec<String>,
    support: String,
    gap: &'static str,
    helpers: Vec<&'static str>,
    tasks: Vec<FunctionCtx>,
    flows: Vec<PipelineCtx>,
    deployments: Vec<String>,
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
        flows,
        served,
        mut ledgers,
        ..
    } = m;
    // One flow is served directly; several are served together by one process.
    let deployments: Vec<String> = match served.as_slice() {
        [(fname, kwargs)] => {
            vec![Expr::call(&format!("{fname}.serve"), kwargs.clone()).format(4, 0)]
        }
        many => {
            imports.name("prefect", "serve");
            let parts = many
                .iter()
                .map(|(f, k)| Expr::call(&format!("{f}.to_deployment"), k.clone()))
                .collect();
            vec![Expr::call("serve", parts).format(4, 0)]
        }
    };
    if tasks.iter().any(|t| t.decorator.starts_with("@task")) {
        imports.name("prefect", "task");
    }
    if tasks.iter().any(|t| t.decorator.contains("timedelta(")) {
        imports.name("datetime", "timedelta");
    }
    let mut emitted = FunctionCtx::text_of(&tasks);
    for f in &flows {
        emitted.push_str(&f.statements.join("\n"));
        emitted.push_str(&f.signature);
    }
    let mut own: Vec<&str> = vec!["flow", "task"];
    own.extend(tasks.iter().map(|t| t.name.as_str()));
    let support =
        crate::emit::module::support(file, &emitted, Framework::Prefect, &own, &mut imports);
    support.report_foreign(&mut ledgers, table);
    let ctx = ModuleCtx {
        header: crate::emit::module::header(&file.path, &target.label()),
        imports: imports.lines(),
        gap: support.gap(),
        support: support.code,
        helpers,
        tasks,
        flows,
        deployments,
    };
    let text = crate::emit::templates::render("prefect/module.py.j2", &ctx)?;
    Ok((text, ledgers))
}
