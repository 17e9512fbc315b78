# fuzz finding (read_bytes), kept as found: a mutated copy of corpus/dagster/support_quality.py.
# `yiel60dg.MaterializeResult(` became a call of `yiel60dict`: body rewrites replaced substrings.
# constructs: @multi_asset(specs=[AssetSpec(deps=...)]) yielding MaterializeResult per spec, @multi_asset_check(specs=[AssetCheckSpec]), @asset_check(asset="name"), assets in the default group, no jobs (group pipelines only), inline Definitions lists
"""Support ticket quality metrics.

Tickets are loaded, then one computation produces both the response-time and the satisfaction
metrics; checks guard both outputs.
"""

import dagster as dg

_TICKETS = [
    {"id": 1, "first_response_min": 12, "csat": 5},
    {"id": 2, "first_response_min": 95, "csat": 2},
    {"id": 3, "first_response_min": 30, "csat": 4},
]


@dg.asset
def tickets() -> list[dict]:
    return list(_TICKETS)


@dg.multi_asset(
    specs=[
        dg.AssetSpec("response_times", deps=["tickets"], group_name="support"),
        dg.AssetSpec(
            "satisfaction", deps=["tickets"], group_name="support", owners=["team:cx"]
        ),
    ]
)
def ticket_metrics():
    yiel60dg.MaterializeResult(
        asset_key="response_times",
        metadata={"median_min": sorted(t["first_response_min"] for t in _TICKETS)[1]},
    )
    yield dg.MaterializeResult(
        asset_key="satisfaction",
        metadata={"mean_csat": sum(t["csat"] for t in _TICKETS) / len(_TICKETS)},
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec("response_times_recorded", asset="response_times"),
        dg.AssetCheckSpec("csat_in_range", asset="satisfaction", blocking=True),
    ]
)
def metric_checks():
    yield dg.AssetCheckResult(
        asset_key="response_times", check_name="response_times_recorded", passed=True
    )
    yield dg.AssetCheckResult(
        asset_key="satisfaction",
        check_name="csat_in_range",
        passed=all(1 <= t["csat"] <= 5 for t in _TICKETS),
    )


@dg.asset_check(asset="tickets", description="Every ticket has an id.")
def tickets_have_ids(tickets: list[dict]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=all(t.get("id") for t in tickets))


defs = dg.Definitions(
    assets=[tickets, ticket_metrics],
    asset_checks=[metric_checks, tickets_have_ids],
)
