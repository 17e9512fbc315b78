//! Valid Python pipelines built from grammar fragments (hostile names and strings, size-driven
//! loops and literals), under a fuzzed file name, through every reader, the IR and every writer,
//! with the injection oracle and CPython's compiler on a sample of the ports.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|module: orchmig_fuzz::grammar::Module| {
    orchmig_fuzz::check(&module.file_name(), module.render().into_bytes());
});
