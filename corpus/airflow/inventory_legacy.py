# constructs: dag = DAG(...) without context manager + dag=dag, legacy airflow.operators.bash import, timedelta schedule, set_upstream / set_downstream
"""Warehouse inventory snapshot (legacy-style DAG definition).

Every six hours, reads stock levels for three warehouses, flags SKUs below
their reorder point and archives a snapshot line. Written in the older
explicit ``dag=dag`` style without a context manager.
"""

from datetime import datetime, timedelta

from airflow.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

STOCK = {
    "lyon": {"SKU-1": 40, "SKU-2": 3, "SKU-3": 18},
    "lille": {"SKU-1": 5, "SKU-2": 22, "SKU-3": 0},
    "nantes": {"SKU-1": 61, "SKU-2": 14, "SKU-3": 9},
}
REORDER_POINT = {"SKU-1": 10, "SKU-2": 5, "SKU-3": 10}


def read_stock() -> dict:
    totals = {}
    for levels in STOCK.values():
        for sku, qty in levels.items():
            totals[sku] = totals.get(sku, 0) + qty
    return totals


def flag_low_stock() -> list[str]:
    low = []
    for site, levels in sorted(STOCK.items()):
        for sku, qty in sorted(levels.items()):
            if qty < REORDER_POINT[sku]:
                low.append(f"{site}:{sku}")
    print("below reorder point:", low)
    return low


dag = DAG(
    dag_id="inventory_snapshot",
    schedule=timedelta(hours=6),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"owner": "supply-chain"},
    description="Six-hourly stock snapshot with reorder flags",
    tags=["inventory"],
)

begin = EmptyOperator(task_id="begin", dag=dag)
read = PythonOperator(task_id="read_stock", python_callable=read_stock, dag=dag)
flag = PythonOperator(task_id="flag_low_stock", python_callable=flag_low_stock, dag=dag)
archive = BashOperator(
    task_id="archive_snapshot",
    bash_command="echo \"snapshot {{ ts }} low={{ ti.xcom_pull(task_ids='flag_low_stock') }}\"",
    dag=dag,
)

read.set_upstream(begin)
read.set_downstream(flag)
archive.set_upstream(flag)

if __name__ == "__main__":
    dag.test()
