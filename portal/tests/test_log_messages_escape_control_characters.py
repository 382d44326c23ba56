"""The portal's own log lines (settings.LOGGING's formatter) escape control characters that a
request put into a message, so a path cannot forge a line; a traceback keeps its lines."""

import logging
import sys

from django.conf import settings

from kernel.logescape import escape_controls
from kernel.logs import PlainFormatter


def test_settings_use_the_escaping_formatter():
    assert settings.LOGGING["formatters"]["plain"]["()"] == "kernel.logs.PlainFormatter"


def test_a_message_with_cr_lf_and_esc_stays_one_line():
    formatter = PlainFormatter()
    record = logging.LogRecord(
        "oauth.views", logging.ERROR, __file__, 1, "Error on %s", ("/a\r\nINFO forged\x1b[2J",), None
    )
    line = formatter.format(record)
    assert "\n" not in line and "\r" not in line
    assert line.endswith("ERROR oauth.views [-] Error on /a\\r\\nINFO forged\\x1b[2J")


def test_a_traceback_keeps_its_lines():
    formatter = PlainFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed on %s", ("/a\n",), sys.exc_info())
    text = formatter.format(record)
    assert "failed on /a\\n\nTraceback (most recent call last):\n" in text
    assert text.endswith("ValueError: boom")


def test_escape_controls_keeps_other_text():
    assert escape_controls("Müller – /tenants/acme\u2028\x85\x7f") == "Müller – /tenants/acme\\u2028\\x85\\x7f"
