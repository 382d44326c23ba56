from scopes.models import Scope

GRANT = {"grant_type": "client_credentials"}


def test_a_scope_added_to_the_catalogue_is_granted_to_the_emporix_key(post_token, emporix):
    key, secret = emporix
    form = {**GRANT, "client_id": key.client_id, "client_secret": secret}
    before = post_token(form).json()["scope"].split()
    service = Scope.objects.first().service
    Scope.objects.create(service=service, name="product.brand_new_read", description="new")
    after = post_token(form).json()["scope"].split()
    assert "product.brand_new_read" not in before
    assert "product.brand_new_read" in after


def test_a_deprecated_scope_is_no_longer_granted(post_token, emporix):
    key, secret = emporix
    form = {**GRANT, "client_id": key.client_id, "client_secret": secret}
    name = post_token(form).json()["scope"].split()[0]
    Scope.objects.filter(name=name).update(deprecated=True)  # a bulk update sends no signal...
    from apikeys.auth import scope_cache_clear

    scope_cache_clear()  # ...as load_scopes' saves do
    assert name not in post_token(form).json()["scope"].split()
