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

#[test]
fn codes_doc_examples_are_current() {
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
