//! The module: partitions constants, the `dg.Definitions` of everything written, and the
//! rendered template.

use serde::Serialize;

use super::state::ModuleState;
use crate::emit::module::FunctionCtx;
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
    definitions: Vec<String>,
    assets: Vec<FunctionCtx>,
    jobs: Vec<String>,
    defs: String,
}

/// Module-level statements as one block: a function (a schedule) is set off by two blank lines.
fn blocks(lines: &[String]) -> Vec<String> {
    let is_def = |l: &str| l.starts_with('@') || l.starts_with("def ") || l.starts_with("class ");
    let mut out = String::new();
    let mut prev_def = false;
    for l in lines {
        if !out.is_empty() {
            out.push_str(if prev_def || is_def(l) {
                "\n\n\n"
            } else {
                "\n"
            });
        }
        out.push_str(l);
        prev_def = is_def(l);
    }
    if out.is_empty() {
        Vec::new()
    } else {
        vec![out]
    }
}

/// The module text of everything written (partitions constants, `dg.Definitions`, the support
/// code it needs), and the ledgers.
pub(super) fn render(m: ModuleState) -> Result<(String, Vec<Ledger>), String> {
    let ModuleState {
        file,
        target,
        table,
        mut imports,
        helpers,
        assets,
        checks,
        asset_names,
        mut definitions,
        jobs,
        job_names,
        schedules,
        sensors,
        resources,
        mut ledgers,
        parts_defs,
        ..
    } = m;
    for (name, _, text) in &parts_defs {
        definitions.push(format!("{name} = {text}"));
    }
    let mut kw = Vec::new();
    let assets_list: Vec<String> = asset_names.into_iter().collect();
    for (key, names) in [
        ("assets", &assets_list),
        ("asset_checks", &checks),
        ("jobs", &job_names),
        ("schedules", &schedules),
        ("sensors", &sensors),
    ] {
        if !names.is_empty() {
            kw.push(Expr::kw(
                key,
                Expr::List(names.iter().map(|a| Expr::raw(a.clone())).collect()),
            ));
        }
    }
    if !resources.is_empty() {
        kw.push(Expr::kw(
            "resources",
            Expr::Dict(
                resources
                    .into_iter()
                    .map(|(k, v)| (Expr::str(&k), v))
                    .collect(),
            ),
        ));
    }
    let defs = format!(
        "defs = {}",
        Expr::call("dg.Definitions", kw).format_lead(0, 7, 0)
    );
    let mut emitted = FunctionCtx::text_of(&assets);
    emitted.push_str(&jobs.join("\n"));
    emitted.push_str(&defs);
    let mut own: Vec<&str> = vec!["dg"];
    own.extend(assets.iter().map(|a| a.name.as_str()));
    let support =
        crate::emit::module::support(file, &emitted, Framework::Dagster, &own, &mut imports);
    support.report_foreign(&mut ledgers, table);
    if emitted.contains("get_dagster_logger()") && !emitted.contains("dg.get_dagster_logger()") {
        imports.name("dagster", "get_dagster_logger");
    }
    let ctx = ModuleCtx {
        header: crate::emit::module::header(&file.path, &target.label()),
        imports: imports.lines(),
        gap: support.gap(),
        support: support.code,
        helpers,
        definitions: blocks(&definitions),
        assets,
        jobs: blocks(&jobs),
        defs,
    };
    let text = crate::emit::templates::render("dagster/module.py.j2", &ctx)?;
    Ok((text, ledgers))
}
