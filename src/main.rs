//! The `orchmig` binary: parses arguments and dispatches to the library.

use clap::Parser;

/// mimalloc: the readers allocate many small AST and IR nodes, and glibc's malloc took about a
/// third of analyze's instructions (callgrind); the bench's parse floor uses the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args = orchmig::cli::Cli::parse();
    std::process::exit(orchmig::cli::run(args));
}
