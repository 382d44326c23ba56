{% include "apikeys/snippets/_head.js" %}  // 1. Exchange the Client ID and secret for an access token
  const { access_token } = await call("{{ token_url }}", {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: "{{ client_id }}",
      client_secret: "{{ secret_mask }}",
    }),
  });
{% include "apikeys/snippets/_calls.js" %}
