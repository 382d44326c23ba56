import logging
import re
from unittest import mock

from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from kernel.reporting import SecretHidingExceptionReporter, SecretHidingReporterFilter

from .conftest import basic

LEAK = re.compile(r"akps_[0-9A-Za-z]{10}|akpt_|akpr_")
GRANT = {"grant_type": "client_credentials"}


def test_error_paths_log_no_secret_or_token(caplog, client, post_token, emporix, storefront, settings):
    caplog.set_level(logging.DEBUG)
    settings.AUTH_FAILURE_LIMIT_PER_CLIENT = 3
    key, secret = emporix
    post_token({**GRANT, "client_id": key.client_id, "client_secret": secret})  # success
    with mock.patch("oauth.services.grant_scopes", side_effect=RuntimeError("boom")):
        response = post_token({**GRANT, "client_id": key.client_id, "client_secret": secret}, REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 500 and response.json()["error"] == "server_error"
    for _ in range(4):  # wrong secrets, then 429
        post_token({**GRANT, "client_id": key.client_id, "client_secret": secret + "zz"}, REMOTE_ADDR="10.0.0.9")
    post_token({**GRANT, "client_id": key.client_id, "client_secret": secret}, auth=basic(key.client_id, secret))
    post_token(GRANT, auth="Basic " + secret)
    post_token(f"grant_type=client_credentials&client_secret={secret}&client_secret={secret}")
    client.get(f"/oauth/token?client_secret={secret}")
    session = client.get(
        "/customerlogin/auth/anonymous/login", {"tenant": "acme", "client_id": storefront[0].client_id}
    ).json()
    for _ in range(2):  # the second is a 400 with the spent token in the query string
        client.get(
            "/customerlogin/auth/anonymous/refresh",
            {"tenant": "acme", "client_id": storefront[0].client_id, "refresh_token": session["refresh_token"]},
        )
    post_token({"token": session["access_token"]}, url="/oauth/introspect")

    assert any(record.name == "django.request" for record in caplog.records)
    logged = "\n".join(caplog.text.splitlines() + [r.getMessage() for r in caplog.records])
    assert not LEAK.search(logged), logged
    assert secret not in logged


def failure():
    # Raised in a frame without secrets among its locals (the report shows frame locals).
    try:
        raise ValueError("boom")
    except ValueError as error:
        return type(error), error, error.__traceback__


def test_error_reports_hide_the_authorization_header_and_token_parameters(emporix, settings):
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = "kernel.reporting.SecretHidingReporterFilter"
    key, secret = emporix
    request = RequestFactory().post(
        "/customerlogin/auth/anonymous/refresh?refresh_token=akpr_leak&anonymous_token=akpt_leak&tenant=acme",
        {"client_secret": secret, "token": "akpt_body", "grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(key.client_id, secret),
    )
    exc_info = failure()
    for reporter_class in (SecretHidingExceptionReporter,):
        reporter = reporter_class(request, *exc_info)
        assert isinstance(reporter.filter, SecretHidingReporterFilter)
        for text in (reporter.get_traceback_text(), reporter.get_traceback_html()):
            assert not LEAK.search(text)
            assert secret not in text
            assert "acme" in text  # other parameters are still shown
    # Django's stock reporter would show them: the custom one is what settings select.
    assert "akpr_leak" in ExceptionReporter(request, *exc_info).get_traceback_text()
    from django.conf import settings as live

    assert live.DEFAULT_EXCEPTION_REPORTER == "kernel.reporting.SecretHidingExceptionReporter"
