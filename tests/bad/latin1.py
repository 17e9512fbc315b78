from airflow.sdk import dag
# café in latin-1
