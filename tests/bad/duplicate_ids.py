from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("duplicated", schedule=None):
    EmptyOperator(task_id="same")
    EmptyOperator(task_id="same")
