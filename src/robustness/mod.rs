//! The whole read → IR → write path for one input, checked against the promises every input is
//! owed (no panic, a serialisable IR, Python that parses from every writer): the path the fuzz
//! targets in fuzz/ and their regression tests in tests/fuzz_regressions/ drive.

pub mod injection;

use std::collections::HashSet;

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
    run(path, bytes).broken
}

/// What one input did on the way through: the promises it broke and every port written.
pub struct Exercised {
    /// The broken promises (empty when all held).
    pub broken: Vec<String>,
    /// `(target, generated text)` for each writer that wrote the file.
    pub outputs: Vec<(&'static str, String)>,
}

/// [`exercise`], keeping the generated text of every port (for oracles that need more than
/// orchmig itself, such as CPython's `compile()`).
pub fn run(path: &str, bytes: Vec<u8>) -> Exercised {
    let words = input_words(path, &bytes);
    let file = frontend::read_bytes(path, bytes);
    let mut done = Exercised {
        broken: Vec::new(),
        outputs: Vec::new(),
    };
    check_file(&file, "input", &mut done.broken);
    if file.pipelines.is_empty() {
        return done;
    }
    let Ok(table) = Translations::builtin() else {
        done.broken
            .push("the built-in translation table does not load".into());
        return done;
    };
    for label in TARGETS {
        let Ok(target) = Target::parse(label) else {
            done.broken.push(format!("target {label} does not parse"));
            continue;
        };
        match port_file(&file, target, &table) {
            Ok((text, _ledgers)) => {
                check_output(path, label, &text, &words, &mut done.broken);
                done.outputs.push((label, text));
            }
            Err(e) => done
                .broken
                .push(format!("the {label} writer refused the file: {e}")),
        }
    }
    done
}

/// The identifiers of the input's own code (empty when it does not parse: then no port is
/// written from it anyway).
fn input_words(path: &str, bytes: &[u8]) -> HashSet<String> {
    let text = String::from_utf8_lossy(bytes);
    parse::parse_module(&SourceText::new(path, &text))
        .map(|suite| injection::code_words(&suite))
        .unwrap_or_default()
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

/// What a writer owes: Python that parses, that orchmig can read again, with no raw control
/// character and no call that input text steered in (see [`injection`]).
fn check_output(
    path: &str,
    label: &str,
    text: &str,
    words: &HashSet<String>,
    broken: &mut Vec<String>,
) {
    if let Some((at, c)) = injection::raw_control(text) {
        broken.push(format!(
            "the {label} port holds a raw control character {c:?} at byte {at}"
        ));
    }
    let shown = format!("{path} (ported to {label})");
    let src = SourceText::new(&shown, text);
    let suite = match parse::parse_module(&src) {
        Ok(suite) => suite,
        Err(d) => {
            broken.push(format!(
                "the {label} port does not parse: line {:?}: {}",
                d.line, d.message
            ));
            return;
        }
    };
    let foreign = injection::foreign_calls(&suite, words);
    if !foreign.is_empty() {
        broken.push(format!(
            "the {label} port calls {foreign:?}, which neither the input's code nor the port defines: input text became code"
        ));
    }
    let again = frontend::read_source(&shown, text);
    check_file(&again, &shown, broken);
}
