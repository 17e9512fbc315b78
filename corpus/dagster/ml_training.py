# constructs: @graph_asset composed of ops, AssetSelection.keys(...).upstream(), define_asset_job without selection (every asset), @job(partitions_def=) op job, build_schedule_from_partitioned_job(day_of_month, hour_of_day) on an op job, context.partition_key in an op
"""Model training and the monthly archive of training runs."""

import dagster as dg

_EXAMPLES = [({"tenure": t, "tickets": t % 3}, t % 2) for t in range(1, 21)]


@dg.asset(group_name="training")
def labelled_examples() -> list[tuple]:
    return list(_EXAMPLES)


@dg.op
def split_examples(examples: list[tuple]) -> dict:
    cut = int(len(examples) * 0.8)
    return {"train": examples[:cut], "test": examples[cut:]}


@dg.op
def fit_model(split: dict) -> dict:
    positives = sum(label for _, label in split["train"])
    return {"prior": positives / len(split["train"]), "test_size": len(split["test"])}


@dg.graph_asset(
    group_name="training", description="Model fitted on the labelled examples."
)
def trained_model(labelled_examples):
    return fit_model(split_examples(labelled_examples))


@dg.asset(group_name="training")
def model_card(trained_model: dict) -> str:
    return f"prior={trained_model['prior']:.2f} test={trained_model['test_size']}"


training_job = dg.define_asset_job(
    "training_job", selection=dg.AssetSelection.keys("model_card").upstream()
)
everything_job = dg.define_asset_job("everything_job")

monthly = dg.MonthlyPartitionsDefinition(start_date="2024-01-01")


@dg.op
def archive_month(context: dg.OpExecutionContext) -> int:
    context.log.info("archiving training runs of %s", context.partition_key)
    return 42


@dg.op
def vacuum_archive(archived: int) -> None:
    assert archived >= 0


@dg.job(partitions_def=monthly)
def archive_job():
    vacuum_archive(archive_month())


archive_schedule = dg.build_schedule_from_partitioned_job(
    archive_job, day_of_month=3, hour_of_day=1
)

defs = dg.Definitions(
    assets=[labelled_examples, trained_model, model_card],
    jobs=[training_job, everything_job, archive_job],
    schedules=[archive_schedule],
)
