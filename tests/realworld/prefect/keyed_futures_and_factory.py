"""Idioms seen in public flows: futures kept in a dict filled in a loop, read back by key with
.result() and passed to wait_for; a task made by a factory function and bound to a name."""

from prefect import flow, task


def make_transform(name):
    @task(name=f"transform_{name}")
    def transform(rows):
        return [r * 2 for r in rows]

    return transform


clean = make_transform("clean")


@task(retries=2)
def extract(source: str) -> list[int]:
    return [1, 2, 3] if source == "crm" else [4]


@task
def validate(rows: list[int]) -> bool:
    return bool(rows)


@task
def load(rows: list[int]) -> int:
    return len(rows)


@flow(name="keyed-etl")
def keyed_etl():
    futures = {}
    for source in ["crm", "erp"]:
        futures[source] = extract.submit(source)
    validate(futures["crm"].result())
    rows = clean(futures["crm"].result())
    return load(rows, wait_for=[futures["erp"]])
