{% include "apikeys/snippets/_head.py" %}
# 1. Log in as an anonymous customer (the Client ID is all it needs)
login = call(urllib.request.Request("{{ login_url }}"))
access_token = login["access_token"]
{% include "apikeys/snippets/_calls.py" %}
