# constructs: import airflow.sdk as af (module alias), for loop over module-level constant list, for loop over literal list, chain(...), cross_downstream(...), "@hourly", PythonOperator op_kwargs
"""Hourly regional sales consolidation.

Each sales region is extracted and loaded by its own pair of tasks generated
from the module-level ``REGIONS`` list; per-channel cleanup tasks come from a
literal list. The regional loads fan into a global consolidation step.
"""

from datetime import datetime

import airflow.sdk as af
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator

REGIONS = ["eu", "us", "apac"]
SALES = {
    "eu": [120.0, 80.5, 42.0],
    "us": [310.0, 95.25],
    "apac": [64.0, 71.5, 18.0, 22.0],
}


def extract_region(region: str) -> list[float]:
    rows = SALES[region]
    print(f"{region}: {len(rows)} sales rows")
    return rows


def load_region(region: str, ti=None) -> float:
    rows = ti.xcom_pull(task_ids=f"extract_{region}")
    total = round(sum(rows), 2)
    print(f"{region}: loaded total {total}")
    return total


def consolidate(ti=None) -> float:
    totals = ti.xcom_pull(task_ids=[f"load_{r}" for r in REGIONS])
    grand_total = round(sum(totals), 2)
    print(f"grand total across {len(REGIONS)} regions: {grand_total}")
    return grand_total


with af.DAG(
    dag_id="regional_sales_loop",
    schedule="@hourly",
    start_date=datetime(2024, 2, 1),
    catchup=False,
    default_args={"owner": "sales-ops"},
    tags=["sales"],
) as dag:
    start = EmptyOperator(task_id="start")
    consolidated = PythonOperator(task_id="consolidate", python_callable=consolidate)
    extracts, loads = [], []
    for region in REGIONS:
        extract = PythonOperator(
            task_id=f"extract_{region}",
            python_callable=extract_region,
            op_kwargs={"region": region},
        )
        load = PythonOperator(
            task_id=f"load_{region}",
            python_callable=load_region,
            op_kwargs={"region": region},
        )
        af.chain(start, extract, load, consolidated)
        extracts.append(extract)
        loads.append(load)

    cleanups = []
    for channel in ["web", "retail", "wholesale"]:
        cleanups.append(EmptyOperator(task_id=f"purge_staging_{channel}"))
    af.cross_downstream(loads, cleanups)

if __name__ == "__main__":
    dag.test()
