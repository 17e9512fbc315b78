# constructs: a loop over a task result (dynamic loop, read once and reported opaque), a while loop without runs, a local helper returning a derived value, create_link_artifact and create_progress_artifact in tasks, get_run_logger in the flow body, the flow's logger passed to a task
"""Support ticket digest.

Classifies the open tickets one by one and builds a digest for the support leads.
"""

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_progress_artifact

TICKETS = [
    {"id": 101, "text": "cannot log in", "age_h": 30},
    {"id": 102, "text": "invoice wrong", "age_h": 4},
    {"id": 103, "text": "app crashes on start", "age_h": 50},
]


@task
def open_tickets(queue: str) -> list[dict]:
    return [dict(t, queue=queue) for t in TICKETS]


@task
def classify(ticket: dict) -> dict:
    label = (
        "bug"
        if "crash" in ticket["text"]
        else "account"
        if "log in" in ticket["text"]
        else "billing"
    )
    create_progress_artifact(progress=100.0, description=f"ticket {ticket['id']}")
    return {"id": ticket["id"], "label": label, "urgent": ticket["age_h"] > 24}


@task
def build_digest(labelled: list[dict], queue: str, logger) -> dict:
    create_link_artifact(key="support-board", link="https://support.example.com/board")
    urgent = [t["id"] for t in labelled if t["urgent"]]
    logger.info("%d urgent tickets in %s", len(urgent), queue)
    return {"queue": queue, "urgent": urgent, "n": len(labelled)}


def page_size(tickets: list[dict]) -> int:
    size = 1
    while size < 2:
        size += 1
    return size


@flow
def support_digest(queue: str = "tier-1") -> dict:
    logger = get_run_logger()
    tickets = open_tickets(queue)
    labelled = []
    for ticket in tickets:
        labelled.append(classify(ticket))
    logger.info("page size %s", page_size(tickets))
    return build_digest(labelled, queue, logger)
