# constructs: .map() over a literal list and over an upstream result, unmapped(...), .submit() futures, .result(), prefect.futures.wait, task_runner=ThreadPoolTaskRunner, to_deployment(...) served with serve(a, b) under __main__, interval= schedule
"""Warehouse stock fan-out.

Counts stock in every warehouse in parallel, prices each count with a shared price list,
and publishes the restock list once every count is in.
"""

from datetime import timedelta

from prefect import flow, serve, task, unmapped
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

WAREHOUSES = ["north", "south", "east"]
STOCK = {
    "north": {"widget": 4, "gadget": 40},
    "south": {"widget": 25, "gadget": 2},
    "east": {"widget": 12, "gadget": 13},
}


@task
def load_price_list() -> dict:
    return {"widget": 2.5, "gadget": 7.0}


@task(retries=2)
def count_stock(warehouse: str) -> dict:
    return {"warehouse": warehouse, "items": dict(STOCK[warehouse])}


@task
def value_stock(count: dict, prices: dict) -> dict:
    value = sum(qty * prices[item] for item, qty in count["items"].items())
    return {
        "warehouse": count["warehouse"],
        "value": round(value, 2),
        "items": count["items"],
    }


@task
def restock_list(valuations: list[dict], threshold: int) -> list[dict]:
    return [
        {"warehouse": v["warehouse"], "item": item}
        for v in valuations
        for item, qty in v["items"].items()
        if qty < threshold
    ]


@task
def publish(orders: list[dict]) -> dict:
    return {"restock_orders": orders, "n": len(orders)}


@flow(task_runner=ThreadPoolTaskRunner(max_workers=4))
def inventory_fanout(threshold: int = 10) -> dict:
    prices = load_price_list.submit()
    counts = count_stock.map(WAREHOUSES)
    valuations = value_stock.map(counts, prices=unmapped(prices))
    wait(valuations)
    orders = restock_list.submit(valuations.result(), threshold)
    return publish(orders.result())


@flow
def price_refresh() -> dict:
    return load_price_list()


if __name__ == "__main__":
    serve(
        inventory_fanout.to_deployment(
            name="inventory-hourly", interval=timedelta(hours=1)
        ),
        price_refresh.to_deployment(
            name="price-refresh", cron="*/15 * * * *", tags=["prices"]
        ),
    )
