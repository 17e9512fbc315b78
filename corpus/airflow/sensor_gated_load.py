# constructs: FileSensor/PythonSensor/TimeDeltaSensor with mode="reschedule", poke_interval, timeout; @task.sensor returning PokeReturnValue and bool; with DAG; schedule None
"""Partner-drop load gated by sensors.

A partner drops a CSV into a local landing folder; the load waits for the
file, for the partner's "export finished" status and for a short settling
delay before parsing it. For local runs the drop itself is simulated by the
first task. FileSensor resolves paths against the ``fs_default`` connection,
e.g. ``AIRFLOW_CONN_FS_DEFAULT='{"conn_type": "fs", "extra": {"path": "/"}}'``.
"""

import os
from datetime import datetime, timedelta

from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.providers.standard.sensors.python import PythonSensor
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.sdk import DAG, PokeReturnValue, task

LANDING_DIR = "/tmp/orchmig/partner_landing"
DROP_FILE = os.path.join(LANDING_DIR, "partner_orders.csv")


def partner_export_finished() -> bool:
    status = {"partner": "acme", "export_state": "FINISHED"}
    return status["export_state"] == "FINISHED"


with DAG(
    dag_id="sensor_gated_load",
    schedule=None,
    start_date=datetime(2024, 5, 1),
    catchup=False,
    default_args={"owner": "partner-integrations"},
    tags=["partners", "sensors"],
) as dag:

    @task
    def simulate_partner_drop() -> str:
        os.makedirs(LANDING_DIR, exist_ok=True)
        with open(DROP_FILE, "w") as fh:
            fh.write("order_id,sku,qty\n9001,SKU-1,4\n9002,SKU-7,1\n9003,SKU-1,2\n")
        return DROP_FILE

    wait_for_file = FileSensor(
        task_id="wait_for_file",
        filepath=DROP_FILE,
        mode="reschedule",
        poke_interval=30,
        timeout=60 * 60,
    )
    wait_for_export = PythonSensor(
        task_id="wait_for_export",
        python_callable=partner_export_finished,
        mode="reschedule",
        poke_interval=60,
        timeout=2 * 60 * 60,
    )
    settle = TimeDeltaSensor(
        task_id="settle",
        delta=timedelta(seconds=0),
        mode="reschedule",
        poke_interval=10,
    )

    @task.sensor(poke_interval=20, timeout=600, mode="reschedule")
    def file_is_complete(path: str) -> PokeReturnValue:
        with open(path) as fh:
            lines = fh.read().splitlines()
        return PokeReturnValue(is_done=len(lines) > 1, xcom_value=len(lines) - 1)

    @task.sensor(poke_interval=15, timeout=300)
    def warehouse_accepting_loads() -> bool:
        maintenance_windows = []
        return not maintenance_windows

    @task
    def parse_and_load(row_count: int) -> dict:
        units: dict[str, int] = {}
        with open(DROP_FILE) as fh:
            lines = fh.read().splitlines()[1:]
        if len(lines) != row_count:
            raise ValueError(f"file changed while loading: {len(lines)} != {row_count}")
        for line in lines:
            _, sku, qty = line.split(",")
            units[sku] = units.get(sku, 0) + int(qty)
        print(f"loaded {row_count} rows: {units}")
        return units

    dropped = simulate_partner_drop()
    rows = file_is_complete(dropped)
    dropped >> wait_for_file >> rows
    [wait_for_export, settle, warehouse_accepting_loads()] >> parse_and_load(rows)

if __name__ == "__main__":
    dag.test()
