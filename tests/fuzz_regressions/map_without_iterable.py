# fuzz finding (read_bytes): a .map() whose every argument is unmapped gave the Dagster port
# "for item in ]", which does not parse. Prefect itself raises at run time.
from prefect import flow, task, unmapped


@task
def read_series(sensor: str, unit: str) -> dict:
    return {"sensor": sensor, "unit": unit}


@flow
def sensors(unit: str = "celsius") -> list:
    return read_series.map(unit=unmapped(unit))
