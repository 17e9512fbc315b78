# constructs: @flow(name, retries, retry_delay_seconds, timeout_seconds, log_prints, description), @task(retries, retry_delay_seconds list, tags, timeout_seconds), nested calls load(transform(extract())), bound variables, get_run_logger, partition parameter `day`, flow.serve(name, cron, parameters, tags) under __main__, prefect.yaml deployment
"""Daily sales ETL for the shop.

Reads the day's orders from an in-memory fixture, keeps the paid ones, sums revenue per
category and writes a small JSON summary to a temp folder.
"""

import json
import os
import tempfile

from prefect import flow, get_run_logger, task

ORDERS = [
    {"id": 1, "category": "books", "amount": 24.9, "status": "paid"},
    {"id": 2, "category": "games", "amount": 59.99, "status": "paid"},
    {"id": 3, "category": "books", "amount": 12.5, "status": "cancelled"},
    {"id": 4, "category": "music", "amount": 9.99, "status": "paid"},
]


@task(retries=3, retry_delay_seconds=[1, 5, 10], tags=["io"])
def extract(day: str) -> list[dict]:
    logger = get_run_logger()
    logger.info("reading orders for %s", day)
    return [dict(order, day=day) for order in ORDERS]


@task(timeout_seconds=30)
def transform(orders: list[dict]) -> dict:
    revenue: dict[str, float] = {}
    for order in orders:
        if order["status"] == "paid":
            revenue[order["category"]] = round(
                revenue.get(order["category"], 0.0) + order["amount"], 2
            )
    return {"revenue": revenue, "total": round(sum(revenue.values()), 2)}


@task(retries=2, retry_delay_seconds=2)
def load(summary: dict, day: str) -> str:
    path = os.path.join(tempfile.gettempdir(), f"orchmig-sales-{day}.json")
    with open(path, "w") as fh:
        json.dump(summary, fh)
    return path


@flow(
    name="daily-sales-etl",
    description="Revenue per category for one day of orders.",
    retries=1,
    retry_delay_seconds=30,
    timeout_seconds=600,
    log_prints=True,
)
def daily_sales_etl(day: str = "2024-03-01") -> str:
    orders = extract(day)
    path = load(transform(orders), day)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    daily_sales_etl.serve(
        name="daily-sales",
        cron="0 6 * * *",
        parameters={"day": "2024-03-01"},
        tags=["sales", "etl"],
    )
