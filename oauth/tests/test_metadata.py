def test_metadata_describes_the_endpoints(client, db):
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    body = response.json()
    assert body["issuer"] == "http://testserver"
    assert body["token_endpoint"] == "http://testserver/oauth/token"
    assert body["introspection_endpoint"] == "http://testserver/oauth/introspect"
    assert body["revocation_endpoint"] == "http://testserver/oauth/revoke"
    assert body["jwks_uri"] == "http://testserver/.well-known/jwks.json"
    assert body["grant_types_supported"] == ["client_credentials"]
    for name in ("token", "introspection", "revocation"):
        assert body[f"{name}_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]


def test_the_issuer_is_the_portal_even_when_api_base_url_names_the_operators_api(client, db, settings):
    # API_BASE_URL is the API the tokens open; the authorization server is the portal itself.
    settings.API_BASE_URL = "https://api.example.com"
    body = client.get("/.well-known/oauth-authorization-server").json()
    assert body["issuer"] == "http://testserver"
    assert body["token_endpoint"] == "http://testserver/oauth/token"
    assert body["jwks_uri"] == "http://testserver/.well-known/jwks.json"
