"""Daily footfall report: Prefect 3 assets as public examples use them, written for orchmig.

`@materialize` turns a function into a task whose runs materialise the assets it names (by key
string or by an Asset object); the flow calls them like tasks.
"""

from prefect import flow
from prefect.assets import Asset, materialize

counts_asset = Asset(key="file://footfall/counts.json")
report_asset = Asset(key="file://footfall/report.md")


@materialize("file://footfall/raw.csv")
def collect_counts() -> list[int]:
    return [120, 98, 143]


@materialize(counts_asset)
def tidy_counts(raw: list[int]) -> dict[str, int]:
    return {"total": sum(raw), "days": len(raw)}


@materialize(report_asset)
def write_report(tidy: dict[str, int]) -> str:
    return f"{tidy['total']} visitors over {tidy['days']} days"


@flow(log_prints=True)
def footfall_report() -> str:
    raw = collect_counts()
    tidy = tidy_counts(raw)
    return write_report(tidy)
