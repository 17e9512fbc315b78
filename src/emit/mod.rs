//! Writers: IR → Python for a target framework, driven by templates/<target>/, recording every
//! decision in the port's ledger.

mod airflow;
mod automation;
mod dagster;
mod guards;
mod inline;
mod module;
mod multi_asset;
mod outputs;
mod partitions;
pub mod plan;
mod prefect;
mod pulls;
mod resources;
pub mod rewrite;
mod shared;
pub mod target;
mod template;
mod templates;
mod upstream;
mod writer;

pub use target::Target;
pub use writer::Writer;

use crate::ir::{Framework, SourceFile};
use crate::report::{Ledger, Translations};

/// The "port" of a file already written for the target: its own text, unchanged, with ledgers
/// that say so (every construct exact, at its own line). `text` is the file's source.
pub fn copy_through(
    file: &SourceFile,
    text: &str,
    target: Target,
    table: &Translations,
) -> (String, Vec<Ledger>) {
    let name = std::path::Path::new(&file.path).file_name().map_or_else(
        || "pipeline.py".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let ledgers = file
        .pipelines
        .iter()
        .map(|p| Ledger::copied(&file.path, p, &target.label(), table, &name))
        .collect();
    (text.to_string(), ledgers)
}

/// Ports one source file to a target: the module text and its ledgers.
pub fn port_file(
    file: &SourceFile,
    target: Target,
    table: &Translations,
) -> Result<(String, Vec<Ledger>), String> {
    // Airflow and Dagster have no sub-flows: the called steps are written where they are called.
    let inlined = inline::inline_sub_flows(file, target.framework);
    // Without a shared IO manager, an asset another pipeline materialises is computed where read.
    let (inlined, brought) = match target.framework {
        Framework::Dagster => (inlined, Vec::new()),
        _ => upstream::bring_upstream_assets(&inlined),
    };
    // Nor multi-assets: the assets of one function become one step with several outputs.
    let inlined = outputs::merge_multi_assets(&inlined, target.framework);
    // Nor XCom: a body's pull of another task's value becomes a parameter fed by that task.
    let (inlined, passed) = pulls::pass_pulled_values(inlined, target.framework);
    // Nor automation conditions: assets that run on a cron give their pipeline that schedule.
    let (inlined, automated) = automation::schedules_from_conditions(inlined, target.framework);
    let order = match target.framework {
        Framework::Dagster => inline::writing_order(file),
        _ => (0..file.pipelines.len()).collect(),
    };
    let mut written = inlined.clone();
    written.pipelines = order
        .iter()
        .map(|&i| inlined.pipelines[i].clone())
        .collect();
    let (text, ledgers) = match target.framework {
        Framework::Prefect => prefect::PrefectWriter.write(&written, target, table),
        Framework::Airflow => airflow::AirflowWriter.write(&written, target, table),
        Framework::Dagster => dagster::DagsterWriter.write(&written, target, table),
    }?;
    // Ledgers in the source's pipeline order.
    let mut slots: Vec<Option<Ledger>> = vec![None; ledgers.len()];
    for (ledger, &i) in ledgers.into_iter().zip(&order) {
        slots[i] = Some(ledger);
    }
    let mut ledgers: Vec<Ledger> = slots.into_iter().flatten().collect();
    upstream::record_brought(&brought, &mut ledgers, table, target.framework);
    pulls::record_passed(&passed, &mut ledgers, table, target.framework);
    outputs::record_merged(file, &mut ledgers, table, target.framework);
    inline::record_inlined(file, &inlined, &mut ledgers, table, target.framework);
    automation::record_conditions(file, &automated, &mut ledgers, target.framework);
    resources::record_resources(file, &mut ledgers, target.framework);
    // Every entry points at its generated line, looked up in the final text.
    let name = std::path::Path::new(&file.path).file_name().map_or_else(
        || "pipeline.py".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ledger::resolve(&mut ledgers, &text, &name);
    Ok((text, ledgers))
}
