# constructs: DynamicOut/DynamicOutput, .map(op), .map(lambda) chaining two ops, .collect(), @graph turned into a job with .to_job(name=, op_retry_policy=, tags=), @sensor(job=) with RunRequest(run_config), fs_io_manager
"""Fan-out over the files of a batch.

The batch lister yields one dynamic output per file; every file is parsed and scored in parallel,
and the scores are collected into one batch summary.
"""

import dagster as dg

BATCH = {"invoices_a.csv": 3, "invoices_b.csv": 5, "invoices_c.csv": 1}


@dg.op(out=dg.DynamicOut(str))
def list_batch_files():
    for name in sorted(BATCH):
        yield dg.DynamicOutput(name, mapping_key=name.replace(".", "_"))


@dg.op
def parse_file(name: str) -> dict:
    return {"name": name, "rows": BATCH[name]}


@dg.op
def score_file(parsed: dict) -> float:
    return parsed["rows"] * 1.5


@dg.op
def count_rows(parsed: dict) -> int:
    return parsed["rows"]


@dg.op
def summarise_batch(context: dg.OpExecutionContext, scores: list) -> dict:
    summary = {"files": len(scores), "score": sum(scores)}
    context.add_output_metadata(summary)
    return summary


@dg.op
def total_rows(counts: list) -> int:
    return sum(counts)


@dg.graph
def batch_fanout():
    files = list_batch_files()
    parsed = files.map(parse_file)
    scores = parsed.map(score_file)
    summarise_batch(scores.collect())
    total_rows(files.map(lambda name: count_rows(parse_file(name))).collect())


batch_job = batch_fanout.to_job(
    name="batch_fanout_job",
    op_retry_policy=dg.RetryPolicy(max_retries=2, delay=1),
    tags={"team": "billing"},
    resource_defs={"io_manager": dg.fs_io_manager},
)


@dg.sensor(job=batch_job, minimum_interval_seconds=300)
def new_batch_sensor(context: dg.SensorEvaluationContext):
    if context.cursor == str(len(BATCH)):
        return dg.SkipReason("batch already processed")
    context.update_cursor(str(len(BATCH)))
    return dg.RunRequest(run_key=f"batch-{len(BATCH)}", run_config={})


defs = dg.Definitions(jobs=[batch_job], sensors=[new_batch_sensor])
