# Task ids Airflow accepts that are keywords, builtins, reserved names of another framework, the
# names of the targets' imports, or too long for a Dagster name; the DAG is named like a task.
from datetime import datetime

from airflow.sdk import dag, task


@task(task_id="1st")
def t0():
    return 0


@task(task_id="class")
def t1():
    return 1


@task(task_id="None")
def t2():
    return 2


@task(task_id="match")
def t3():
    return 3


@task(task_id="_")
def t4():
    return 4


@task(task_id="__init__")
def t5():
    return 5


@task(task_id="a.b")
def t6():
    return 6


@task(task_id="---")
def t7():
    return 7


@task(task_id="é")
def t8():
    return 8


@task(task_id="type")
def t9():
    return 9


@task(task_id="config")
def t10():
    return 10


@task(task_id="context")
def t11():
    return 11


@task(task_id="input")
def t12():
    return 12


@task(
    task_id="xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
)
def t13():
    return 13


@task(task_id="print")
def t14():
    return 14


@task(task_id="lambda")
def t15():
    return 15


@task(task_id="dg")
def t16():
    return 16


@task(task_id="flow")
def t17():
    return 17


@task(task_id="task")
def t18():
    return 18


@task(task_id="defs")
def t19():
    return 19


@task(task_id="sys")
def t20():
    return 20


@dag(dag_id="class", schedule=None, start_date=datetime(2024, 1, 1))
def class_dag():
    t0()
    t1()
    t2()
    t3()
    t4()
    t5()
    t6()
    t7()
    t8()
    t9()
    t10()
    t11()
    t12()
    t13()
    t14()
    t15()
    t16()
    t17()
    t18()
    t19()
    t20()


class_dag()
