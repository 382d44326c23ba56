import pytest


@pytest.fixture
def client_for(client, reauthenticated):
    """Log a cast member in as a real login would: recently authenticated, so that the actions
    behind accounts.reauth (secrets, key and member changes) run as before. The tests of that
    requirement log in with client.force_login alone (portal/tests/test_reauthentication.py)."""

    def login(user):
        client.force_login(user)
        return reauthenticated(client)

    return login
