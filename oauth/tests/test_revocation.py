from .conftest import basic


def revoke(post_token, key, secret, token):
    return post_token({"token": token}, auth=basic(key.client_id, secret), url="/oauth/revoke")


def test_a_key_revokes_its_own_token(issue, introspect, post_token, emporix):
    key, secret = emporix
    token = issue(key, secret)
    response = revoke(post_token, key, secret, token)
    assert response.status_code == 200
    assert introspect(key, secret, token) == {"active": False}


def test_another_keys_token_stays_active(issue, introspect, post_token, emporix, custom):
    key, secret = emporix
    token = issue(key, secret)
    other, other_secret = custom
    assert revoke(post_token, other, other_secret, token).status_code == 200
    assert introspect(key, secret, token)["active"] is True


def test_unknown_tokens_get_200(post_token, emporix):
    key, secret = emporix
    assert revoke(post_token, key, secret, "akpt_nothing").status_code == 200


def test_revocation_needs_client_credentials(issue, post_token, emporix):
    key, secret = emporix
    token = issue(key, secret)
    assert post_token({"token": token}, url="/oauth/revoke").status_code == 401
