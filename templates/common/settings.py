class _Settings:
    """Stands in for a Dagster resource or config class: keyword fields over class defaults."""

    def __init__(self, **fields):
        for name, value in fields.items():
            setattr(self, name, value)
