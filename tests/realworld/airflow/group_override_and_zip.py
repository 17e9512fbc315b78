"""Idioms seen in public DAGs: a helper that returns an operator, a task group function renamed with
.override(group_id=...) in a list comprehension, functools.partial over an operator, and a loop
over zip() of two lists of tasks wiring each pair."""

from functools import partial
from airflow.sdk import DAG, task, task_group
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.bash import BashOperator

SOURCES = ["crm", "erp"]


def make_load(source, dag):
    return BashOperator(task_id=f"load_{source}", bash_command=f"echo {source}", dag=dag)


@task_group
def process(source: str):
    @task
    def clean(s):
        return s

    @task
    def publish(s):
        return s

    return publish(clean(source))


echo = partial(BashOperator, bash_command="echo hi")

with DAG("grouped", schedule="@daily") as dag:
    begin = EmptyOperator(task_id="begin")
    groups = [process.override(group_id=f"process_{s}")(s) for s in SOURCES]
    loads = [make_load(s, dag) for s in SOURCES]
    ping = echo(task_id="ping")
    begin >> groups
    for g, l in zip(groups, loads):
        g >> l
    loads >> ping
