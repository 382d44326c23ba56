import base64

import pytest

from .conftest import TOKEN_URL, basic

GRANT = {"grant_type": "client_credentials"}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + b64(b"no-colon-here"),
        "Basic not*base64!",
        "Basic " + b64(b"\xff\xfe:\xfa\xfb"),
        "Basic " + b64(b":only-a-secret"),
        "Basic " + b64(b"only-an-id:"),
        "Basic " + b64(b"%ZZ%ff:secret"),
        "Basic ",
        "Basic",
        "Bearer abc",
        "",
        "Basic " + b64(b"\x00\x00:\x00"),
    ],
    ids=[
        "no-colon",
        "bad-base64",
        "non-utf8",
        "empty-id",
        "empty-secret",
        "bad-percent",
        "empty",
        "bare",
        "bearer",
        "blank",
        "nul",
    ],
)
def test_malformed_basic_headers_are_invalid_client(post_token, emporix, header):
    response = post_token(GRANT, auth=header)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"] == 'Basic realm="API Key Portal"'


def test_both_methods_at_once_is_invalid_request(post_token, emporix):
    key, secret = emporix
    response = post_token(
        {**GRANT, "client_id": key.client_id, "client_secret": secret}, auth=basic(key.client_id, secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_credentials_in_the_query_string_are_invalid_request(client, emporix):
    key, secret = emporix
    response = client.post(
        f"{TOKEN_URL}?client_id={key.client_id}&client_secret={secret}",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_repeated_parameter_is_invalid_request(post_token, emporix):
    key, secret = emporix
    body = f"grant_type=client_credentials&client_id={key.client_id}&client_secret={secret}&client_secret=x"
    response = post_token(body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_json_body_is_invalid_request(client, emporix):
    key, secret = emporix
    response = client.post(
        TOKEN_URL,
        {**GRANT, "client_id": key.client_id, "client_secret": secret},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_multipart_body_is_invalid_request(client, emporix):
    key, secret = emporix
    response = client.post(TOKEN_URL, {**GRANT, "client_id": key.client_id, "client_secret": secret})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_missing_grant_type_is_invalid_request(post_token, emporix):
    key, secret = emporix
    response = post_token({"client_id": key.client_id, "client_secret": secret})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("grant", ["password", "authorization_code", "refresh_token", "x"])
def test_other_grant_types_are_unsupported(post_token, emporix, grant):
    key, secret = emporix
    response = post_token({"grant_type": grant, "client_id": key.client_id, "client_secret": secret})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_get_405_with_json(client, db, method):
    response = getattr(client, method)(TOKEN_URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response["Cache-Control"] == "no-store"
    assert response.json()["error"] == "invalid_request"


def test_no_credentials_is_invalid_client(post_token, db):
    response = post_token(GRANT)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "client_id",
    ["x" * 5000, "abc\x00def", "é" * 32, "' OR 1=1 --"],
)
def test_strange_client_ids_are_invalid_client(post_token, db, client_id):
    response = post_token({**GRANT, "client_id": client_id, "client_secret": "akps_whatever"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_non_utf8_form_bytes_do_not_500(post_token, db):
    response = post_token(b"grant_type=client_credentials&client_id=%ff%fe&client_secret=%00%ff")
    assert response.status_code == 401


def test_too_many_fields_is_invalid_request(post_token, db):
    body = "grant_type=client_credentials&" + "&".join(f"f{number}=x" for number in range(1200))
    response = post_token(body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_too_big_body_is_invalid_request(post_token, db):
    response = post_token("grant_type=client_credentials&pad=" + "x" * (3 * 1024 * 1024))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/oauth/token/", "/oauth/introspect/", "/oauth/revoke/"])
def test_a_trailing_slash_reaches_the_same_endpoint(client, path):
    response = client.post(path, "grant_type=client_credentials", content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 401)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "error" in response.json()
