from django.http import Http404


def activity_list(request, code: str):
    raise Http404("Not built yet.")


def activity_csv(request, code: str):
    raise Http404("Not built yet.")
