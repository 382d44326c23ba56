"""Issuing a JWT writes no token row: one query (the client's authentication), the signing key
held in process memory. Which keys issue JWTs: a custom key's choice, else the deployment's."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from apikeys.models import ApiKey, TokenFormat
from oauth.bearer import MAX_TOKEN_LENGTH, bearer_token_from, bearer_verify
from oauth.models import AccessToken, SigningKey, SigningKeyState

GRANT = {"grant_type": "client_credentials"}


def credentials(key, secret):
    return {**GRANT, "client_id": key.client_id, "client_secret": secret}


def test_a_jwt_key_issues_without_a_token_row_in_one_query(post_token, jwt_custom, django_assert_num_queries):
    key, secret = jwt_custom
    first = post_token(credentials(key, secret))  # creates the signing key, records the last use
    assert first.status_code == 200
    with django_assert_num_queries(1):  # the authentication query, nothing else
        response = post_token(credentials(key, secret))
    assert response.status_code == 200
    assert response.json()["access_token"].startswith("eyJ")
    assert response.json()["expires_in"] == 300
    assert AccessToken.objects.count() == 0


def test_an_opaque_key_still_writes_its_row(post_token, custom):
    key, secret = custom
    response = post_token(credentials(key, secret))
    assert response.json()["access_token"].startswith("akpt_")
    assert AccessToken.objects.count() == 1


def test_the_first_jwt_creates_the_active_signing_key(post_token, jwt_custom):
    assert not SigningKey.objects.exists()
    key, secret = jwt_custom
    post_token(credentials(key, secret))
    post_token(credentials(key, secret))
    assert list(SigningKey.objects.values_list("state", flat=True)) == [SigningKeyState.ACTIVE]


def test_the_last_use_is_still_recorded(post_token, jwt_custom):
    key, secret = jwt_custom
    post_token(credentials(key, secret))
    key.refresh_from_db()
    assert key.last_used_at is not None and key.secrets.get().last_used_at is not None


def test_the_deployment_setting_makes_builtin_keys_issue_jwts(post_token, emporix, settings):
    settings.ACCESS_TOKEN_FORMAT = "jwt"
    key, secret = emporix
    token = post_token(credentials(key, secret)).json()["access_token"]
    assert token.startswith("eyJ")
    assert AccessToken.objects.count() == 0
    # 174 scope names: about 6,000 characters, still one Authorization header a resource takes.
    assert 4096 < len(token) < MAX_TOKEN_LENGTH
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    found = bearer_verify(bearer_token_from(request), now=timezone.now())
    assert found is not None and found.format == "jwt" and len(found.scopes) > 100


@pytest.mark.parametrize(
    ("deployment", "choice", "prefix"),
    [
        ("opaque", TokenFormat.DEFAULT, "akpt_"),
        ("jwt", TokenFormat.DEFAULT, "eyJ"),
        ("jwt", TokenFormat.OPAQUE, "akpt_"),
        ("opaque", TokenFormat.JWT, "eyJ"),
    ],
)
def test_a_custom_keys_choice_overrides_the_deployment(post_token, custom, settings, deployment, choice, prefix):
    settings.ACCESS_TOKEN_FORMAT = deployment
    key, secret = custom
    ApiKey.objects.filter(pk=key.pk).update(token_format=choice)
    assert post_token(credentials(key, secret)).json()["access_token"].startswith(prefix)


def test_storefront_anonymous_tokens_stay_opaque(client, storefront, settings):
    settings.ACCESS_TOKEN_FORMAT = "jwt"
    key, _ = storefront
    response = client.get(f"/customerlogin/auth/anonymous/login?tenant=acme&client_id={key.client_id}")
    assert response.json()["access_token"].startswith("akpt_")


def test_try_it_gets_a_jwt_for_a_jwt_key(client_for, alice, jwt_custom):
    key, _secret = jwt_custom
    url = reverse("oauth:try", kwargs={"code": "acme", "key_id": key.public_id})
    result = client_for(alice).post(url, HTTP_ACCEPT="application/json").json()
    assert result["status"] == 200
    assert result["response"]["access_token"] == "eyJhbGci…"  # masked, like an opaque one
    assert result["response"]["expires_in"] == 300
    assert AccessToken.objects.count() == 0


def test_an_unreadable_signing_key_is_a_503_not_a_500(post_token, jwt_custom, settings, caplog):
    """The signing key was encrypted under a key PORTAL_ENCRYPTION_KEYS no longer lists (an
    operator's rotation gone wrong): the token endpoint answers like an outage, once logged."""
    from kernel import outages
    from oauth import signing

    outages.report.reset()  # one report per kind and interval in a process
    key, secret = jwt_custom
    assert post_token(credentials(key, secret)).status_code == 200
    SigningKey.objects.update(encryption_key_id="gone")
    signing.cache_clear()
    answers = [post_token(credentials(key, secret)) for _ in range(3)]
    assert {answer.status_code for answer in answers} == {503}
    assert answers[0].json()["error"] == "temporarily_unavailable"
    assert answers[0]["Retry-After"] == str(settings.OUTAGE_RETRY_AFTER)
    reports = [r for r in caplog.records if "JWT signing key unavailable" in r.getMessage()]
    assert len(reports) == 1
    assert "Traceback" not in caplog.text
