//! The `orchmig` binary: parses arguments and dispatches to the library.

use clap::Parser;

fn main() {
    let args = orchmig::cli::Cli::parse();
    std::process::exit(orchmig::cli::run(args));
}
