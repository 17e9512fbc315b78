# constructs: a for loop over a flow parameter calling a task with the loop variable (read once as a dynamic loop; ports write it as a mapped call over the parameter), results appended to a list and passed on, task retries
"""Store stock sync.

For each store the flow is given, pulls the stock count from the store's till
system, then writes one line per store into the nightly summary.
"""

from prefect import flow, task


@task(retries=1)
def pull_stock(store: str) -> dict:
    return {"store": store, "units": 10 * len(store)}


@task
def summarise(counts: list[dict]) -> str:
    return "; ".join(f"{c['store']}={c['units']}" for c in counts)


@flow
def store_stock_sync(stores: list[str] = ["leeds", "york", "hull"]) -> str:
    counts = []
    for store in stores:
        counts.append(pull_stock(store))
    return summarise(counts)
