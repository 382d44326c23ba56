{% include "apikeys/snippets/_head.py" %}
# 1. Exchange the Client ID and secret for an access token
form = urllib.parse.urlencode({
    "grant_type": "client_credentials",
    "client_id": "{{ client_id }}",
    "client_secret": "{{ secret_mask }}",
}).encode()
access_token = call(urllib.request.Request("{{ token_url }}", data=form))["access_token"]
{% include "apikeys/snippets/_calls.py" %}
