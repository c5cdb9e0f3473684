from tests.common.broker import broker, dead_broker  # noqa: F401 - fixtures for this folder
