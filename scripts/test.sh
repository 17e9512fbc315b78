#!/usr/bin/env bash
# Runs every test: formatting and lints, unit tests, CLI and snapshot tests, the oracle tests
# against the real frameworks and the conformance suite (every ported corpus file loaded and run
# in its framework; tests/conformance.rs). The pinned virtualenvs are installed first, cached.
set -euo pipefail
cd "$(dirname "$0")/.."
ORCHMIG_VENVS=$(scripts/setup-venvs.sh | tail -n 1)
export ORCHMIG_VENVS
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --all-targets
