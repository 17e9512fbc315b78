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
