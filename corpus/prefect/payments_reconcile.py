# constructs: .submit() with wait_for=[futures] (order edges), .map() over a submitted future's result, as_completed over futures, .result() of a PrefectFutureList, a sub-flow called after futures resolve, return_state=True on a sub-flow
"""Payments reconciliation.

Pulls the ledger and the bank statement in parallel, matches every payment, and runs a
settlement sub-flow once all matches are done.
"""

from prefect import flow, task, unmapped
from prefect.futures import as_completed

LEDGER = [
    {"ref": "p1", "amount": 10.0},
    {"ref": "p2", "amount": 25.0},
    {"ref": "p3", "amount": 7.5},
]
STATEMENT = {"p1": 10.0, "p2": 24.0, "p3": 7.5}


@task
def open_batch() -> dict:
    return {"batch": "rec-2024-03-01"}


@task(retries=2)
def pull_ledger() -> list[dict]:
    return [dict(x) for x in LEDGER]


@task(retries=2)
def pull_statement() -> dict:
    return dict(STATEMENT)


@task
def match(payment: dict, statement: dict) -> dict:
    seen = statement.get(payment["ref"])
    return {"ref": payment["ref"], "matched": seen == payment["amount"]}


@task
def summarize(matches: list[dict]) -> dict:
    return {"matched": sum(m["matched"] for m in matches), "total": len(matches)}


@task
def post_settlement(summary: dict) -> dict:
    return {"posted": summary["matched"]}


@flow(retries=1)
def settle(summary: dict | None = None) -> dict:
    return post_settlement(summary or {"matched": 0, "total": 0})


@flow
def payments_reconcile() -> dict:
    batch = open_batch.submit()
    ledger = pull_ledger.submit(wait_for=[batch])
    statement = pull_statement.submit(wait_for=[batch])
    matches = match.map(ledger.result(), statement=unmapped(statement))
    done = [f.result() for f in as_completed(matches)]
    summary = summarize(done)
    state = settle(summary, return_state=True)
    return {"summary": summary, "settled": state.is_completed()}
