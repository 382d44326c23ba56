const response = await fetch("{{ call_url }}", {
  headers: { Authorization: `Bearer ${access_token}` },
});
console.log(response.status, await response.json());
