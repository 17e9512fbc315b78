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

Which steps ran: every call reports the states of its runs (prefect_dump.py). With ORCHMIG_FAULTS
set (tests/conformance/faults.py), every file of its plan is loaded once more, compiled with
`__orchmig_fault__` first in every function, and each of its flows is called again
under the same harness with its planned step failing, reported under the file as

    "faulted": {"flows": {...as "flows"...}}

The armed step is a call: the fault raises while the task run running now (or, for a sub-flow,
the flow run's parent task run) was created from a call of the plan's function on the plan's
lines, as the dump's call-site records say, and, when the plan gives an ordinal, from the n-th
such call since the flow's body started (a loop calls one site several times: orchmig's steps
`t`, `t-2`, …; a flow retry starts the count again), so a task called twice fails at one call
only. In that pass flow retries do not wait either (every flow's `retry_delay_seconds` is 0). Task caching is
refreshed in that pass (a result cached by the first pass would otherwise stand in for the run).
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle")
)

import prefect_dump  # noqa: E402 - sets PREFECT_HOME etc. before Prefect is imported
import faults  # noqa: E402


def _running_call(function: str, fail: dict) -> bool:
    """Whether the task or sub-flow running now was called from the armed call site."""
    from prefect.context import FlowRunContext, TaskRunContext

    run_id = None
    task = TaskRunContext.get()
    if task is not None:
        run_id = task.task_run.id
    else:
        flow = FlowRunContext.get()
        if flow is not None and flow.flow_run is not None:
            run_id = flow.flow_run.parent_task_run_id
            if run_id is None and getattr(flow.flow.fn, "__name__", None) == function:
                # The armed flow's body starts (again, on a flow retry): calls count from here.
                with prefect_dump._LOCK:
                    ARM_START[0] = len(prefect_dump.CALLS)
                return False
    site = prefect_dump.SITES.get(str(run_id)) if run_id is not None else None
    first, last = fail.get("lines") or (0, 0)

    def here(s: dict) -> bool:
        return (
            s["file"] == site["file"]
            and s["function"] == fail["function"]
            and first <= s["line"] <= last
        )

    if site is None or not here(site):
        return False
    if fail.get("ordinal") is None:
        return True
    with prefect_dump._LOCK:
        calls = [s["invocation"] for s in prefect_dump.CALLS[ARM_START[0] :] if here(s)]
    return (
        calls.index(site["invocation"]) + 1 == fail["ordinal"]
        if site["invocation"] in calls
        else False
    )


# Where the calls of the flow run being made start in prefect_dump.CALLS.
ARM_START = [0]


def _fault_pass(plan: dict):
    """Runs every flow of the plan's files again with its planned step failing."""
    from prefect.settings import PREFECT_TASKS_REFRESH_CACHE, temporary_settings

    runs = []
    with temporary_settings({PREFECT_TASKS_REFRESH_CACHE: True}):
        for path, file_plan in sorted(plan.items()):
            full = os.path.abspath(path)
            try:
                name = "orchmig_fault_" + os.path.splitext(os.path.basename(path))[0]
                module = type(sys)(name)
                module.__file__ = full
                sys.modules[name] = module
                exec(faults.compile_with_faults(full), module.__dict__)  # noqa: S102
            except Exception as e:  # noqa: BLE001 - the first pass reported the import error
                print(
                    f"conformance: prefect could not load {path} with faults: {e}",
                    file=sys.stderr,
                )
                continue
            for fl in vars(module).values():
                if isinstance(fl, prefect_dump.Flow):
                    fl.retry_delay_seconds = 0
            for key, fl in prefect_dump._flows(module).items():
                faults.arm(file_plan.get(key))
                try:
                    state = prefect_dump._run(fl)
                    runs.append(
                        (
                            path,
                            key,
                            fl,
                            str(state.state_details.flow_run_id),
                            None,
                            prefect_dump._failure(state),
                        )
                    )
                except Exception as e:  # noqa: BLE001
                    runs.append((path, key, fl, None, prefect_dump._explain(e), None))
                finally:
                    faults.arm(None)
            print(
                f"conformance: prefect ran {path} with a failure",
                file=sys.stderr,
                flush=True,
            )
    return runs


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
    faults.install(_running_call)
    plan = faults.load_plan()
    # Ported bodies run shell commands that write to fd 1: keep the real stdout for the JSON.
    sys.stdout.flush()
    real_stdout_fd = os.dup(1)
    os.dup2(2, 1)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        out, loaded = prefect_dump.collect(
            argv, (lambda: _fault_pass(plan)) if plan else None
        )
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
