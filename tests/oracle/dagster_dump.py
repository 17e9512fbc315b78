"""Oracle: load Dagster files with the real Dagster and dump a normalised JSON description.

Usage (run with the Dagster venv's interpreter):

    python dagster_dump.py [--materialize] FILE_OR_DIR [FILE_OR_DIR ...]

Prints exactly one JSON document on stdout:

    {"files": {"<path>": {
        "import_error": null | str,
        "assets": {"<key/path>": {"deps": [key, ...], "group": str, "external": bool,
                                  "partitions": null | PARTITIONS}},
        "checks": [{"name": str, "asset": key}, ...],
        "jobs": {"<name>": {"kind": "asset" | "op",
                            "assets": [key, ...],                # asset jobs: selected asset keys
                            "ops": {"<step>": {"upstream": [step, ...], "mapped": bool}},  # op jobs
                            "partitions": null | PARTITIONS}},
        "schedules": {"<name>": {"cron": str, "timezone": str | null, "job": str | null}},
        "sensors": {"<name>": {"jobs": [name, ...], "asset": key | null}},
        "materialize": null | {"ok": bool, "runs": [str, ...],   # only with --materialize
                               "errors": [str, ...],
                               "jobs": {"<job>": STEPS},          # each job's run
                               "assets": STEPS}                   # the passes over all assets
    }}}

STEPS is what one run (or several, merged) did: {"state": "success" | "failure", "steps":
{"<step>": "success" | "failed" | "skipped"}, "assets": {"<key/path>": "success" | "failed"},
"hooks": {"<hook>": "success" | "failed"}}: steps by step key with a dynamic mapping key removed
(a mapped step is failed when one of its copies failed), assets by materialisation (or by their
step's failure), hooks that ran (a step that did not start has no entry).

PARTITIONS is {"kind": "time", "cron", "start", "end", "timezone", "fmt"} (start and end formatted
with fmt, end null when open), {"kind": "static", "keys": [...]}, {"kind": "dynamic", "name"} or
{"kind": "multi", "dimensions": {"<name>": PARTITIONS}}.

Each file is loaded with runpy (nothing but the file is imported by name) and its module-level
`Definitions` is validated with `Definitions.validate_loadable`; a file with no `Definitions` is read
the way `dagster definitions validate -f` reads loose files.  "assets" lists only keys the file
declares (asset definitions and AssetSpecs), not the stubs Dagster invents for undeclared deps;
"deps" does include such keys.  Jobs named `__ASSET_JOB*` and the automatic
`default_automation_condition_sensor` are implicit and not reported.  Op-job steps are execution
plan step keys (`graph.op`), with the `[?]` of dynamically mapped steps removed and noted in
"mapped".

With --materialize the file is also run in-process on an ephemeral instance: every op job is
executed, every declared asset is materialised (its checks run with it), unpartitioned ones
together and partitioned ones for one partition key (the last one for time windows, the first for
static keys, an added key "sample" for dynamic partitions), in dependency order, and then every
asset job is executed for such a key, reading upstream outputs stored by the pass before (the
`io_manager` and every other FilesystemIOManager point into a temp dir removed afterwards).  "ok" is false
when a run fails or a check does not pass; "runs" says what ran; "errors" holds, per failed run, the
user code's exception (the innermost cause of the first failed step, with the end of its stack) or
the failed checks.

Everything Dagster prints goes to stderr; the exit code is 0 even when files fail to import (the
error is part of the JSON).  Exit code 2 only for bad usage.
"""

from __future__ import annotations

import os
import sys
import tempfile


def _expand_paths(args: list[str]) -> list[str]:
    out: list[str] = []
    for arg in args:
        if os.path.isdir(arg):
            found = []
            for root, dirs, files in os.walk(arg):
                dirs[:] = sorted(
                    d for d in dirs if d != "__pycache__" and not d.startswith(".")
                )
                for name in files:
                    if name.endswith(".py"):
                        found.append(os.path.join(root, name))
            out.extend(sorted(found))
        else:
            out.append(arg)
    seen: set[str] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def _key(key) -> str:
    return "/".join(key.path)


def _fmt_time(dg, partitions_def, value):
    if value is None:
        return None
    return value.strftime(partitions_def.fmt)


def normalise_partitions(dg, pdef):
    """A partitions definition in the oracle's normal form (see the module docstring)."""
    if pdef is None:
        return None
    if isinstance(pdef, dg.TimeWindowPartitionsDefinition):
        return {
            "kind": "time",
            "cron": pdef.cron_schedule,
            "start": _fmt_time(dg, pdef, pdef.start),
            "end": _fmt_time(dg, pdef, pdef.end),
            "timezone": pdef.timezone,
            "fmt": pdef.fmt,
        }
    if isinstance(pdef, dg.StaticPartitionsDefinition):
        return {"kind": "static", "keys": list(pdef.get_partition_keys())}
    if isinstance(pdef, dg.DynamicPartitionsDefinition):
        return {"kind": "dynamic", "name": pdef.name}
    if isinstance(pdef, dg.MultiPartitionsDefinition):
        return {
            "kind": "multi",
            "dimensions": {
                d.name: normalise_partitions(dg, d.partitions_def)
                for d in pdef.partitions_defs
            },
        }
    return {"kind": "other:" + type(pdef).__name__}


def _unresolved_asset_job(dg):
    """The class `define_asset_job` returns: Dagster 1.13 no longer exports it at the top level."""
    found = getattr(dg, "UnresolvedAssetJobDefinition", None)
    if found is None:
        from dagster._core.definitions.unresolved_asset_job_definition import (
            UnresolvedAssetJobDefinition as found,
        )
    return found


def _loose_definitions(dg, ns):
    def pick(*types):
        return [
            v for k, v in ns.items() if not k.startswith("__") and isinstance(v, types)
        ]

    return dg.Definitions(
        assets=pick(dg.AssetsDefinition, dg.AssetSpec, dg.SourceAsset),
        asset_checks=pick(dg.AssetChecksDefinition),
        jobs=pick(dg.JobDefinition, _unresolved_asset_job(dg)),
        schedules=pick(dg.ScheduleDefinition),
        sensors=pick(dg.SensorDefinition),
    )


def _declared_keys(dg, defs) -> set:
    keys = set()
    for item in defs.assets or []:
        if isinstance(item, dg.AssetSpec):
            keys.add(item.key)
        elif isinstance(item, dg.AssetsDefinition):
            keys.update(item.keys)
        elif isinstance(item, dg.SourceAsset):
            keys.add(item.key)
    return keys


def _op_steps(job) -> dict:
    from dagster._core.execution.api import create_execution_plan

    plan = create_execution_plan(job)
    out = {}
    for step, deps in plan.get_all_step_deps().items():
        name = step.replace("[?]", "")
        out[name] = {
            "upstream": sorted({d.replace("[?]", "") for d in deps}),
            "mapped": step.endswith("[?]"),
        }
    return dict(sorted(out.items()))


def describe(dg, defs) -> dict:
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    declared = _declared_keys(dg, defs)
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=_key):
        if key not in declared:
            continue
        node = graph.get(key)
        assets[_key(key)] = {
            "deps": sorted(_key(p) for p in node.parent_keys),
            "group": node.group_name,
            "external": not node.is_materializable,
            "partitions": normalise_partitions(dg, node.partitions_def),
        }
    checks = sorted(
        ({"name": k.name, "asset": _key(k.asset_key)} for k in graph.asset_check_keys),
        key=lambda c: (c["asset"], c["name"]),
    )
    repo = defs.get_repository_def()
    jobs = {}
    for job in sorted(repo.get_all_jobs(), key=lambda j: j.name):
        if job.name.startswith("__ASSET_JOB"):
            continue
        selected = sorted(_key(k) for k in job.asset_layer.selected_asset_keys)
        entry = {
            "kind": "asset" if selected else "op",
            "assets": selected,
            "partitions": normalise_partitions(dg, job.partitions_def),
        }
        if not selected:
            entry["ops"] = _op_steps(job)
        jobs[job.name] = entry
    schedules = {}
    for s in sorted(repo.schedule_defs, key=lambda s: s.name):
        cron = s.cron_schedule
        schedules[s.name] = {
            "cron": cron if isinstance(cron, str) else list(cron),
            "timezone": s.execution_timezone,
            "job": s.job_name,
        }
    sensors = {}
    for s in sorted(repo.sensor_defs, key=lambda s: s.name):
        if s.name == "default_automation_condition_sensor":
            continue
        asset_key = getattr(s, "asset_key", None)
        sensors[s.name] = {
            "jobs": sorted(t.job_name for t in s.targets),
            "asset": _key(asset_key) if asset_key is not None else None,
        }
    return {
        "import_error": None,
        "assets": assets,
        "checks": checks,
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
    }


def _partition_key(dg, instance, pdef):
    if isinstance(pdef, dg.TimeWindowPartitionsDefinition):
        return pdef.get_last_partition_key()
    if isinstance(pdef, dg.DynamicPartitionsDefinition):
        instance.add_dynamic_partitions(pdef.name, ["sample"])
        return "sample"
    if isinstance(pdef, dg.MultiPartitionsDefinition):
        keys = {}
        for d in pdef.partitions_defs:
            keys[d.name] = _partition_key(dg, instance, d.partitions_def)
        return dg.MultiPartitionKey(keys)
    return pdef.get_partition_keys()[0]


def materialize(dg, defs, arm=None, plan=None) -> dict:
    """Runs every op job and materialises every declared asset; see the module docstring.
    `arm(name)` is called before each job's run; `plan` ({pipeline: {"nodes": [...]}}, see
    tests/conformance/faults.py) adds a run per pipeline that is not a job, over its assets."""
    import shutil

    jobs = {j.name for j in defs.get_repository_def().get_all_jobs()}
    groups = {name: p["nodes"] for name, p in (plan or {}).items() if name not in jobs}
    base = tempfile.mkdtemp(prefix="orchmig-dagster-io-")
    try:
        return _materialize(dg, defs, base, arm, groups)
    finally:
        shutil.rmtree(base, ignore_errors=True)


# Frames in these folders are the interpreter's or a library's, not the loaded file's.
_LIBRARIES = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})

# One materialisation instance for every file, when set (tests/conformance/dagster_check.py
# sets it: creating an instance costs seconds); otherwise each file gets its own.
SHARED_INSTANCE = None

# Pipelines by file (tests/conformance/faults.py's plan), when set: each pipeline that is not a
# job gets a run of its own assets (reported under "jobs").
PLAN: dict = {}

# Called as FAULT_PASS(dg, files) after every file was loaded and run, when set.
FAULT_PASS = None


def _frame(text: str):
    """(path, line, function, source line) of one formatted stack frame, or None."""
    import re

    m = re.match(r'\s*File "([^"]+)", line (\d+), in (\S+)\n?(.*)', text, re.S)
    if m is None:
        return None
    source = m.group(4).strip().splitlines()
    return m.group(1), int(m.group(2)), m.group(3), source[0].strip() if source else ""


def _failure(what: str, result, failed_checks) -> str | None:
    """Why a run failed: the innermost cause of its first failed step, or its failed checks."""
    for event in result.get_step_failure_events():
        err = event.step_failure_data.error
        while err is not None and err.cause is not None:
            err = err.cause
        if err is None:
            return f"{what}: step {event.step_key} failed"
        text = f"{what}: step {event.step_key} failed: {err.message.strip()}"
        own = [
            f for f in map(_frame, err.stack) if f and not f[0].startswith(_LIBRARIES)
        ]
        if own:
            path, line, function, source = own[-1]
            text += f"\n  at {path}:{line} in {function}: {source}"
        return text
    if failed_checks:
        return f"{what}: checks did not pass: {', '.join(failed_checks)}"
    if not result.success:
        return f"{what}: run failed"
    return None


_STEP_STATES = {
    "STEP_SUCCESS": "success",
    "STEP_FAILURE": "failed",
    "STEP_SKIPPED": "skipped",
}
_HOOK_STATES = {"HOOK_COMPLETED": "success", "HOOK_ERRORED": "failed"}
_RANK = {"skipped": 0, "success": 1, "failed": 2}


def steps_of(result, into: dict | None = None) -> dict:
    """What a run did (STEPS in the module docstring), merged into `into` when given."""
    import re

    out = (
        into
        if into is not None
        else {"state": "success", "steps": {}, "assets": {}, "hooks": {}}
    )
    if not result.success:
        out["state"] = "failure"
    failed_steps = set()

    def put(table: dict, key: str, state: str) -> None:
        if _RANK[state] >= _RANK.get(table.get(key), -1):
            table[key] = state

    for ev in result.all_events:
        kind = ev.event_type_value
        step = re.sub(r"\[[^\]]*\]$", "", ev.step_key or "")
        if kind in _STEP_STATES:
            put(out["steps"], step, _STEP_STATES[kind])
            if kind == "STEP_FAILURE":
                failed_steps.add(ev.step_key)
        elif ev.is_step_materialization and ev.asset_key is not None:
            put(out["assets"], _key(ev.asset_key), "success")
        elif kind in _HOOK_STATES:
            m = re.search(r'hook "([^"]+)"', ev.message or "")
            if m:
                put(out["hooks"], m.group(1), _HOOK_STATES[kind])
    # A failed step's assets failed (a step that materialised some keys before failing keeps them).
    for step_key in failed_steps:
        for key in _keys_of_step(result.job_def, re.sub(r"\[[^\]]*\]$", "", step_key)):
            out["assets"].setdefault(key, "failed")
    return out


def _keys_of_step(job, step: str) -> list[str]:
    """The selected asset keys a step of a job produces ([] for an op, or when unknown)."""
    from dagster._core.definitions.dependency import NodeHandle

    layer = job.asset_layer
    try:
        assets_def = layer.get_assets_def_for_node(NodeHandle.from_string(step))
    except Exception:  # noqa: BLE001 - an op of an op job, or a graph's inner step
        return []
    if assets_def is None:
        return []
    return sorted(_key(k) for k in assets_def.keys if k in layer.selected_asset_keys)


def _execute_job(dg, instance, job, arm, **kwargs):
    """Runs a job in process, armed with its name, at its partition key when it is
    partitioned; returns the result and the key."""
    pk = (
        _partition_key(dg, instance, job.partitions_def) if job.partitions_def else None
    )
    arm(job.name)
    try:
        result = job.execute_in_process(
            instance=instance, partition_key=pk, raise_on_error=False, **kwargs
        )
    finally:
        arm(None)
    return result, pk


def _by_partitions_def(graph, keys: list) -> list[tuple[object, list]]:
    """The asset keys grouped by partitions definition, in first-seen order, keys in order."""
    groups: list[tuple[object, list]] = []
    for key in keys:
        pdef = graph.get(key).partitions_def
        for g in groups:
            if g[0] == pdef:
                g[1].append(key)
                break
        else:
            groups.append((pdef, [key]))
    return groups


def _materialize(dg, defs, base: str, arm=None, extra=None) -> dict:
    """The runs of a file (see the module docstring). `arm(name)` is called before each job's run
    (with None before the passes over all assets); `extra` are more runs, {name: [asset key,
    ...]}, each materialising those assets (in dependency order, one run per partitions
    definition) after everything else, reported under "jobs"."""
    arm = arm or (lambda name: None)
    runs: list[str] = []
    errors: list[str] = []
    jobs: dict = {}
    everything_steps: dict = {
        "state": "success",
        "steps": {},
        "assets": {},
        "hooks": {},
    }
    ok = True
    resources = dict(defs.resources or {})
    for key, res in list(resources.items()):
        if isinstance(
            res, dg.FilesystemIOManager
        ):  # keep every file the run writes in `base`
            resources[key] = dg.FilesystemIOManager(base_dir=os.path.join(base, key))
    resources["io_manager"] = dg.FilesystemIOManager(
        base_dir=os.path.join(base, "io_manager")
    )
    graph = defs.resolve_asset_graph()
    declared = _declared_keys(dg, defs)
    import contextlib

    scope = (
        contextlib.nullcontext(SHARED_INSTANCE)
        if SHARED_INSTANCE is not None
        else dg.instance_for_test()
    )
    with scope as instance:
        repo = defs.get_repository_def()
        for job in sorted(repo.get_all_jobs(), key=lambda j: j.name):
            if (
                job.name.startswith("__ASSET_JOB")
                or job.asset_layer.selected_asset_keys
            ):
                continue
            result, pk = _execute_job(dg, instance, job, arm)
            jobs[job.name] = steps_of(result)
            ok &= result.success
            what = f"job {job.name}{' [' + str(pk) + ']' if pk else ''}"
            runs.append(f"{what}: {'success' if result.success else 'FAILED'}")
            errors.extend(e for e in [_failure(what, result, [])] if e)
        # Group materialisable declared assets by partitions definition, in dependency order.
        order = [
            k
            for k in graph.toposorted_asset_keys
            if k in declared and graph.get(k).is_materializable
        ]
        groups = _by_partitions_def(graph, order)
        everything = list(defs.assets or []) + list(defs.asset_checks or [])
        for pdef, keys in groups:
            pk = _partition_key(dg, instance, pdef) if pdef is not None else None
            result = dg.materialize(
                everything,
                selection=dg.AssetSelection.assets(*keys),
                partition_key=pk,
                instance=instance,
                resources=resources,
                raise_on_error=False,
            )
            steps_of(result, everything_steps)
            evaluations = result.get_asset_check_evaluations()
            failed = [e.check_name for e in evaluations if not e.passed]
            ok &= result.success and not failed
            what = (
                f"materialize {len(keys)} asset(s){' [' + str(pk) + ']' if pk else ''}"
            )
            runs.append(
                f"{what}: {'success' if result.success else 'FAILED'}, "
                f"{len(evaluations) - len(failed)}/{len(evaluations)} checks passed"
            )
            errors.extend(e for e in [_failure(what, result, failed)] if e)
        # Then every asset job, reading what the pass above stored.
        for job in sorted(repo.get_all_jobs(), key=lambda j: j.name):
            if (
                job.name.startswith("__ASSET_JOB")
                or not job.asset_layer.selected_asset_keys
            ):
                continue
            result, pk = _execute_job(dg, instance, job, arm, resources=resources)
            jobs[job.name] = steps_of(result)
            evaluations = result.get_asset_check_evaluations()
            failed = [e.check_name for e in evaluations if not e.passed]
            ok &= result.success and not failed
            what = f"job {job.name}{' [' + str(pk) + ']' if pk else ''}"
            runs.append(
                f"{what}: {'success' if result.success else 'FAILED'}, "
                f"{len(evaluations) - len(failed)}/{len(evaluations)} checks passed"
            )
            errors.extend(e for e in [_failure(what, result, failed)] if e)
        # Then the extra runs, each over its own assets, reading what the passes above stored.
        for name, wanted in sorted((extra or {}).items()):
            keys = [k for k in order if _key(k) in set(wanted)]
            merged: dict = {"state": "success", "steps": {}, "assets": {}, "hooks": {}}
            by_pdef = _by_partitions_def(graph, keys)
            for pdef, part in by_pdef:
                pk = _partition_key(dg, instance, pdef) if pdef is not None else None
                arm(name)
                try:
                    result = dg.materialize(
                        everything,
                        selection=dg.AssetSelection.assets(*part),
                        partition_key=pk,
                        instance=instance,
                        resources=resources,
                        raise_on_error=False,
                    )
                finally:
                    arm(None)
                steps_of(result, merged)
            jobs[name] = merged
    return {
        "ok": ok,
        "runs": runs,
        "errors": errors,
        "jobs": jobs,
        "assets": everything_steps,
    }


def load_file(dg, path: str, run: bool) -> dict:
    import runpy
    import traceback

    try:
        ns = runpy.run_path(path, run_name="__orchmig_oracle__")
        found = [v for v in ns.values() if isinstance(v, dg.Definitions)]
        defs = found[0] if found else _loose_definitions(dg, ns)
        result = describe(dg, defs)
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException:  # noqa: BLE001 - includes SystemExit raised by a file
        return {"import_error": traceback.format_exc()}
    if run:
        try:
            result["materialize"] = materialize(dg, defs, plan=PLAN.get(path))
        except Exception:  # noqa: BLE001
            error = "".join(traceback.format_exception_only(sys.exc_info()[1])).strip()
            result["materialize"] = {
                "ok": False,
                "runs": [traceback.format_exc()],
                "errors": [error],
            }
    return result


def main(argv: list[str]) -> int:
    run = "--materialize" in argv
    argv = [a for a in argv if a != "--materialize"]
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2

    import json
    import logging
    import warnings

    # Dagster's logs and anything the files print must land on stderr: point fd 1 at stderr and keep
    # a private handle to the real stdout.
    sys.stdout.flush()
    real_stdout_fd = os.dup(1)
    os.dup2(2, 1)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    warnings.simplefilter("ignore")
    logging.captureWarnings(False)
    created_home = None
    if not os.environ.get("DAGSTER_HOME"):
        created_home = tempfile.mkdtemp(prefix="orchmig-dagster-home-")
        os.environ["DAGSTER_HOME"] = created_home

    files: dict = {}
    try:
        paths = _expand_paths(argv)
        try:
            import dagster as dg
        except BaseException:  # noqa: BLE001
            import traceback

            err = "could not import dagster:\n" + traceback.format_exc()
            files = {p: {"import_error": err} for p in paths}
        else:
            for path in paths:
                if not os.path.exists(path):
                    files[path] = {"import_error": f"No such file: {path}"}
                    continue
                files[path] = load_file(dg, path, run)
            if FAULT_PASS is not None:
                FAULT_PASS(dg, files)
    finally:
        sys.stderr.flush()
        os.dup2(real_stdout_fd, 1)
        os.close(real_stdout_fd)
        sys.stdout = real_stdout
        if created_home:
            import shutil

            shutil.rmtree(created_home, ignore_errors=True)

    sys.stdout.write(json.dumps({"files": files}, indent=2, sort_keys=True))
    sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
