//! Prints the file a fuzz input hands to `orchmig::robustness::exercise`, for keeping it as a
//! regression test: `cargo +nightly run --bin render -- read_grammar artifacts/read_grammar/crash-…`.

use arbitrary::{Arbitrary, Unstructured};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(target), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: render read_bytes|read_grammar|port_estate INPUT");
        std::process::exit(2);
    };
    let bytes = std::fs::read(path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2);
    });
    let file = match target.as_str() {
        "read_bytes" => {
            let (name, text) = orchmig_fuzz::named(&bytes);
            eprintln!("file name: {name:?}");
            text
        }
        "read_grammar" => {
            match orchmig_fuzz::grammar::Module::arbitrary_take_rest(Unstructured::new(&bytes)) {
                Ok(module) => {
                    eprintln!("file name: {:?}", module.file_name());
                    module.render().into_bytes()
                }
                Err(e) => {
                    eprintln!("{path}: not a grammar input: {e}");
                    std::process::exit(1);
                }
            }
        }
        "port_estate" => {
            match orchmig_fuzz::estate::Estate::arbitrary_take_rest(Unstructured::new(&bytes)) {
                // The estate, then each file as `port_estate` writes it.
                Ok(estate) => {
                    let mut text = format!("{estate:#?}\n");
                    for (name, module) in estate.rendered_files() {
                        text.push_str(&format!("\n# ---- file {name:?} ----\n{module}"));
                    }
                    text.into_bytes()
                }
                Err(e) => {
                    eprintln!("{path}: not an estate input: {e}");
                    std::process::exit(1);
                }
            }
        }
        other => {
            eprintln!("unknown target {other}");
            std::process::exit(2);
        }
    };
    let _ = std::io::stdout().write_all(&file);
}
