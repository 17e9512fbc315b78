# constructs: AssetSpec external assets, key_prefix, key=[...] paths, deps=[str, AssetKey, AssetSpec, asset], ins/AssetIn(key=), @asset_check(blocking, description) with AssetCheckResult severity WARN + metadata, AssetSelection.key_prefixes | keys, ScheduleDefinition(cron, execution_timezone, job)
"""Warehouse stock levels.

The ERP export and the supplier price list land outside Dagster (external assets). Stock
positions are computed per warehouse and checked before the replenishment plan is built.
"""

import dagster as dg

erp_export = dg.AssetSpec(
    key=dg.AssetKey(["erp", "stock_export"]),
    group_name="sources",
    description="Nightly ERP stock export, dropped by the ERP team.",
    owners=["team:erp"],
)
supplier_prices = dg.AssetSpec("supplier_prices", group_name="sources", kinds={"csv"})

_STOCK = {"north": {"widget": 40, "gadget": 0}, "south": {"widget": 12, "gadget": 7}}


@dg.asset(
    key_prefix=["warehouse"],
    group_name="inventory",
    deps=[erp_export],
    kinds={"python"},
)
def stock_levels() -> dict:
    """Units on hand per warehouse and product."""
    return {wh: dict(items) for wh, items in _STOCK.items()}


@dg.asset(
    key=["warehouse", "stock_value"],
    group_name="inventory",
    ins={"stock": dg.AssetIn(key=["warehouse", "stock_levels"])},
    deps=["supplier_prices"],
)
def stock_value(stock: dict) -> dict:
    prices = {"widget": 2.5, "gadget": 11.0}
    return {
        wh: sum(prices[p] * n for p, n in items.items()) for wh, items in stock.items()
    }


@dg.asset(
    key_prefix="planning",
    group_name="inventory",
    ins={"stock_levels": dg.AssetIn(key_prefix="warehouse")},
    deps=[dg.AssetKey(["warehouse", "stock_value"]), supplier_prices],
)
def replenishment_plan(stock_levels: dict) -> list[dict]:
    return [
        {"warehouse": wh, "product": product, "order": 50 - units}
        for wh, items in stock_levels.items()
        for product, units in items.items()
        if units < 10
    ]


@dg.asset_check(
    asset=stock_levels,
    blocking=True,
    description="No warehouse reports negative stock.",
)
def no_negative_stock(stock_levels: dict) -> dg.AssetCheckResult:
    negative = [wh for wh, items in stock_levels.items() if min(items.values()) < 0]
    return dg.AssetCheckResult(
        passed=not negative, metadata={"warehouses": len(stock_levels)}
    )


@dg.asset_check(
    asset=dg.AssetKey(["planning", "replenishment_plan"]), name="plan_not_huge"
)
def plan_size(replenishment_plan: list[dict]) -> dg.AssetCheckResult:
    """Warn when the plan orders an unusual number of lines."""
    return dg.AssetCheckResult(
        passed=len(replenishment_plan) < 20,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"lines": len(replenishment_plan)},
    )


inventory_job = dg.define_asset_job(
    name="inventory_refresh",
    selection=dg.AssetSelection.key_prefixes("warehouse")
    | dg.AssetSelection.keys("planning/replenishment_plan"),
)

inventory_schedule = dg.ScheduleDefinition(
    name="inventory_nightly",
    cron_schedule="15 2 * * *",
    execution_timezone="America/Chicago",
    job=inventory_job,
)

defs = dg.Definitions(
    assets=[erp_export, supplier_prices, stock_levels, stock_value, replenishment_plan],
    asset_checks=[no_negative_stock, plan_size],
    jobs=[inventory_job],
    schedules=[inventory_schedule],
    resources={
        "io_manager": dg.FilesystemIOManager(base_dir="/tmp/orchmig/dagster/warehouse")
    },
)
