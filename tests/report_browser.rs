//! `orchmig report` in a real browser: headless Chromium (Debian's `chromium` package) renders the
//! review page of the whole corpus with background networking off; the page must render (a
//! screenshot of real size), log no console message, show every pipeline's graph and print to a
//! PDF with every section. A 3,000-pipeline estate makes a page under 5 MB that opens on its
//! summary. The screenshots and the PDF are kept in `${ORCHMIG_ARTIFACTS:-$CARGO_TARGET_TMPDIR}`
//! (`report.png`, `report.pdf`, `report-3000.png`; .ci/run sets ORCHMIG_ARTIFACTS and installs
//! chromium).

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

/// The pages of a PDF: its page objects (`/Type /Page`, not `/Pages`). Chromium writes them
/// uncompressed; 0 would mean they moved into object streams, and the test says so.
fn pdf_pages(bytes: &[u8]) -> usize {
    let key = b"/Type /Page";
    bytes
        .windows(key.len() + 1)
        .filter(|w| &w[..key.len()] == key && w[key.len()] != b's')
        .count()
}

/// Runs `orchmig report` with a fixed date; returns the page's text.
fn report(inputs: &[&Path], page: &Path) -> String {
    Command::cargo_bin("orchmig")
        .unwrap()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("report")
        .args(inputs)
        .arg("--out")
        .arg(page)
        .assert()
        .success();
    std::fs::read_to_string(page).unwrap()
}

#[test]
fn the_corpus_review_renders_in_headless_chromium_without_console_errors() {
    let chromium = chromium(); // fail first, with the install hint, when it is missing
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("review.html");
    let html = report(&[Path::new("corpus")], &page);

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

    // Printed, every pipeline starts a page of its own (so none is hidden or collapsed away).
    let pdf = artifacts().join("report.pdf");
    let _ = std::fs::remove_file(&pdf);
    let (ok, _, log) = run_chromium(
        &page,
        &tmp.path().join("profile-pdf"),
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
        ],
    );
    assert!(ok, "chromium --print-to-pdf failed:\n{log}");
    let bytes = std::fs::read(&pdf).unwrap_or_else(|e| panic!("no PDF ({e}):\n{log}"));
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let pages = pdf_pages(&bytes);
    assert!(
        pages > sections,
        "{pages} PDF pages for a summary and {sections} pipeline sections"
    );
    assert!(bytes.len() > 500_000, "the PDF is {} bytes", bytes.len());
    eprintln!("pdf: {} ({pages} pages)", pdf.display());
}

/// An estate of 3,060 pipelines: the corpus copied 45 times, plus one file that does not parse.
fn big_estate(root: &Path) -> usize {
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy_tree(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).unwrap();
            }
        }
    }
    for i in 0..45 {
        copy_tree(Path::new("corpus"), &root.join(format!("team{i:02}")));
    }
    std::fs::write(
        root.join("broken.py"),
        "from airflow.sdk import DAG\nwith DAG(\n",
    )
    .unwrap();
    let estate = orchmig::cli::input::read_estate(&[root.to_path_buf()]).0;
    estate.files.iter().map(|f| f.pipelines.len()).sum()
}

#[test]
fn a_3000_pipeline_review_is_small_and_opens_on_its_summary() {
    let chromium = chromium();
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    let pipelines = big_estate(&estate);
    assert!(pipelines >= 3000, "{pipelines} pipelines");
    let page = tmp.path().join("out/review.html");
    Command::cargo_bin("orchmig")
        .unwrap()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("report")
        .arg(&estate)
        .arg("--out")
        .arg(&page)
        .assert()
        .code(1); // broken.py
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 5_000_000, "the page is {size} bytes");
    eprintln!("{pipelines} pipelines: {size} bytes");

    // The DOM Chromium built opens on the summary, which holds the whole answer.
    let (ok, dom, log) = run_chromium(
        &page,
        &tmp.path().join("profile-dom"),
        &["--dump-dom".into()],
    );
    assert!(ok, "{} --dump-dom failed:\n{log}", chromium.display());
    let summary = dom.find("<section id=\"summary\">").expect("a summary");
    assert!(summary < dom.find("id=\"estate\"").unwrap());
    assert!(summary < dom.find("id=\"pipelines\"").unwrap());
    let end = summary + dom[summary..].find("</section>").unwrap();
    let s = &dom[summary..end];
    assert!(
        s.contains(&format!(" of {pipelines}</b> pipelines fit <b>")),
        "no recommendation"
    );
    for part in [
        "id=\"shapes\"",
        "id=\"effort\"",
        "id=\"riskiest\"",
        "id=\"unreadable\"",
    ] {
        assert!(s.contains(part), "the summary has no {part}");
    }
    assert!(
        s.contains("broken.py:2: "),
        "the unreadable file is not named"
    );
    // The riskiest pipelines link to their own pages, which exist and hold the section.
    let links: Vec<&str> = s
        .split("<td><a href=\"")
        .skip(1)
        .filter_map(|r| r.split('"').next())
        .collect();
    assert_eq!(links.len(), 10);
    for href in links {
        let file = page.parent().unwrap().join(href);
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{href}: {e}"));
        assert!(text.contains("<article class=\"pipeline\"") && text.contains("<svg "));
    }

    // It renders at 1400 px wide.
    let shot = artifacts().join("report-3000.png");
    let _ = std::fs::remove_file(&shot);
    let (ok, _, log) = run_chromium(
        &page,
        &tmp.path().join("profile-shot"),
        &[
            "--window-size=1400,1200".into(),
            format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(ok, "screenshot failed:\n{log}");
    let bytes = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}):\n{log}"));
    assert_eq!(png_size(&bytes), Some((1400, 1200)));
    assert!(bytes.len() > 30_000, "the screenshot looks blank");
}
