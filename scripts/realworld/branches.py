#!/usr/bin/env python3
"""Branches on real DAGs: port each Airflow file that branches to Prefect, then

* count the port report's branch/short-circuit rows by fidelity,
* run `orchmig verify` (every branch outcome and each step failing, dry runner) and count the
  differences it finds under a forced branch outcome, declared or not,
* run the ported flow in the pinned Prefect venv and list the tasks it ran.

Usage: python3 scripts/realworld/branches.py --orchmig target/debug/orchmig \
           --venvs /root/.cache/orchmig/venvs FILE.py ...
Prints one line per file and a total; nothing is written outside a temporary folder.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

RUN_FLOW = r"""
import importlib.util, json, sys
from prefect import Flow
spec = importlib.util.spec_from_file_location("ported", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
ran = []
for name in dir(mod):
    obj = getattr(mod, name)
    if isinstance(obj, Flow):
        state = obj(return_state=True)
        error = []
        if state.is_failed():
            try:
                state.result()
            except Exception as e:  # the failure's message, for the report
                error = [repr(e)[:300]]
        from prefect.client.orchestration import get_client
        import asyncio
        async def tasks(flow_run_id):
            async with get_client() as c:
                from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
                runs = await c.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
                return sorted(r.name.rsplit("-", 1)[0] for r in runs if r.state and r.state.is_completed())
        ran.append({"flow": name, "state": state.type.value, "error": error,
                    "tasks": asyncio.run(tasks(state.state_details.flow_run_id))})
print(json.dumps(ran))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orchmig", required=True)
    ap.add_argument("--venvs", required=True)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    python = Path(a.venvs) / "prefect" / "bin" / "python"
    totals = {"files": 0, "rows": {}, "forced_diffs": 0, "forced_undeclared": 0, "completed": 0}
    for f in a.files:
        totals["files"] += 1
        with tempfile.TemporaryDirectory() as out:
            port = subprocess.run(
                [a.orchmig, "-q", "port", f, "--to", "prefect", "--out", out, "--format", "json"],
                capture_output=True, text=True)
            try:
                report = json.loads(port.stdout)
            except json.JSONDecodeError:
                print(f"{Path(f).name}: port failed: {port.stderr.strip()[:200]}")
                continue
            rows = [e for p in report.get("pipelines", []) for e in p.get("entries", [])
                    if e.get("construct") in ("node.branch", "node.short_circuit")]
            by = {}
            for e in rows:
                by[e["fidelity"]] = by.get(e["fidelity"], 0) + 1
                totals["rows"][e["fidelity"]] = totals["rows"].get(e["fidelity"], 0) + 1
            ver = subprocess.run([a.orchmig, "-q", "verify", f, "--to", "prefect", "--format", "json"],
                                 capture_output=True, text=True)
            forced = undeclared = 0
            try:
                for v in json.loads(ver.stdout).get("pipelines", []):
                    for d in v.get("differences", []):
                        if " chooses " in d["detail"] or " returns false:" in d["detail"]:
                            forced += 1
                            undeclared += 0 if d["declared"] else 1
            except json.JSONDecodeError:
                pass
            totals["forced_diffs"] += forced
            totals["forced_undeclared"] += undeclared
            ported = sorted(Path(out).glob("*.py"))
            env = dict(os.environ, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90")
            runs = []
            for p in ported:
                r = subprocess.run([str(python), "-c", RUN_FLOW, str(p)], capture_output=True,
                                   text=True, env=env, timeout=600)
                try:
                    runs.extend(json.loads(r.stdout.strip().splitlines()[-1]))
                except (json.JSONDecodeError, IndexError):
                    runs.append({"flow": p.name, "state": "NOT RUN", "tasks": [],
                                 "error": r.stderr.strip().splitlines()[-1:]})
            ok = all(x["state"] == "COMPLETED" for x in runs) and runs
            totals["completed"] += 1 if ok else 0
            stub = any("orchmig has no port of" in " ".join(x.get("error", [])) for x in runs)
            totals["stopped_at_stub"] = totals.get("stopped_at_stub", 0) + (1 if stub else 0)
            print(f"{Path(f).name}: rows {by}; forced-outcome differences {forced} "
                  f"({undeclared} undeclared); prefect run: "
                  + "; ".join(f"{x['flow']} {x['state']} ran {x['tasks']}" for x in runs))
    print(json.dumps(totals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
