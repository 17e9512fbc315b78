from airflow.sdk import dag, task

SOURCE = {"name": "quoting"}


@dag(dag_id=f"{SOURCE["name"]}", schedule=None)
def quoting():
    @task
    def label(row: dict) -> str:
        return f"{row["id"]}"

    @task
    def debug(row: dict) -> str:
        return f"{row=}"

    @task
    def report(row: dict) -> str:
        return f"""{
            row["id"]  # the key, in a comment inside the field
        }"""

    label({"id": 1})
    debug({"id": 2})
    report({"id": 3})


quoting()
