from prefect import flow, task
from datetime import timedelta

A = 'x' * 1000
B = A * 1000
C = B * 1000
D = B.replace('x', B)
E = B.join([B, B, B])


@task(name=C)
def t():
    return D


@flow(name=E)
def f():
    t()
