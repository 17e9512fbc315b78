# constructs: return_state=True and state.is_failed() deciding an alert call (then an early return); the state's result read with .result(); if/else on a task result choosing one of two calls; task retries; flow parameter with a default; served with serve(cron=...) under __main__
"""Snapshot guard.

Copies the day's order table into a snapshot, checks the copy row by row, and
pages the on-call engineer only when the check fails. A clean snapshot is
promoted to the reporting schema; a short one is kept aside for a look.
"""

from prefect import flow, task

ORDERS = [
    {"order_id": 1, "amount": 42.0},
    {"order_id": 2, "amount": 17.5},
    {"order_id": 3, "amount": 99.9},
]


@task(retries=2, retry_delay_seconds=30)
def take_snapshot(schema: str) -> dict:
    return {"schema": schema, "rows": [dict(r) for r in ORDERS]}


@task
def check_snapshot(snapshot: dict) -> dict:
    missing = len(ORDERS) - len(snapshot["rows"])
    if missing < 0:
        raise ValueError(f"snapshot has {-missing} rows too many")
    return {"complete": missing == 0, "missing": missing}


@task
def page_on_call(reason: str) -> str:
    return f"paged on-call: {reason}"


@task
def promote(snapshot: dict) -> str:
    return f"promoted {len(snapshot['rows'])} rows to {snapshot['schema']}_reporting"


@task
def set_aside(snapshot: dict) -> str:
    return f"kept {snapshot['schema']} snapshot aside"


@flow(name="snapshot-guard")
def snapshot_guard(schema: str = "sales") -> None:
    snapshot = take_snapshot(schema)
    checked = check_snapshot(snapshot, return_state=True)
    if checked.is_failed():
        page_on_call("the snapshot check failed")
        return
    verdict = checked.result()
    if verdict["complete"]:
        promote(snapshot)
    else:
        set_aside(snapshot)


if __name__ == "__main__":
    snapshot_guard.serve(name="snapshot-guard", cron="30 2 * * *")
