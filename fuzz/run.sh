#!/usr/bin/env bash
# Runs every fuzz target for a while with its seed corpus: ./run.sh [SECONDS per target] [TARGET…]
# Seeds: read_bytes gets every corpus file (header byte 0, a file name); read_grammar and
# port_estate get fixed pseudo-random inputs (the grammar decodes any bytes) of several sizes.
# Crashes land in artifacts/<target>/; keep each as a regression file (see README.md).
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-3600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(read_bytes read_grammar port_estate)

mkdir -p corpus/read_bytes corpus/read_grammar corpus/port_estate
for f in ../corpus/*/*.py; do
    name="$(basename "$f" .py)"
    { printf '\0'; printf "\\x$(printf %02x ${#name})"; printf '%s' "$name"; cat "$f"; } \
        > "corpus/read_bytes/seed-$name"
done
for t in read_grammar port_estate; do
    for size in 64 256 1024 4096 16384; do
        for k in 1 2 3; do
            head -c "$size" <(openssl enc -aes-128-ctr -pass "pass:$t$size$k" -nosalt -pbkdf2 \
                < /dev/zero 2>/dev/null) > "corpus/$t/seed-$size-$k"
        done
    done
done

mkdir -p logs
declare -A max_len=([read_bytes]=262144 [read_grammar]=65536 [port_estate]=65536)
# One build (skipped with ORCHMIG_FUZZ_NO_BUILD=1, to reuse the last one), then the binaries.
[ "${ORCHMIG_FUZZ_NO_BUILD:-0}" = 1 ] || cargo +nightly fuzz build -O
bin="target/x86_64-unknown-linux-gnu/release"
# port_estate runs `orchmig port` in process: each run builds a rayon pool whose threads end
# after the pool is dropped (rayon does not join them), and LeakSanitizer reports their
# thread-exit records (64 bytes from __cxa_thread_atexit_impl) as leaks. Its memory is still
# bounded by -rss_limit_mb. The timeout is wall-clock: at nice 19 beside builds an input that
# takes 7 s of CPU under ASAN took 70 s, so it is generous (real hangs took minutes natively).
declare -A extra=([read_bytes]="" [read_grammar]="" [port_estate]="-detect_leaks=0")
fuzz_one() {
    local t="$1"
    mkdir -p "artifacts/$t"
    # shellcheck disable=SC2086
    nice -n 19 "$bin/$t" -artifact_prefix="artifacts/$t/" "corpus/$t" ${extra[$t]} \
        -max_total_time="$secs" -rss_limit_mb=4096 -timeout=180 \
        -max_len="${max_len[$t]}" -close_fd_mask=1 -print_final_stats=1 > "logs/$t.log" 2>&1 \
        || echo "!! $t stopped with a finding: see logs/$t.log and artifacts/$t/"
    echo "== $t"
    grep -E "^(stat::|#[0-9]+ +DONE)" "logs/$t.log" || true
}
# The targets run side by side (each for the whole time), at the lowest priority.
for t in "${targets[@]}"; do
    fuzz_one "$t" &
done
wait
