# constructs: if/else on a task result (condition recorded, branch not taken at run time), if on a flow parameter, allow_failure(...) in wait_for, wait_for=[...] order edges, return_state=True, a task in an except handler
"""Data quality gate.

Validates a batch of sensor readings; a clean batch is published, a dirty one is
quarantined. Cleanup always runs after the checks, even if they fail.
"""

from prefect import allow_failure, flow, task

READINGS = [
    {"sensor": "t1", "value": 21.5},
    {"sensor": "t2", "value": 22.1},
    {"sensor": "t3", "value": 19.8},
]


@task
def load_batch(batch_id: str) -> list[dict]:
    return [dict(r, batch=batch_id) for r in READINGS]


@task
def validate(readings: list[dict]) -> dict:
    bad = [r for r in readings if not (-40.0 <= r["value"] <= 60.0)]
    return {"ok": not bad, "bad": bad}


@task
def publish(readings: list[dict]) -> str:
    return f"published {len(readings)} readings"


@task
def quarantine(readings: list[dict], report: dict) -> str:
    return f"quarantined {len(report['bad'])} of {len(readings)}"


@task
def notify_owner(message: str) -> str:
    return f"notified: {message}"


@task
def cleanup_staging(batch_id: str) -> str:
    return f"cleaned {batch_id}"


@task
def audit(readings: list[dict]) -> dict:
    return {"audited": len(readings)}


@flow
def quality_gate(batch_id: str = "b-0042", strict: bool = False) -> str:
    readings = load_batch(batch_id)
    report = validate(readings)
    if report["ok"]:
        outcome = publish(readings)
    else:
        outcome = quarantine(readings, report)
    if strict:
        notify_owner(outcome)
    audit_state = audit(readings, return_state=True)
    try:
        cleanup_staging(batch_id, wait_for=[allow_failure(audit_state)])
    except RuntimeError:
        notify_owner("cleanup failed")
    return outcome
