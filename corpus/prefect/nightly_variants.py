# constructs: module-level flow.with_options(...) variants (their own pipelines), task.with_options(name=..., retries=...) at the call site, the same task called twice (-2), serve(schedules=[Cron(..., timezone=), Interval(...)]) and rrule= schedules under __main__
"""Billing exports with nightly and month-end variants.

One export flow, configured three ways: the plain flow for ad-hoc runs, a nightly
variant with more retries, and a month-end variant under another name.
"""

from prefect import flow, task
from prefect.schedules import Cron, Interval

INVOICES = [
    {"id": "inv-1", "customer": "acme", "total": 120.0},
    {"id": "inv-2", "customer": "globex", "total": 75.5},
]


@task(retries=1)
def export_invoices(period: str) -> list[dict]:
    return [dict(i, period=period) for i in INVOICES]


@task
def to_csv(rows: list[dict]) -> str:
    header = "id,customer,total"
    return "\n".join(
        [header] + [f"{r['id']},{r['customer']},{r['total']}" for r in rows]
    )


@task
def checksum(text: str) -> str:
    return f"{sum(map(ord, text)) % 65536:04x}"


@flow(name="billing-export", retries=1)
def billing_export(period: str = "2024-02") -> dict:
    rows = export_invoices(period)
    csv_text = to_csv(rows)
    audit_copy = to_csv.with_options(name="to_csv_audit", retries=2)(rows)
    return {"csv": checksum(csv_text), "audit": checksum(audit_copy)}


nightly_billing = billing_export.with_options(
    name="billing-export-nightly", retries=4, retry_delay_seconds=60
)
month_end_billing = billing_export.with_options(
    name="billing-export-month-end", timeout_seconds=1800
)


if __name__ == "__main__":
    nightly_billing.serve(
        name="billing-nightly",
        schedules=[Cron("0 1 * * *", timezone="Europe/Paris"), Interval(21600)],
    )
    month_end_billing.serve(
        name="billing-month-end", rrule="FREQ=MONTHLY;BYMONTHDAY=-1"
    )
