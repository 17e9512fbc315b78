# constructs: @op with ins=In/out=Out, multiple outputs out={...} unpacked, op retry_policy (Backoff.LINEAR), op tags, op called twice (pack_orders, pack_orders_2), .alias(), nested @graph, @job(op_retry_policy, tags, description), ScheduleDefinition on an op job, config_schema
"""Order fulfilment as an op job.

Orders are split into domestic and international shipments, each shipment list is packed by the
same op, the international one also goes through the customs graph, and a final op books the
carrier pick-ups.
"""

import dagster as dg

_ORDERS = [
    {"id": 1, "country": "FR", "items": 2},
    {"id": 2, "country": "US", "items": 1},
    {"id": 3, "country": "FR", "items": 5},
]


@dg.op(
    out=dg.Out(list, description="Open orders waiting for fulfilment."),
    tags={"kind": "extract"},
    retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.LINEAR),
)
def fetch_open_orders() -> list:
    return list(_ORDERS)


@dg.op(
    ins={"orders": dg.In(list)},
    out={"domestic": dg.Out(list), "international": dg.Out(list)},
    config_schema={"home_country": str},
)
def split_by_destination(context: dg.OpExecutionContext, orders: list):
    home = context.op_config["home_country"]
    domestic = [o for o in orders if o["country"] == home]
    international = [o for o in orders if o["country"] != home]
    return domestic, international


@dg.op
def pack_orders(orders: list) -> list:
    return [dict(o, boxes=(o["items"] + 2) // 3) for o in orders]


@dg.op
def declare_contents(parcels: list) -> list:
    return [dict(p, declaration=f"{p['items']} items") for p in parcels]


@dg.op
def assign_tariff_codes(parcels: list) -> list:
    return [dict(p, tariff="9503.00") for p in parcels]


@dg.graph
def customs_clearance(parcels):
    """Customs paperwork for parcels leaving the country."""
    return assign_tariff_codes(declare_contents(parcels))


@dg.op(retry_policy=dg.RetryPolicy(max_retries=4, delay=30))
def book_pickups(
    context: dg.OpExecutionContext, domestic: list, international: list
) -> int:
    booked = len(domestic) + len(international)
    context.log.info("booked %d pick-ups", booked)
    return booked


@dg.job(
    description="Split, pack and ship the open orders.",
    tags={"team": "logistics"},
    op_retry_policy=dg.RetryPolicy(max_retries=1),
    config={"ops": {"split_by_destination": {"config": {"home_country": "FR"}}}},
)
def fulfilment_job():
    domestic, international = split_by_destination(fetch_open_orders())
    packed_home = pack_orders(domestic)
    packed_abroad = pack_orders(international)
    cleared = customs_clearance(packed_abroad)
    book_pickups.alias("book_carrier_pickups")(packed_home, cleared)


fulfilment_schedule = dg.ScheduleDefinition(
    job=fulfilment_job, cron_schedule="0 */4 * * *", execution_timezone="Europe/Paris"
)

defs = dg.Definitions(jobs=[fulfilment_job], schedules=[fulfilment_schedule])
