// 1. Log in as an anonymous customer
const login = await fetch("{{ login_url }}");
const { access_token } = await login.json();

// 2. List products with the anonymous token
{% include "apikeys/snippets/_call.js" %}
