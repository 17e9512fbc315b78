"""Parcel scanning: op-job bodies as Dagster's own docs write them, written for orchmig's checks.

- a helper function defined inside the job body, applied by `.map()` to dynamic outputs;
- a fan-in: outputs collected into a list with `.append()` in a loop over literal data.
"""

import dagster as dg


@dg.op(out=dg.DynamicOut())
def parcel_batches():
    for batch in ["a", "b", "c"]:
        yield dg.DynamicOutput(batch, mapping_key=batch)


@dg.op
def scan(batch: str) -> str:
    return batch.upper()


@dg.op
def weigh(scanned: str) -> int:
    return len(scanned)


@dg.op
def total_weight(weights: list[int]) -> int:
    return sum(weights)


@dg.job
def scan_parcels():
    def _scan_and_weigh(batch):
        scanned = scan(batch)
        return weigh(scanned)

    weights = parcel_batches().map(_scan_and_weigh)
    total_weight(weights.collect())


@dg.op
def dock_count() -> int:
    return 4


@dg.op
def sum_docks(counts: list[int]) -> int:
    return sum(counts)


@dg.job
def count_docks():
    counts = []
    for dock in ["north", "south", "east"]:
        counts.append(dock_count.alias(f"count_{dock}")())
    sum_docks(counts)


defs = dg.Definitions(jobs=[scan_parcels, count_docks])
