from django.http import Http404


def try_it(request, code: str, key_id):
    """The Get started panel's Try it: runs the token request for this key (built with the
    token service)."""
    raise Http404("Not built yet.")
