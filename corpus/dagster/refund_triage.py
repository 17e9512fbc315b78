# constructs: @op with optional outputs out={name: Out(is_required=False)} yielding only the outputs it has rows for, unpacked; one consumer per optional output (skipped when it is not yielded), an op downstream of a consumer (skipped with it), @job(description, tags)
"""Refund triage as an op job.

Refund requests are routed by amount: small ones are refunded at once and their customers told,
large ones open a ticket for the support team to review. The routing op yields only the outputs
it has requests for, so Dagster skips the ops of a route that got none.
"""

import dagster as dg

_AUTO_REFUND_LIMIT = 50.0

_REQUESTS = [
    {"order": 1042, "customer": "c-17", "amount": 12.5},
    {"order": 1077, "customer": "c-03", "amount": 39.9},
    {"order": 1101, "customer": "c-17", "amount": 8.0},
]


@dg.op
def fetch_refund_requests() -> list:
    return list(_REQUESTS)


@dg.op(
    out={
        "auto_refund": dg.Out(list, is_required=False),
        "manual_review": dg.Out(list, is_required=False),
    }
)
def route_refunds(context: dg.OpExecutionContext, requests: list):
    small = [r for r in requests if r["amount"] <= _AUTO_REFUND_LIMIT]
    large = [r for r in requests if r["amount"] > _AUTO_REFUND_LIMIT]
    context.log.info("%d small, %d large", len(small), len(large))
    if small:
        yield dg.Output(small, "auto_refund")
    if large:
        yield dg.Output(large, "manual_review")


@dg.op
def issue_refunds(requests: list) -> list:
    return [dict(r, status="refunded") for r in requests]


@dg.op
def notify_customers(context: dg.OpExecutionContext, refunds: list) -> int:
    customers = sorted({r["customer"] for r in refunds})
    context.log.info("refund e-mails to %s", ", ".join(customers))
    return len(customers)


@dg.op
def open_review_tickets(requests: list) -> list:
    return [f"REFUND-{r['order']}" for r in requests]


@dg.job(
    description="Refund small requests at once; send large ones to review.",
    tags={"team": "support"},
)
def refund_triage_job():
    auto, manual = route_refunds(fetch_refund_requests())
    notify_customers(issue_refunds(auto))
    open_review_tickets(manual)


defs = dg.Definitions(jobs=[refund_triage_job])
