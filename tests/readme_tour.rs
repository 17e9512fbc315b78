//! The README's tour is copy-pasteable: every `$ …` command in its code blocks is run, in README
//! order, in one scratch folder holding the bundled corpus (as a user following the tour from the
//! repository root would), and its output must be the one the README shows.
//! `ORCHMIG_UPDATE_DOCS=1 cargo test --test readme_tour` rewrites the outputs; review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One `$ command` of the README and the output lines shown under it.
struct Shown {
    /// The README line the command is on (0-based).
    line: usize,
    command: String,
    /// README lines `[start, end)` of its output.
    output: (usize, usize),
}

/// Every `$ ` command of a fenced block, with the lines up to the next command or the fence.
fn commands(readme: &[&str]) -> Vec<Vec<Shown>> {
    let mut blocks = Vec::new();
    let mut in_block = false;
    let mut block: Vec<Shown> = Vec::new();
    for (i, l) in readme.iter().enumerate() {
        if l.starts_with("```") {
            if in_block && !block.is_empty() {
                blocks.push(std::mem::take(&mut block));
            }
            in_block = !in_block;
            if let Some(last) = blocks
                .last_mut()
                .and_then(|b: &mut Vec<Shown>| b.last_mut())
                && last.output.1 == usize::MAX
            {
                last.output.1 = i;
            }
            continue;
        }
        if in_block && let Some(cmd) = l.strip_prefix("$ ") {
            if let Some(prev) = block.last_mut() {
                prev.output.1 = i;
            }
            block.push(Shown {
                line: i,
                command: cmd.to_string(),
                output: (i + 1, usize::MAX),
            });
        }
    }
    // A command shown without output (`$ orchmig graph …`) has it in the next fenced block
    // (a ```mermaid block GitHub draws).
    for block in &mut blocks {
        let Some(last) = block.last_mut() else {
            continue;
        };
        if last.output.0 == last.output.1
            && let Some(open) =
                (last.output.1 + 1..readme.len()).find(|&i| readme[i].starts_with("```"))
            && let Some(close) = (open + 1..readme.len()).find(|&i| readme[i].starts_with("```"))
        {
            last.output = (open + 1, close);
        }
    }
    blocks
}

/// Runs one block's commands in `dir` with orchmig on the PATH; each command's output
/// (stdout and stderr, as a terminal would show them, colour off).
fn run_block(dir: &Path, block: &[Shown]) -> Vec<String> {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_orchmig"));
    let mut script = String::new();
    for (k, s) in block.iter().enumerate() {
        // `$?` after the marker is still the command's status (`echo $?` in the tour).
        script.push_str(&format!(
            "(exit ${{__status:-0}}); {{ {}\n}} 2>&1; __status=$?; echo '@@tour {k}'\n",
            s.command
        ));
    }
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("ORCHMIG_THREADS")
        .output()
        .expect("sh runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut outputs = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with("@@tour ") {
            outputs.push(std::mem::take(&mut current));
        } else {
            current.push_str(line.trim_end());
            current.push('\n');
        }
    }
    outputs
}

/// The README may elide parts of a long output with lines `…`: the parts between them must
/// appear in the output in order, the first at its start and the last at its end. The second
/// value is the output as the README should show it (with one `…`, elided the same way).
fn compare(shown: &str, out: &str) -> (bool, String) {
    let shown_lines: Vec<&str> = shown.lines().collect();
    let parts: Vec<&[&str]> = shown_lines.split(|l| *l == "…").collect();
    if parts.len() == 1 {
        return (shown == out, out.to_string());
    }
    let got: Vec<&str> = out.lines().collect();
    let (head, tail) = (parts[0], parts[parts.len() - 1]);
    if got.len() < head.len() + tail.len() {
        return (false, out.to_string());
    }
    let mut at = head.len();
    let mut same = got.starts_with(head) && got.ends_with(tail);
    for part in &parts[1..parts.len() - 1] {
        match (at..=got.len().saturating_sub(part.len())).find(|&i| got[i..].starts_with(part)) {
            Some(i) => at = i + part.len(),
            None => same = false,
        }
    }
    same &= at <= got.len() - tail.len();
    let elided: String = if parts.len() == 2 {
        got[..head.len()]
            .iter()
            .chain(["…"].iter())
            .chain(&got[got.len() - tail.len()..])
            .map(|l| format!("{l}\n"))
            .collect()
    } else {
        out.to_string()
    };
    (same, elided)
}

#[test]
fn every_tour_command_prints_what_the_readme_shows() {
    let readme_path = PathBuf::from("README.md");
    let text = std::fs::read_to_string(&readme_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let blocks = commands(&lines);
    assert!(
        blocks.iter().map(Vec::len).sum::<usize>() >= 10,
        "the tour shows the commands"
    );
    let scratch = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        std::fs::canonicalize("corpus").unwrap(),
        scratch.path().join("corpus"),
    )
    .unwrap();
    let mut replaced: Vec<((usize, usize), String)> = Vec::new();
    let mut stale = Vec::new();
    for block in &blocks {
        let got = run_block(scratch.path(), block);
        for (s, out) in block.iter().zip(&got) {
            let shown: String = lines[s.output.0..s.output.1]
                .iter()
                .map(|l| format!("{}\n", l.trim_end()))
                .collect();
            let (same, want) = compare(&shown, out);
            if !same {
                stale.push(format!(
                    "README.md:{}: `{}` prints\n{out}\nbut the README shows\n{shown}",
                    s.line + 1,
                    s.command
                ));
                replaced.push((s.output, want));
            }
        }
    }
    if std::env::var_os("ORCHMIG_UPDATE_DOCS").is_some() && !replaced.is_empty() {
        let mut new: Vec<String> = Vec::new();
        let mut i = 0;
        for ((start, end), out) in &replaced {
            new.extend(lines[i..*start].iter().map(|l| l.to_string()));
            new.extend(out.lines().map(str::to_string));
            i = *end;
        }
        new.extend(lines[i..].iter().map(|l| l.to_string()));
        std::fs::write(&readme_path, new.join("\n") + "\n").unwrap();
        return;
    }
    assert!(
        stale.is_empty(),
        "the README tour is stale (ORCHMIG_UPDATE_DOCS=1 cargo test --test readme_tour rewrites it; review the diff):\n\n{}",
        stale.join("\n---\n")
    );
}

/// The README opens with two commands; the first, which builds orchmig and inventories the
/// bundled corpus, is run here exactly as written (from the repository root, through cargo), and
/// must print the corpus inventory. Two binaries without `default-run` made it fail.
#[test]
fn readme_first_command_builds_and_inventories_the_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the README starts with a ```sh block of its two commands");
    let first = block
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .expect("a command in the README's first block");
    assert!(
        first.starts_with("cargo run"),
        "the README's first command builds and runs orchmig: {first}"
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new("sh")
        .arg("-c")
        .arg(first.replacen("cargo", "\"$CARGO_BIN\"", 1))
        .env("CARGO_BIN", cargo)
        .current_dir(root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "`{first}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let estate = stdout
        .lines()
        .find(|l| l.starts_with("estate: "))
        .unwrap_or_else(|| panic!("no estate line in the inventory:\n{stdout}"));
    let corpus_files = walk_py(&root.join("corpus"));
    assert!(
        estate.contains(&format!("in {corpus_files} files")),
        "the inventory covers every corpus file ({corpus_files}): {estate}"
    );
    for framework in ["airflow", "dagster", "prefect"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("{framework}: "))),
            "a {framework} line in the inventory:\n{stdout}"
        );
    }
}

/// How many `.py` files are under `dir`, recursively.
fn walk_py(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            if p.is_dir() {
                walk_py(&p)
            } else {
                usize::from(p.extension().is_some_and(|e| e == "py"))
            }
        })
        .sum()
}
