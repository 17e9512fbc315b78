//! Reviewed snapshots of the IR of every corpus file (in snapshots/ at the top level).

use std::path::PathBuf;

#[test]
fn ir_of_every_corpus_file() {
    let (files, errors) = orchmig::frontend::collect_files(&[PathBuf::from("corpus")]);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(!files.is_empty());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for f in &files {
            let ir = orchmig::frontend::read_path(f);
            let name = f
                .strip_prefix("corpus")
                .unwrap_or(f)
                .with_extension("")
                .display()
                .to_string()
                .trim_start_matches('/')
                .replace('/', "__");
            insta::assert_json_snapshot!(format!("ir__{name}"), ir);
        }
    });
}
