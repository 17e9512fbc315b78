# constructs: TaskGroup context manager, nested TaskGroups (outer.inner.task ids), @task_group decorator, task >> group >> group and @task_group result (TaskGroup) >> task wiring, loop over literal list inside a group, cron schedule
"""Nightly warehouse refresh organised in task groups.

Staging tables are loaded inside a ``load`` group (one task per table from a
literal list), dimensions and facts are built in nested groups, and a
``@task_group`` encapsulates the data-quality checks run at the end.
"""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup, task, task_group

ROW_COUNTS = {"customers": 4, "products": 7, "orders": 19}

with DAG(
    dag_id="warehouse_groups",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Paris"),
    catchup=False,
    default_args={"owner": "data-platform"},
    tags=["warehouse"],
) as dag:
    start = EmptyOperator(task_id="start")

    with TaskGroup("load") as load_group:
        for table in ["customers", "products", "orders"]:
            BashOperator(
                task_id=f"stage_{table}",
                bash_command=f"echo staging {table} for {{{{ ds }}}}",
            )

    with TaskGroup("model") as model_group:
        with TaskGroup("dimensions"):

            @task
            def build_dim_customer() -> int:
                return ROW_COUNTS["customers"]

            @task
            def build_dim_product() -> int:
                return ROW_COUNTS["products"]

            dim_counts = [build_dim_customer(), build_dim_product()]

        with TaskGroup("facts"):

            @task
            def build_fact_orders(dim_rows: list[int]) -> int:
                assert all(n > 0 for n in dim_rows), "empty dimension"
                return ROW_COUNTS["orders"]

            fact_rows = build_fact_orders(dim_counts)

    @task_group(group_id="quality")
    def quality_checks(row_count):
        @task
        def not_empty(n: int) -> int:
            if n == 0:
                raise ValueError("fact table is empty")
            return n

        @task
        def within_expected_range(n: int) -> bool:
            return 1 <= n <= 10_000

        # no return value: calling the group yields the TaskGroup itself, wired below as `group >> task`
        within_expected_range(not_empty(row_count))

    publish = EmptyOperator(task_id="publish")

    start >> load_group >> model_group
    quality_group = quality_checks(fact_rows)
    quality_group >> publish

if __name__ == "__main__":
    dag.test()
