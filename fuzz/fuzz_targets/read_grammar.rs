//! Valid Python pipelines built from grammar fragments through every reader, the IR and every
//! writer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|module: orchmig_fuzz::grammar::Module| {
    let text = module.render();
    let broken = orchmig::robustness::exercise("fuzz.py", text.into_bytes());
    assert!(broken.is_empty(), "{broken:#?}");
});
