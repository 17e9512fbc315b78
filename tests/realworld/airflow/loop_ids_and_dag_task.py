"""Idioms seen in public DAGs: task ids built with str.format, % and + over a dict's keys in a loop,
a task declared with @dag.task inside the DAG block, an operator outside it adopted with dag=."""

from airflow.sdk import DAG, task
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.bash import BashOperator

REGIONS = {"eu": 1, "us": 2}

with DAG("ids", schedule=None) as dag:
    start = EmptyOperator(task_id="start")
    for name in REGIONS:
        a = BashOperator(task_id="load_{}".format(name), bash_command="echo 1")
        b = BashOperator(task_id="check_%s" % name, bash_command="echo 2")
        c = EmptyOperator(task_id="done_" + name.upper())
        start >> a >> b >> c

    @dag.task
    def summarize():
        return 1

    s = summarize()
    c >> s

outside = EmptyOperator(task_id="outside", dag=dag)
s >> outside
