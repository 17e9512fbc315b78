//! Arbitrary bytes, under a framework import header picked by the first byte, through every
//! reader, the IR and every writer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bytes = orchmig_fuzz::with_header(data);
    let broken = orchmig::robustness::exercise("fuzz.py", bytes);
    assert!(broken.is_empty(), "{broken:#?}");
});
