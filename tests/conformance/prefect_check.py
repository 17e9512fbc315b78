"""Conformance: import ported Prefect files, run every flow, build every deployment.

Usage (run with the Prefect venv's interpreter; tests/conformance.rs does):

    python prefect_check.py FILE.py [FILE.py ...]

This is tests/oracle/prefect_dump.py (every module-level flow of every file called once with its
parameter defaults, all under ONE `prefect_test_harness()`, the runs read back from the API; see
that file for the JSON), plus, per flow, `flow.to_deployment(...)` (built, never served or
applied), reported under the file as

    "deployments": {"<flow key>": null | "<error>"}

and one change for speed: task retry delays are zero, so a failing task is retried at once instead
of sleeping — the run checks that the bodies work, not the waiting (the policy the API records
for each task run keeps its delays). Files are imported as modules, so `__main__` blocks (serve,
deploy) never run.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle")
)

import prefect_dump  # noqa: E402 - sets PREFECT_HOME etc. before Prefect is imported


def _no_retry_delays() -> None:
    """Task engines read `task.retry_delay_seconds` when a run fails; hide it there only."""
    import prefect.task_engine as engine

    def wrap(cls, is_async: bool):
        original = cls.handle_exception

        def swapped(self):
            saved = self.task.retry_delay_seconds
            self.task.retry_delay_seconds = None
            return saved

        if is_async:

            async def handle_exception(self, *args, **kwargs):
                saved = swapped(self)
                try:
                    return await original(self, *args, **kwargs)
                finally:
                    self.task.retry_delay_seconds = saved

        else:

            def handle_exception(self, *args, **kwargs):
                saved = swapped(self)
                try:
                    return original(self, *args, **kwargs)
                finally:
                    self.task.retry_delay_seconds = saved

        cls.handle_exception = handle_exception

    wrap(engine.SyncTaskRunEngine, False)
    wrap(engine.AsyncTaskRunEngine, True)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    _no_retry_delays()
    # Ported bodies run shell commands that write to fd 1: keep the real stdout for the JSON.
    sys.stdout.flush()
    real_stdout_fd = os.dup(1)
    os.dup2(2, 1)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        out, loaded = prefect_dump.collect(argv)
        sys.stdout = sys.stderr
        for path, key, fl in loaded:
            deployments = out["files"][path].setdefault("deployments", {})
            try:
                fl.to_deployment(name=f"conformance-{key}")
                deployments[key] = None
            except Exception as e:  # noqa: BLE001 - every flow is reported
                deployments[key] = prefect_dump._explain(e)
    finally:
        sys.stderr.flush()
        os.dup2(real_stdout_fd, 1)
        os.close(real_stdout_fd)
        sys.stdout = real_stdout
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
