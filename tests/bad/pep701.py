from airflow.sdk import dag, task


@dag(schedule=None)
def quoting():
    @task
    def label(row: dict) -> str:
        return f"{row["id"]}"

    label({"id": 1})


quoting()
