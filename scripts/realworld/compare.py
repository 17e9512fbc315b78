#!/usr/bin/env python3
"""Real-world check: does `orchmig ir` read public pipeline files the way the real frameworks do?

README
======

What it does
------------
For every row of ``scripts/realworld/manifest.tsv`` (repo, commit, path, framework, source, context;
references only, no third-party code is kept in this repository) the script

1. extracts the file, plus what it needs beside it (``context``), into a scratch folder outside the
   repository (default ``/tmp/orchmig-realworld``, wiped at start);
2. loads it in the real framework, one subprocess per file with a timeout, under ``nice -n 10``, with
   the repository's own oracle dumpers ``tests/oracle/{airflow,dagster,prefect}_dump.py`` (Airflow:
   ``DagBag``; Dagster: ``runpy`` + ``Definitions.validate_loadable``; Prefect: every flow is *run* once
   with its defaults under ``prefect_test_harness`` and the recorded task runs are read back);
3. runs ``orchmig ir FILE`` and compares, the way ``tests/support/*.rs`` do (structure only):
   * Airflow: DAG ids; task ids per DAG; upstream task ids per task (the edge set, kinds ignored);
   * Dagster: job names (IR pipelines with ``extra.job_kind``); declared asset keys (union over the
     IR's pipelines) and their deps (``node.inlets``); per op job its step keys and their upstreams;
     per asset job its selected asset keys. Schedules, sensors, checks and partitions are not compared;
   * Prefect: flows ↔ pipelines by id; recorded calls ↔ nodes by callable name and source line (the
     node span holds the call line; first free call in call order, a ``dynamic_loop`` node takes every
     call of its site); edges with their kind (``data``/``order``) after transitive reduction on both
     sides (tests/support/prefect.rs); an order edge from a direct call that Prefect did not record is
     the flow body's sequence, left out. A flow whose run did not complete makes the file "does not run
     offline": its recorded calls are partial, so the file is left out of the rate;
4. for each miss, says what differed (missing/extra pipelines, steps, edges) and whether orchmig said
   anything about the file (a diagnostic, an opaque entry on a differing pipeline, or a warning line
   on stderr): *noisy* miss, else *silent* miss;
5. runs ``orchmig port FILE --to T --out DIR`` for both other frameworks and records the exit status,
   the generated steps (decorated ``@task``/``@op``/``@asset`` functions) whose body is empty
   (``pass``/``...``/docstring only) or raises ``NotImplementedError``, and whether each generated file
   loads in the target's venv (Airflow: DagBag without import errors and with a DAG; Dagster: the
   oracle's load + ``validate_loadable``; Prefect: import and at least one ``Flow``; not run).

Output: a per-framework table on stdout (files, loaded, read exactly, rate, silent/noisy misses), the
port figures per direction, and with ``--json FILE`` every detail, sorted, with no timings, so two runs
over the same inputs give the same document.

How to run
----------
::

    python3 scripts/realworld/compare.py --orchmig /path/to/orchmig [--only airflow] [--json out.json]
        [--scratch /tmp/orchmig-realworld] [--mirrors /work/.mirror] [--cache /work/realworld/cache]
        [--venvs ~/.cache/orchmig/venvs] [--no-port]

Needs: python3 (stdlib only), git, ``nice``; the framework venvs made by ``scripts/setup-venvs.sh``
(``<venvs>/{airflow,dagster,prefect}/bin/python``: Airflow 3.3.2, Dagster 1.13.29, Prefect 3.9.1; nothing
extra installed, so a file that needs another package is reported "does not load" and left out of the
rate); a built ``orchmig`` binary.

Sources (column ``source``) — getting them is a MANUAL step, this script downloads nothing:

* ``mirror``: a bare git snapshot of the repository at ``<mirrors>/<owner>+<name>/repo`` holding the
  manifest's commit. Bring each one with the search tool's ``fetch`` (``github:<owner>/<name>``); the
  script reads it with ``git --git-dir=... archive/show``.
* ``cache``: the repository is too large for ``fetch`` (dagster-io/dagster); the file was read
  through the index (``read_file`` repo/path/commit) and saved verbatim as
  ``<cache>/<owner>+<name>/<commit>/<path>``.
* ``wheel:<path>``: apache/airflow (too large for ``fetch``) example DAGs as shipped verbatim in the
  pinned Airflow wheels (apache-airflow-core / providers-standard, tag 3.3.2), read from the venv's
  ``site-packages/<path>``.

Column ``context`` says what is extracted with the file and put on ``PYTHONPATH``: ``file`` (only the
file), ``dir`` (its folder, recursively: sibling modules), ``repo`` (the whole tree at that commit,
repository root on the path, as Astro projects import ``include.*``), or a folder inside the repository
(e.g. ``.../src``: a package tree whose files import each other absolutely).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import io
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FRAMEWORKS = ("airflow", "dagster", "prefect")
TIMEOUT = {"airflow": 240, "dagster": 180, "prefect": 300}

# --------------------------------------------------------------------------------------------------
# manifest and extraction


def read_manifest(path: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            repo, commit, rel, fw, source, context = (line.rstrip("\n").split("\t") + [""] * 6)[:6]
            rows.append({"repo": repo, "commit": commit, "path": rel, "framework": fw,
                         "source": source, "context": context or "file"})
    rows.sort(key=lambda r: (r["framework"], r["repo"], r["path"], r["commit"]))
    return rows


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[-80:]


def git_dir(mirrors: str, repo: str) -> str:
    return os.path.join(mirrors, repo.replace("/", "+"), "repo")


def extract(row: dict, dest: str, args) -> tuple[str, list[str]]:
    """Writes the file (and its context) under dest; returns (file path, PYTHONPATH entries)."""
    rel, ctx, src = row["path"], row["context"], row["source"]
    target = os.path.join(dest, rel)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    roots: list[str] = []
    if src == "mirror":
        gd = git_dir(args.mirrors, row["repo"])
        if not os.path.isdir(gd):
            raise RuntimeError(f"no mirror at {gd}: fetch github:{row['repo']} first")
        prefix = {"file": None, "dir": os.path.dirname(rel), "repo": ""}.get(ctx, ctx)
        if prefix is not None:
            cmd = ["git", "--git-dir", gd, "archive", "--format=tar", row["commit"]]
            if prefix:
                cmd.append(prefix)
            data = subprocess.run(cmd, capture_output=True, check=True).stdout
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
                tar.extractall(dest, members=members, filter="data")
            roots.append(os.path.join(dest, prefix) if prefix else dest)
        else:
            blob = subprocess.run(["git", "--git-dir", gd, "show", f"{row['commit']}:{rel}"],
                                  capture_output=True, check=True).stdout
            with open(target, "wb") as fh:
                fh.write(blob)
    elif src == "cache":
        cached = os.path.join(args.cache, row["repo"].replace("/", "+"), row["commit"], rel)
        if not os.path.exists(cached):
            raise RuntimeError(f"not in the cache: {cached}")
        shutil.copyfile(cached, target)
    elif src.startswith("wheel:"):
        site = site_packages(args.venvs, "airflow")
        origin = os.path.join(site, src[len("wheel:"):])
        if ctx == "dir":
            shutil.copytree(os.path.dirname(origin), os.path.dirname(target), dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
            roots.append(os.path.dirname(target))
        else:
            shutil.copyfile(origin, target)
    else:
        raise RuntimeError(f"unknown source {src!r}")
    roots.append(os.path.dirname(target))
    seen: list[str] = []
    for r in roots:
        if r not in seen:
            seen.append(r)
    return target, seen


def site_packages(venvs: str, fw: str) -> str:
    lib = os.path.join(venvs, fw, "lib")
    for name in sorted(os.listdir(lib)):
        sp = os.path.join(lib, name, "site-packages")
        if os.path.isdir(sp):
            return sp
    raise RuntimeError(f"no site-packages under {lib}")


# --------------------------------------------------------------------------------------------------
# running things


def python_of(args, fw: str) -> str:
    return os.path.join(args.venvs, fw, "bin", "python")


def framework_env(fw: str, scratch: str, pythonpath: list[str]) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    home = os.path.join(scratch, "homes", fw)
    os.makedirs(home, exist_ok=True)
    if fw == "airflow":
        env["AIRFLOW_HOME"] = home
        env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
        env["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
    elif fw == "dagster":
        env["DAGSTER_HOME"] = home
    else:
        env["PREFECT_HOME"] = home
        env.pop("PREFECT_API_URL", None)
        env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
        env["PREFECT_SERVER_EPHEMERAL_ENABLED"] = "false"
    return env


def run(cmd: list[str], *, env=None, cwd=None, timeout=None, nice=True) -> tuple[int | None, str, str]:
    if nice:
        cmd = ["nice", "-n", "10", *cmd]
    try:
        p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return None, out, err


# tests/oracle/dagster_dump.py reads a file without a module-level `Definitions` through
# `dg.UnresolvedAssetJobDefinition`, which Dagster 1.13.29 does not export at the top level (every such
# file would fail with AttributeError); the shim puts the class there and runs the dumper unchanged.
DAGSTER_SHIM = (
    "import runpy, sys, dagster\n"
    "from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition as U\n"
    "if not hasattr(dagster, 'UnresolvedAssetJobDefinition'):\n"
    "    dagster.UnresolvedAssetJobDefinition = U\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def dumper(args, fw: str) -> list[str]:
    """The command that runs the repository's oracle dumper of fw (file arguments follow)."""
    script = os.path.join(REPO, "tests", "oracle", f"{fw}_dump.py")
    if fw == "dagster":
        return [python_of(args, fw), "-c", DAGSTER_SHIM, script]
    return [python_of(args, fw), script]


def oracle(args, fw: str, path: str, pythonpath: list[str]) -> dict:
    """The framework's view of one file: {"status": ..., "data": <the dumper's entry>, "error": str}."""
    rc, out, err = run([*dumper(args, fw), path], env=framework_env(fw, args.scratch, pythonpath),
                       cwd=os.path.dirname(path), timeout=TIMEOUT[fw])
    if rc is None:
        return {"status": "timeout", "error": f"no answer in {TIMEOUT[fw]} s"}
    try:
        doc = json.loads(out)
    except ValueError:
        return {"status": "oracle_crash", "error": last_lines(err)}
    data = doc["files"].get(path) or next(iter(doc["files"].values()), {})
    if fw == "airflow":
        if data.get("import_errors"):
            return {"status": "import_error", "error": short_error(data["import_errors"][0]), "data": data}
        if not data.get("dags"):
            return {"status": "no_pipelines", "data": data}
    elif fw == "dagster":
        if data.get("import_error"):
            return {"status": "import_error", "error": short_error(data["import_error"]), "data": data}
        if not data.get("assets") and not data.get("jobs"):
            return {"status": "no_pipelines", "data": data}
    else:
        if data.get("error"):
            return {"status": "import_error", "error": short_error(data["error"]), "data": data}
        flows = data.get("flows") or {}
        if not flows:
            return {"status": "no_pipelines", "data": data}
        bad = {k: f.get("error") or f.get("state") for k, f in sorted(flows.items()) if f.get("state") != "COMPLETED"}
        if bad:
            k, why = next(iter(bad.items()))
            return {"status": "run_failed", "error": f"flow {k}: {short_error(str(why))}", "data": data,
                    "failed_flows": sorted(bad)}
    return {"status": "ok", "data": data}


def last_lines(text: str, n: int = 3) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:])[-400:]


def short_error(text: str) -> str:
    """The exception line of a traceback (last 'XxxError: ...' line), trimmed."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_.]*(Error|Exception|Exit|Interrupt)\b.*", line) or re.match(r"^[A-Za-z_.]+: ", line):
            return line[:300]
    return (lines[-1] if lines else "")[:300]


def orchmig_ir(args, path: str) -> dict:
    rc, out, err = run([args.orchmig, "ir", path], nice=False, timeout=120)
    result = {"rc": rc, "warnings": [line for line in err.splitlines() if re.search(r"warn|error", line, re.I)]}
    try:
        doc = json.loads(out)
        result["file"] = doc["files"][0] if doc.get("files") else {"pipelines": [], "diagnostics": []}
    except ValueError:
        result["file"] = None
        result["warnings"].append("orchmig ir printed no JSON: " + last_lines(err))
    return result


# --------------------------------------------------------------------------------------------------
# comparisons: each returns {"pipelines": {...}, "steps": {...}, "edges": {...}} of missing/extra lists


def empty_diff() -> dict:
    return {k: {"missing": [], "extra": []} for k in ("pipelines", "steps", "edges")}


def set_diff(diff: dict, kind: str, theirs, mine, label=lambda x: x) -> None:
    diff[kind]["missing"].extend(sorted(label(x) for x in set(theirs) - set(mine)))
    diff[kind]["extra"].extend(sorted(label(x) for x in set(mine) - set(theirs)))


def compare_airflow(data: dict, ir: dict) -> tuple[dict, set]:
    diff, differing = empty_diff(), set()
    dags = data.get("dags") or {}
    ours = {p["id"]: p for p in ir["pipelines"]}
    set_diff(diff, "pipelines", dags, ours)
    differing |= set(dags) ^ set(ours)
    for dag_id, dag in sorted(dags.items()):
        p = ours.get(dag_id)
        if p is None:
            continue
        tasks = dag.get("tasks") or {}
        mine = {n["id"] for n in p["nodes"]}
        before = json.dumps(diff)
        set_diff(diff, "steps", tasks, mine, lambda t, d=dag_id: f"{d}.{t}")
        theirs_e = {(u, t) for t, v in tasks.items() for u in v.get("upstream", [])}
        mine_e = {(e["from"], e["to"]) for e in p["edges"]}
        set_diff(diff, "edges", theirs_e, mine_e, lambda e, d=dag_id: f"{d}: {e[0]} -> {e[1]}")
        if json.dumps(diff) != before:
            differing.add(dag_id)
    return diff, differing


def compare_dagster(data: dict, ir: dict) -> tuple[dict, set]:
    diff, differing = empty_diff(), set()
    jobs = data.get("jobs") or {}
    my_jobs = {p["id"]: p for p in ir["pipelines"] if "job_kind" in (p.get("extra") or {})}
    set_diff(diff, "pipelines", jobs, my_jobs, lambda j: f"job {j}")
    differing |= set(jobs) ^ set(my_jobs)
    # assets: union over pipelines
    assets: dict[str, dict] = {}
    asset_owner: dict[str, set] = {}
    for p in ir["pipelines"]:
        for n in p["nodes"]:
            if n.get("kind") in ("asset", "external_asset"):
                assets.setdefault(n["id"], n)
                asset_owner.setdefault(n["id"], set()).add(p["id"])
    theirs = data.get("assets") or {}
    before = json.dumps(diff)
    set_diff(diff, "steps", theirs, assets, lambda k: f"asset {k}")
    their_deps = {(d, k) for k, a in theirs.items() for d in a.get("deps", [])}
    my_deps = {(i.get("name"), k) for k, n in assets.items() for i in (n.get("inlets") or []) if i.get("name")}
    # deps are compared for assets both sides know
    common = set(theirs) & set(assets)
    set_diff(diff, "edges", {e for e in their_deps if e[1] in common}, {e for e in my_deps if e[1] in common},
             lambda e: f"asset {e[0]} -> {e[1]}")
    if json.dumps(diff) != before:
        for k in (set(theirs) ^ set(assets)) | {e[1] for e in their_deps ^ my_deps}:
            differing |= asset_owner.get(k, {"<assets>"})
    for name, job in sorted(jobs.items()):
        p = my_jobs.get(name)
        if p is None:
            continue
        before = json.dumps(diff)
        if job.get("kind") == "asset":
            mine = {n["id"] for n in p["nodes"] if n.get("kind") == "asset"}
            set_diff(diff, "steps", job.get("assets", []), mine, lambda k, j=name: f"job {j}: asset {k}")
        else:
            ops = job.get("ops") or {}
            mine = {n["id"] for n in p["nodes"]}
            set_diff(diff, "steps", ops, mine, lambda k, j=name: f"job {j}: op {k}")
            theirs_e = {(u, o) for o, v in ops.items() for u in v.get("upstream", [])}
            mine_e = {(e["from"], e["to"]) for e in p["edges"]}
            set_diff(diff, "edges", theirs_e, mine_e, lambda e, j=name: f"job {j}: {e[0]} -> {e[1]}")
        if json.dumps(diff) != before:
            differing.add(name)
    return diff, differing


def _reduce(graph: dict) -> dict:
    def ancestors(n, seen):
        for u, _ in graph.get(n, ()):
            if u not in seen:
                seen.add(u)
                ancestors(u, seen)
    out = {}
    for d, ups in graph.items():
        keep = set()
        for u, kind in ups:
            implied = False
            for v, _ in ups:
                if v == u:
                    continue
                seen: set = set()
                ancestors(v, seen)
                if u in seen:
                    implied = True
                    break
            if not implied:
                keep.add((u, kind))
        out[d] = keep
    return out


def last_attempt(calls: list) -> list:
    """The calls of the flow run's last attempt: a flow with retries runs its body again, and
    orchmig models one run of the body, so earlier attempts' calls are not compared (their
    upstream indices are renumbered)."""
    last = max((int(c.get("attempt") or 1) for c in calls), default=1)
    keep = [i for i, c in enumerate(calls) if int(c.get("attempt") or 1) == last]
    index = {old: new for new, old in enumerate(keep)}
    out = []
    for i in keep:
        c = dict(calls[i])
        c["upstream"] = [dict(u, call=index[int(u.get("call", -1))])
                         for u in c.get("upstream") or [] if int(u.get("call", -1)) in index]
        out.append(c)
    return out


def compare_prefect(data: dict, ir: dict) -> tuple[dict, set]:
    diff, differing = empty_diff(), set()
    flows = data.get("flows") or {}
    ours = {p["id"]: p for p in ir["pipelines"]}
    set_diff(diff, "pipelines", flows, ours, lambda f: f"flow {f}")
    differing |= set(flows) ^ set(ours)
    for flow_id, flow in sorted(flows.items()):
        p = ours.get(flow_id)
        if p is None:
            continue
        before = json.dumps(diff)
        calls = last_attempt(flow.get("calls") or [])
        owner: list = [None] * len(calls)
        # Steps orchmig generated from the flow's own code are no Prefect runs (as in
        # tests/support/prefect.rs): they and their edges are left out.
        generated = {n["id"] for n in p["nodes"] if n.get("flavor") == "flow_code"}
        for ni, node in enumerate(p["nodes"]):
            if node["id"] in generated:
                continue
            fn = (node.get("callable") or {}).get("name", "")
            span = node.get("span") or {}
            lo, hi = span.get("line", 0), span.get("end_line", span.get("line", 0))
            dynamic = "dynamic_loop" in (node.get("extra") or {})
            took = 0
            for ci, c in enumerate(calls):
                if owner[ci] is None and c.get("function") == fn and lo <= int(c.get("line") or 0) <= hi:
                    owner[ci] = ni
                    took += 1
                    if not dynamic:
                        break
            if took == 0:
                diff["steps"]["extra"].append(f"{flow_id}.{node['id']} (line {lo}; Prefect ran no call of `{fn}` there)")
        for ci, c in enumerate(calls):
            if owner[ci] is None:
                diff["steps"]["missing"].append(
                    f"{flow_id}: call of `{c.get('function')}` at line {c.get('line')} ({c.get('runs')} run(s))")
        their: dict = {}
        for ci, c in enumerate(calls):
            if owner[ci] is None:
                continue
            down = p["nodes"][owner[ci]]["id"]
            entry = their.setdefault(down, set())
            for u in c.get("upstream") or []:
                ui = int(u.get("call", -1))
                if 0 <= ui < len(owner) and owner[ui] is not None:
                    up = p["nodes"][owner[ui]]["id"]
                    if up != down:
                        entry.add((up, "order" if u.get("kind") == "order" else "data"))
        matched = {p["nodes"][o]["id"] for o in owner if o is not None}
        # The order of calls in the flow body (a run made once a direct call returned, which
        # orchmig keeps so that nothing runs after a call that raised) is no input Prefect records.
        direct = {n["id"] for n in p["nodes"]
                  if n.get("kind") in ("task", "sub_pipeline") and "invocation" not in (n.get("extra") or {})}
        mine: dict = {n: set() for n in matched}
        for e in p["edges"]:
            if e["from"] in matched and e["to"] in matched:
                recorded = any(u == e["from"] for u, _ in their.get(e["to"], set()))
                if e.get("kind") == "order" and not recorded and e["from"] in direct:
                    continue
                mine.setdefault(e["to"], set()).add((e["from"], e.get("kind", "data")))
        their, mine = _reduce(their), _reduce(mine)
        te = {(u, d, k) for d, ups in their.items() for u, k in ups}
        me = {(u, d, k) for d, ups in mine.items() for u, k in ups}
        set_diff(diff, "edges", te, me, lambda e, f=flow_id: f"{f}: {e[0]} -> {e[1]} ({e[2]})")
        for k in diff:
            for side in diff[k]:
                diff[k][side].sort()
        if json.dumps(diff) != before:
            differing.add(flow_id)
    return diff, differing


COMPARE = {"airflow": compare_airflow, "dagster": compare_dagster, "prefect": compare_prefect}


def is_empty(diff: dict) -> bool:
    return not any(v for k in diff.values() for v in k.values())


def noise(ir_file: dict, warnings: list[str], differing: set) -> dict:
    """What orchmig said about the file: diagnostics, opaque entries on differing pipelines, warnings."""
    diags = [f"{d.get('code')}: {d.get('message', '')[:160]}" for d in ir_file.get("diagnostics") or []]
    opaque = []
    for p in ir_file.get("pipelines") or []:
        if p["id"] in differing or "<assets>" in differing or not differing:
            for o in p.get("opaque") or []:
                opaque.append(f"{p['id']}: {o.get('kind')} (line {o.get('line')})")
    return {"diagnostics": sorted(diags), "opaque": sorted(set(opaque)), "warnings": warnings[:5]}


# --------------------------------------------------------------------------------------------------
# ports

STEP_DECORATORS = re.compile(r"(^|\.)(task|op|asset|multi_asset)$")


def decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def step_bodies(path: str) -> dict:
    """Decorated step functions of a generated file: total, empty (pass/.../docstring), raising."""
    try:
        tree = ast.parse(open(path, encoding="utf-8").read())
    except (SyntaxError, OSError) as e:
        return {"steps": 0, "empty": 0, "raising": 0, "parse_error": str(e)[:200]}
    total = empty = raising = 0
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        names = [decorator_name(d) for d in node.decorator_list]
        # @task, @task.bash, @dg.op, @asset, ... but not @task_group / @flow / @dag / @job
        if not any(STEP_DECORATORS.search(n) or n.startswith(("task.", "dg.task")) for n in names):
            continue
        total += 1
        body = [s for s in node.body
                if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str))]
        if all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                           and s.value.value is Ellipsis) for s in body):
            empty += 1
        elif any(isinstance(s, ast.Raise) and "NotImplementedError" in ast.unparse(s) for s in ast.walk(node)):
            raising += 1
    return {"steps": total, "empty": empty, "raising": raising}


PREFECT_LOADER = r"""
import importlib.util, json, os, sys, traceback
from prefect import Flow
out = {}
for i, path in enumerate(sys.argv[1:]):
    try:
        name = f"orchmig_port_check_{i}"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec); sys.modules[name] = mod
        spec.loader.exec_module(mod)
        flows = sorted(k for k, v in vars(mod).items() if isinstance(v, Flow))
        out[path] = {"ok": bool(flows), "error": None if flows else "no Flow in the module"}
    except BaseException as e:  # noqa: BLE001
        out[path] = {"ok": False, "error": f"{type(e).__name__}: {e}"[:300]}
sys.stdout.write(json.dumps(out))
"""


def load_generated(args, fw: str, paths: list[str]) -> dict:
    """{path: {"ok": bool, "error": str|None}} for generated files, loaded in the target's venv."""
    if not paths:
        return {}
    env = framework_env(fw, args.scratch, [])
    if fw == "prefect":
        cmd = [python_of(args, fw), "-c", PREFECT_LOADER, *paths]
    else:
        cmd = [*dumper(args, fw), *paths]
    rc, out, err = run(cmd, env=env, cwd=args.scratch, timeout=60 + 15 * len(paths))
    try:
        doc = json.loads(out)
    except ValueError:
        if len(paths) > 1:  # one file broke the batch: one at a time
            result = {}
            for p in paths:
                result.update(load_generated(args, fw, [p]))
            return result
        return {paths[0]: {"ok": False, "error": "loader gave no answer: " + last_lines(err)}}
    result = {}
    for p in paths:
        d = doc.get(p) if fw == "prefect" else doc.get("files", {}).get(p)
        if d is None:
            result[p] = {"ok": False, "error": "not reported"}
        elif fw == "prefect":
            result[p] = d
        elif fw == "airflow":
            errs = d.get("import_errors") or []
            ok = not errs and bool(d.get("dags"))
            result[p] = {"ok": ok, "error": None if ok else (short_error(errs[0]) if errs else "no DAG")}
        else:
            e = d.get("import_error")
            ok = not e and bool(d.get("assets") or d.get("jobs"))
            result[p] = {"ok": ok, "error": None if ok else (short_error(e) if e else "no assets or jobs")}
    return result


def port(args, path: str, idx: str, target: str) -> dict:
    out_dir = os.path.join(args.scratch, "port", idx, target)
    rc, out, err = run([args.orchmig, "port", path, "--to", target, "--out", out_dir, "--force"],
                       nice=False, timeout=120)
    files = []
    if os.path.isdir(out_dir):
        files = sorted(os.path.join(out_dir, f) for f in os.listdir(out_dir) if f.endswith(".py"))
    entry = {"exit": rc, "files": files, "steps": 0, "empty": 0, "raising": 0}
    if rc not in (0, 1):
        entry["error"] = last_lines(err)
    for f in files:
        b = step_bodies(f)
        for k in ("steps", "empty", "raising"):
            entry[k] += b.get(k, 0)
    return entry


# --------------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orchmig", required=True, help="the orchmig binary")
    ap.add_argument("--only", choices=FRAMEWORKS, action="append", help="only these source frameworks")
    ap.add_argument("--json", help="write every detail here")
    ap.add_argument("--manifest", default=os.path.join(HERE, "manifest.tsv"))
    ap.add_argument("--scratch", default="/tmp/orchmig-realworld")
    ap.add_argument("--mirrors", default="/work/.mirror")
    ap.add_argument("--cache", default="/work/realworld/cache")
    ap.add_argument("--venvs", default=os.path.join(os.path.expanduser("~"), ".cache", "orchmig", "venvs"))
    ap.add_argument("--no-port", action="store_true", help="skip the port checks")
    args = ap.parse_args(argv)
    args.orchmig = os.path.abspath(args.orchmig)
    args.scratch = os.path.abspath(args.scratch)
    if os.path.commonpath([args.scratch, REPO]) == REPO:
        ap.error("--scratch must be outside the repository")
    shutil.rmtree(args.scratch, ignore_errors=True)
    os.makedirs(args.scratch)

    rows = [r for r in read_manifest(args.manifest) if not args.only or r["framework"] in args.only]
    results = []
    for i, row in enumerate(rows):
        idx = f"{i:03d}_{row['framework']}_{slug(row['repo'].split('/')[-1] + '_' + os.path.basename(row['path']))}"
        res = {k: row[k] for k in ("repo", "commit", "path", "framework", "source")}
        print(f"[{i + 1}/{len(rows)}] {row['framework']} {row['repo']} {row['path']}", file=sys.stderr, flush=True)
        try:
            path, pythonpath = extract(row, os.path.join(args.scratch, "src", idx), args)
        except Exception as e:  # noqa: BLE001
            res.update(status="not_extracted", error=str(e)[:300])
            results.append(res)
            continue
        res["local"] = os.path.relpath(path, args.scratch)
        o = oracle(args, row["framework"], path, pythonpath)
        res["status"] = o["status"]
        if o.get("error"):
            res["error"] = o["error"]
        ir = orchmig_ir(args, path)
        ir_file = ir["file"] or {"pipelines": [], "diagnostics": []}
        res["orchmig"] = {"pipelines": len(ir_file["pipelines"]),
                          "steps": sum(len(p["nodes"]) for p in ir_file["pipelines"]),
                          "edges": sum(len(p["edges"]) for p in ir_file["pipelines"])}
        if o["status"] in ("ok", "no_pipelines"):
            diff, differing = COMPARE[row["framework"]](o.get("data") or {}, ir_file)
            res["exact"] = is_empty(diff)
            res["noise"] = noise(ir_file, ir["warnings"], differing if not res["exact"] else set())
            if not res["exact"]:
                res["diff"] = diff
                said = res["noise"]["diagnostics"] or res["noise"]["opaque"] or res["noise"]["warnings"]
                res["miss"] = "noisy" if said else "silent"
        # baseline: steps already empty (or raising) in the source itself, decorated ones only
        res["source_steps"] = step_bodies(path)
        if not args.no_port:
            res["port"] = {t: port(args, path, idx, t) for t in FRAMEWORKS if t != row["framework"]}
        results.append(res)

    # generated files: load them in the target's venv, one batch per target
    if not args.no_port:
        for target in FRAMEWORKS:
            paths = sorted(f for r in results for t, e in (r.get("port") or {}).items() if t == target for f in e["files"])
            print(f"loading {len(paths)} generated {target} files", file=sys.stderr, flush=True)
            loads = load_generated(args, target, paths)
            for r in results:
                e = (r.get("port") or {}).get(target)
                if e is None:
                    continue
                e["loads"] = [loads.get(f, {"ok": False, "error": "not loaded"}) for f in e["files"]]
                e["files"] = [os.path.relpath(f, args.scratch) for f in e["files"]]
                e["load_ok"] = bool(e["files"]) and all(x["ok"] for x in e["loads"])

    summary = summarise(results)
    print_summary(summary)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"summary": summary, "files": results}, fh, indent=1, sort_keys=True)
            fh.write("\n")
    return 0


def summarise(results: list[dict]) -> dict:
    s: dict = {"read": {}, "port": {}}
    for fw in FRAMEWORKS:
        rs = [r for r in results if r["framework"] == fw]
        if not rs:
            continue
        loaded = [r for r in rs if r.get("status") in ("ok", "no_pipelines")]
        exact = [r for r in loaded if r.get("exact")]
        s["read"][fw] = {
            "files": len(rs),
            "loaded": len(loaded),
            "not_loaded": dict(sorted(Counter(r["status"] for r in rs if r not in loaded).items())),
            "exact": len(exact),
            "rate": round(len(exact) / len(loaded), 3) if loaded else None,
            "silent_misses": sum(1 for r in loaded if r.get("miss") == "silent"),
            "source_decorated_steps": sum((r.get("source_steps") or {}).get("steps", 0) for r in rs),
            "source_empty_or_raising": sum((r.get("source_steps") or {}).get("empty", 0)
                                           + (r.get("source_steps") or {}).get("raising", 0) for r in rs),
            "noisy_misses": sum(1 for r in loaded if r.get("miss") == "noisy"),
        }
        for target in FRAMEWORKS:
            es = [r["port"][target] for r in rs if target in (r.get("port") or {})]
            if not es:
                continue
            steps = sum(e["steps"] for e in es)
            s["port"][f"{fw}->{target}"] = {
                "files": len(es),
                "exit_0": sum(1 for e in es if e["exit"] == 0),
                "exit_1": sum(1 for e in es if e["exit"] == 1),
                "exit_other": sum(1 for e in es if e["exit"] not in (0, 1)),
                "generated": sum(1 for e in es if e["files"]),
                "load_ok": sum(1 for e in es if e.get("load_ok")),
                "load_rate": round(sum(1 for e in es if e.get("load_ok")) / max(1, sum(1 for e in es if e["files"])), 3),
                "steps": steps,
                "empty_steps": sum(e["empty"] for e in es),
                "raising_steps": sum(e["raising"] for e in es),
                "empty_or_raising_share": round(sum(e["empty"] + e["raising"] for e in es) / steps, 3) if steps else None,
            }
    return s


def print_summary(s: dict) -> None:
    print("framework  files  loaded  exact  rate    silent  noisy  not loaded")
    for fw, v in s["read"].items():
        rate = f"{v['rate']:.0%}" if v["rate"] is not None else "-"
        print(f"{fw:<10} {v['files']:>5}  {v['loaded']:>6}  {v['exact']:>5}  {rate:<6}  {v['silent_misses']:>6}  "
              f"{v['noisy_misses']:>5}  {v['not_loaded']}")
    print()
    print("port                files  exit0  generated  loads  steps  empty  raising  empty+raising")
    for d, v in s["port"].items():
        share = f"{v['empty_or_raising_share']:.0%}" if v["empty_or_raising_share"] is not None else "-"
        print(f"{d:<19} {v['files']:>5}  {v['exit_0']:>5}  {v['generated']:>9}  {v['load_ok']:>5}  {v['steps']:>5}  "
              f"{v['empty_steps']:>5}  {v['raising_steps']:>7}  {share}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
