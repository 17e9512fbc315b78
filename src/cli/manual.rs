//! `orchmig completions` and `orchmig man`: shell completion scripts and man pages from the clap definitions.

use clap::CommandFactory;
use std::path::Path;

use super::args::Cli;
use super::output::{EXIT_OK, EXIT_USAGE, write_stdout};

/// Prints the completion script of a shell; returns the exit code.
pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "orchmig", &mut out);
    write_stdout(&String::from_utf8_lossy(&out));
    EXIT_OK
}

/// Prints orchmig.1, or writes orchmig.1 and one orchmig-SUBCOMMAND.1 per subcommand into `out`.
pub fn man(out: Option<&Path>) -> i32 {
    let cmd = Cli::command();
    match out {
        None => match page(&cmd) {
            Ok(text) => {
                write_stdout(&text);
                EXIT_OK
            }
            Err(e) => fail("-", &e),
        },
        Some(dir) => {
            let mut pages = vec![("orchmig.1".to_string(), cmd.clone())];
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let name = format!("orchmig-{}", sub.get_name());
                let page_cmd = sub
                    .clone()
                    .display_name(name.clone())
                    .bin_name(format!("orchmig {}", sub.get_name()));
                pages.push((format!("{name}.1"), page_cmd));
            }
            for (file, page_cmd) in pages {
                let path = dir.join(&file);
                let written =
                    page(&page_cmd).and_then(|text| super::port::write_atomic(&path, &text));
                if let Err(e) = written {
                    return fail(&path.display().to_string(), &e);
                }
                super::ui::detail(|| format!("wrote {}", path.display()));
            }
            EXIT_OK
        }
    }
}

fn page(cmd: &clap::Command) -> std::io::Result<String> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn fail(path: &str, e: &std::io::Error) -> i32 {
    super::ui::print_path_error(
        path,
        &format!("cannot write the man page: {e}"),
        "check that the folder exists and is writable",
    );
    EXIT_USAGE
}
