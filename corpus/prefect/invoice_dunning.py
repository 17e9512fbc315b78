# constructs: code in the flow body that is not a task call (list comprehensions over a task's result, a total, a print), a module-level helper that code calls, a sub-flow that calls no task (its value feeds a task), a task with retries, serve with a cron
"""Accounts-receivable dunning run.

Pulls the open invoices as of a day, keeps the ones past the grace period, works out
what is outstanding, looks up the region's late-fee rate and sends the reminders;
the run's totals are recorded for finance.
"""

from datetime import date

from prefect import flow, task

GRACE_DAYS = 14

OPEN_INVOICES = [
    {
        "invoice": "INV-1041",
        "customer": "Alder & Co",
        "amount": 1250.0,
        "due": "2024-05-02",
    },
    {
        "invoice": "INV-1042",
        "customer": "Birch Ltd",
        "amount": 310.5,
        "due": "2024-05-20",
    },
    {
        "invoice": "INV-1047",
        "customer": "Cedar GmbH",
        "amount": 2899.99,
        "due": "2024-04-11",
    },
    {
        "invoice": "INV-1050",
        "customer": "Dogwood SA",
        "amount": 75.0,
        "due": "2024-05-28",
    },
]


@task(retries=2, retry_delay_seconds=30)
def fetch_open_invoices(as_of: str) -> list[dict]:
    return [dict(invoice, as_of=as_of) for invoice in OPEN_INVOICES]


@task
def send_reminders(overdue: list[dict], fee_rate: float) -> list[dict]:
    sent = []
    for invoice in overdue:
        fee = round(invoice["amount"] * fee_rate, 2)
        print(f"reminder to {invoice['customer']}: {invoice['invoice']} plus {fee} fee")
        sent.append({"invoice": invoice["invoice"], "fee": fee})
    return sent


@task
def record_run(as_of: str, sent: list[dict], exposure: float) -> dict:
    fees = round(sum(s["fee"] for s in sent), 2)
    return {"as_of": as_of, "reminders": len(sent), "fees": fees, "exposure": exposure}


def days_overdue(invoice: dict, as_of: str) -> int:
    due = date.fromisoformat(invoice["due"])
    return (date.fromisoformat(as_of) - due).days


@flow
def late_fee_rate(region: str = "EU") -> float:
    """The monthly late-fee rate of a billing region."""
    rates = {"EU": 0.02, "UK": 0.025}
    return rates.get(region, 0.015)


@flow(name="invoice-dunning", log_prints=True)
def invoice_dunning(as_of: str = "2024-05-31", region: str = "EU") -> dict:
    invoices = fetch_open_invoices(as_of)
    aged = [dict(i, days_late=days_overdue(i, as_of)) for i in invoices]
    overdue = [i for i in aged if i["days_late"] > GRACE_DAYS]
    exposure = round(sum(i["amount"] for i in overdue), 2)
    print(f"{len(overdue)} of {len(invoices)} invoices overdue, {exposure} outstanding")
    rate = late_fee_rate(region)
    sent = send_reminders(overdue, rate)
    return record_run(as_of, sent, exposure)


if __name__ == "__main__":
    invoice_dunning.serve(name="dunning-weekdays", cron="30 5 * * 1-5")
