from prefect import flow, task
from datetime import timedelta

GRID = [[y for y in range(100000)] for x in range(100000)]


@task
def t(x):
    return x


@flow
def f():
    t.map(GRID)
