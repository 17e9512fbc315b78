# constructs: @dag with timedelta(minutes=15) schedule, .expand over upstream XCom, multiple_outputs=True, fan-in of mapped results, @task options (retries, execution_timeout, priority_weight), PythonSensor returning True, outlets Asset
"""Quarter-hourly IoT telemetry roll-up.

Reads the latest readings of a fleet of cold-storage sensors, checks each
device in parallel (mapped over the upstream device list) and raises a
maintenance ticket for devices that drifted above the safe temperature.
"""

from datetime import datetime, timedelta

from airflow.providers.standard.sensors.python import PythonSensor
from airflow.sdk import Asset, dag, task

READINGS = {
    "fridge-01": [3.1, 3.4, 3.2],
    "fridge-02": [4.8, 6.2, 7.1],
    "freezer-01": [-18.2, -18.0, -17.9],
}
SAFE_MAX = {"fridge": 5.0, "freezer": -15.0}
DEVICE_HEALTH = Asset(
    name="device_health", uri="file:///tmp/orchmig/device_health.json"
)


def gateway_online() -> bool:
    heartbeat_age_seconds = 12
    return heartbeat_age_seconds < 120


@dag(
    schedule=timedelta(minutes=15),
    start_date=datetime(2024, 8, 1),
    catchup=False,
    default_args={"owner": "facilities", "retries": 1},
    tags=["iot"],
)
def iot_telemetry_rollup():
    gateway = PythonSensor(
        task_id="gateway_online",
        python_callable=gateway_online,
        poke_interval=30,
        timeout=300,
    )

    @task
    def list_devices() -> list[str]:
        return sorted(READINGS)

    @task(retries=2, execution_timeout=timedelta(minutes=2), priority_weight=5)
    def check_device(device: str) -> dict:
        kind = device.split("-")[0]
        peak = max(READINGS[device])
        return {"device": device, "peak": peak, "drifted": peak > SAFE_MAX[kind]}

    @task(multiple_outputs=True, outlets=[DEVICE_HEALTH])
    def summarize(checks) -> dict:
        checks = list(checks)
        drifted = sorted(c["device"] for c in checks if c["drifted"])
        return {"drifted": drifted, "healthy_count": len(checks) - len(drifted)}

    @task
    def open_tickets(drifted: list[str]) -> int:
        for device in drifted:
            print(f"maintenance ticket opened for {device}")
        return len(drifted)

    devices = list_devices()
    gateway >> devices
    summary = summarize(check_device.expand(device=devices))
    open_tickets(summary["drifted"])


iot_telemetry_rollup_dag = iot_telemetry_rollup()

if __name__ == "__main__":
    iot_telemetry_rollup_dag.test()
