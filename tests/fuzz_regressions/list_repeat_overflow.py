from prefect import flow, task
from datetime import timedelta

ITEMS = [1, 2, 3, 4, 5] * 4611686018427387904


@task
def t(x):
    return x


@flow
def f():
    t.map(ITEMS)
