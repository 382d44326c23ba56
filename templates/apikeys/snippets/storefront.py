import requests

# 1. Log in as an anonymous customer
login = requests.get("{{ login_url }}", timeout=10)
login.raise_for_status()
access_token = login.json()["access_token"]

# 2. List products with the anonymous token
{% include "apikeys/snippets/_call.py" %}
