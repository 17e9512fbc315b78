"""Conformance: load ported Airflow files in the real Airflow and run every DAG once.

Usage (run with the Airflow venv's interpreter; tests/conformance.rs does):

    python airflow_check.py FILE.py [FILE.py ...]

Needs AIRFLOW_HOME (a throwaway folder) and AIRFLOW__CORE__DAGS_FOLDER (an empty folder) set by
the caller, before Airflow is imported. Prints one JSON document on stdout:

    {"files": {"<path as given>": {
        "import_errors": [str, ...], "dags": {...},          # as tests/oracle/airflow_dump.py
        "asset_conflicts": [str, ...],                        # see asset_conflicts()
        "runs": {"<dag_id>": {"state": "success" | "failed" | ..., "error": null | str,
                              "tasks": {"<task_id>[<map_index>]": "<state>"}}}}}}

Structure: each file is read by the oracle's `load_file` (one DagBag per file). Runs: the metadata
DB is created once (`initdb` on the fresh SQLite of AIRFLOW_HOME); then for each file, it alone is
copied into DAGS_FOLDER (`dag.test()` only runs DAGs of the configured bundle), the active-asset
registry is emptied (assets of earlier files must not conflict with its own), it is loaded from
there and each of its DAGs runs through `dag.test()`. `error` is the first failed task's exception (its
traceback tail), or why the run did not finish.

What differs from a scheduler's run, for speed and because `dag.test()` runs one DAG run only:
retry delays are zero (a retry happens at once: the run checks that the bodies work, not the
waiting); a TriggerDagRunOperator does not wait for the run it triggers (nothing would run it —
every DAG of the file gets its own `dag.test()` instead); a run that takes longer than RUN_TIMEOUT
seconds (a sensor that never succeeds) is interrupted and reported as failed. SIGALRM cannot be
used for that: Airflow's own execution_timeout takes it over.

Injected failures (tests/conformance/faults.py): with ORCHMIG_FAULTS set, every file of its plan
runs a second time, each DAG with the plan's task failing, reported under the file as

    "faulted": {"runs": {...as "runs"...}}

The task fails where the task runner would call its operator: `task_runner._execute_task` is
wrapped and raises RuntimeError("orchmig: injected failure") for an armed (dag id, task id),
before `execute` (or a TaskFlow callable) runs, on every attempt. Patching the operator's
`execute` on the loaded DAG would not do: under `dag.test()` a mapped task runs as a copy made
by unmapping it (verified: the copies ran their own `execute`), while the runner's call sees
every task instance, mapped ones included. Retry delays are zero as above, so retries do not sleep.

Everything Airflow prints goes to stderr. Exit code 0 even when files fail (it is in the JSON).
"""

from __future__ import annotations

import json
import os
import shutil
import ctypes
import sys
import threading
import traceback

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle")
)

import airflow_dump  # noqa: E402
import faults  # noqa: E402

RUN_TIMEOUT = 120
TAIL = 12


class RunTimeout(BaseException):
    """A DAG run took longer than RUN_TIMEOUT seconds (a BaseException: task code catching
    Exception must not swallow it)."""


class Watchdog:
    """Raises RunTimeout in the main thread, again every second, once a run is overdue."""

    def __init__(self, seconds: float):
        self.done = threading.Event()
        self.main = threading.main_thread().ident
        self.thread = threading.Thread(target=self._watch, args=(seconds,), daemon=True)

    def _watch(self, seconds: float) -> None:
        if self.done.wait(seconds):
            return
        while not self.done.is_set():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self.main), ctypes.py_object(RunTimeout)
            )
            self.done.wait(1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        # An exception injected after the run ended but before `done` was seen is still pending.
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.main), None)
        return False


# The file being run: its copy in DAGS_FOLDER and the path to report instead.
RUNNING = {"copy": None, "path": None}


def explain(exc: BaseException) -> str:
    """An exception with the innermost line of the DAG file it passed through."""
    text = f"{type(exc).__name__}: {exc}".rstrip()
    copy = RUNNING["copy"]
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if copy and os.path.samefile(f.filename, copy)
    ]
    if frames:
        f = frames[-1]
        text += (
            f"\n  at {RUNNING['path']}:{f.lineno} in {f.name}: {(f.line or '').strip()}"
        )
    return text


def tail(text: str, lines: int = TAIL) -> str:
    """The last lines of a traceback: where it ended and the exception."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _install_patches(errors: dict) -> None:
    """Zero retry delays; note each task run's exception in `errors`."""
    from datetime import timedelta

    import airflow.sdk.execution_time.supervisor as supervisor
    from airflow.models.taskinstance import TaskInstance
    from airflow.sdk import timezone

    def next_retry_datetime(self):
        return (self.end_date or timezone.utcnow()) - timedelta(seconds=1)

    TaskInstance.next_retry_datetime = next_retry_datetime

    original = supervisor.run_task_in_process

    def run_task_in_process(ti, task, client=None):
        result = original(ti=ti, task=task, client=client)
        if result.error is not None:
            errors.setdefault(
                (ti.dag_id, ti.task_id, ti.map_index), explain(result.error)
            )
        return result

    supervisor.run_task_in_process = run_task_in_process

    import airflow.sdk.execution_time.task_runner as task_runner

    execute_task = task_runner._execute_task

    def _execute_task(context, ti, log):
        if (ti.dag_id, ti.task_id) in ARMED:
            raise RuntimeError(faults.MESSAGE)
        return execute_task(context=context, ti=ti, log=log)

    task_runner._execute_task = _execute_task


# (dag id, task id) of the tasks made to fail in the run being made.
ARMED: set = set()


def asset_conflicts(dags) -> list[str]:
    """Assets of the file whose name or URI is already another asset's.

    Airflow activates only the first asset of a name (and of a URI); tasks naming the other one
    fail with AirflowInactiveAssetInInletOrOutletException, schedules on it never fire, and the
    scheduler files an "asset conflict" DAG warning. Which one is first depends on the order of
    objects in sets, so the check is made here, on the definitions, in a fixed order.
    """
    from airflow.sdk import Asset

    found: list[tuple[str, str, str]] = []

    def visit(where: str, obj) -> None:
        if isinstance(obj, Asset):
            found.append((where, obj.name, obj.uri))
            return
        for child in getattr(obj, "objects", None) or []:
            visit(where, child)

    for dag in dags:
        visit(f"{dag.dag_id} schedule", getattr(dag.timetable, "asset_condition", None))
        for task in sorted(dag.tasks, key=lambda t: t.task_id):
            for attr in ("outlets", "inlets"):
                for obj in getattr(task, attr, None) or []:
                    visit(f"{dag.dag_id}.{task.task_id} {attr}", obj)
    by_name: dict[str, tuple[str, str]] = {}
    by_uri: dict[str, tuple[str, str]] = {}
    out: list[str] = []
    for where, name, uri in found:
        if name in by_name and by_name[name][0] != uri:
            out.append(
                f"{where}: Asset(name={name!r}, uri={uri!r}): the name is already "
                f"Asset(uri={by_name[name][0]!r}) in {by_name[name][1]}"
            )
        elif uri in by_uri and by_uri[uri][0] != name:
            out.append(
                f"{where}: Asset(name={name!r}, uri={uri!r}): the URI is already "
                f"Asset(name={by_uri[uri][0]!r}) in {by_uri[uri][1]}"
            )
        by_name.setdefault(name, (uri, where))
        by_uri.setdefault(uri, (name, where))
    return sorted(set(out))


def _no_waiting_triggers(dag) -> None:
    from airflow.providers.standard.operators.trigger_dagrun import (
        TriggerDagRunOperator,
    )

    for task in dag.tasks:
        if isinstance(task, TriggerDagRunOperator):
            task.wait_for_completion = False
            task.deferrable = False


def run_file(DagBag, path: str, dags_folder: str, errors: dict) -> dict:
    """Runs every DAG of one file through dag.test(); returns {dag_id: run}."""
    # Files share the DB; the assets of an earlier file must not keep this file's inactive.
    from airflow.models.asset import AssetActive
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(AssetActive))
    for name in os.listdir(dags_folder):
        target = os.path.join(dags_folder, name)
        if os.path.isdir(target):
            shutil.rmtree(target, ignore_errors=True)
        else:
            os.unlink(target)
    copy = os.path.join(dags_folder, os.path.basename(path))
    shutil.copyfile(path, copy)
    RUNNING.update(copy=copy, path=path)
    bag = DagBag(dag_folder=copy, safe_mode=False)
    runs: dict = {}
    if bag.import_errors:
        return runs
    for dag_id in sorted(bag.dags):
        dag = bag.dags[dag_id]
        errors.clear()
        entry: dict = {"state": None, "error": None, "tasks": {}}
        _no_waiting_triggers(dag)
        try:
            with Watchdog(RUN_TIMEOUT):
                dr = dag.test()
            entry["state"] = str(getattr(dr.state, "value", dr.state))
            for ti in sorted(
                dr.get_task_instances(), key=lambda t: (t.task_id, t.map_index)
            ):
                key = (
                    ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
                )
                entry["tasks"][key] = str(getattr(ti.state, "value", ti.state))
        except RunTimeout:
            entry["state"] = "timeout"
            entry["error"] = f"the DAG run did not finish within {RUN_TIMEOUT} s"
        except Exception:  # noqa: BLE001 - a run must never stop the batch
            entry["state"] = "error"
            entry["error"] = tail(traceback.format_exc())
        if entry["error"] is None and errors:
            (d, t, m), text = sorted(errors.items())[0]
            where = t if m < 0 else f"{t}[{m}]"
            entry["error"] = f"task {where}: {text}"
        if entry["error"] is None and entry["state"] != "success":
            bad = {k: v for k, v in entry["tasks"].items() if v != "success"}
            entry["error"] = f"run {entry['state']}; tasks not successful: {bad}"
        runs[dag_id] = entry
    return runs


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    dags_folder = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"

    sys.stdout.flush()
    real_stdout_fd = os.dup(1)
    os.dup2(2, 1)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr

    files: dict = {}
    try:
        from airflow.dag_processing.dagbag import DagBag
        from airflow.utils import db

        errors: dict = {}
        _install_patches(errors)
        db.initdb()
        plan = faults.load_plan()
        for path in argv:
            entry = airflow_dump.load_file(DagBag, path)
            entry["runs"] = {}
            entry["asset_conflicts"] = []
            if not entry["import_errors"]:
                bag = DagBag(dag_folder=path, safe_mode=False)
                entry["asset_conflicts"] = asset_conflicts(
                    bag.dags[d] for d in sorted(bag.dags)
                )
            # With conflicting assets, which one Airflow activates is arbitrary (the order of
            # objects in sets), so a run would pass or fail by chance: it is not made.
            if not entry["import_errors"] and not entry["asset_conflicts"]:
                try:
                    entry["runs"] = run_file(DagBag, path, dags_folder, errors)
                except Exception:  # noqa: BLE001
                    entry["runs"] = {
                        "*": {
                            "state": "error",
                            "error": tail(traceback.format_exc()),
                            "tasks": {},
                        }
                    }
            files[path] = entry
            print(f"conformance: airflow ran {path}", file=sys.stderr, flush=True)
        for path, file_plan in sorted(plan.items()):
            entry = files.get(path)
            if entry is None or entry["import_errors"] or entry["asset_conflicts"]:
                continue
            ARMED.clear()
            ARMED.update(
                (dag_id, p["fail"]["id"])
                for dag_id, p in file_plan.items()
                if p.get("fail")
            )
            try:
                entry["faulted"] = {"runs": run_file(DagBag, path, dags_folder, errors)}
            except Exception:  # noqa: BLE001
                entry["faulted"] = {
                    "runs": {
                        "*": {
                            "state": "error",
                            "error": tail(traceback.format_exc()),
                            "tasks": {},
                        }
                    }
                }
            finally:
                ARMED.clear()
            print(
                f"conformance: airflow ran {path} with a failure",
                file=sys.stderr,
                flush=True,
            )
    finally:
        sys.stderr.flush()
        os.dup2(real_stdout_fd, 1)
        os.close(real_stdout_fd)
        sys.stdout = real_stdout
    json.dump({"files": files}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
