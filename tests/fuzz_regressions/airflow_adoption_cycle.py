# Found by hand (session 9): two operators made outside any DAG whose keywords wire each other
# with >> made the reader adopt them into the DAG in an endless recursion (a stack overflow).
from datetime import datetime
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator

u1 = BashOperator(task_id="a", bash_command="x", params=[u2 >> t])
u2 = BashOperator(task_id="b", bash_command="y", params=[u1 >> t])
with DAG("cyc", start_date=datetime(2024, 1, 1), schedule=None):
    t = EmptyOperator(task_id="t")
    u1 >> t
