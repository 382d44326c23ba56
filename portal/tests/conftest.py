import pytest

from portal.tests.serving import served_database


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """(environment, Client ID, secret): a migrated database with the tenant `edge` for the
    servers that the serving tests start."""
    with served_database(tmp_path_factory.mktemp("served")) as site:
        yield site
