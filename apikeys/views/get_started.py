from django.http import Http404


def get_started(request, code: str, key_id):
    raise Http404("Not built yet.")
