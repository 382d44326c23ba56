from django.http import HttpRequest


def wants_json(request: HttpRequest) -> bool:
    """True if the client prefers JSON to HTML. A browser's form POST accepts */* too, so this
    asks which type it prefers, not which it accepts. The management API (/api/) answers
    JSON only."""
    if request.path.startswith("/api/"):
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"
