# constructs: async @flow and async @task, await, asyncio.gather over a list comprehension on a literal list (unrolled), async task with timeout_seconds and retries, serve(schedules=[Interval(...)]) with anchor and timezone, a global concurrency limit (async) and a rate limit
"""Competitor price scraper (offline fixture).

Fetches prices for a few products concurrently from an in-memory catalogue and stores
the cheapest offer per product.
"""

import asyncio
from datetime import datetime, timedelta

from prefect import flow, task
from prefect.concurrency.asyncio import concurrency
from prefect.concurrency.sync import rate_limit
from prefect.schedules import Interval

CATALOGUE = {
    "kettle": [("shop-a", 29.9), ("shop-b", 27.5)],
    "toaster": [("shop-a", 45.0), ("shop-c", 39.99)],
    "blender": [("shop-b", 89.0), ("shop-c", 92.5)],
}
PRODUCTS = ["kettle", "toaster", "blender"]


@task(retries=2, retry_delay_seconds=1, timeout_seconds=10)
async def fetch_offers(product: str) -> dict:
    async with concurrency("price-api", occupy=1):
        await asyncio.sleep(0)
    return {"product": product, "offers": list(CATALOGUE[product])}


@task
async def cheapest(offers: list[dict]) -> list[dict]:
    return [
        {"product": o["product"], "shop": min(o["offers"], key=lambda x: x[1])[0]}
        for o in offers
    ]


@task
def store(best: list[dict]) -> dict:
    rate_limit("warehouse-writes")
    return {"stored": len(best)}


@flow(log_prints=True)
async def async_price_scraper() -> dict:
    offers = await asyncio.gather(*[fetch_offers(p) for p in PRODUCTS])
    best = await cheapest(list(offers))
    result = store(best)
    print(result)
    return result


if __name__ == "__main__":
    async_price_scraper.serve(
        name="prices-every-30m",
        schedules=[
            Interval(
                timedelta(minutes=30),
                anchor_date=datetime(2024, 1, 1),
                timezone="Europe/Berlin",
            )
        ],
    )
