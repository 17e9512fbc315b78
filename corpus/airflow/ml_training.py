# constructs: airflow.decorators (Airflow-2 spelling) @dag/@task, @task.virtualenv, @task.branch, "@weekly", trigger_rule none_failed_min_one_success, execution_timeout, pool, priority_weight, queue, retry_exponential_backoff, max_retry_delay, bound variable data edges
"""Weekly demand-forecast model training.

Builds a tiny feature table, fits a least-squares trend line, and only
promotes the model when its error beats the current champion. Feature
engineering runs in an isolated virtualenv so its dependencies can be pinned
separately from the Airflow workers.
"""

from datetime import timedelta

import pendulum
from airflow.decorators import dag, task
from airflow.providers.standard.operators.empty import EmptyOperator

CHAMPION_MAE = 4.0


@dag(
    dag_id="ml_training",
    schedule="@weekly",
    start_date=pendulum.datetime(2024, 1, 7, tz="Europe/Paris"),
    catchup=False,
    default_args={"owner": "ml-platform", "retries": 1},
    description="Weekly retraining of the demand forecast",
    tags=["ml", "forecast"],
)
def ml_training():
    @task.virtualenv(
        requirements=[],
        system_site_packages=False,
        execution_timeout=timedelta(minutes=20),
    )
    def build_features() -> list[list[float]]:
        weekly_units = [120, 132, 128, 141, 150, 149, 163, 170]
        rows = []
        for week, units in enumerate(weekly_units):
            rows.append([float(week), float(units)])
        return rows

    @task(
        pool="default_pool",
        priority_weight=10,
        queue="ml",
        retries=4,
        retry_delay=timedelta(seconds=30),
        retry_exponential_backoff=2.0,
        max_retry_delay=timedelta(minutes=10),
        execution_timeout=timedelta(minutes=30),
    )
    def train(rows: list[list[float]]) -> dict:
        n = len(rows)
        mean_x = sum(r[0] for r in rows) / n
        mean_y = sum(r[1] for r in rows) / n
        slope = sum((r[0] - mean_x) * (r[1] - mean_y) for r in rows) / sum(
            (r[0] - mean_x) ** 2 for r in rows
        )
        intercept = mean_y - slope * mean_x
        mae = sum(abs(r[1] - (intercept + slope * r[0])) for r in rows) / n
        return {
            "slope": round(slope, 3),
            "intercept": round(intercept, 3),
            "mae": round(mae, 3),
        }

    @task.branch
    def compare_to_champion(model: dict) -> str:
        return "promote_model" if model["mae"] < CHAMPION_MAE else "keep_champion"

    @task
    def promote_model(model: dict) -> None:
        print(f"promoting model slope={model['slope']} mae={model['mae']}")

    keep = EmptyOperator(task_id="keep_champion")
    notify = EmptyOperator(
        task_id="notify_ml_team", trigger_rule="none_failed_min_one_success"
    )

    features = build_features()
    model = train(features)
    decision = compare_to_champion(model)
    promoted = promote_model(model)
    decision >> [promoted, keep]
    [promoted, keep] >> notify


ml_training_dag = ml_training()

if __name__ == "__main__":
    ml_training_dag.test()
