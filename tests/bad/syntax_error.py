from airflow.sdk import dag, task


@dag(schedule=None)
def broken():
    @task
    def extract(:
        return 1
