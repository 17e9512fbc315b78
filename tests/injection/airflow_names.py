# Hostile names in an Airflow DAG: every id, tag, owner, description and param carries a line end,
# quotes or a docstring close followed by a call that must never become code in a port.
from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import Param, dag, task


@dag(
    dag_id='evil"""\nimport os; __import__("os").system("touch PWNED")\n"""x',
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    tags=['t"\n__import__("os")'],
    description='d"""\n__import__("os")\n',
    default_args={"owner": 'o\n__import__("os")'},
    doc_md='"""\n__import__("os")\n"""',
    params={"n": Param(1, type="integer"), "ok": 'v"""\n__import__("os")'},
)
def pipeline():
    @task(task_id='t\n__import__("os").system("x")')
    def a(params=None):
        return params["n"]

    @task(task_id="dg")
    def dg():
        return 2

    @task(task_id="flow")
    def flow(x):
        return x

    b = BashOperator(
        task_id='b\r__import__("os")', bash_command='echo "\n__import__(\'os\')" {{ params.n }}'
    )
    flow(a()) >> b
    dg() >> b


pipeline()
