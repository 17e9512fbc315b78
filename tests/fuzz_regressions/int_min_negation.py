from prefect import flow, task
from datetime import timedelta

LOW = -9223372036854775807 - 1
HIGH = -LOW
DIV = LOW // -1
MOD = LOW % -1


@task(retries=HIGH)
def t():
    return DIV


@flow
def f():
    t()
