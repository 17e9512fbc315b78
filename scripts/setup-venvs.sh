#!/usr/bin/env bash
# Installs the pinned framework virtualenvs that the oracle and conformance tests load code in.
# Venvs live in a cache outside the clone ($ORCHMIG_CACHE, default ~/.cache/orchmig) and are keyed
# by the hash of their requirements file, so a second run only checks a stamp and takes seconds.
# Prints the venv root on its last line; export ORCHMIG_VENVS to that path for the tests.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${ORCHMIG_CACHE:-$HOME/.cache/orchmig}
root="$cache/venvs"
mkdir -p "$root"

python=${PYTHON:-python3}
boot="$cache/bootstrap"
if [ ! -x "$boot/bin/uv" ]; then
  "$python" -m venv "$boot"
  "$boot/bin/pip" install --quiet --disable-pip-version-check uv==0.13.9
fi
uv="$boot/bin/uv"

install_one() {
  local name=$1 req="$here/requirements/$1.txt"
  local stamp_want
  stamp_want=$(sha256sum "$req" | cut -c1-16)
  local venv="$root/$name"
  if [ -f "$venv/.orchmig-stamp" ] && [ "$(cat "$venv/.orchmig-stamp")" = "$stamp_want" ]; then
    return 0
  fi
  echo "setup-venvs: installing $name (first run takes minutes)" >&2
  rm -rf "$venv"
  "$uv" venv --quiet --python "$python" "$venv"
  VIRTUAL_ENV="$venv" "$uv" pip install --quiet --python "$venv/bin/python" -r "$req"
  echo "$stamp_want" > "$venv/.orchmig-stamp"
}

pids=()
for name in airflow dagster prefect tools; do
  install_one "$name" > "$root/$name.log" 2>&1 &
  pids+=($!)
done
fail=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    fail=1
  fi
done
for name in airflow dagster prefect tools; do
  if [ ! -f "$root/$name/.orchmig-stamp" ]; then
    echo "setup-venvs: $name failed; see $root/$name.log" >&2
    cat "$root/$name.log" >&2
  fi
done
[ "$fail" = 0 ] || exit 1
echo "$root"
