//! SARIF 2.1.0 log of `analyze` findings: opaque constructs, lossy port entries, read errors.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

use crate::frontend::WalkError;
use crate::ir::{Estate, Severity, SourceFile};
use crate::report::{Fidelity, Report, Translations};

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
/// The schema URI put in `$schema`.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The base id the artifact URIs are relative to (the repository root).
pub const SRCROOT: &str = "%SRCROOT%";

/// A rule of the log: an id, a short description, a help text and its default level.
struct Rule {
    id: String,
    name: String,
    short: String,
    help: String,
    level: &'static str,
}

/// One finding before it is written.
struct Finding {
    rule: String,
    level: &'static str,
    message: String,
    path: String,
    line: Option<u32>,
    col: Option<u32>,
    /// The generated line that implements a port entry: (path in the port's output folder, line).
    output: Option<(String, u32)>,
}

/// The base id of port outputs: the folder `orchmig port --out` writes to.
pub const PORTROOT: &str = "PORTROOT";

/// What goes into the log.
pub struct Inputs<'a> {
    /// The estate read.
    pub estate: &'a Estate,
    /// Paths the walker could not read.
    pub walk_errors: &'a [WalkError],
    /// The port grading for `--target`, when given.
    pub port: Option<&'a Report>,
    /// The translation table (rule descriptions of the port entries).
    pub translations: Option<&'a Translations>,
    /// The repository root the URIs are relative to.
    pub root: &'a Path,
}

/// Builds the SARIF log.
pub fn log(inputs: &Inputs) -> Value {
    let mut rules: BTreeMap<String, Rule> = BTreeMap::new();
    let mut findings = Vec::new();
    let by_path: BTreeMap<&str, &SourceFile> = inputs
        .estate
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    for e in inputs.walk_errors {
        rules.entry("input".into()).or_insert_with(|| Rule {
            id: "input".into(),
            name: "UnreadableInput".into(),
            short: "An input path could not be read.".into(),
            help: "Check the path and its permissions; the other inputs were still read.".into(),
            level: "error",
        });
        findings.push(Finding {
            rule: "input".into(),
            level: "error",
            message: format!("{}: {}", e.path.display(), e.message),
            path: e.path.display().to_string(),
            line: None,
            col: None,
            output: None,
        });
    }
    for file in &inputs.estate.files {
        let text = std::fs::read_to_string(&file.path).unwrap_or_default();
        // An opaque entry's warning is the `opaque/KIND` result below, not a second one.
        for d in file.diagnostics.iter().filter(|d| d.code != "opaque") {
            let id = format!("diagnostic/{}", d.code);
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            rules.entry(id.clone()).or_insert_with(|| Rule {
                id: id.clone(),
                name: camel(&d.code),
                short: format!("orchmig could not read part of a file ({}).", d.code),
                help: "See docs for the diagnostic code; fix the file and run orchmig again."
                    .into(),
                level,
            });
            let mut message = d.message.clone();
            if let Some(h) = &d.help {
                message.push_str(&format!(" Help: {h}"));
            }
            findings.push(Finding {
                rule: id,
                level,
                message,
                path: file.path.clone(),
                line: d.line,
                col: d
                    .span
                    .map(|s| s.col)
                    .or_else(|| d.line.and_then(|l| first_column(&text, l))),
                output: None,
            });
        }
        for p in &file.pipelines {
            for o in &p.opaque {
                let id = format!("opaque/{}", o.kind);
                rules.entry(id.clone()).or_insert_with(|| Rule {
                    id: id.clone(),
                    name: format!("Opaque{}", camel(&o.kind)),
                    short: format!("A construct orchmig cannot model statically ({}).", o.kind),
                    help: "orchmig keeps it verbatim and reports it; a port needs a person to check or rewrite it.".into(),
                    level: "warning",
                });
                findings.push(Finding {
                    rule: id,
                    level: "warning",
                    message: format!("pipeline `{}`: {}", p.id, o.why),
                    path: file.path.clone(),
                    line: Some(if o.span.line > 0 { o.span.line } else { o.line }),
                    col: Some(o.span.col)
                        .filter(|c| *c > 0)
                        .or_else(|| first_column(&text, o.line)),
                    output: None,
                });
            }
        }
    }
    if let Some(report) = inputs.port {
        for ledger in &report.pipelines {
            let file = by_path.get(ledger.source.as_str());
            let text = std::fs::read_to_string(&ledger.source).unwrap_or_default();
            let pipeline_line = file
                .and_then(|f| f.pipelines.iter().find(|p| p.id == ledger.pipeline))
                .map(|p| p.span.line);
            for e in &ledger.entries {
                let level = match e.fidelity {
                    Fidelity::Exact => continue,
                    Fidelity::Approximate => "note",
                    Fidelity::Redesign | Fidelity::None => "warning",
                };
                let id = format!("port/{}", e.code);
                rules.entry(id.clone()).or_insert_with(|| {
                    let title = inputs
                        .translations
                        .and_then(|t| t.get(&e.construct))
                        .map(|c| c.title.clone())
                        .unwrap_or_else(|| e.construct.clone());
                    Rule {
                        id: id.clone(),
                        name: camel(&e.construct),
                        short: format!(
                            "Porting to {} does not carry this construct over exactly: {title}.",
                            report.target
                        ),
                        help: format!(
                            "`orchmig port --to {}` writes the port report (orchmig-report.md) with what to do for each entry.",
                            report.target
                        ),
                        level,
                    }
                });
                let line = if e.line > 0 {
                    Some(e.line)
                } else {
                    pipeline_line
                };
                findings.push(Finding {
                    rule: id,
                    level,
                    message: format!(
                        "{} `{}`{} is {} in {}: {}",
                        e.construct,
                        e.subject,
                        if e.subject == ledger.pipeline {
                            String::new()
                        } else {
                            format!(" (pipeline `{}`)", ledger.pipeline)
                        },
                        fidelity_words(e.fidelity),
                        report.target,
                        e.note
                    ),
                    path: ledger.source.clone(),
                    line,
                    col: line.and_then(|l| first_column(&text, l)),
                    output: e.output.as_ref().map(|o| (o.path.clone(), o.line)),
                });
            }
        }
    }
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.col, &a.rule, &a.message)
            .cmp(&(&b.path, b.line, b.col, &b.rule, &b.message))
    });
    let index: BTreeMap<&str, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut region = serde_json::Map::new();
            if let Some(l) = f.line.filter(|l| *l > 0) {
                region.insert("startLine".into(), json!(l));
                if let Some(c) = f.col.filter(|c| *c > 0) {
                    region.insert("startColumn".into(), json!(c));
                }
            }
            let mut physical = json!({ "artifactLocation": artifact(&f.path, inputs.root) });
            if !region.is_empty() {
                physical["region"] = Value::Object(region);
            }
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": index[f.rule.as_str()],
                "level": f.level,
                "message": { "text": f.message },
                "locations": [{ "physicalLocation": physical }],
            });
            if let Some((path, line)) = &f.output {
                result["relatedLocations"] = json!([{
                    "id": 1,
                    "message": { "text": "the ported code that implements it" },
                    "physicalLocation": {
                        "artifactLocation": { "uri": encode(path), "uriBaseId": PORTROOT },
                        "region": { "startLine": line },
                    },
                }]);
            }
            result
        })
        .collect();
    let rules: Vec<Value> = rules
        .values()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.short },
                "help": { "text": r.help },
                "defaultConfiguration": { "level": r.level },
            })
        })
        .collect();
    let mut run = json!({
        "tool": { "driver": {
            "name": "orchmig",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    let mut bases = serde_json::Map::new();
    if let Some(uri) = directory_uri(inputs.root) {
        bases.insert(SRCROOT.into(), json!({ "uri": uri }));
    }
    if let Some(r) = inputs.port {
        run["properties"] = json!({ "target": r.target });
        if findings.iter().any(|f| f.output.is_some()) {
            bases.insert(
                PORTROOT.into(),
                json!({ "description": { "text": format!(
                    "the output folder of `orchmig port --to {} --out DIR` run on the same inputs",
                    r.target
                ) } }),
            );
        }
    }
    if !bases.is_empty() {
        run["originalUriBaseIds"] = Value::Object(bases);
    }
    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [run],
    })
}

/// The artifact location of a path: relative to the root (with `%SRCROOT%`) when below it.
fn artifact(path: &str, root: &Path) -> Value {
    let p = Path::new(path);
    let absolute = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    match absolute.strip_prefix(root) {
        Ok(rel) => json!({ "uri": encode(&slashes(rel)), "uriBaseId": SRCROOT }),
        Err(_) if absolute.is_absolute() => {
            json!({ "uri": format!("file://{}", encode(&slashes(&absolute))) })
        }
        Err(_) => json!({ "uri": encode(&slashes(p)) }),
    }
}

/// `file:///…/` of a folder, when it is absolute.
fn directory_uri(root: &Path) -> Option<String> {
    if !root.is_absolute() {
        return None;
    }
    let mut s = encode(&slashes(root));
    if !s.ends_with('/') {
        s.push('/');
    }
    Some(format!("file://{s}"))
}

fn slashes(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
        .replacen("//", "/", 1)
}

/// Percent-encodes what may not stand in a URI path.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The 1-based column of the first non-blank character of a line.
fn first_column(text: &str, line: u32) -> Option<u32> {
    let l = text.lines().nth(line.checked_sub(1)? as usize)?;
    Some(l.chars().take_while(|c| c.is_whitespace()).count() as u32 + 1)
}

fn fidelity_words(f: Fidelity) -> &'static str {
    match f {
        Fidelity::Exact => "kept exactly",
        Fidelity::Approximate => "approximated",
        Fidelity::Redesign => "to be redesigned",
        Fidelity::None => "lost",
    }
}

/// `dynamic_loop` → `DynamicLoop` (SARIF rule names are PascalCase by convention).
fn camel(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(encode("dags/my dag.py"), "dags/my%20dag.py");
        assert_eq!(
            directory_uri(Path::new("/repo")).as_deref(),
            Some("file:///repo/")
        );
        assert_eq!(camel("dynamic_loop"), "DynamicLoop");
        assert_eq!(first_column("a\n    b = 1\n", 2), Some(5));
        assert_eq!(first_column("a\n", 3), None);
    }
}
