import requests

# 1. Exchange the Client ID and secret for an access token
token_response = requests.post(
    "{{ token_url }}",
    data={
        "grant_type": "client_credentials",
        "client_id": "{{ client_id }}",
        "client_secret": "{{ secret_mask }}",
    },
    timeout=10,
)
token_response.raise_for_status()
access_token = token_response.json()["access_token"]

# 2. Call the API with the token
{% include "apikeys/snippets/_call.py" %}
