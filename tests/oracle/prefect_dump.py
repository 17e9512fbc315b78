"""Oracle: run Prefect flow files in the real Prefect and dump what the runs recorded.

Usage (run with the Prefect venv's interpreter):

    python prefect_dump.py FILE.py [FILE.py ...]

Every module-level flow of every file is called once with no arguments (so with its parameter
defaults), all of them under ONE ``prefect_test_harness()`` (a temporary local API server with a
throw-away SQLite database; nothing leaves the machine). The run records are then read back from
the API, and one JSON document is printed on stdout:

    {"files": {"<path as given>": {
        "error": null | "<import error>",
        "flows": {"<key>": {
            "function": "<flow function>", "name": "<flow name>", "state": "COMPLETED",
            "error": "<why, when the state is not COMPLETED>",
            "task_failures": ["<task run name>: <its state message>", ...],   # only when not COMPLETED
            "retries": int | null,
            "calls": [{"function": "<task or sub-flow function>", "line": int, "kind": "task" | "subflow",
                       "how": "call" | "submit" | "map", "runs": int,
                       "states": ["<state type of each run>", ...],
                       "attempt": int,   # the flow run's attempt that made the call (1 + retries)
                       "retries": int | null, "retry_delays": [float],
                       "upstream": [{"call": int, "kind": "data" | "order"}],
                       "subflow": {"name", "state", "retries", "tasks": {"<function>": int}} | null}]}}}},
     "dropped": {"self": int, "foreign": int, "parents": int, "shortcut": int}}

``<key>`` is the flow function's name, or the module attribute for a ``flow.with_options(...)``
variant (a second Flow object over the same function). ``calls`` are in call order; ``upstream``
entries index into ``calls``.

Call-site identity. Prefect 3.9 names task runs ``<name>-<3 random hex>`` and gives them random
dynamic keys, so the records alone cannot tell which source call made a run. The script wraps
``Task.__call__``, ``Task.submit``, ``Task.map`` and ``Flow.__call__`` (the wrappers only note the
calling line in a context variable and then call the original) and notes, when Prefect creates a
task run (``_create_task_run_locally``, ``Task.create_local_run``, ``Task.create_run`` — the last
also creates the tracking task run of a sub-flow), which invocation asked for it. One invocation is
one "call": a direct call or ``.submit()`` makes one run, ``.map()`` makes one run per element, a
loop makes one call per iteration. Everything else — runs, their parents, inputs, states,
policies — is read from the API.

Upstream filtering rule (Prefect records inputs by object identity):
  * ``__parents__`` inputs are dropped (they mean "called from inside that task", not data);
  * an input pointing at the run itself, or at a run of the same call (a looped or mapped task
    seeing a sibling's result), is dropped ("self");
  * an input pointing at a run outside this flow run is dropped ("foreign");
  * dict keys of a result, and flow parameter values echoed in a result, are not linked to the
    run (the script unlinks them right after Prefect links them): short string keys are
    interned, so any later dict with the key "id" would otherwise look like that run's output,
    and a task returning `{"day": day}` would otherwise become the upstream of every later task
    that is given the flow parameter `day`;
  * a value a task was given and hands back inside its result (a name in the dict it returns)
    keeps the link it had, to the run that produced it: otherwise a second task given the same
    value by the flow would look like the first task's downstream, depending on which of the two
    ran first;
  * stale identities cannot occur: every result object linked to a run is kept alive until the
    flow run ends, so CPython cannot reuse its id() for an unrelated value;
  * shortcut inputs are dropped: an input U of D is dropped when U is also an ancestor of another
    input V of D. A value often reaches D through V while still being the very object U
    returned (a name string inside V's result, a row V passed through), and Prefect then records
    U as well; the graphs are compared as transitive reductions (the Rust test reduces orchmig's
    graph the same way), which keeps every dependency that is not implied by a path;
  * ``wait_for`` inputs are "order" edges, every other parameter input is a "data" edge; a
    sub-flow's returned value shows up as a ``flow_run`` input and maps to the sub-flow's call.
Counts of dropped inputs are reported under "dropped".

Settling: task runs created by the in-process engine reach the API asynchronously (as events), so
after all flows ran the script polls the API until every task run it saw being created is there
with a final state (or still PENDING: a task whose upstream failed never starts) and no run or
state has changed over the last polls (or 45 s pass; then it reports what it has).

Everything Prefect logs goes to stderr. Exit code 0 even when a flow fails (its state is in the
JSON); 2 for bad usage.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib.util
import inspect
import itertools
import json
import os
import sys
import tempfile
import threading
import time


def _prepare_env() -> None:
    if not os.environ.get("PREFECT_HOME"):
        os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="orchmig-prefect-home-")
    os.environ.pop("PREFECT_API_URL", None)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")


_prepare_env()

import prefect  # noqa: E402
import prefect.task_engine  # noqa: E402
import prefect.utilities.engine  # noqa: E402
from prefect import Flow, Task  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402

_SITE: contextvars.ContextVar = contextvars.ContextVar(
    "orchmig_call_site", default=None
)
_INVOCATIONS = itertools.count()
_CORPUS: set[str] = set()
# task run id -> {"file", "line", "function", "how", "kind", "invocation"}
SITES: dict[str, dict] = {}
# Every call site entry, in call order (also those whose runs are not created yet).
CALLS: list[dict] = []
_LOCK = threading.Lock()
# Result objects linked to runs, kept alive so their id() is never reused (see the rule above).
_PINNED: list = []


def _caller() -> tuple[str, int] | None:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename in _CORPUS:
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


def _site(function: str, how: str, kind: str) -> dict | None:
    where = _caller()
    if where is None:
        return None
    site = {
        "file": where[0],
        "line": where[1],
        "function": function,
        "how": how,
        "kind": kind,
        "invocation": next(_INVOCATIONS),
    }
    with _LOCK:
        CALLS.append(site)
    return site


def _with_site(site, call):
    token = _SITE.set(site)
    try:
        result = call()
    finally:
        _SITE.reset(token)
    if inspect.isawaitable(result) and site is not None:

        async def run():
            inner = _SITE.set(site)
            try:
                return await result
            finally:
                _SITE.reset(inner)

        return run()
    return result


def _wrap_call(cls, method: str, how: str, kind: str) -> None:
    original = getattr(cls, method)

    def wrapper(self, *args, **kwargs):
        site = _site(self.fn.__name__, how, kind)
        return _with_site(site, lambda: original(self, *args, **kwargs))

    wrapper.__wrapped__ = original
    setattr(cls, method, wrapper)


def _note(task_run, task) -> None:
    site = _SITE.get()
    if site is None or task_run is None:
        return
    entry = dict(site)
    if not getattr(task, "_is_subflow_tracking_task", False) and site["kind"] == "task":
        entry["function"] = getattr(task.fn, "__name__", site["function"])
    with _LOCK:
        SITES[str(task_run.id)] = entry


def _install() -> None:
    _wrap_call(Task, "__call__", "call", "task")
    _wrap_call(Task, "submit", "submit", "task")
    _wrap_call(Task, "map", "map", "task")
    _wrap_call(Flow, "__call__", "call", "subflow")

    local = prefect.task_engine._create_task_run_locally

    def create_locally(task, *args, **kwargs):
        run = local(task, *args, **kwargs)
        _note(run, task)
        return run

    prefect.task_engine._create_task_run_locally = create_locally

    for name in ("create_local_run", "create_run"):
        original = getattr(Task, name)

        def make(original):
            async def created(self, *args, **kwargs):
                run = await original(self, *args, **kwargs)
                _note(run, self)
                return run

            return created

        setattr(Task, name, make(original))

    link = prefect.utilities.engine.link_state_to_result

    def pinned_link(state, result, run_type):
        _PINNED.append(result)
        from prefect.context import FlowRunContext, TaskRunContext

        ctx = FlowRunContext.get()
        if ctx is None:
            return link(state, result, run_type)
        # Inputs a task hands back inside its result keep the link they had (their producer's).
        task = TaskRunContext.get()
        given = (
            {id(v) for v in (task.parameters or {}).values()}
            if task is not None
            else set()
        )
        if isinstance(result, dict):
            inner = list(result.values())
        elif isinstance(result, (list, tuple, set)):
            inner = list(result)
        else:
            inner = []
        with _LOCK:
            echoed = {
                id(v): ctx.run_results.get(id(v)) for v in inner if id(v) in given
            }
            out = link(state, result, run_type)
            for key, before in echoed.items():
                if before is None:
                    ctx.run_results.pop(key, None)
                else:
                    ctx.run_results[key] = before
        # Objects that are not outputs of this run, even though they sit in its result.
        foreign = {id(v) for v in (ctx.parameters or {}).values()}
        if isinstance(result, dict):
            values = {id(v) for v in result.values()}
            foreign |= {id(k) for k in result if id(k) not in values}
            children = list(result.values())
        elif isinstance(result, (list, tuple, set)):
            children = list(result)
        else:
            children = []
        for obj in [
            result,
            *children,
            *(result.keys() if isinstance(result, dict) else []),
        ]:
            if id(obj) in foreign:
                ctx.run_results.pop(id(obj), None)
        return out

    prefect.utilities.engine.link_state_to_result = pinned_link


def _load(path: str):
    name = "orchmig_oracle_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _flows(module) -> dict[str, Flow]:
    """Module-level flows defined in the module, keyed by function name (attribute for variants)."""
    found: dict[str, Flow] = {}
    seen: set[int] = set()
    objects = [(k, v) for k, v in vars(module).items() if isinstance(v, Flow)]
    by_fn: dict[int, list[str]] = {}
    for attr, fl in objects:
        by_fn.setdefault(id(fl.fn), []).append(attr)
    for attr, fl in objects:
        if id(fl) in seen or getattr(fl.fn, "__module__", None) != module.__name__:
            continue
        seen.add(id(fl))
        fn_name = fl.fn.__name__
        primary = attr == fn_name or len(by_fn[id(fl.fn)]) == 1
        found[fn_name if primary else attr] = fl
    return found


def _explain(exc: BaseException) -> str:
    """An exception with the innermost line of a loaded file it passed through."""
    import traceback

    text = f"{type(exc).__name__}: {exc}"
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if os.path.abspath(f.filename) in _CORPUS
    ]
    if frames:
        f = frames[-1]
        text += f"\n  at {f.filename}:{f.lineno} in {f.name}: {(f.line or '').strip()}"
    elif isinstance(exc, SyntaxError) and exc.filename:
        text += f"\n  at {exc.filename}:{exc.lineno}"
    return text


def _failure(state) -> str | None:
    """Why a flow run did not complete, with a line of the file when the exception is at hand."""
    if state is None or state.is_completed():
        return None
    try:
        exc = state.result(raise_on_failure=False)
    except BaseException:  # noqa: BLE001 - an unreadable result leaves the state's message
        exc = None
    if isinstance(exc, BaseException):
        return _explain(exc)
    return state.message


def _run(fl: Flow):
    if fl.isasync:
        return asyncio.run(fl(return_state=True))
    return fl(return_state=True)


def _policy(policy) -> tuple[int | None, list[float]]:
    if policy is None:
        return None, []
    retries = getattr(policy, "retries", None)
    delay = getattr(policy, "retry_delay", None)
    if isinstance(delay, (list, tuple)):
        delays = [float(x) for x in delay]
    elif delay is None:
        delays = []
    else:
        delays = [float(delay)]
    return retries, delays


def _read_all(client, reader, **filters) -> list:
    out, offset = [], 0
    while True:
        page = reader(limit=200, offset=offset, **filters)
        out.extend(page)
        if len(page) < 200:
            return out
        offset += 200


def _settle(client, expected: set[str], deadline: float) -> list:
    last = None
    stable = 0
    while True:
        runs = _read_all(client, client.read_task_runs)
        ids = {str(r.id) for r in runs}
        seen = sorted((str(r.id), str(r.state_type)) for r in runs)
        # A task run whose upstream failed stays PENDING ("NotReady"): it never starts.
        final = all(
            r.state is not None and (r.state.is_final() or r.state.is_pending())
            for r in runs
            if str(r.id) in expected
        )
        if expected <= ids and final and seen == last:
            stable += 1
            if stable >= 2:
                return runs
        else:
            stable = 0
        last = seen
        if time.time() > deadline:
            missing = len(expected - ids)
            print(
                f"orchmig oracle: gave up settling, {missing} task runs missing",
                file=sys.stderr,
            )
            return runs
        time.sleep(0.5)


def _describe(
    flow_run, task_runs_by_flow, flow_runs_by_parent, flow_runs, dropped
) -> list[dict]:
    """The calls of one flow run, in call order, with upstream calls."""
    runs = task_runs_by_flow.get(str(flow_run.id), [])
    calls: dict[int, dict] = {}
    run_call: dict[str, int] = {}
    for tr in runs:
        site = SITES.get(str(tr.id))
        if site is None:
            continue
        inv = site["invocation"]
        call = calls.setdefault(
            inv,
            {
                "function": site["function"],
                "line": site["line"],
                "kind": site["kind"],
                "how": site["how"],
                "runs": 0,
                "states": [],
                "attempt": 0,
                "retries": None,
                "retry_delays": [],
                "run_ids": [],
                "subflow": None,
            },
        )
        call["runs"] += 1
        call["states"].append(tr.state_type.value if tr.state_type else "NONE")
        call["attempt"] = max(call["attempt"], tr.flow_run_run_count or 0)
        call["run_ids"].append(str(tr.id))
        run_call[str(tr.id)] = inv
        retries, delays = _policy(tr.empirical_policy)
        if site["kind"] == "task":
            call["retries"], call["retry_delays"] = retries, delays
    # Sub-flow runs hang off their tracking task run.
    flow_call: dict[str, int] = {}
    for tr_id, inv in run_call.items():
        for child in flow_runs_by_parent.get(tr_id, []):
            flow_call[str(child.id)] = inv
            retries, delays = _policy(child.empirical_policy)
            tasks: dict[str, int] = {}
            for ctr in task_runs_by_flow.get(str(child.id), []):
                site = SITES.get(str(ctr.id))
                fn = site["function"] if site else ctr.name
                tasks[fn] = tasks.get(fn, 0) + 1
            calls[inv]["retries"], calls[inv]["retry_delays"] = retries, delays
            calls[inv]["subflow"] = {
                "name": flow_runs[str(child.id)]["flow_name"],
                "state": child.state_type.value if child.state_type else None,
                "retries": retries,
                "tasks": tasks,
            }
    order = sorted(calls)
    index = {inv: i for i, inv in enumerate(order)}
    out = []
    for inv in order:
        call = calls[inv]
        ups: dict[int, str] = {}
        for tr in runs:
            if run_call.get(str(tr.id)) != inv:
                continue
            for param, inputs in (tr.task_inputs or {}).items():
                if param == "__parents__":
                    dropped["parents"] += len(inputs)
                    continue
                kind = "order" if param == "wait_for" else "data"
                for inp in inputs:
                    ref = str(getattr(inp, "id", ""))
                    source = run_call.get(ref, flow_call.get(ref))
                    if source is None:
                        dropped["foreign"] += 1
                        continue
                    if source == inv:
                        dropped["self"] += 1
                        continue
                    if ups.get(index[source]) != "data":
                        ups[index[source]] = kind
        call = {k: v for k, v in call.items() if k != "run_ids"}
        call["states"] = sorted(call["states"])
        call["upstream"] = ups
        out.append(call)
    _reduce(out, dropped)
    for call in out:
        call["upstream"] = [
            {"call": c, "kind": k} for c, k in sorted(call["upstream"].items())
        ]
    return out


def _reduce(calls: list[dict], dropped: dict) -> None:
    """Drops shortcut inputs: U -> D when U is also an ancestor of another input V of D."""
    ancestors: dict[int, set[int]] = {}

    def anc(i: int, depth: int = 0) -> set[int]:
        if i in ancestors or depth > len(calls):
            return ancestors.get(i, set())
        found: set[int] = set()
        for u in calls[i]["upstream"]:
            found.add(u)
            found |= anc(u, depth + 1)
        ancestors[i] = found
        return found

    for i in range(len(calls)):
        anc(i)
    for call in calls:
        ups = call["upstream"]
        redundant = {
            u for u in ups for v in ups if v != u and u in ancestors.get(v, set())
        }
        for u in redundant:
            del ups[u]
            dropped["shortcut"] += 1


def collect(paths: list[str], fault_pass=None) -> tuple[dict, list]:
    """Loads and runs every flow of the files; returns the JSON document and the loaded flows
    as (path, key, Flow) triples. `fault_pass()`, when given, runs under the same harness after
    every flow ran and returns more runs, [(path, key, Flow, flow run id, error, failure)]: they
    are read back like the others and reported under the file's "faulted": {"flows": ...}."""
    for p in paths:
        _CORPUS.add(os.path.abspath(p))
    _install()
    files: dict[str, dict] = {p: {"error": None, "flows": {}} for p in paths}
    loaded: list[tuple[str, str, Flow]] = []
    for p in paths:
        try:
            module = _load(os.path.abspath(p))
        except Exception as e:  # an import error is part of the answer
            files[p]["error"] = _explain(e)
            continue
        for key, fl in _flows(module).items():
            loaded.append((p, key, fl))
    top: list[tuple[str, str, Flow, str | None, str | None, str | None]] = []
    dropped = {"self": 0, "foreign": 0, "parents": 0, "shortcut": 0}
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # flows print (log_prints); keep stdout for the JSON only
    with prefect_test_harness(server_startup_timeout=120):
        for p, key, fl in loaded:
            try:
                state = _run(fl)
                top.append(
                    (
                        p,
                        key,
                        fl,
                        str(state.state_details.flow_run_id),
                        None,
                        _failure(state),
                    )
                )
            except Exception as e:
                top.append((p, key, fl, None, _explain(e), None))
        extra = fault_pass() if fault_pass is not None else []
        with get_client(sync_client=True) as client:
            task_runs = _settle(client, set(SITES), time.time() + 45)
            all_flow_runs = _read_all(client, client.read_flow_runs)
            flow_names = {str(f.id): f.name for f in client.read_flows(limit=200)}
        flow_runs = {
            str(fr.id): {"run": fr, "flow_name": flow_names.get(str(fr.flow_id), "")}
            for fr in all_flow_runs
        }
        task_runs_by_flow: dict[str, list] = {}
        for tr in task_runs:
            task_runs_by_flow.setdefault(str(tr.flow_run_id), []).append(tr)
        flow_runs_by_parent: dict[str, list] = {}
        for fr in all_flow_runs:
            if fr.parent_task_run_id:
                flow_runs_by_parent.setdefault(str(fr.parent_task_run_id), []).append(
                    fr
                )
        tagged = [(False, *t) for t in top] + [(True, *t) for t in extra]
        for faulted, p, key, fl, run_id, error, failure in tagged:
            entry = {
                "function": fl.fn.__name__,
                "name": fl.name,
                "state": None,
                "retries": None,
                "calls": [],
            }
            if error is not None or run_id not in flow_runs:
                entry["state"] = "ERROR"
                entry["error"] = error or "no flow run recorded"
            else:
                fr = flow_runs[run_id]["run"]
                entry["state"] = fr.state_type.value if fr.state_type else None
                if entry["state"] != "COMPLETED":
                    entry["error"] = failure or (fr.state.message if fr.state else None)
                    # Which task runs failed, and why: a flow that stops at a failed task reports
                    # only that a downstream result was never produced.
                    entry["task_failures"] = sorted(
                        f"{tr.name}: {tr.state.message}"
                        for tr in task_runs_by_flow.get(run_id, [])
                        if tr.state_type is not None
                        and tr.state_type.value in ("FAILED", "CRASHED")
                        and tr.state is not None
                        and tr.state.message
                    )
                entry["retries"], _ = _policy(fr.empirical_policy)
                entry["calls"] = _describe(
                    fr, task_runs_by_flow, flow_runs_by_parent, flow_runs, dropped
                )
            if faulted:
                files[p].setdefault("faulted", {"flows": {}})["flows"][key] = entry
            else:
                files[p]["flows"][key] = entry
    sys.stdout = real_stdout
    return {"files": files, "dropped": dropped}, loaded


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    out, _ = collect(argv)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
