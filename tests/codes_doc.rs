//! docs/codes.md documents every loss/gain code with a real example from porting the corpus;
//! this test keeps the examples section true (`ORCHMIG_UPDATE_DOCS=1` rewrites it).

use std::collections::BTreeMap;
use std::path::PathBuf;

use orchmig::emit::{Target, port_file};
use orchmig::report::Translations;

const MARKER: &str = "## Examples from the corpus";

fn examples() -> String {
    let table = Translations::builtin().unwrap();
    let (files, _) = orchmig::frontend::collect_files(&[PathBuf::from("corpus")]);
    let mut first: BTreeMap<String, String> = BTreeMap::new();
    for f in files
        .iter()
        .map(|f| orchmig::frontend::read_path(f))
        .filter(|f| !f.pipelines.is_empty())
    {
        for t in ["airflow", "dagster", "prefect"] {
            let target = Target::parse(t).unwrap();
            if Some(target.framework) == f.framework {
                continue;
            }
            let Ok((_, ledgers)) = port_file(&f, target, &table) else {
                continue;
            };
            for l in ledgers {
                for e in l.entries {
                    first.entry(e.code.clone()).or_insert_with(|| {
                        format!(
                            "| `{}` | `{}:{}` → {t} | {} | {}: {} |",
                            e.code,
                            f.path,
                            e.line,
                            e.subject.replace('|', "\\|"),
                            e.fidelity.name(),
                            e.note.replace('|', "\\|")
                        )
                    });
                }
            }
        }
    }
    let mut out = format!(
        "{MARKER}\n\nThe first entry of each code when the bundled corpus is ported to the other frameworks\n(kept true by `tests/codes_doc.rs`). Codes without an example here do not occur in the corpus yet.\n\n| code | where | subject | fidelity: what happens |\n|---|---|---|---|\n"
    );
    for line in first.values() {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// One row of the code table: the code, the construct, and its class and note per target.
fn table_row(c: &orchmig::report::Construct) -> String {
    let cell = |r: &orchmig::report::TargetRule| {
        format!("{}: {}", r.fidelity.name(), r.how).replace('|', "\\|")
    };
    format!(
        "| `{}` | {} (`{}`) | {} | {} | {} |",
        c.code,
        c.title,
        c.id,
        cell(&c.airflow),
        cell(&c.dagster),
        cell(&c.prefect)
    )
}

/// The code table's rows in code order (what matrix/translations.toml says of each code).
fn table() -> Vec<String> {
    let t = Translations::builtin().unwrap();
    let mut all: Vec<&orchmig::report::Construct> = t.all().collect();
    all.sort_by(|a, b| a.code.cmp(&b.code));
    all.into_iter().map(table_row).collect()
}

/// The code table says what matrix/translations.toml says of each code (rewritten in place
/// with `ORCHMIG_UPDATE_DOCS=1`).
fn check_table() {
    let path = PathBuf::from("docs/codes.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<&str> = doc
        .split(MARKER)
        .next()
        .unwrap_or(&doc)
        .lines()
        .filter(|l| l.starts_with("| `OM"))
        .collect();
    let want = table();
    if std::env::var_os("ORCHMIG_UPDATE_DOCS").is_some() && rows != want {
        // The table's rows are the consecutive `| \`OM…` lines before the examples.
        let (head, tail) = doc.split_at(doc.find(MARKER).unwrap_or(doc.len()));
        let lines: Vec<&str> = head.lines().collect();
        let first = lines.iter().position(|l| l.starts_with("| `OM")).unwrap();
        let last = lines.iter().rposition(|l| l.starts_with("| `OM")).unwrap();
        let mut out: Vec<String> = lines[..first].iter().map(|l| l.to_string()).collect();
        out.extend(want.iter().cloned());
        out.extend(lines[last + 1..].iter().map(|l| l.to_string()));
        std::fs::write(&path, format!("{}\n{tail}", out.join("\n"))).unwrap();
        return;
    }
    let stale: Vec<String> = want
        .iter()
        .filter(|w| !rows.contains(&w.as_str()))
        .cloned()
        .collect();
    assert!(
        stale.is_empty() && rows.len() == want.len(),
        "docs/codes.md's code table differs from matrix/translations.toml (run `ORCHMIG_UPDATE_DOCS=1 cargo test --test codes_doc`):\n{}",
        stale.join("\n")
    );
}

/// One test, so the table and the examples are rewritten one after the other.
#[test]
fn codes_doc_table_and_examples_are_current() {
    check_table();
    check_examples();
}

/// The examples section is the first entry of each code when the corpus is ported.
fn check_examples() {
    let path = PathBuf::from("docs/codes.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let head = doc
        .split(MARKER)
        .next()
        .unwrap_or(&doc)
        .trim_end()
        .to_string();
    let want = format!("{head}\n\n{}", examples());
    if std::env::var_os("ORCHMIG_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    assert!(
        doc == want,
        "docs/codes.md examples are stale: run `ORCHMIG_UPDATE_DOCS=1 cargo test --test codes_doc` and review the diff"
    );
}
