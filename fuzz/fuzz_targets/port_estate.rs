//! Estates of pipeline files under fuzzed folder and file names, ported with `orchmig port`
//! into an `--out` that holds a user file and a symlink: no write outside `--out`, no overwrite
//! without `--force`, no injected call in any generated file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|estate: orchmig_fuzz::estate::Estate| {
    orchmig_fuzz::estate::check(&estate);
});
