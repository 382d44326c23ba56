"""The Envoy and Traefik configurations docs/gateway.md gives operators pass on (Traefik) and
strip from clients (Envoy) exactly the X-Portal-* headers the check sets: a header added to the
check and forgotten there would never reach the API, or could be forged by a client."""

import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "gateway.md"


def snippet(starting_with: str) -> object:
    """The YAML block of the document whose first line is `starting_with`."""
    match = re.search(rf"```yaml\n({re.escape(starting_with)}\n.*?)```", DOC.read_text(), re.S)
    assert match, f"docs/gateway.md has no yaml block starting with {starting_with!r}"
    return yaml.safe_load(match.group(1))


def test_the_documented_snippets_name_every_header_the_check_sets(client, mint, reader):
    answer = client.get(
        "/gateway/traefik",
        HTTP_AUTHORIZATION=f"Bearer {mint(*reader)}",
        HTTP_X_FORWARDED_METHOD="GET",
        HTTP_X_FORWARDED_URI="/customer/acme/customers",
    )
    assert answer.status_code == 200
    sent = {name.lower() for name in answer.headers if name.lower().startswith("x-portal-")}
    assert {"x-portal-tenant", "x-portal-client-id", "x-portal-scopes"} <= sent

    traefik = snippet("http:")["http"]["middlewares"]["api-key-portal"]["forwardAuth"]
    assert {name.lower() for name in traefik["authResponseHeaders"]} == sent

    envoy = {f["name"]: f["typed_config"] for f in snippet("http_filters:")["http_filters"]}
    mutations = envoy["envoy.filters.http.header_mutation"]["mutations"]["request_mutations"]
    assert {m["remove"] for m in mutations} == sent
    upstream = envoy["envoy.filters.http.ext_authz"]["http_service"]["authorization_response"]
    assert upstream["allowed_upstream_headers"]["patterns"] == [{"prefix": "x-portal-"}]
