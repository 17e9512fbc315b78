//! The whole read → IR → write path for one input, checked against the promises every input is
//! owed (no panic, a serialisable IR, Python that parses from every writer): the path the fuzz
//! targets in fuzz/ and their regression tests in tests/fuzz_regressions/ drive.

use crate::emit::{Target, port_file};
use crate::frontend;
use crate::ir::{self, SourceFile};
use crate::python::{parse, source::SourceText};
use crate::report::Translations;

/// Every target profile a port can be asked for.
pub const TARGETS: [&str; 5] = [
    "airflow@3",
    "airflow@2",
    "dagster@1",
    "prefect@3",
    "prefect@2",
];

/// Reads `bytes` as the file `path` through every reader, then writes its pipelines with every
/// writer and re-reads each output; returns the broken promises found (empty when all held).
/// A panic anywhere is not caught here: it is the failure a fuzzer looks for.
pub fn exercise(path: &str, bytes: Vec<u8>) -> Vec<String> {
    let file = frontend::read_bytes(path, bytes);
    let mut broken = Vec::new();
    check_file(&file, "input", &mut broken);
    if file.pipelines.is_empty() {
        return broken;
    }
    let Ok(table) = Translations::builtin() else {
        broken.push("the built-in translation table does not load".into());
        return broken;
    };
    for label in TARGETS {
        let Ok(target) = Target::parse(label) else {
            broken.push(format!("target {label} does not parse"));
            continue;
        };
        match port_file(&file, target, &table) {
            Ok((text, _ledgers)) => check_output(path, label, &text, &mut broken),
            Err(e) => broken.push(format!("the {label} writer refused the file: {e}")),
        }
    }
    broken
}

/// What a reader owes any input: no internal failure, a graph view, a JSON document.
fn check_file(file: &SourceFile, what: &str, broken: &mut Vec<String>) {
    if let Some(d) = file.diagnostics.iter().find(|d| d.code == "internal") {
        broken.push(format!("{what}: the reader failed: {}", d.message));
    }
    for p in &file.pipelines {
        let graph = ir::graph::PipelineGraph::new(p);
        let _ = graph.topological_order();
        let _ = ir::validate(p);
    }
    if let Err(e) = serde_json::to_string(file) {
        broken.push(format!("{what}: the IR does not serialise: {e}"));
    }
}

/// What a writer owes: Python that parses, and that orchmig can read again.
fn check_output(path: &str, label: &str, text: &str, broken: &mut Vec<String>) {
    let shown = format!("{path} (ported to {label})");
    let src = SourceText::new(&shown, text);
    if let Err(d) = parse::parse_module(&src) {
        broken.push(format!(
            "the {label} port does not parse: line {:?}: {}",
            d.line, d.message
        ));
        return;
    }
    let again = frontend::read_source(&shown, text);
    check_file(&again, &shown, broken);
}
