import requests

# 1. Log in as an anonymous customer
login = requests.get("{{ login_url }}", timeout=10)
login.raise_for_status()
access_token = login.json()["access_token"]

# 2. List products with the anonymous token
response = requests.get(
    "{{ call_url }}",
    headers={"Authorization": f"Bearer {access_token}"},
    timeout=10,
)
print(response.status_code, response.json())
