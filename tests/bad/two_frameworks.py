import dagster as dg
from prefect import flow, task


@dg.asset
def table():
    return 1


@task
def step():
    return 2


@flow
def both():
    step()
