# constructs: task(fn, ...) without decorator syntax, .map() over two literal iterables with an unmapped literal, .map(...).result(), a mapped task fed by a mapped task, a sub-flow with retries fed by mapped results, description from docstrings
"""IoT sensor calibration.

Calibrates raw readings of several sensors against per-sensor offsets, then a
publishing sub-flow aggregates the calibrated series.
"""

from prefect import flow, task, unmapped

SENSORS = ["s-01", "s-02", "s-03"]
OFFSETS = [0.5, -0.25, 0.0]
RAW = {"s-01": [20.0, 20.5], "s-02": [18.25, 18.75], "s-03": [22.0, 21.5]}


def read_series(sensor: str, offset: float, unit: str) -> dict:
    """Raw series of one sensor, with the offset to apply."""
    return {
        "sensor": sensor,
        "offset": offset,
        "unit": unit,
        "values": list(RAW[sensor]),
    }


read_series_task = task(read_series, name="read-series", retries=2)


@task
def calibrate(series: dict) -> dict:
    """Apply the sensor offset."""
    return {
        "sensor": series["sensor"],
        "values": [v + series["offset"] for v in series["values"]],
    }


@task
def aggregate(calibrated: list[dict]) -> dict:
    return {
        c["sensor"]: round(sum(c["values"]) / len(c["values"]), 3) for c in calibrated
    }


@flow(retries=2, retry_delay_seconds=3)
def publish_series(calibrated: list[dict] | None = None) -> dict:
    """Publish the calibrated series."""
    return aggregate(calibrated or [])


@flow
def iot_sensor_pipeline(unit: str = "celsius") -> dict:
    raw = read_series_task.map(SENSORS, OFFSETS, unit=unmapped(unit))
    calibrated = calibrate.map(raw).result()
    return publish_series(calibrated)
