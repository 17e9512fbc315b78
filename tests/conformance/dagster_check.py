"""Conformance: load ported Dagster files in the real Dagster and materialise them.

Usage (run with the Dagster venv's interpreter; tests/conformance.rs does):

    python dagster_check.py FILE.py [FILE.py ...]

This is tests/oracle/dagster_dump.py with --materialize (one process for every file: import,
`Definitions.validate_loadable`, the structure dump, then every op job executed and every asset
materialised in-process on an ephemeral instance, checks included, one partition of partitioned
ones; see that file for the JSON it prints), with two changes for speed: one ephemeral instance
(`instance_for_test`) serves every file, as making one costs seconds; and retry delays are zero,
so a failing step is retried at once instead of sleeping its RetryPolicy's delay — the run checks
that the bodies work, not the waiting.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle")
)

import dagster_dump  # noqa: E402


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    import dagster as dg

    dg.RetryPolicy.calculate_delay = lambda self, attempt_num: 0
    with dg.instance_for_test() as instance:
        dagster_dump.SHARED_INSTANCE = instance
        return dagster_dump.main(["--materialize", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
