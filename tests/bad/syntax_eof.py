from prefect import flow


@flow
def unclosed():
    print((1, 2
