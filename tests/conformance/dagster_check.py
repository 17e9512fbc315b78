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

Which steps ran: with ORCHMIG_FAULTS set (tests/conformance/faults.py), each pipeline of the plan
that is not a job also gets a run of its own assets, and every file of the plan runs once more
with each pipeline's planned step failing, reported under the file as

    "faulted": {"jobs": {"<job or pipeline>": STEPS}}     # STEPS as in dagster_dump.py

(the passes over all assets run first, with nothing armed, so that each pipeline's run reads
its upstream assets from storage). The step fails first thing: the file is compiled with
`__orchmig_fault__` first in every function, which raises while the step running
(`current_execution_context`: its node handle, or an asset key it materialises) is the armed
one — an op and its alias, or assets made by one function, stay apart, and a graph-backed
asset fails at its first op.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle")
)

import dagster_dump  # noqa: E402
import faults  # noqa: E402


def _running_step(function: str, fail: dict) -> bool:
    """Whether the Dagster step running now is the armed one."""
    from dagster._core.execution.context.compute import current_execution_context

    ctx = current_execution_context.get()
    if ctx is None:
        return False
    ctx = ctx.op_execution_context
    names = {str(ctx.op_handle)}
    try:
        names |= {"/".join(k.path) for k in ctx.selected_asset_keys}
    except Exception:  # noqa: BLE001 - an op has no asset keys
        pass
    return fail["id"] in names


def _fault_pass(dg, files: dict) -> None:
    """Runs every file of the plan again with its pipelines' steps failing."""
    for path, file_plan in sorted(dagster_dump.PLAN.items()):
        entry = files.get(path)
        if entry is None or entry.get("import_error"):
            continue
        try:
            code = faults.compile_with_faults(path)
            # As runpy.run_path does: the module is importable by its name while it runs.
            module = type(sys)("__orchmig_oracle__")
            module.__file__ = path
            saved = sys.modules.get(module.__name__)
            sys.modules[module.__name__] = module
            try:
                exec(code, module.__dict__)  # noqa: S102 - the file under test
            finally:
                if saved is None:
                    sys.modules.pop(module.__name__, None)
                else:
                    sys.modules[module.__name__] = saved
            ns = module.__dict__
            found = [v for v in ns.values() if isinstance(v, dg.Definitions)]
            defs = found[0] if found else dagster_dump._loose_definitions(dg, ns)
            run = dagster_dump.materialize(
                dg,
                defs,
                arm=lambda name: faults.arm(file_plan.get(name) if name else None),
                plan=file_plan,
            )
            entry["faulted"] = {"jobs": run["jobs"]}
        except Exception:  # noqa: BLE001 - every file is reported
            import traceback

            entry["faulted"] = {"error": traceback.format_exc()}
        finally:
            faults.arm(None)
        print(
            f"conformance: dagster ran {path} with a failure",
            file=sys.stderr,
            flush=True,
        )


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    import dagster as dg

    dg.RetryPolicy.calculate_delay = lambda self, attempt_num: 0
    faults.install(_running_step)
    dagster_dump.PLAN = faults.load_plan()
    dagster_dump.FAULT_PASS = _fault_pass
    with dg.instance_for_test() as instance:
        dagster_dump.SHARED_INSTANCE = instance
        return dagster_dump.main(["--materialize", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
