"""Oracle: load Airflow DAG files with the real Airflow DagBag and dump a normalised JSON description.

Usage (run with the Airflow venv's interpreter):

    python airflow_dump.py FILE_OR_DIR [FILE_OR_DIR ...]

Prints exactly one JSON document on stdout:

    {"files": {"<path>": {"import_errors": [str, ...],
                          "dags": {"<dag_id>": {"tasks": {"<task_id>": {"upstream": [...],
                                                                         "retries": int,
                                                                         "mapped": bool}},
                                                "schedule": str,
                                                "catchup": bool,
                                                "file_line": null}}}}}

Paths are reported as given on the command line; a directory expands to every ``*.py`` file under it
(recursively, sorted).  Every file gets its own ``DagBag(dag_folder=path, safe_mode=False)`` inside this one
process, and only DAGs whose ``fileloc`` is that file are reported.

Schedule normalisation:
    none | once | continuous | cron:<expr> | interval:<seconds> | asset:<sorted,comma,joined,names>
    | other:<TimetableClassName>

Everything Airflow prints (logs, warnings) goes to stderr; the exit code is 0 even when files have import
errors (they are part of the JSON).  Exit code 2 only for bad usage.
"""

from __future__ import annotations

import os
import sys
import tempfile


def _prepare_env() -> str | None:
    """Isolate Airflow before it is imported; returns a temp AIRFLOW_HOME to clean up, if we made one."""
    created = None
    if not os.environ.get("AIRFLOW_HOME"):
        created = tempfile.mkdtemp(prefix="orchmig-airflow-home-")
        os.environ["AIRFLOW_HOME"] = created
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
    return created


def _expand_paths(args: list[str]) -> list[str]:
    out: list[str] = []
    for arg in args:
        if os.path.isdir(arg):
            found = []
            for root, dirs, files in os.walk(arg):
                dirs[:] = [d for d in dirs if d != "__pycache__"]
                for name in files:
                    if name.endswith(".py"):
                        found.append(os.path.join(root, name))
            out.extend(sorted(found))
        else:
            out.append(arg)
    # keep first occurrence only (a file given twice is reported once)
    seen: set[str] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def _asset_names(cond, acc: list[str]) -> None:
    """Collect asset names from an Asset / AssetAlias / AssetRef / AssetAll / AssetAny tree."""
    objects = getattr(cond, "objects", None)
    if objects is not None and not hasattr(cond, "uri"):
        for obj in objects:
            _asset_names(obj, acc)
        return
    name = getattr(cond, "name", None)
    if name is None:
        name = getattr(cond, "uri", None)
    acc.append(str(name) if name is not None else repr(cond))


def _seconds(delta) -> str:
    total = getattr(delta, "total_seconds", None)
    if total is not None:
        secs = total()
        return str(int(secs)) if float(secs).is_integer() else repr(secs)
    return repr(delta)  # relativedelta has no fixed length


def normalise_schedule(timetable) -> str:
    """Map an SDK (``airflow.sdk.definitions.timetables``) or core timetable to the normalised string.

    The class is matched by exact name (not isinstance): subclasses such as AssetOrTimeSchedule or
    PartitionedAssetTimetable carry extra meaning and are reported as ``other:<name>``.
    """
    cls = type(timetable).__name__
    if cls == "NullTimetable":
        return "none"
    if cls == "OnceTimetable":
        return "once"
    if cls == "ContinuousTimetable":
        return "continuous"
    if cls in ("CronTriggerTimetable", "CronDataIntervalTimetable"):
        # SDK attrs class: `.expression` (presets already expanded in __attrs_post_init__);
        # core class (airflow.timetables._cron.CronMixin): `._expression`.
        expr = getattr(timetable, "expression", None) or getattr(timetable, "_expression", None)
        return f"cron:{expr}"
    if cls in ("DeltaTriggerTimetable", "DeltaDataIntervalTimetable"):
        delta = getattr(timetable, "delta", None)
        if delta is None:
            delta = getattr(timetable, "_delta", None)
        return f"interval:{_seconds(delta)}"
    if cls == "AssetTriggeredTimetable":
        cond = getattr(timetable, "asset_condition", None)
        names: list[str] = []
        if cond is not None:
            _asset_names(cond, names)
        return "asset:" + ",".join(sorted(set(names)))
    return f"other:{cls}"


def _same_file(a: str | None, b: str) -> bool:
    if not a:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def describe_task(task) -> dict:
    try:
        retries = int(task.retries or 0)
    except Exception:  # noqa: BLE001 - oracle must never crash on an odd operator
        retries = 0
    return {
        "upstream": sorted(task.upstream_task_ids),
        "retries": retries,
        "mapped": bool(getattr(task, "is_mapped", False)),
    }


def describe_dag(dag) -> dict:
    try:
        schedule = normalise_schedule(dag.timetable)
    except Exception as exc:  # noqa: BLE001
        schedule = f"other:error:{type(exc).__name__}"
    return {
        "tasks": {t.task_id: describe_task(t) for t in sorted(dag.tasks, key=lambda t: t.task_id)},
        "schedule": schedule,
        "catchup": bool(dag.catchup),
        "file_line": None,
    }


def load_file(DagBag, path: str) -> dict:
    import traceback

    result: dict = {"import_errors": [], "dags": {}}
    try:
        bag = DagBag(dag_folder=path, safe_mode=False)
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException:  # noqa: BLE001 - includes SystemExit raised by a DAG file
        result["import_errors"].append(traceback.format_exc())
        return result
    result["import_errors"] = [str(v) for _, v in sorted(bag.import_errors.items())]
    for dag_id in sorted(bag.dags):
        dag = bag.dags[dag_id]
        if not _same_file(getattr(dag, "fileloc", None), path):
            continue
        try:
            result["dags"][dag_id] = describe_dag(dag)
        except Exception:  # noqa: BLE001
            result["import_errors"].append(f"oracle could not describe DAG {dag_id!r}:\n{traceback.format_exc()}")
    return result


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2

    created_home = _prepare_env()

    import json
    import logging
    import shutil
    import warnings

    # Everything Airflow writes while importing/parsing (structlog, print() in DAG files, C-level writes)
    # must land on stderr: point fd 1 at stderr and keep a private handle to the real stdout.
    sys.stdout.flush()
    real_stdout_fd = os.dup(1)
    os.dup2(2, 1)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    warnings.simplefilter("default")
    logging.captureWarnings(False)

    files: dict = {}
    try:
        paths = _expand_paths(argv)
        try:
            from airflow.dag_processing.dagbag import DagBag
        except BaseException:  # noqa: BLE001
            import traceback

            err = "could not import airflow DagBag:\n" + traceback.format_exc()
            files = {p: {"import_errors": [err], "dags": {}} for p in paths}
        else:
            for path in paths:
                if not os.path.exists(path):
                    files[path] = {"import_errors": [f"No such file: {path}"], "dags": {}}
                    continue
                files[path] = load_file(DagBag, path)
    finally:
        sys.stderr.flush()
        os.dup2(real_stdout_fd, 1)
        os.close(real_stdout_fd)
        sys.stdout = real_stdout
        if created_home:
            shutil.rmtree(created_home, ignore_errors=True)

    sys.stdout.write(json.dumps({"files": files}, indent=2, sort_keys=True))
    sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
