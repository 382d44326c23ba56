{% include "apikeys/snippets/_head.js" %}  // 1. Log in as an anonymous customer (the Client ID is all it needs)
  const { access_token } = await call("{{ login_url }}");
{% include "apikeys/snippets/_calls.js" %}
