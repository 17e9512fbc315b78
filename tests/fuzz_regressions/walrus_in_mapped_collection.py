# fuzz finding (port_estate): a collection mapped over with an assignment expression in it
# became a comprehension's iterable in the Dagster port, which CPython refuses to compile.
from prefect import flow, task


@task
def double(x: int) -> int:
    return 2 * x


@flow
def doubling():
    double.map([(base := 3), base + 1])
