  const headers = { Authorization: `Bearer ${access_token}` };

  // 2. Ask the portal what the token is: tenant, Client ID, scopes, expiry
  const info = await call("{{ tokeninfo_url }}", { headers });
  console.log(JSON.stringify(info, null, 2));
{% if api_call %}
  // 3. Call your API: {{ api_call.route.summary }}{% if api_call.scope %} (opened by {{ api_call.scope }}){% endif %}
{% if api_call.refused %}  //    Refused for this key: {{ api_call.refused }}
{% endif %}  const answer = await call("{{ api_call.url }}", { headers });
  console.log(JSON.stringify(answer, null, 2));
{% endif %}}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
