// 1. Log in as an anonymous customer
const login = await fetch("{{ login_url }}");
const { access_token } = await login.json();

// 2. List products with the anonymous token
const response = await fetch("{{ call_url }}", {
  headers: { Authorization: `Bearer ${access_token}` },
});
console.log(response.status, await response.json());
