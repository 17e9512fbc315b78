from airflow.sdk import DAG
from acme.operators.rocket import LaunchOperator
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("launch", schedule=None):
    start = EmptyOperator(task_id="start")
    fire = LaunchOperator(task_id="fire", payload="satellite")
    start >> fire
