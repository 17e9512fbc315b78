//! `orchmig port` and the user's files: never overwrite without --force, never write outside
//! --out or over an input, atomic writes that survive a SIGKILL, and a clear error for a
//! read-only output folder.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const GOOD: &str = "corpus/airflow/orders_etl.py";

struct Run {
    code: Option<i32>,
    stderr: String,
}

fn port(args: &[&str]) -> Run {
    let out = Command::cargo_bin("orchmig")
        .unwrap()
        .arg("port")
        .args(args)
        .timeout(Duration::from_secs(240))
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir`, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_existing_different_file_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("orders_etl.py"), "# mine\n").unwrap();
    let run = port(&[GOOD, "--to", "prefect", "--out", s(&out)]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("would be overwritten") && run.stderr.contains("--force"));
    assert_eq!(
        std::fs::read_to_string(out.join("orders_etl.py")).unwrap(),
        "# mine\n"
    );
    let run = port(&[GOOD, "--to", "prefect", "--out", s(&out), "--force"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_ne!(
        std::fs::read_to_string(out.join("orders_etl.py")).unwrap(),
        "# mine\n"
    );
}

#[test]
fn traversal_in_file_and_pipeline_names_stays_inside_out() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src/a/b");
    std::fs::create_dir_all(&src).unwrap();
    // A pipeline whose id and display name are paths, in a file reached through `..`.
    std::fs::write(
        src.join("evil.py"),
        "from prefect import flow, task\n\n\n@task(name=\"../../../escaped\")\ndef step():\n    return 1\n\n\n@flow(name=\"../../../../tmp/escaped\")\ndef run():\n    step()\n",
    )
    .unwrap();
    let input = dir.path().join("src/a/b/../b/evil.py");
    let out = dir.path().join("out/deep");
    let run = port(&[s(&input), "--to", "airflow", "--out", s(&out)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        listing(&out),
        ["evil.py", "orchmig-report.json", "orchmig-report.md"]
    );
    // Nothing appeared anywhere else in the temporary tree.
    let mut everything = Vec::new();
    for e in walk(dir.path()) {
        everything.push(e.strip_prefix(dir.path()).unwrap().display().to_string());
    }
    everything.sort();
    assert_eq!(
        everything,
        [
            "out/deep/evil.py",
            "out/deep/orchmig-report.json",
            "out/deep/orchmig-report.md",
            "src/a/b/evil.py"
        ]
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn out_inside_an_input_folder_or_onto_an_input_is_refused_even_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    std::fs::copy(GOOD, dags.join("orders_etl.py")).unwrap();
    let before = std::fs::read(dags.join("orders_etl.py")).unwrap();
    let run = port(&[
        s(&dags),
        "--to",
        "prefect",
        "--out",
        s(&dags.join("ported")),
        "--force",
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("inside the input folder"),
        "{}",
        run.stderr
    );
    // The input named as a file, --out its own folder: the port would replace its source.
    let file = dags.join("orders_etl.py");
    let run = port(&[s(&file), "--to", "prefect", "--out", s(&dags), "--force"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("is an input file"), "{}", run.stderr);
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert_eq!(listing(&dags), ["orders_etl.py"]);
}

#[test]
fn two_inputs_with_one_file_name_keep_their_folders_not_silently_merged() {
    let dir = tempfile::tempdir().unwrap();
    for team in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(team)).unwrap();
        std::fs::copy(GOOD, dir.path().join(team).join("etl.py")).unwrap();
    }
    let out = dir.path().join("out");
    let run = port(&[
        s(&dir.path().join("a")),
        s(&dir.path().join("b")),
        "--to",
        "dagster",
        "--out",
        s(&out),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Each is written below the folder the inputs share, as they are laid out there.
    assert!(out.join("a").join("etl.py").is_file(), "{}", run.stderr);
    assert!(out.join("b").join("etl.py").is_file(), "{}", run.stderr);
    assert!(!out.join("etl.py").exists());
}

#[test]
fn a_read_only_output_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    // A folder below a regular file can never be created, whoever runs the test.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let run = port(&[GOOD, "--to", "prefect", "--out", s(&blocker.join("out"))]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot create the output folder"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("help:"), "{}", run.stderr);
    // An immutable folder (chattr +i) refuses writes even to root; skipped where the file
    // system has no such attribute.
    let ro = dir.path().join("ro");
    std::fs::create_dir_all(&ro).unwrap();
    let immutable = std::process::Command::new("chattr")
        .args(["+i", s(&ro)])
        .status()
        .is_ok_and(|s| s.success());
    if !immutable {
        eprintln!("chattr +i is not available here; the immutable-folder case is skipped");
        return;
    }
    let run = port(&[GOOD, "--to", "prefect", "--out", s(&ro)]);
    let _ = std::process::Command::new("chattr")
        .args(["-i", s(&ro)])
        .status();
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("cannot write"), "{}", run.stderr);
    assert!(run.stderr.contains("writable"), "{}", run.stderr);
    assert!(listing(&ro).is_empty());
}

#[test]
fn a_port_killed_mid_write_leaves_no_half_file_and_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let text = std::fs::read_to_string(GOOD).unwrap();
    for i in 0..400 {
        std::fs::write(src.join(format!("etl_{i:03}.py")), &text).unwrap();
    }
    // The reference: an uninterrupted port.
    let full = dir.path().join("full");
    let run = port(&[s(&src), "--to", "prefect", "--out", s(&full)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let out = dir.path().join("out");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("orchmig"))
        .args(["port", s(&src), "--to", "prefect", "--out", s(&out)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as it has started writing (or after a while, whatever comes first).
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if out.exists() && std::fs::read_dir(&out).unwrap().count() > 3 {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    if out.exists() {
        for name in listing(&out) {
            if name.ends_with(".py") || name.starts_with("orchmig-report") {
                assert_eq!(
                    std::fs::read(out.join(&name)).unwrap(),
                    std::fs::read(full.join(&name)).unwrap(),
                    "{name} is half-written"
                );
            } else {
                assert!(
                    name.starts_with(".orchmig-") && name.ends_with(".tmp"),
                    "unexpected file {name}"
                );
            }
        }
    }
    // A re-run without --force is not blocked by what the killed run left, and cleans up.
    let run = port(&[s(&src), "--to", "prefect", "--out", s(&out)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(listing(&out), listing(&full));
    for name in listing(&full) {
        assert_eq!(
            std::fs::read(out.join(&name)).unwrap(),
            std::fs::read(full.join(&name)).unwrap()
        );
    }
}

/// Every regular file under `dir` with its bytes, recursively: a snapshot of a folder to compare.
fn tree_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all: Vec<(PathBuf, Vec<u8>)> = walk(dir)
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    all.sort();
    all
}

/// `port dags/ ../shared/dags/ --out ported/ --force` (two inputs sharing a file name, one
/// reached through `..`): every output stays inside `ported/`, and the other folder's files are
/// untouched (`..` used to survive into the output name and overwrite `shared/dags/etl.py`).
#[test]
fn dot_dot_in_an_input_path_never_leads_an_output_out_of_out() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let dags = work.join("dags");
    let shared = dir.path().join("shared/dags");
    std::fs::create_dir_all(&dags).unwrap();
    std::fs::create_dir_all(&shared).unwrap();
    let good = std::fs::read_to_string(GOOD).unwrap();
    std::fs::write(dags.join("etl.py"), &good).unwrap();
    std::fs::write(shared.join("etl.py"), &good).unwrap();
    let before = tree_bytes(dir.path());
    let out = work.join("ported");
    // As the user typed it, from `work/`.
    let run = Command::cargo_bin("orchmig")
        .unwrap()
        .current_dir(&work)
        .args(["port", "dags/", "../shared/dags/", "--to", "prefect"])
        .args(["--out", "ported/", "--force"])
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let after: Vec<(PathBuf, Vec<u8>)> = tree_bytes(dir.path())
        .into_iter()
        .filter(|(p, _)| !p.starts_with(&out))
        .collect();
    assert_eq!(after, before, "a file outside --out was written");
    let written: Vec<PathBuf> = walk(&out).into_iter().filter(|p| p.is_file()).collect();
    assert!(written.len() >= 4, "{written:?}");
    for p in &written {
        assert!(
            std::fs::canonicalize(p)
                .unwrap()
                .starts_with(std::fs::canonicalize(&out).unwrap()),
            "{} is outside --out",
            p.display()
        );
    }
}

/// A symlinked subfolder inside `--out` is not followed, even with `--force`: the port is
/// refused and the folder the link points at is untouched.
#[cfg(unix)]
#[test]
fn a_symlinked_subfolder_of_out_is_refused_even_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let good = std::fs::read_to_string(GOOD).unwrap();
    std::fs::write(a.join("etl.py"), &good).unwrap();
    std::fs::write(b.join("etl.py"), &good).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("etl.py"), "# the user's own file\n").unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // Two inputs named etl.py are written as out/a/etl.py and out/b/etl.py; out/b is a link.
    std::os::unix::fs::symlink(&elsewhere, out.join("b")).unwrap();
    let run = port(&[s(&a), s(&b), "--to", "dagster", "--out", s(&out), "--force"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("outside the output folder"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("etl.py")).unwrap(),
        "# the user's own file\n"
    );
    assert!(
        !out.join("a/etl.py").exists(),
        "nothing is written when one output is refused"
    );
}

/// Writes across an estate are all or nothing: when one output cannot be written (here its
/// folder's place is taken by a file, as a full disk would fail a write), no other output of the
/// run has changed.
#[test]
fn a_failed_write_leaves_every_earlier_output_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let good = std::fs::read_to_string(GOOD).unwrap();
    std::fs::write(a.join("etl.py"), &good).unwrap();
    std::fs::write(b.join("etl.py"), &good).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("a")).unwrap();
    std::fs::write(out.join("a/etl.py"), "# the previous port\n").unwrap();
    std::fs::write(out.join("b"), "a file where the port wants a folder\n").unwrap();
    let run = port(&[s(&a), s(&b), "--to", "prefect", "--out", s(&out), "--force"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot write") && run.stderr.contains("no output"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(out.join("a/etl.py")).unwrap(),
        "# the previous port\n"
    );
    assert!(!out.join("orchmig-report.md").exists());
    let temps: Vec<String> = listing(&out.join("a"))
        .into_iter()
        .filter(|n| n.starts_with(".orchmig-"))
        .collect();
    assert!(temps.is_empty(), "staged files left behind: {temps:?}");
}

/// `report --out` and `graph --out` never overwrite one of their own inputs, even with
/// `--force`: the source stays byte for byte.
#[test]
fn report_and_graph_never_write_over_their_input_even_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    let source = dags.join("etl.py");
    let good = std::fs::read_to_string(GOOD).unwrap();
    std::fs::write(&source, &good).unwrap();
    for args in [
        vec!["report", s(&dags), "--out", s(&source), "--force"],
        vec!["report", s(&source), "--out", s(&source), "--force"],
        vec!["graph", s(&source), "--out", s(&source), "--force"],
    ] {
        let out = Command::cargo_bin("orchmig")
            .unwrap()
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("is one of the inputs"),
            "{args:?}: {stderr}"
        );
        assert_eq!(std::fs::read_to_string(&source).unwrap(), good, "{args:?}");
    }
}
