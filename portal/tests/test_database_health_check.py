"""portal/postgresql: persistent connections are health-checked before each request's first
query, with SELECT 1 only when the connection has been quiet for a while or its server has
spoken; a connection the server ended is replaced before the request uses it."""

import time
from unittest import mock

import psycopg
import pytest
from django.db import close_old_connections, connection, connections

from portal.postgresql.base import FULL_CHECK_INTERVAL

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL backend"),
]


def _next_request_query() -> int:
    """What a request does: Django's request_started handler, then a query."""
    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def persistent():
    wrapper = connections["default"]
    saved = dict(wrapper.settings_dict)
    wrapper.settings_dict.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    wrapper.close()
    yield wrapper
    wrapper.close()
    wrapper.settings_dict.update(saved)


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(persistent):
    first = _next_request_query()
    _terminate(first)
    time.sleep(0.2)  # the server's last message reaches the socket
    assert _next_request_query() != first


def test_a_busy_sound_connection_is_checked_without_a_query(persistent):
    first = _next_request_query()
    with mock.patch.object(type(persistent), "is_usable", side_effect=AssertionError("SELECT 1 sent")):
        assert _next_request_query() == first


def test_a_connection_quiet_for_long_gets_select_1(persistent):
    first = _next_request_query()
    persistent._health_checked_at = time.monotonic() - FULL_CHECK_INTERVAL - 1
    with mock.patch.object(type(persistent), "is_usable", autospec=True, return_value=True) as is_usable:
        assert _next_request_query() == first
    assert is_usable.call_count == 1
