//! Names from user code never inject code: hostile ids, names, tags, descriptions and file names
//! (line ends, quotes, docstring closers, names of the targets' imports) are ported from each
//! framework to every target, and tests/injection/check_output.py (CPython's own parser) checks
//! that every generated module compiles, calls nothing that was only text in the input, holds no
//! raw control character and shadows none of its imports. The Markdown report and the terminal
//! table carry no raw control character either.

use std::path::Path;
use std::process::Command;

mod support;

/// The hostile and unusual sources of tests/injection/, one per framework and kind.
const INPUTS: [&str; 5] = [
    "airflow_names.py",
    "dagster_names.py",
    "prefect_names.py",
    "airflow_ids.py",
    "prefect_ids.py",
];

/// The hostile inputs, with hostile file names too (a line end, a carriage return, a quote).
fn hostile_estate(dir: &Path) {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/injection");
    for name in INPUTS {
        std::fs::copy(here.join(name), dir.join(name)).unwrap();
    }
    for name in [
        "name\n__import__(\"os\").system(\"touch PWNED\")\n.py",
        "cr\r__import__(\"os\")\r.py",
        "quote\"\"\"\n__import__(\"os\")\n.py",
    ] {
        std::fs::copy(here.join("airflow_names.py"), dir.join(name)).unwrap();
    }
}

fn orchmig(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_orchmig"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn hostile_names_never_become_code_in_any_target() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("dags");
    std::fs::create_dir(&input).unwrap();
    hostile_estate(&input);
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/injection/check_output.py");
    for target in ["airflow", "dagster", "prefect"] {
        let out = format!("out_{target}");
        let run = orchmig(&["port", "dags", "--to", target, "--out", &out], tmp.path());
        assert!(
            run.status.code().is_some_and(|c| c <= 1),
            "port --to {target} crashed: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let written = std::fs::read_dir(tmp.path().join(&out)).unwrap().count();
        assert!(written >= 6, "port --to {target} wrote {written} files");
        let check = Command::new("python3")
            .arg(&checker)
            .arg(tmp.path().join(&out))
            .output()
            .expect("python3 runs the injection oracle");
        assert!(
            check.status.success(),
            "injection oracle on the {target} port:\n{}",
            String::from_utf8_lossy(&check.stdout)
        );
        let report =
            std::fs::read_to_string(tmp.path().join(&out).join("orchmig-report.md")).unwrap();
        assert_no_raw_controls(&report, &format!("the {target} port report"));
        for line in report.lines() {
            assert!(
                !line.trim_start().starts_with("__import__"),
                "a name broke a line of the {target} report: {line}"
            );
        }
    }
}

#[test]
fn hostile_names_reach_the_terminal_without_control_characters() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("dags");
    std::fs::create_dir(&input).unwrap();
    hostile_estate(&input);
    std::fs::write(
        input.join("esc.py"),
        "from prefect import flow\n\n\n@flow(name=\"\\x1b[2J\\x1b]0;owned\\x07\")\ndef f():\n    pass\n",
    )
    .unwrap();
    // A file whose name clears the screen, with a syntax error: its diagnostic names it.
    std::fs::write(
        input.join("esc\u{1b}[2J\u{7}.py"),
        "from prefect import flow\ndef f(:\n",
    )
    .unwrap();
    for args in [
        vec!["analyze", "dags"],
        vec!["analyze", "dags", "--format", "markdown"],
    ] {
        let run = orchmig(&args, tmp.path());
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert_no_raw_controls(&stdout, &args.join(" "));
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.contains("esc\\x1b[2J\\x07.py"), "{stderr}");
        assert_no_raw_controls(&stderr, &format!("{} (stderr)", args.join(" ")));
    }
    // Progress, "wrote" and detail lines name files too.
    for args in [
        vec!["graph", "dags/esc.py", "--out", "g\u{1b}[2J.svg"],
        vec![
            "port",
            "dags",
            "--to",
            "dagster",
            "--out",
            "out\u{1b}[2J",
            "-v",
        ],
        vec![
            "port", "dags", "--to", "prefect", "--out", "out2", "--check", "-v",
        ],
    ] {
        let run = orchmig(&args, tmp.path());
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_no_raw_controls(&stderr, &format!("{} (stderr)", args.join(" ")));
        assert_no_raw_controls(&String::from_utf8_lossy(&run.stdout), &args.join(" "));
    }
}

/// No byte below 0x20 but a line end or a tab, and no DEL, in `text`.
fn assert_no_raw_controls(text: &str, what: &str) {
    if let Some(c) = text
        .chars()
        .find(|&c| (c < ' ' && c != '\n' && c != '\t') || c == '\u{7f}')
    {
        panic!("{what} holds the raw control character {c:?}:\n{text}");
    }
}

/// How each framework proves a folder of generated modules loads: Airflow's DagBag with no import
/// error; Dagster importing each module and building every job of its `defs`; Prefect importing.
const LOADERS: &[(&str, &str)] = &[
    (
        "airflow",
        "import os, sys\nos.environ.setdefault('AIRFLOW__CORE__LOAD_EXAMPLES', 'False')\nfrom airflow.dag_processing.dagbag import DagBag\nbag = DagBag(dag_folder=sys.argv[1], safe_mode=False)\nfor path, err in sorted(bag.import_errors.items()):\n    print(path, err.strip().splitlines()[-1])\nsys.exit(1 if bag.import_errors else 0)\n",
    ),
    (
        "dagster",
        "import importlib.util, pathlib, sys\nbad = 0\nfor p in sorted(pathlib.Path(sys.argv[1]).glob('*.py')):\n    try:\n        spec = importlib.util.spec_from_file_location(p.stem, p)\n        m = importlib.util.module_from_spec(spec)\n        spec.loader.exec_module(m)\n        m.defs.get_repository_def().get_all_jobs()\n    except Exception as e:\n        bad += 1\n        print(p, type(e).__name__, str(e).splitlines()[0])\nsys.exit(1 if bad else 0)\n",
    ),
    (
        "prefect",
        "import importlib.util, pathlib, sys\nbad = 0\nfor p in sorted(pathlib.Path(sys.argv[1]).glob('*.py')):\n    try:\n        spec = importlib.util.spec_from_file_location(p.stem, p)\n        spec.loader.exec_module(importlib.util.module_from_spec(spec))\n    except Exception as e:\n        bad += 1\n        print(p, type(e).__name__, str(e).splitlines()[0])\nsys.exit(1 if bad else 0)\n",
    ),
];

/// Ports of hostile names and of ids no target allows as they are (keywords, builtins, Dagster's
/// reserved names, spaces, slashes, names over Airflow's 250 characters, a DAG named like a
/// task) load in the real frameworks: every key is made one the target accepts. A file already
/// written for the target is copied unchanged (its own names are its author's), so it is
/// checked to be the same bytes and left out of the load.
#[test]
fn ports_of_hostile_and_unusual_names_load_in_every_real_framework() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("dags");
    std::fs::create_dir(&input).unwrap();
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/injection");
    for name in INPUTS {
        std::fs::copy(here.join(name), input.join(name)).unwrap();
    }
    for (target, loader) in LOADERS {
        let out = tmp.path().join(format!("out_{target}"));
        let run = orchmig(
            &[
                "port",
                "dags",
                "--to",
                target,
                "--out",
                out.to_str().unwrap(),
            ],
            tmp.path(),
        );
        assert!(
            run.status.code().is_some_and(|c| c <= 1),
            "port --to {target}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        for name in INPUTS.iter().filter(|n| n.starts_with(target)) {
            let copy = out.join(name);
            assert_eq!(
                std::fs::read(&copy).unwrap(),
                std::fs::read(input.join(name)).unwrap(),
                "{name} → {target} is not a copy"
            );
            std::fs::remove_file(copy).unwrap();
        }
        let home = tempfile::tempdir().unwrap();
        let load = Command::new(support::venv_python(target))
            .arg("-c")
            .arg(loader)
            .arg(&out)
            .env("AIRFLOW_HOME", home.path())
            .env("PREFECT_HOME", home.path())
            .env("DAGSTER_HOME", home.path())
            .output()
            .unwrap();
        assert!(
            load.status.success(),
            "ports to {target} do not load:\n{}\n{}",
            String::from_utf8_lossy(&load.stdout),
            String::from_utf8_lossy(&load.stderr)
        );
    }
}
