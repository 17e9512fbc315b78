//! Arbitrary bytes, under a framework import header picked by the first byte and a file name
//! taken from the next bytes, through every reader, the IR and every writer, with the injection
//! oracle and CPython's compiler on a sample of the ports.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (path, bytes) = orchmig_fuzz::named(data);
    orchmig_fuzz::check(&path, bytes);
});
