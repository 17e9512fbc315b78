# Hostile names in a Dagster module: asset, group, owner, tag, metadata, check, job and schedule
# names that try to close a string or docstring, and assets named like the targets' imports.
import dagster as dg


@dg.asset(
    name='raw"\n__import__("os")',
    description='d"""\n__import__("os")\n"""',
    group_name='g"\n__import__("os")',
    owners=['team:o"""\n__import__("os")'],
    metadata={'m"""': '__import__("os")'},
)
def raw():
    return 1


@dg.asset
def flow(raw):
    return raw


@dg.asset(deps=[flow])
def task():
    pass


@dg.asset_check(asset=raw, description='c"""\n__import__("os")')
def raw_check(raw):
    return dg.AssetCheckResult(passed=True)


job = dg.define_asset_job(
    name='job"""\n__import__("os")',
    selection=[raw, flow, task],
    description='jd"""\n__import__("os")',
    tags={'t"""': '__import__("os")'},
)
sched = dg.ScheduleDefinition(name='s"""\n__import__("os")', job=job, cron_schedule="0 1 * * *")
defs = dg.Definitions(assets=[raw, flow, task], asset_checks=[raw_check], jobs=[job], schedules=[sched])
