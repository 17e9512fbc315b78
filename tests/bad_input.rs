//! Hostile and broken input through the CLI: every case gets a diagnostic with file:line (where
//! there is a line) and a hint, the documented exit code, no panic, a bounded time, and the good
//! file given beside it is still processed. The cases are listed in the README's troubleshooting
//! section; large inputs are generated here, never committed.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A good file given beside every bad one: its pipeline must still be in the output.
const GOOD: &str = "corpus/airflow/orders_etl.py";
/// The good file's pipeline id.
const GOOD_ID: &str = "orders_etl";

/// Long enough for a loaded CI machine, short enough that a hang fails instead of blocking.
const TIMEOUT: Duration = Duration::from_secs(900);

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn orchmig(args: &[&str]) -> Outcome {
    let out = Command::cargo_bin("orchmig")
        .expect("binary")
        .args(args)
        .timeout(TIMEOUT)
        .output()
        .expect("run orchmig");
    let outcome = Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !outcome.stderr.contains("panicked"),
        "orchmig panicked on {args:?}:\n{}",
        outcome.stderr
    );
    assert!(
        outcome.code.is_some(),
        "orchmig {args:?} was killed (timeout {TIMEOUT:?}?):\n{}",
        outcome.stderr
    );
    outcome
}

impl Outcome {
    /// Exit code, a diagnostic naming `location` with a hint, and the good file still read.
    fn diagnosed(&self, code: i32, location: &str, words: &str) -> &Self {
        assert_eq!(self.code, Some(code), "stderr:\n{}", self.stderr);
        assert!(
            self.stderr.contains(location),
            "no `{location}` in:\n{}",
            self.stderr
        );
        assert!(
            self.stderr.to_lowercase().contains(&words.to_lowercase()),
            "no `{words}` in:\n{}",
            self.stderr
        );
        assert!(
            self.stderr.contains("help:"),
            "no hint in:\n{}",
            self.stderr
        );
        self
    }

    /// The good pipeline is in the output.
    fn good_still_read(&self) -> &Self {
        assert!(
            self.stdout.contains(GOOD_ID),
            "the good file was not processed; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// `orchmig analyze BAD GOOD`, then `orchmig ir BAD GOOD`: both report the same way.
fn analyze_and_ir(bad: &str, code: i32, location: &str, words: &str) {
    for cmd in ["analyze", "ir"] {
        orchmig(&[cmd, bad, GOOD])
            .diagnosed(code, location, words)
            .good_still_read();
    }
}

fn ir_json(args: &[&str]) -> serde_json::Value {
    let out = orchmig(&[&["ir"], args].concat());
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---- syntax and encoding ----------------------------------------------------------------

/// At the line `python3 -m py_compile` reports, in its words where it has fixed ones.
#[test]
fn syntax_errors_of_several_kinds_name_their_line() {
    analyze_and_ir(
        "tests/bad/syntax_error.py",
        1,
        "syntax_error.py:7",
        "invalid Python syntax",
    );
    analyze_and_ir(
        "tests/bad/syntax_eof.py",
        1,
        "syntax_eof.py:6",
        "'(' was never closed",
    );
    analyze_and_ir(
        "tests/bad/syntax_indent.py",
        1,
        "syntax_indent.py:12",
        "invalid Python syntax: unexpected indent",
    );
    analyze_and_ir(
        "tests/bad/syntax_token.py",
        1,
        "syntax_token.py:6",
        "invalid Python syntax: invalid syntax",
    );
    // Parses, but CPython refuses to compile it: read as is, its port would not import.
    analyze_and_ir(
        "tests/bad/syntax_return_outside.py",
        1,
        "syntax_return_outside.py:15",
        "invalid Python syntax: 'return' outside function",
    );
}

/// Python 3.12 f-strings (PEP 701: the outer quote reused inside a field, `=`, a comment in a
/// multi-line field) read like any other string: evaluated where constant, bodies verbatim.
#[test]
fn pep701_fstrings_read_like_any_other_string() {
    let out = orchmig(&["analyze", "tests/bad/pep701.py", GOOD]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    out.good_still_read();
    let ir = ir_json(&["tests/bad/pep701.py"]);
    let p = &ir["files"][0]["pipelines"][0];
    assert_eq!(p["id"], "quoting");
    let nodes = p["nodes"].as_array().unwrap();
    let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["label", "debug", "report"]);
    let body = |i: usize| nodes[i]["callable"]["body"].as_str().unwrap().to_string();
    assert_eq!(body(0), "return f\"{row[\"id\"]}\"\n");
    assert_eq!(body(1), "return f\"{row=}\"\n");
    assert!(
        body(2).contains("# the key, in a comment inside the field"),
        "{}",
        body(2)
    );
}

#[test]
fn an_empty_file_and_a_file_of_comments_are_files_without_pipelines() {
    for bad in ["tests/bad/empty.py", "tests/bad/comments_only.py"] {
        let out = orchmig(&["analyze", bad, GOOD, "--format", "json"]);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let inv: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(inv["files"], 2);
        assert_eq!(inv["files_without_pipelines"], 1);
        out.good_still_read();
    }
}

#[test]
fn non_utf8_and_binary_files_are_diagnosed() {
    analyze_and_ir("tests/bad/latin1.py", 1, "latin1.py:2", "UTF-8");
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("model.py");
    let mut bytes = b"\x7fELF\x02\x01\x01\0\0\0".to_vec();
    bytes.extend((0..4096u32).map(|i| (i * 7 % 256) as u8));
    std::fs::write(&binary, bytes).unwrap();
    analyze_and_ir(s(&binary), 1, "model.py:1", "binary file");
}

// ---- size and depth ---------------------------------------------------------------------

/// An Airflow DAG of `tasks` EmptyOperators chained in order, `padding` bytes of comment each.
fn generated_dag(tasks: usize, padding: usize) -> String {
    let mut text = String::from(
        "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n\nwith DAG(\"generated\", schedule=None):\n",
    );
    let pad = "#".repeat(padding);
    for i in 0..tasks {
        text.push_str(&format!(
            "    t{i} = EmptyOperator(task_id=\"t{i}\")  {pad}\n"
        ));
        if i > 0 {
            text.push_str(&format!("    t{} >> t{i}\n", i - 1));
        }
    }
    text
}

#[test]
fn a_20_megabyte_dag_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = generated_dag(2_000, 10_000);
    assert!(text.len() > 20_000_000);
    let big = write(dir.path(), "big.py", &text);
    let ir = ir_json(&[s(&big), GOOD]);
    let p = &ir["files"][0]["pipelines"][0];
    assert_eq!(p["id"], "generated");
    assert_eq!(p["nodes"].as_array().unwrap().len(), 2_000);
    assert_eq!(p["edges"].as_array().unwrap().len(), 1_999);
    assert_eq!(ir["files"][1]["pipelines"][0]["id"], GOOD_ID);
}

#[test]
fn a_100_000_task_dag_is_read_and_ported() {
    let dir = tempfile::tempdir().unwrap();
    let big = write(dir.path(), "in/wide.py", &generated_dag(100_000, 0));
    // The inventory's counts (the full IR is ~100 MB of JSON).
    let out = orchmig(&["analyze", s(&big), GOOD, "--format", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let inv: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let row = inv["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pipeline"] == "generated")
        .expect("the generated DAG's row");
    assert_eq!(row["nodes"], 100_000);
    assert_eq!(row["edges"], 99_999);
    out.good_still_read();
    let out_dir = dir.path().join("out");
    let out = orchmig(&["port", s(&big), "--to", "prefect", "--out", s(&out_dir)]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // Prefect folds EmptyOperators into their neighbours' dependencies, so the flow may hold
    // none of them; the report still accounts for every one, the last included.
    assert!(out_dir.join("wide.py").is_file());
    let report = std::fs::read_to_string(out_dir.join("orchmig-report.md")).unwrap();
    assert!(
        report.contains("| t99999 |"),
        "the report names the last task"
    );
}

#[test]
fn expressions_nested_10_000_deep_are_refused_with_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let header = "from prefect import flow\n\n\n@flow\ndef deep():\n";
    let cases = [
        (
            "brackets.py",
            format!("    x = {}1{}\n", "[".repeat(10_000), "]".repeat(10_000)),
        ),
        (
            "calls.py",
            format!("    x = {}1{}\n", "f(".repeat(10_000), ")".repeat(10_000)),
        ),
        ("nots.py", format!("    x = {}1\n", "not ".repeat(10_000))),
        ("negations.py", format!("    x = {}1\n", "-".repeat(10_000))),
        ("sums.py", format!("    x = 1{}\n", " + 1".repeat(10_000))),
        (
            "lambdas.py",
            format!("    x = {}1\n", "lambda: ".repeat(10_000)),
        ),
        (
            "ternaries.py",
            format!("    x = 1{}\n", " if a else 1".repeat(10_000)),
        ),
        (
            "attributes.py",
            format!("    x = a{}\n", ".b".repeat(10_000)),
        ),
        (
            "strings.py",
            format!("    x = \"a\"{}\n", " \"a\"".repeat(10_000)),
        ),
    ];
    for (name, line) in cases {
        let path = write(dir.path(), name, &format!("{header}{line}"));
        let out = orchmig(&["ir", s(&path), GOOD]);
        out.good_still_read();
        if out.code == Some(1) {
            out.diagnosed(1, &format!("{name}:6"), "nesting");
        } else {
            // Accepted: then it is read whole, on a stack that holds it.
            assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
            assert!(out.stdout.contains("\"deep\""), "{name}");
        }
    }
}

#[test]
fn blocks_nested_deep_are_refused_or_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("from prefect import flow\n\n\n@flow\ndef deep():\n");
    for depth in 1..=1_000 {
        text.push_str(&format!("{}if x:\n", "    ".repeat(depth)));
    }
    text.push_str(&format!("{}pass\n", "    ".repeat(1_001)));
    let path = write(dir.path(), "blocks.py", &text);
    let out = orchmig(&["ir", s(&path), GOOD]);
    out.good_still_read();
    assert!(matches!(out.code, Some(0 | 1)), "{}", out.stderr);
}

// ---- imports and decorators -------------------------------------------------------------

#[test]
fn decorators_without_a_call_are_read() {
    let ir = ir_json(&["tests/bad/bare_decorators.py"]);
    let p = &ir["files"][0]["pipelines"][0];
    assert_eq!(p["id"], "bare");
    let ids: Vec<&str> = p["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["extract", "load"]);
}

#[test]
fn aliased_and_conditional_imports_are_resolved() {
    let ir = ir_json(&["tests/bad/aliased_conditional_imports.py"]);
    let p = &ir["files"][0]["pipelines"][0];
    assert_eq!(p["id"], "aliased");
    assert_eq!(p["nodes"][0]["id"], "fetch");
    assert_eq!(p["nodes"][0]["policy"]["retries"], 2);
}

#[test]
fn a_star_import_is_read_or_explained() {
    let out = orchmig(&["ir", "tests/bad/star_import.py", GOOD]);
    out.good_still_read();
    let ir: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let file = &ir["files"][1];
    let read = file["pipelines"][0]["id"] == "starred";
    let explained = file["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["message"].as_str().unwrap_or("").contains("*"));
    assert!(read || explained, "{file}");
}

#[test]
fn two_frameworks_in_one_file_are_both_read_with_a_warning() {
    let out = orchmig(&["ir", "tests/bad/two_frameworks.py", GOOD]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("two_frameworks.py"), "{}", out.stderr);
    assert!(out.stderr.contains("several frameworks"), "{}", out.stderr);
    assert!(out.stderr.contains("help:"), "{}", out.stderr);
    let ir: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let frameworks: Vec<&str> = ir["files"][1]["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["framework"].as_str().unwrap())
        .collect();
    assert!(
        frameworks.contains(&"prefect") && frameworks.contains(&"dagster"),
        "{frameworks:?}"
    );
    out.good_still_read();
}

// ---- graph problems ---------------------------------------------------------------------

#[test]
fn cycles_dangling_edges_and_duplicate_ids_name_their_line() {
    analyze_and_ir("tests/bad/cycle.py", 1, "cycle.py:7", "cycle");
    analyze_and_ir("tests/bad/dangling.py", 1, "dangling.py:6", "`finish`");
    analyze_and_ir(
        "tests/bad/duplicate_ids.py",
        1,
        "duplicate_ids.py:6",
        "`same`",
    );
}

#[test]
fn an_operator_from_an_unknown_provider_is_ported_as_a_step_that_raises_with_a_loss() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = orchmig(&[
        "port",
        "tests/bad/unknown_operator.py",
        GOOD,
        "--to",
        "prefect",
        "--out",
        s(&out_dir),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let ported = std::fs::read_to_string(out_dir.join("unknown_operator.py")).unwrap();
    assert!(ported.contains("fire"), "{ported}");
    let report = std::fs::read_to_string(out_dir.join("orchmig-report.md")).unwrap();
    assert!(
        report.contains("| operator.unknown | fire | none | 7 |"),
        "{report}"
    );
    // The step raises, naming the operator and its arguments: never an empty step.
    assert!(
        ported.contains(
            "raise NotImplementedError(\n        'orchmig has no port of LaunchOperator(payload=\"satellite\"): port this step by hand',"
        ),
        "{ported}"
    );
    assert!(out_dir.join("orders_etl.py").exists());
}

// ---- folders and paths ------------------------------------------------------------------

#[test]
fn symlink_loops_and_dangling_symlinks_are_reported_and_the_folder_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("estate");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::copy(GOOD, root.join("sub/orders_etl.py")).unwrap();
    std::os::unix::fs::symlink(&root, root.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink(root.join("gone.py"), root.join("dangling.py")).unwrap();
    let out = orchmig(&["analyze", s(&root)]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("symlink loop"), "{}", out.stderr);
    assert!(out.stderr.contains("dangling.py"), "{}", out.stderr);
    assert!(out.stderr.contains("help:"), "{}", out.stderr);
    out.good_still_read();
}

#[test]
fn an_unreadable_file_is_diagnosed() {
    // As root, permissions do not stop a read; /proc/self/mem refuses a read at offset 0 for
    // every user, so a symlink to it is a .py file no one can read.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("estate");
    std::fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink("/proc/self/mem", root.join("locked.py")).unwrap();
    std::fs::copy(GOOD, root.join("orders_etl.py")).unwrap();
    orchmig(&["analyze", s(&root)])
        .diagnosed(1, "locked.py", "cannot read")
        .good_still_read();
}

#[test]
fn a_folder_named_like_a_file_and_a_fifo_are_not_read_as_files() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("folder.py");
    std::fs::create_dir_all(&folder).unwrap();
    let fifo = dir.path().join("pipe.py");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Walked: neither blocks nor counts as a file.
    let out = orchmig(&["analyze", s(dir.path()), GOOD]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    out.good_still_read();
    // Named: the FIFO is refused, not read (a read would block forever).
    orchmig(&["analyze", s(&fifo), GOOD])
        .diagnosed(1, "pipe.py", "not a regular file")
        .good_still_read();
}

#[test]
fn a_folder_of_10_000_files_is_read() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..10_000 {
        write(
            dir.path(),
            &format!("d{}/f{i}.py", i % 100),
            &format!("def helper_{i}():\n    return {i}\n"),
        );
    }
    std::fs::copy(GOOD, dir.path().join("orders_etl.py")).unwrap();
    let out = orchmig(&["analyze", s(dir.path()), "--format", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let inv: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(inv["files"], 10_001);
    out.good_still_read();
}

#[test]
fn a_path_that_does_not_exist_is_a_usage_error_and_the_rest_is_read() {
    for cmd in ["analyze", "ir"] {
        let out = orchmig(&[cmd, "no/such/dir", GOOD]);
        out.diagnosed(2, "no/such/dir", "no such file")
            .good_still_read();
    }
}

// ---- flags ------------------------------------------------------------------------------

#[test]
fn a_malformed_matrix_toml_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "rules.toml",
        "[[rule]]\nid = \"x\"\nwhen = [unclosed\n",
    );
    let out = orchmig(&["analyze", GOOD, "--matrix", s(dir.path())]);
    out.diagnosed(2, "rules.toml:3", "toml");
    let out = orchmig(&["matrix", "--matrix", s(dir.path())]);
    out.diagnosed(2, "rules.toml:3", "toml");
}

#[test]
fn an_unknown_to_target_is_a_usage_error_with_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    for to in ["luigi", "airflow@9", ""] {
        let out = orchmig(&[
            "port",
            GOOD,
            "--to",
            to,
            "--out",
            s(&dir.path().join("out")),
        ]);
        out.diagnosed(2, "--to", "airflow");
        assert!(!dir.path().join("out").exists(), "nothing is written");
    }
}

/// Every diagnostic the readers give says what to do about it.
#[test]
fn every_diagnostic_of_the_bad_inputs_and_the_corpus_says_what_to_do() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (estate, _) =
        orchmig::cli::input::read_estate(&[root.join("tests/bad"), root.join("corpus")]);
    let mut seen = 0;
    for f in &estate.files {
        for d in &f.diagnostics {
            seen += 1;
            let help = d.help.as_deref().unwrap_or("");
            assert!(
                help.split_whitespace().count() >= 3,
                "{}:{:?} `{}` has no real hint: {help:?}",
                f.path,
                d.line,
                d.message
            );
        }
    }
    assert!(seen >= 6, "tests/bad has a diagnostic per file");
}

/// A file that cannot be read is not silently missing from the port report (issue 20): the
/// Markdown and JSON reports list it with the line and words of its first error, and the other
/// files are still ported.
#[test]
fn a_file_that_cannot_be_read_is_listed_in_the_port_report() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = orchmig(&[
        "port",
        "tests/bad/syntax_error.py",
        GOOD,
        "--to",
        "dagster",
        "--out",
        s(&out_dir),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out_dir.join("orders_etl.py").exists());
    let md = std::fs::read_to_string(out_dir.join("orchmig-report.md")).unwrap();
    assert!(md.contains("## Files not ported"), "{md}");
    assert!(md.contains("| tests/bad/syntax_error.py | "), "{md}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("orchmig-report.json")).unwrap(),
    )
    .unwrap();
    let unread = json["unread"].as_array().expect("unread files");
    assert_eq!(unread.len(), 1, "{unread:?}");
    assert_eq!(unread[0]["path"], "tests/bad/syntax_error.py");
    assert!(unread[0]["line"].as_u64().unwrap() > 0, "{unread:?}");
    assert!(
        unread[0]["why"].as_str().unwrap().contains("syntax"),
        "{unread:?}"
    );
}

/// Never silent (issue 18): a file that imports a framework but gives no pipeline gets a warning
/// at that import, in every command; `port` of it by name lists it as not ported and exits 1,
/// while the same file found in a folder beside real pipelines (a helper module) is only warned
/// about.
#[test]
fn a_framework_file_without_a_pipeline_is_a_warning_and_port_of_it_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("dags");
    std::fs::create_dir(&estate).unwrap();
    let helper = estate.join("helpers.py");
    std::fs::write(
        &helper,
        "import os\nfrom airflow.sdk import task\n\n\n@task\ndef shared_cleanup():\n    return os.getcwd()\n",
    )
    .unwrap();
    std::fs::copy(GOOD, estate.join("orders_etl.py")).unwrap();
    let out = orchmig(&["analyze", s(&helper)]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("helpers.py:2")
            && out
                .stderr
                .contains("imports airflow but orchmig read no pipeline"),
        "{}",
        out.stderr
    );
    let ported = dir.path().join("ported");
    let out = orchmig(&["port", s(&helper), "--to", "prefect", "--out", s(&ported)]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let report = std::fs::read_to_string(ported.join("orchmig-report.md")).unwrap();
    assert!(report.contains("## Files not ported"), "{report}");
    assert!(report.contains("helpers.py | 2 |"), "{report}");
    let folder = dir.path().join("folder");
    let out = orchmig(&["port", s(&estate), "--to", "prefect", "--out", s(&folder)]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("no-pipeline"), "{}", out.stderr);
    assert!(folder.join("orders_etl.py").exists());
}
