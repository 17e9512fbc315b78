from prefect import flow, task


@task
def fetch():
    return [1, 2, 3]


@flow
def nightly():
    fetch()


if __name__ != "__main__":
    return
nightly()
