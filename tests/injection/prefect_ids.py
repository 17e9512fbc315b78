# Prefect task and flow names that no Airflow or Dagster key allows as they are: spaces, slashes,
# punctuation, keywords, reserved names and a name longer than Airflow's 250 characters.
from prefect import flow, task


@task(name="1st step")
def t0():
    return 0


@task(name="class")
def t1():
    return 1


@task(name="type")
def t2():
    return 2


@task(
    name="xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
)
def t3():
    return 3


@task(name="a/b")
def t4():
    return 4


@task(name="with space")
def t5():
    return 5


@task(name="dg")
def t6():
    return 6


@task(name="DAG")
def t7():
    return 7


@task(name="é!")
def t8():
    return 8


@flow(name="nightly run: v2")
def nightly():
    t0()
    t1()
    t2()
    t3()
    t4()
    t5()
    t6()
    t7()
    t8()
