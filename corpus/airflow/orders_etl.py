# constructs: @dag (airflow.sdk) called at module level, nested data edges load(transform(extract())), module-level default_args with owner, "@daily", pendulum tz start_date, per-task retries/retry_delay, outlets Asset, doc_md
"""Daily e-commerce orders ETL.

Pulls the day's raw orders from an in-memory fixture, drops cancelled orders,
computes revenue per product category and publishes the summary as an asset
that downstream reporting DAGs can subscribe to.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, task

ORDERS_SUMMARY = Asset(
    name="orders_summary", uri="file:///tmp/orchmig/orders_summary.json"
)

default_args = {
    "owner": "commerce-data",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2024, 3, 1, tz="Europe/Paris"),
    catchup=False,
    default_args=default_args,
    tags=["commerce", "etl"],
    doc_md=__doc__,
)
def orders_etl():
    @task(retries=3, retry_delay=timedelta(minutes=2))
    def extract() -> list[dict]:
        return [
            {"order_id": 1001, "category": "books", "amount": 24.90, "status": "paid"},
            {"order_id": 1002, "category": "games", "amount": 59.99, "status": "paid"},
            {
                "order_id": 1003,
                "category": "books",
                "amount": 12.50,
                "status": "cancelled",
            },
            {"order_id": 1004, "category": "music", "amount": 9.99, "status": "paid"},
            {"order_id": 1005, "category": "books", "amount": 31.00, "status": "paid"},
        ]

    @task
    def transform(orders: list[dict]) -> dict[str, float]:
        revenue: dict[str, float] = {}
        for order in orders:
            if order["status"] != "paid":
                continue
            revenue[order["category"]] = round(
                revenue.get(order["category"], 0.0) + order["amount"], 2
            )
        return dict(sorted(revenue.items()))

    @task(outlets=[ORDERS_SUMMARY])
    def load(revenue: dict[str, float]) -> None:
        import json
        import os

        os.makedirs("/tmp/orchmig", exist_ok=True)
        with open("/tmp/orchmig/orders_summary.json", "w") as fh:
            json.dump(
                {"revenue": revenue, "total": round(sum(revenue.values()), 2)}, fh
            )
        print(f"published revenue for {len(revenue)} categories")

    load(transform(extract()))


orders_etl_dag = orders_etl()

if __name__ == "__main__":
    orders_etl_dag.test()
