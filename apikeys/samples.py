"""The sample requests on a key's Get started page, as cURL, Python (requests) and
JavaScript (fetch). They never hold a secret: where one belongs they hold SECRET_MASK, which
the page's Copy button swaps for the real secret (fetched by POST) on the way to the clipboard."""

from dataclasses import dataclass

from .models import ApiKey, KeyKind

# The same mask as the keys list; no "akps_" prefix, so no page holds anything secret-shaped.
SECRET_MASK = "••••••••••••••••"

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
    if key.kind != KeyKind.CUSTOM:
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
    if key.kind == KeyKind.STOREFRONT:
        token_url = f"{base_url}/customerlogin/auth/anonymous/login?tenant={tenant}&client_id={key.client_id}"
        note = "A Storefront API key needs no secret: the anonymous login returns a token for a guest customer."
        snippets = _storefront_snippets(token_url, call_url)
    else:
        token_url = f"{base_url}/oauth/token"
        note = (
            "None of this key's services has a sample call here, so this one lists products: "
            "the key's scopes decide which calls work."
            if fallback
            else "The access token carries this key's scopes; they decide which calls work."
        )
        snippets = _client_credentials_snippets(token_url, call_url, key.client_id)
    return Samples(base_url=base_url, token_url=token_url, call_url=call_url, note=note, snippets=snippets)


def _client_credentials_snippets(token_url: str, call_url: str, client_id: str) -> list[Snippet]:
    curl = f"""# 1. Exchange the Client ID and secret for an access token
TOKEN=$(curl -s -X POST '{token_url}' \\
  -H 'Content-Type: application/x-www-form-urlencoded' \\
  --data-urlencode 'grant_type=client_credentials' \\
  --data-urlencode 'client_id={client_id}' \\
  --data-urlencode 'client_secret={SECRET_MASK}' | jq -r .access_token)

# 2. Call the API with the token
curl '{call_url}' \\
  -H "Authorization: Bearer $TOKEN\""""
    python = f"""import requests

# 1. Exchange the Client ID and secret for an access token
token_response = requests.post(
    "{token_url}",
    data={{
        "grant_type": "client_credentials",
        "client_id": "{client_id}",
        "client_secret": "{SECRET_MASK}",
    }},
    timeout=10,
)
token_response.raise_for_status()
access_token = token_response.json()["access_token"]

# 2. Call the API with the token
response = requests.get(
    "{call_url}",
    headers={{"Authorization": f"Bearer {{access_token}}"}},
    timeout=10,
)
print(response.status_code, response.json())"""
    javascript = f"""// 1. Exchange the Client ID and secret for an access token
const tokenResponse = await fetch("{token_url}", {{
  method: "POST",
  headers: {{ "Content-Type": "application/x-www-form-urlencoded" }},
  body: new URLSearchParams({{
    grant_type: "client_credentials",
    client_id: "{client_id}",
    client_secret: "{SECRET_MASK}",
  }}),
}});
const {{ access_token }} = await tokenResponse.json();

// 2. Call the API with the token
const response = await fetch("{call_url}", {{
  headers: {{ Authorization: `Bearer ${{access_token}}` }},
}});
console.log(response.status, await response.json());"""
    return [
        Snippet("curl", "cURL", curl, True),
        Snippet("python", "Python (requests)", python, True),
        Snippet("javascript", "JavaScript (fetch)", javascript, True),
    ]


def _storefront_snippets(login_url: str, call_url: str) -> list[Snippet]:
    curl = f"""# 1. Log in as an anonymous customer
TOKEN=$(curl -s '{login_url}' | jq -r .access_token)

# 2. List products with the anonymous token
curl '{call_url}' \\
  -H "Authorization: Bearer $TOKEN\""""
    python = f"""import requests

# 1. Log in as an anonymous customer
login = requests.get("{login_url}", timeout=10)
login.raise_for_status()
access_token = login.json()["access_token"]

# 2. List products with the anonymous token
response = requests.get(
    "{call_url}",
    headers={{"Authorization": f"Bearer {{access_token}}"}},
    timeout=10,
)
print(response.status_code, response.json())"""
    javascript = f"""// 1. Log in as an anonymous customer
const login = await fetch("{login_url}");
const {{ access_token }} = await login.json();

// 2. List products with the anonymous token
const response = await fetch("{call_url}", {{
  headers: {{ Authorization: `Bearer ${{access_token}}` }},
}});
console.log(response.status, await response.json());"""
    return [
        Snippet("curl", "cURL", curl, False),
        Snippet("python", "Python (requests)", python, False),
        Snippet("javascript", "JavaScript (fetch)", javascript, False),
    ]
