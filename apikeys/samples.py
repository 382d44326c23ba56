"""The sample requests on a key's Get started page, as cURL, Python (requests) and
JavaScript (fetch), from the plain-text templates in templates/apikeys/snippets/. They never
hold a secret: where one belongs they hold SECRET_MASK, which the page's Copy button swaps for
the real secret (fetched by POST) on the way to the clipboard."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.template import Context, Engine
from django.urls import reverse

from .display import SECRET_MASK
from .models import ApiKey

PRODUCT_LISTING = "/product/{tenant}/products"

# A read call per service for custom keys, chosen by the first service (in catalogue order)
# among the key's scopes that has one here. Paths follow Emporix's API reference.
SAMPLE_PATHS: dict[str, str] = {
    "product": PRODUCT_LISTING,
    "brand": "/brand/brands",
    "tax": "/tax/{tenant}/taxes",
    "category": "/category/{tenant}/categories",
    "catalog": "/catalog/{tenant}/catalogs",
    "price": "/price/{tenant}/prices",
    "country": "/country/{tenant}/countries",
    "currency": "/currency/{tenant}/currencies",
    "customer": "/customer/{tenant}/customers",
    "order": "/order-v2/{tenant}/salesorders",
    "coupon": "/coupon/{tenant}/coupons",
    "media": "/media/{tenant}/assets",
    "site": "/site/{tenant}/sites",
    "vendor": "/vendor/{tenant}/vendors",
    "quote": "/quote/{tenant}/quotes",
    "schema": "/schema/{tenant}/schemas",
}


@dataclass(frozen=True)
class Snippet:
    slug: str
    title: str
    code: str
    needs_secret: bool


@dataclass(frozen=True)
class Samples:
    base_url: str
    token_url: str  # the first request: the token or the anonymous login
    call_url: str  # the sample call made with the token
    note: str
    snippets: list[Snippet]


def sample_path(key: ApiKey) -> tuple[str, bool]:
    """The sample call's path template for `key`, and whether it is the product-listing
    fallback for a custom key none of whose services has a sample."""
    if not key.is_custom:
        return PRODUCT_LISTING, False
    service_keys = (
        key.scopes.order_by("service__position", "position").values_list("service__key", flat=True).distinct()
    )
    for service_key in service_keys:
        if service_key in SAMPLE_PATHS:
            return SAMPLE_PATHS[service_key], False
    return PRODUCT_LISTING, True


def build_samples(key: ApiKey, *, base_url: str) -> Samples:
    tenant = key.tenant.code
    path, fallback = sample_path(key)
    call_url = base_url + path.format(tenant=tenant)
    if key.is_storefront:
        query = urlencode({"tenant": tenant, "client_id": key.client_id})
        token_url = f"{base_url}{reverse('oauth:anonymous_login')}?{query}"
        note = "A Storefront API key needs no secret: the anonymous login returns a token for a guest customer."
        snippets = _snippets("storefront", needs_secret=False, login_url=token_url, call_url=call_url)
    else:
        token_url = base_url + reverse("oauth:token")
        note = (
            "None of this key's services has a sample call here, so this one lists products: "
            "the key's scopes decide which calls work."
            if fallback
            else "The access token carries this key's scopes; they decide which calls work."
        )
        snippets = _snippets(
            "client_credentials",
            needs_secret=True,
            token_url=token_url,
            call_url=call_url,
            client_id=key.client_id,
            secret_mask=SECRET_MASK,
        )
    return Samples(base_url=base_url, token_url=token_url, call_url=call_url, note=note, snippets=snippets)


# (slug, title, file extension) of each snippet, in page order.
LANGUAGES = [
    ("curl", "cURL", "curl"),
    ("python", "Python (requests)", "py"),
    ("javascript", "JavaScript (fetch)", "js"),
]


def _snippets(flow: str, *, needs_secret: bool, **values: str) -> list[Snippet]:
    """templates/apikeys/snippets/<flow>.<ext> for each language, rendered as plain text (no
    HTML escaping: the page escapes the whole snippet when it shows it). The values are URLs,
    Client IDs and tenant codes: letters, digits and URL punctuation only."""
    engine = Engine.get_default()
    snippets = []
    for slug, title, ext in LANGUAGES:
        text = engine.get_template(f"apikeys/snippets/{flow}.{ext}").render(Context(values, autoescape=False))
        snippets.append(Snippet(slug, title, text.rstrip("\n"), needs_secret))
    return snippets
