//! What people and machines rely on around the commands: help examples, completions, man pages,
//! colour policy, -q/-v, the pre-commit hook and orchmig.toml.

mod support;

use assert_cmd::Command;
use std::path::Path;

fn orchmig() -> Command {
    Command::cargo_bin("orchmig").expect("binary")
}

fn stdout_of(args: &[&str]) -> String {
    let out = orchmig().args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The subcommands, as `orchmig --help` lists them.
fn subcommands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let list = help
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a Commands: section");
    list.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_subcommand_help_has_a_real_example() {
    let subs = subcommands();
    for expected in [
        "analyze",
        "ir",
        "matrix",
        "port",
        "run",
        "verify",
        "graph",
        "report",
        "completions",
        "man",
    ] {
        assert!(subs.iter().any(|s| s == expected), "{expected} in {subs:?}");
    }
    for sub in &subs {
        let help = stdout_of(&[sub, "--help"]);
        let example = help
            .split_once("Example")
            .unwrap_or_else(|| panic!("`orchmig {sub} --help` has no example:\n{help}"))
            .1;
        assert!(
            example.contains(&format!("orchmig {sub}")),
            "the example of {sub} runs it:\n{help}"
        );
    }
}

#[test]
fn completions_of_every_shell_mention_every_subcommand() {
    let subs = subcommands();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        for sub in &subs {
            assert!(
                script.contains(sub.as_str()),
                "{shell} completion lacks {sub}"
            );
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orchmig.bash");
    std::fs::write(&path, stdout_of(&["completions", "bash"])).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash");
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn the_man_page_covers_every_subcommand_and_man_out_writes_one_page_each() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".ie") || page.contains(".TH orchmig"),
        "{page}"
    );
    let subs = subcommands();
    for sub in &subs {
        assert!(page.contains(sub.as_str()), "man page lacks {sub}");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    stdout_of(&["man", "--out", out]);
    for sub in &subs {
        let sub_page = std::fs::read_to_string(dir.path().join(format!("orchmig-{sub}.1")))
            .unwrap_or_else(|e| panic!("orchmig-{sub}.1: {e}"));
        assert!(sub_page.contains(&format!("orchmig\\-{sub}")), "{sub_page}");
    }
}

#[test]
fn no_escape_codes_off_a_terminal_or_with_no_color() {
    // tests/bad has errors (miette reports) and analyze prints a comfy-table on stdout.
    for no_color in [None, Some("1")] {
        let mut cmd = orchmig();
        cmd.args(["analyze", "tests/bad", "corpus/airflow/orders_etl.py"]);
        cmd.env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd.output().expect("run");
        assert_eq!(out.status.code(), Some(1));
        assert!(!out.stderr.is_empty());
        assert!(!out.stdout.contains(&0x1b), "escape code on stdout");
        assert!(
            !out.stderr.contains(&0x1b),
            "escape code on stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn quiet_prints_errors_only_and_verbose_adds_timings_and_skips() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("__pycache__")).unwrap();
    std::fs::copy("corpus/prefect/quality_gate.py", dir.path().join("q.py")).unwrap();
    let d = dir.path().to_str().unwrap();
    // A single-file port prints its report summary on stderr; -q drops it.
    let normal = orchmig()
        .args(["port", d, "--to", "dagster"])
        .output()
        .unwrap();
    assert!(normal.status.success());
    assert!(!normal.stderr.is_empty());
    let quiet = orchmig()
        .args(["-q", "port", d, "--to", "dagster"])
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    assert_eq!(quiet.stdout, normal.stdout);
    // Errors still show under -q.
    let bad = orchmig()
        .args(["-q", "ir", "tests/bad/syntax_error.py"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("syntax"));
    // -v: per-file timings and what the walker skipped.
    let verbose = orchmig().args(["ir", d, "-v"]).output().unwrap();
    let err = String::from_utf8_lossy(&verbose.stderr);
    assert!(err.contains("q.py in ") && err.contains(" ms"), "{err}");
    assert!(err.contains("__pycache__"), "{err}");
    assert!(
        orchmig()
            .args(["-q", "-v", "ir", d])
            .output()
            .unwrap()
            .status
            .code()
            == Some(2)
    );
}

/// The hook of .pre-commit-hooks.yaml, run as pre-commit runs it (entry, then args).
#[test]
fn the_pre_commit_hook_runs_port_check() {
    let text = std::fs::read_to_string(".pre-commit-hooks.yaml").expect("hook file");
    let hooks: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("YAML");
    let hook = &hooks[0];
    assert_eq!(hook["id"].as_str(), Some("orchmig-port-check"));
    assert_eq!(hook["pass_filenames"].as_bool(), Some(false));
    let entry: Vec<&str> = hook["entry"].as_str().unwrap().split_whitespace().collect();
    assert_eq!(entry[0], "orchmig");
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let args = ["corpus/prefect", "--to", "airflow", "--out", o];
    let run_hook = || {
        orchmig()
            .args(&entry[1..])
            .args(args)
            .output()
            .expect("hook")
    };
    assert_eq!(
        run_hook().status.code(),
        Some(1),
        "nothing ported yet: stale"
    );
    let port = orchmig().arg("port").args(args).output().unwrap();
    support::assert_success(&port);
    let fresh = run_hook();
    assert_eq!(
        fresh.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    std::fs::write(out.path().join("quality_gate.py"), "# edited by hand\n").unwrap();
    let stale = run_hook();
    assert_eq!(stale.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stale.stdout).contains("edited by hand"));
}

/// A repository with an orchmig.toml: a `.git` marker, two pipelines, one under an excluded folder.
fn repo(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("dags/legacy")).unwrap();
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/airflow");
    std::fs::copy(src.join("orders_etl.py"), root.join("dags/orders_etl.py")).unwrap();
    std::fs::copy(
        src.join("payroll_monthly.py"),
        root.join("dags/legacy/payroll_monthly.py"),
    )
    .unwrap();
    std::fs::write(root.join("orchmig.toml"), config).unwrap();
    dir
}

fn ir_paths(dir: &Path, args: &[&str]) -> Vec<String> {
    let out = orchmig()
        .current_dir(dir)
        .arg("ir")
        .args(args)
        .output()
        .unwrap();
    support::assert_success(&out);
    let ir: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    ir["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn config_paths_and_excludes_apply_from_the_root_and_below_it() {
    let dir = repo("paths = [\"dags\"]\nexclude = [\"dags/legacy/**\"]\n");
    assert_eq!(ir_paths(dir.path(), &[]), vec!["dags/orders_etl.py"]);
    // From a sub-folder the file is still found, and the excluded folder still skipped.
    let from_sub = ir_paths(&dir.path().join("sub"), &[]);
    assert_eq!(from_sub.len(), 1);
    assert!(from_sub[0].ends_with("dags/orders_etl.py"), "{from_sub:?}");
    // Paths on the command line win over `paths`; the excludes still apply when walking.
    assert_eq!(ir_paths(dir.path(), &["dags/legacy/.."]).len(), 1);
    // A file named explicitly is read even when a glob matches it.
    assert_eq!(
        ir_paths(dir.path(), &["dags/legacy/payroll_monthly.py"]),
        vec!["dags/legacy/payroll_monthly.py"]
    );
    // Without the config both files are read.
    std::fs::remove_file(dir.path().join("orchmig.toml")).unwrap();
    assert_eq!(ir_paths(dir.path(), &["dags"]).len(), 2);
    let none = orchmig()
        .current_dir(dir.path())
        .arg("ir")
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("orchmig.toml"));
}

#[test]
fn config_target_is_the_default_and_the_flag_wins() {
    let dir = repo("paths = [\"dags/orders_etl.py\"]\nto = \"dagster\"\n");
    let port = |args: &[&str]| {
        let out = orchmig()
            .current_dir(dir.path())
            .arg("port")
            .args(args)
            .output()
            .unwrap();
        support::assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(port(&[]).contains("import dagster"));
    assert!(port(&["--to", "prefect"]).contains("from prefect import"));
}

#[test]
fn config_matrix_weights_apply_to_matrix_shape_unless_flagged() {
    let weight = |dir: &Path, args: &[&str]| -> f64 {
        let out = orchmig()
            .current_dir(dir)
            .args(["matrix", "--shape", "cron-etl", "--format", "json"])
            .args(args)
            .output()
            .unwrap();
        support::assert_success(&out);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["weights"]["dynamic"].as_f64().unwrap()
    };
    let dir = repo("[matrix]\nweights = { dynamic = 4.5 }\n");
    assert_eq!(weight(dir.path(), &[]), 4.5);
    assert_eq!(weight(dir.path(), &["--weights", "dynamic=2"]), 2.0);
}

#[test]
fn config_matrix_dir_is_the_default_matrix_folder() {
    let dir = repo("[matrix]\ndir = \"team-matrix\"\n");
    // A matrix folder with a broken file proves the folder is the one loaded.
    std::fs::create_dir_all(dir.path().join("team-matrix")).unwrap();
    std::fs::write(dir.path().join("team-matrix/shapes.toml"), "[[shape]\n").unwrap();
    let out = orchmig()
        .current_dir(dir.path())
        .arg("matrix")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shapes.toml"));
    // --matrix wins: an empty folder falls back to the built-in files.
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    let flag = orchmig()
        .current_dir(dir.path())
        .args(["matrix", "--matrix", "empty"])
        .output()
        .unwrap();
    support::assert_success(&flag);
}

#[test]
fn an_unknown_key_or_a_wrong_type_in_the_config_is_a_diagnostic_at_its_line() {
    for (config, line, word) in [
        ("paths = [\"dags\"]\ntarget = \"dagster\"\n", 2, "target"),
        ("\n\npaths = \"dags\"\n", 3, "paths"),
        ("[matrix]\nweights = { dynamic = \"high\" }\n", 2, "dynamic"),
        ("exclude = [\"dags/[\"]\n", 1, "glob"),
    ] {
        let dir = repo(config);
        let out = orchmig()
            .current_dir(dir.path())
            .args(["ir", "dags"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{config}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("orchmig.toml:{line}")),
            "{config}: {err}"
        );
        assert!(err.contains(word), "{config}: {err}");
        assert!(err.contains("help"), "a hint: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    // util-linux `script` gives the command a pseudo-terminal (.ci/run installs it); a missing
    // one fails the test rather than skipping it.
    assert!(
        std::process::Command::new("script")
            .arg("--version")
            .output()
            .is_ok(),
        "`script` (util-linux / Debian bsdutils) is needed to test colour on a terminal"
    );
    let bin = assert_cmd::cargo::cargo_bin("orchmig");
    let on_tty = |no_color: Option<&str>| -> Vec<u8> {
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qec"])
            .arg(format!(
                "{} ir tests/bad/syntax_error.py >/dev/null",
                bin.display()
            ))
            .arg("/dev/null")
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        cmd.output().expect("script").stdout
    };
    let coloured = on_tty(None);
    assert!(
        String::from_utf8_lossy(&coloured).contains("syntax"),
        "the diagnostic reached the terminal"
    );
    assert!(coloured.contains(&0x1b), "colour on a terminal");
    assert!(
        !on_tty(Some("1")).contains(&0x1b),
        "no colour with NO_COLOR"
    );
}

/// A long port shows its progress in every phase on a terminal (issue 20: the bar stopped after
/// reading, and the port and write phases of a long run looked hung): 2,100 small DAG files
/// show "reading and porting" and then "writing".
#[test]
fn a_long_port_shows_progress_while_porting_and_writing() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    std::fs::create_dir(&estate).unwrap();
    for i in 0..2100 {
        std::fs::write(
            estate.join(format!("d{i}.py")),
            format!("from airflow.sdk import dag, task\n\n\n@task\ndef t():\n    return 1\n\n\n@dag(dag_id=\"d{i}\", schedule=None)\ndef d():\n    t()\n\n\nd()\n"),
        )
        .unwrap();
    }
    let bin = assert_cmd::cargo::cargo_bin("orchmig");
    let out = std::process::Command::new("script")
        .args(["-qec"])
        .arg(format!(
            "{} port {} --to prefect --out {} >/dev/null",
            bin.display(),
            estate.display(),
            dir.path().join("ported").display()
        ))
        .arg("/dev/null")
        .output()
        .expect("script (util-linux / Debian bsdutils)");
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains("orchmig: reading and porting "), "{tty}");
    assert!(tty.contains("orchmig: writing "), "{tty}");
    assert!(dir.path().join("ported/d2099.py").exists());
}

/// Never silent (issue 18): a construct the reader cannot model is a warning on stderr at its
/// file and line in every command that reads the file (and stays an opaque entry in the IR);
/// `-q` hides it.
#[test]
fn what_a_reader_cannot_model_is_a_warning_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let dag = dir.path().join("restock.py");
    std::fs::write(
        &dag,
        "from datetime import datetime\n\
         from airflow.sdk import DAG\n\
         from airflow.providers.standard.operators.empty import EmptyOperator\n\
         from include.groups import ShelfGroup\n\
         from include.factories import make_loader\n\
         \n\
         with DAG(\"restock\", start_date=datetime(2025, 1, 1), schedule=None):\n\
         \x20   start = EmptyOperator(task_id=\"start\")\n\
         \x20   shelves = ShelfGroup(group_id=\"shelves\", aisles=4)\n\
         \x20   start >> make_loader(\"crates\")\n",
    )
    .unwrap();
    let path = dag.to_str().unwrap();
    for args in [
        vec!["ir", path],
        vec!["analyze", path],
        vec!["port", path, "--to", "prefect"],
    ] {
        let out = orchmig().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("restock.py:9") && err.contains("ShelfGroup(group_id=…)"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("restock.py:10") && err.contains("make_loader(\"crates\")"),
            "{args:?}: {err}"
        );
    }
    let ir: serde_json::Value =
        serde_json::from_slice(&orchmig().args(["ir", path]).output().unwrap().stdout).unwrap();
    let kinds: Vec<&str> = ir["files"][0]["pipelines"][0]["opaque"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["task_group_class", "unread_operand"]);
    let quiet = orchmig().args(["-q", "ir", path]).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&quiet.stderr).contains("ShelfGroup"),
        "-q hides warnings"
    );
}
