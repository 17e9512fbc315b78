# constructs: cache_policy=INPUTS + TASK_SOURCE, cache_expiration, cache_key_fn=task_input_hash, persist_result, task_run_name, retry_delay_seconds=exponential_backoff(backoff_factor=...), retry_jitter_factor, refresh_cache, Flow.from_source(...).deploy(...) under __main__ with schedules=[Cron(...)]
"""Weekly model retraining.

Loads a small feature table, fits a one-parameter linear model by least squares,
evaluates it and registers it when it beats the current score.
"""

from datetime import timedelta

from prefect import flow, task
from prefect.cache_policies import INPUTS, TASK_SOURCE
from prefect.schedules import Cron
from prefect.tasks import exponential_backoff, task_input_hash

FEATURES = [(1.0, 2.1), (2.0, 3.9), (3.0, 6.2), (4.0, 7.8), (5.0, 10.1)]


@task(
    cache_policy=INPUTS + TASK_SOURCE,
    cache_expiration=timedelta(hours=12),
    persist_result=True,
)
def load_features(version: str) -> list[list[float]]:
    return [[x, y] for x, y in FEATURES]


@task(
    retries=3,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_jitter_factor=0.5,
    task_run_name="fit-{learning_rate}",
)
def fit(rows: list[list[float]], learning_rate: float) -> dict:
    num = sum(x * y for x, y in rows)
    den = sum(x * x for x, _ in rows)
    return {"slope": round(num / den, 4), "learning_rate": learning_rate}


@task(cache_key_fn=task_input_hash, refresh_cache=True)
def evaluate(model: dict, rows: list[list[float]]) -> dict:
    err = sum((model["slope"] * x - y) ** 2 for x, y in rows) / len(rows)
    return {"mse": round(err, 4), "model": model}


@task
def register(evaluation: dict, baseline: float) -> dict:
    return {"registered": evaluation["mse"] < baseline, "mse": evaluation["mse"]}


@flow(name="ml-retrain", persist_result=False)
def ml_retrain(
    feature_version: str = "v3", learning_rate: float = 0.05, baseline: float = 1.0
) -> dict:
    rows = load_features(feature_version)
    model = fit(rows, learning_rate)
    scores = evaluate(model, rows)
    return register(scores, baseline)


if __name__ == "__main__":
    ml_retrain.from_source(
        source="https://github.com/example/ml-pipelines.git",
        entrypoint="corpus/prefect/ml_retrain.py:ml_retrain",
    ).deploy(
        name="weekly-retrain",
        work_pool_name="k8s-gpu",
        schedules=[Cron("0 3 * * 1", timezone="America/New_York")],
        parameters={"feature_version": "v3"},
    )
