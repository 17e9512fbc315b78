from airflow.sdk import *


@dag(schedule="@daily")
def starred():
    @task
    def only():
        return 1

    only()


starred()
