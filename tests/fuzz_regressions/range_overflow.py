from prefect import flow, task
from datetime import timedelta

R = range(-9223372036854775807, 9223372036854775807)
S = range(9223372036854775800, 9223372036854775807, 5)


@task
def t(x):
    return x


@flow
def f():
    t.map(S)
