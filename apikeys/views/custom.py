from django.http import Http404


def key_create(request, code: str):
    raise Http404("Not built yet.")


def key_edit(request, code: str, key_id):
    raise Http404("Not built yet.")


def key_delete(request, code: str, key_id):
    raise Http404("Not built yet.")
