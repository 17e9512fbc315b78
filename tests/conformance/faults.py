"""Conformance: the injected failure of a pipeline's run, shared by the three check scripts.

tests/conformance.rs picks one step per pipeline from orchmig's IR of the source (see its
`fault_step`) and writes a plan, named by the ORCHMIG_FAULTS environment variable:

    {"files": {"<path as given>": {"<pipeline id>": {
        "nodes": [node id, ...],                  # every step of the pipeline (orchmig's ids)
        "fail": null | {"id": node id,            # the step to fail, as this file names it
                        "function": str | null,   # the function it calls (Prefect)
                        "lines": [first, last],   # the call site's lines (Prefect)
                        "ordinal": int | null}}}}}  # which call of that site (Prefect; null: all)

A check script runs every file of the plan once more after its ordinary run, with the plan's step
of each pipeline failing, and reports that pass under the file's "faulted" key.

How a step is made to fail, the same way in a source and in its port:
- Dagster and Prefect: the file is compiled from an `ast` whose every function starts with a call
  `__orchmig_fault__("<function>")` (after the docstring; every other line keeps its number, so
  call sites and tracebacks stay where they were). The call asks the check script's callback
  whether the step running now is the armed one, and if so raises RuntimeError(MESSAGE) before
  the body runs, on every attempt. The step is told by what runs, not by the function: a
  function can back several steps (an op and its alias, a task called twice or used by several
  flows), and a step's code need not be the function that declares it (a graph-backed asset
  runs its ops; the first of them raises). Helpers a step calls would raise too, but the step's
  own function has raised before it calls them.
- Airflow: the task's run is made to raise RuntimeError(MESSAGE) where the task runner would call
  the operator's `execute` (see airflow_check.py), so classic operators fail as TaskFlow ones do.

Only the pipeline being run has its step armed: the scripts call `arm(pipeline plan)` before each
pipeline's run and `arm(None)` after.
"""

from __future__ import annotations

import ast
import builtins
import json
import os

MESSAGE = "orchmig: injected failure"

# The plan of the pipeline being run, or None.
ARMED: dict = {"plan": None}


def load_plan() -> dict:
    """The plan named by ORCHMIG_FAULTS, by file path ({} when there is none)."""
    path = os.environ.get("ORCHMIG_FAULTS")
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f).get("files", {})


def arm(plan: dict | None) -> None:
    """Arms the step of one pipeline's plan (None: nothing fails)."""
    ARMED["plan"] = plan


def armed_step() -> dict | None:
    """The `fail` entry of the armed pipeline, if any."""
    plan = ARMED["plan"]
    return plan.get("fail") if plan else None


def install(is_armed_step) -> None:
    """Defines the builtin `__orchmig_fault__(function)`: raises when `is_armed_step(function,
    fail)` says the step running now is the armed one."""

    def __orchmig_fault__(function: str) -> None:
        fail = armed_step()
        if fail is not None and is_armed_step(function, fail):
            raise RuntimeError(MESSAGE)

    builtins.__orchmig_fault__ = __orchmig_fault__


def _early_return(stmt) -> bool:
    """`if …: return None` with no else: a ported branch's test, which decides whether the
    step runs at all (a skipped task never starts, so its fault never fires)."""
    return (
        isinstance(stmt, ast.If)
        and not stmt.orelse
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], ast.Return)
        and (
            stmt.body[0].value is None
            or (
                isinstance(stmt.body[0].value, ast.Constant)
                and stmt.body[0].value.value is None
            )
        )
    )


class _Inject(ast.NodeTransformer):
    """Puts `__orchmig_fault__("<name>")` first in every function (after its docstring and
    the early returns of a ported branch's test)."""

    def _visit(self, node):
        self.generic_visit(node)
        body = node.body
        first = body[0]
        at = (
            1
            if isinstance(first, ast.Expr)
            and isinstance(getattr(first, "value", None), ast.Constant)
            else 0
        )
        while at < len(body) and _early_return(body[at]):
            at += 1
        anchor = body[at] if at < len(body) else first
        call = ast.Expr(
            ast.Call(
                ast.Name("__orchmig_fault__", ast.Load()), [ast.Constant(node.name)], []
            ),
        )
        ast.copy_location(call, anchor)
        ast.fix_missing_locations(call)
        node.body = [*body[:at], call, *body[at:]]
        return node

    visit_FunctionDef = _visit
    visit_AsyncFunctionDef = _visit


def compile_with_faults(path: str):
    """The file's code object, with the fault call first in every function."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    tree = _Inject().visit(tree)
    return compile(tree, path, "exec", dont_inherit=True)
