auth = {"Authorization": f"Bearer {access_token}"}

# 2. Ask the portal what the token is: tenant, Client ID, scopes, expiry
info = call(urllib.request.Request("{{ tokeninfo_url }}", headers=auth))
print(json.dumps(info, indent=2))
{% if api_call %}
# 3. Call your API: {{ api_call.route.summary }}{% if api_call.scope %} (opened by {{ api_call.scope }}){% endif %}
{% if api_call.refused %}#    Refused for this key: {{ api_call.refused }}
{% endif %}answer = call(urllib.request.Request("{{ api_call.url }}", headers=auth))
print(json.dumps(answer, indent=2))
{% endif %}
