from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("dangling", schedule=None):
    start = EmptyOperator(task_id="start")
    start >> finish
