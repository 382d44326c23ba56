// 1. Exchange the Client ID and secret for an access token
const tokenResponse = await fetch("{{ token_url }}", {
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({
    grant_type: "client_credentials",
    client_id: "{{ client_id }}",
    client_secret: "{{ secret_mask }}",
  }),
});
const { access_token } = await tokenResponse.json();

// 2. Call the API with the token
{% include "apikeys/snippets/_call.js" %}
