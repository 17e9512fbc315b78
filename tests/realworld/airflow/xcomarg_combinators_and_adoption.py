"""Shipment sizing: idioms seen in public DAGs, written for orchmig's real-world checks.

- results of several tasks combined with XComArg.zip() / .concat() feed one mapped task;
- an operator built by a helper before the DAG block and adopted by `>>`;
- an operator factory made with functools.partial.
"""

import functools
from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, task

archive = BashOperator(task_id="archive_manifests", bash_command="echo archived")

quiet_bash = functools.partial(BashOperator, retries=1, do_xcom_push=False)

with DAG(
    dag_id="shipment_sizing",
    start_date=datetime(2025, 3, 1),
    schedule="@daily",
    catchup=False,
) as dag:

    @task
    def parcel_ids() -> list[int]:
        return [101, 102, 103]

    @task
    def depots() -> list[str]:
        return ["north", "south", "east"]

    @task
    def late_parcels() -> list[int]:
        return [99]

    @task
    def size(pair) -> int:
        parcel, depot = pair
        return len(depot) + parcel

    @task
    def recheck(parcel: int) -> int:
        return parcel

    sized = size.expand(pair=parcel_ids().zip(depots()))
    rechecked = recheck.expand(parcel=parcel_ids.override(task_id="ids_again")().concat(late_parcels()))
    notify = quiet_bash(task_id="notify", bash_command="echo sized")

    [sized, rechecked] >> notify >> archive
