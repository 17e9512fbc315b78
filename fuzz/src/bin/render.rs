//! Prints the Python module a `read_grammar` input renders to, for keeping it as a regression test:
//! `cargo +nightly run --bin render -- artifacts/read_grammar/crash-…`.

use arbitrary::{Arbitrary, Unstructured};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: render INPUT");
        std::process::exit(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    match orchmig_fuzz::grammar::Module::arbitrary_take_rest(Unstructured::new(&bytes)) {
        Ok(module) => print!("{}", module.render()),
        Err(e) => {
            eprintln!("{path}: not a grammar input: {e}");
            std::process::exit(1);
        }
    }
}
