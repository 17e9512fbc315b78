"""Warehouse restock: task-group handles as public DAGs use them, written for orchmig's checks.

- a @task_group function that returns its tasks, and `.task_group` / `.parent_group` on them;
- groups made in a loop, kept in a list, wired by index.
"""

from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import dag, task_group


@dag(start_date=datetime(2025, 5, 1), schedule="@weekly", catchup=False)
def warehouse_restock():
    begin = EmptyOperator(task_id="begin")
    close = EmptyOperator(task_id="close")

    @task_group
    def count_stock():
        shelves = EmptyOperator(task_id="shelves")
        cold_room = EmptyOperator(task_id="cold_room")
        audit = EmptyOperator(task_id="audit")
        shelves >> audit
        return [shelves, cold_room, audit]

    @task_group
    def reorder():
        notify = EmptyOperator(task_id="notify")

        @task_group
        def suppliers():
            quote = EmptyOperator(task_id="quote")
            order = EmptyOperator(task_id="order")
            quote >> order
            return [quote, order]

        picked = suppliers()
        picked[-1].task_group >> notify
        return picked

    counted = count_stock()
    ordered = reorder()
    begin >> counted[0].task_group >> ordered[0].task_group.parent_group >> close
    counted[1] >> ordered[1]

    zones = []
    for zone in ["north", "south"]:

        @task_group(group_id=f"label_{zone}")
        def label():
            print_tags = EmptyOperator(task_id="print_tags")
            stick = EmptyOperator(task_id="stick")
            print_tags >> stick

        zones.append(label())

    close >> zones[0]
    zones[0] >> zones[1]


warehouse_restock()
