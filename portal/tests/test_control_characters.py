"""Control characters in a URL path name nothing: 404, never a 500 from the database."""

import pytest

PATHS = [
    "/tenants/ac%00me/api-keys/",
    "/tenants/acme%0d%0aX-Injected:%201/members/",
    "/tenants/acme/api-keys/%01/",
    "/tenants/%7f/activity/",
    "/oauth/token%00",
]


@pytest.mark.parametrize("path", PATHS)
def test_a_control_character_in_the_path_is_404(client, alice, acme, path):
    client.force_login(alice)
    response = client.get(path)
    assert response.status_code == 404
    assert "X-Injected" not in response.headers


def test_the_same_paths_without_them_still_work(client, alice, acme):
    client.force_login(alice)
    assert client.get("/tenants/acme/api-keys/").status_code == 200
