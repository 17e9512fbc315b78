from airflow.sdk import dag, task


@dag
def bare():
    @task
    def extract():
        return 1

    @task
    def load(x):
        print(x)

    load(extract())


bare()
