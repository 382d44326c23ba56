response = requests.get(
    "{{ call_url }}",
    headers={"Authorization": f"Bearer {access_token}"},
    timeout=10,
)
print(response.status_code, response.json())
