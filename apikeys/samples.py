"""The sample programs on a key's Get started page, as cURL, Python and JavaScript, from the
plain-text templates in templates/apikeys/snippets/. Each one runs as copied:

1. gets a token from this portal (client credentials; the anonymous login for the Storefront
   API key);
2. calls this portal's token info (`GET /oauth/tokeninfo`) with it and prints the JSON, which
   proves the token works without any other service;
3. only when API_BASE_URL names the operator's API: calls a real route of it that the key's
   scopes open (from the route table), with a comment naming one route it will be refused.

They need nothing the sample does not name: bash, curl and sed; any python3 (standard library
only); Node.js 18 or later (its built-in fetch). They never hold a secret: where one belongs
they hold SECRET_MASK, which the page's Copy button swaps for the real secret (fetched by
POST) on the way to the clipboard."""

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.template import Context, Engine
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from scopes.routes import Route, route_table

from .auth import builtin_scope_names
from .display import SECRET_MASK
from .models import ApiKey


@dataclass(frozen=True)
class Snippet:
    slug: str
    title: str
    code: str
    needs_secret: bool


@dataclass(frozen=True)
class ApiCall:
    """The sample's call to the operator's API: a route the key's scopes open."""

    url: str
    route: Route
    scope: str  # the key's scope that opens it ("" if any token of the tenant may call it)
    refused: str  # one route the key will be refused, described for a comment ("" if none)


@dataclass(frozen=True)
class Samples:
    base_url: str  # the portal: token service and token info
    token_url: str  # the first request: the token or the anonymous login
    tokeninfo_url: str
    api_call: ApiCall | None  # only with API_BASE_URL
    note: str
    snippets: list[Snippet]


def key_scope_names(key: ApiKey) -> tuple[str, ...]:
    """The scopes a token of `key` carries by default, in catalogue order (service, then scope):
    the built-in keys' lists, or a custom key's chosen ones."""
    if not key.is_custom:
        return builtin_scope_names(key.kind)
    return tuple(key.scopes.values_list("name", flat=True))


def _plain_read(route: Route) -> bool:
    # A GET that needs a token and no parameter but the tenant: callable as it stands.
    return route.method == "GET" and route.token_required and set(route.params) <= {None, "tenant"}


def api_routes(scopes: Sequence[str]) -> tuple[Route | None, str, Route | None]:
    """(a route the scopes open, the scope that opens it, a route they do not open), both plain
    reads (see _plain_read), from the route table. The first is a read of the service of the
    first scope that has one (catalogue order); the refused one is the first in the table the
    scopes do not open, None if they open every one (the Emporix API key)."""
    table = route_table()
    allowed, opener = None, ""
    for scope in scopes:
        allowed = next((route for route in table.opened_by_scope(scope) if _plain_read(route)), None)
        if allowed is not None:
            opener = scope
            break
    held = frozenset(scopes)
    if allowed is None:  # none of the scopes names a plain read: one open to any token of the tenant
        allowed = next((route for route in table.routes if _plain_read(route) and not route.any_of_scopes), None)
    refused = next((route for route in table.routes if _plain_read(route) and not route.opened_by(held)), None)
    return allowed, opener, refused


def _refusal(route: Route | None, allowed: Route, api_base_url: str, tenant: str) -> str:
    if route is None:  # the key opens every route: what it is still refused is another tenant
        other = allowed.example_path("another-tenant") if allowed.has_tenant else ""
        if not other:
            return ""
        return f"GET {api_base_url}{other}: the tenant in a path must be the token's ({tenant})"
    scopes = route.any_of_scopes
    needs = " or ".join(scopes[:3]) + (f" (or {len(scopes) - 3} more)" if len(scopes) > 3 else "")
    return f"GET {api_base_url}{route.example_path(tenant)}: needs {needs}"


def _api_call(key: ApiKey, api_base_url: str) -> ApiCall | None:
    tenant = key.tenant.code
    allowed, opener, refused = api_routes(key_scope_names(key))
    if allowed is None:
        return None
    return ApiCall(
        url=api_base_url + allowed.example_path(tenant),
        route=allowed,
        scope=opener,
        refused=_refusal(refused, allowed, api_base_url, tenant),
    )


def build_samples(key: ApiKey, *, base_url: str, api_base_url: str = "") -> Samples:
    """The samples for `key`: the portal at `base_url`; the operator's API at `api_base_url`,
    if there is one."""
    tenant = key.tenant.code
    tokeninfo_url = base_url + reverse("oauth:tokeninfo")
    api_call = _api_call(key, api_base_url) if api_base_url else None
    values = {"tokeninfo_url": tokeninfo_url, "api_call": api_call, "client_id": key.client_id, "tenant": tenant}
    if key.is_storefront:
        query = urlencode({"tenant": tenant, "client_id": key.client_id})
        token_url = f"{base_url}{reverse('oauth:anonymous_login')}?{query}"
        note = gettext(
            "The anonymous login needs only the Client ID: it returns a token for a guest customer "
            "with the storefront scopes. This key's secret is for the client-credentials grant "
            "(POST /oauth/token), as with the other keys."
        )
        snippets = _snippets("storefront", needs_secret=False, login_url=token_url, **values)
    else:
        token_url = base_url + reverse("oauth:token")
        note = gettext("The access token carries this key's scopes; they decide which calls of the API work.")
        snippets = _snippets(
            "client_credentials", needs_secret=True, token_url=token_url, secret_mask=SECRET_MASK, **values
        )
    return Samples(
        base_url=base_url,
        token_url=token_url,
        tokeninfo_url=tokeninfo_url,
        api_call=api_call,
        note=note,
        snippets=snippets,
    )


# (slug, title, file extension) of each snippet, in page order.
LANGUAGES = [
    ("curl", "cURL (bash)", "curl"),
    ("python", gettext_lazy("Python (standard library)"), "py"),
    ("javascript", "JavaScript (Node.js 18+)", "js"),
]


def _snippets(flow: str, *, needs_secret: bool, **values) -> list[Snippet]:
    """templates/apikeys/snippets/<flow>.<ext> for each language, rendered as plain text (no
    HTML escaping: the page escapes the whole snippet when it shows it). The values are URLs,
    Client IDs, tenant codes and scope names: letters, digits and URL punctuation only."""
    engine = Engine.get_default()
    snippets = []
    for slug, title, ext in LANGUAGES:
        text = engine.get_template(f"apikeys/snippets/{flow}.{ext}").render(Context(values, autoescape=False))
        snippets.append(Snippet(slug, title, text.rstrip("\n"), needs_secret))
    return snippets
