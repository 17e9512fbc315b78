//! `orchmig report` in a real browser: headless Chromium (Debian's `chromium` package) renders the
//! review page of the whole corpus with background networking off; the page must render (a
//! screenshot of real size), log no console message and show every pipeline's graph. The
//! screenshot is kept in `${ORCHMIG_ARTIFACTS:-$CARGO_TARGET_TMPDIR}/report.png` (.ci/run sets
//! ORCHMIG_ARTIFACTS and installs chromium).

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "headless Chromium is needed for this test: install Debian's package \
     with `apt-get install -y chromium` (.ci/run does it), or set ORCHMIG_CHROMIUM to a chromium binary";

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("ORCHMIG_CHROMIUM") {
        return PathBuf::from(p);
    }
    for name in ["chromium", "chromium-browser"] {
        if let Some(dir) = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .find(|d| d.join(name).is_file())
        {
            return dir.join(name);
        }
    }
    panic!("{INSTALL_HINT}");
}

fn artifacts() -> PathBuf {
    let dir = std::env::var_os("ORCHMIG_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&dir).expect("the artifacts folder can be made");
    dir
}

/// Runs headless Chromium on a page with extra flags; returns (status ok, stdout, stderr).
fn run_chromium(page: &Path, profile: &Path, extra: &[String]) -> (bool, String, String) {
    let mut child = Process::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("chromium does not start ({e}); {INSTALL_HINT}"));
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err_t = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for chromium") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            panic!("chromium did not finish within 180 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (
        status.success(),
        out_t.join().unwrap_or_default(),
        err_t.join().unwrap_or_default(),
    )
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    Some((w, h))
}

#[test]
fn the_corpus_review_renders_in_headless_chromium_without_console_errors() {
    let chromium = chromium(); // fail first, with the install hint, when it is missing
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("review.html");
    Command::cargo_bin("orchmig")
        .unwrap()
        .args(["report", "corpus", "--out"])
        .arg(&page)
        .assert()
        .success();
    let html = std::fs::read_to_string(&page).unwrap();

    let shot = artifacts().join("report.png");
    let _ = std::fs::remove_file(&shot);
    let (ok, _, log) = run_chromium(
        &page,
        &tmp.path().join("profile-shot"),
        &[
            "--window-size=1280,2400".into(),
            format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(ok, "{} failed:\n{log}", chromium.display());
    let bytes = std::fs::read(&shot)
        .unwrap_or_else(|e| panic!("no screenshot at {} ({e}):\n{log}", shot.display()));
    assert_eq!(
        png_size(&bytes),
        Some((1280, 2400)),
        "not a PNG of the window"
    );
    // A blank page compresses to a few kilobytes; tables and graphs do not.
    assert!(
        bytes.len() > 60_000,
        "the screenshot is {} bytes: the page looks blank",
        bytes.len()
    );
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );
    eprintln!("screenshot: {}", shot.display());

    // The DOM Chromium built holds every pipeline section and its graph.
    let (ok, dom, log) = run_chromium(
        &page,
        &tmp.path().join("profile-dom"),
        &["--dump-dom".into()],
    );
    assert!(ok, "chromium --dump-dom failed:\n{log}");
    let sections = html.matches("<article class=\"pipeline\"").count();
    assert!(sections > 40, "only {sections} pipelines in the page");
    assert_eq!(dom.matches("<article class=\"pipeline\"").count(), sections);
    assert_eq!(
        dom.matches("class=\"orchmig-graph\"").count(),
        sections,
        "a pipeline's graph is missing from the rendered page"
    );
    assert!(dom.contains("id=\"matrix\"") && dom.contains("id=\"estate\""));
    assert!(!log.lines().any(|l| l.contains(":CONSOLE")), "{log}");
}
