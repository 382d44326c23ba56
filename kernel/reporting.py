import re

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

SENSITIVE_PARAMETERS = ("client_secret", "refresh_token", "token", "anonymous_token", "access_token")


class SecretHidingReporterFilter(SafeExceptionReporterFilter):
    """Django's error reports without secrets: besides the usual settings and
    sensitive_post_parameters/sensitive_variables, the Authorization header (and any header
    that looks like a credential) and secret or token query parameters are always hidden."""

    hidden_settings = re.compile(
        SafeExceptionReporterFilter.hidden_settings.pattern + "|AUTHORIZATION|ENCRYPTION", flags=re.I
    )

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for name in list(meta):
            if name in ("HTTP_AUTHORIZATION", "HTTP_COOKIE", "QUERY_STRING") or "AUTH" in name or "TOKEN" in name:
                meta[name] = self.cleansed_substitute
        return meta

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if request is None:
            return params
        params = params.copy() if hasattr(params, "copy") else params
        for name in SENSITIVE_PARAMETERS:
            if name in params:
                params[name] = self.cleansed_substitute
        return params

    def get_safe_get_parameters(self, request):
        cleansed = request.GET.copy()
        for name in SENSITIVE_PARAMETERS:
            if name in cleansed:
                cleansed.setlist(name, [self.cleansed_substitute])
        return cleansed


class SecretHidingExceptionReporter(ExceptionReporter):
    """Django's reporter shows request.GET and the full URL as they are; this one shows the
    filtered query parameters and the URL without its query string (anonymous refresh tokens
    travel there)."""

    def _get_raw_insecure_uri(self):
        return super()._get_raw_insecure_uri().split("?", 1)[0]

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None and isinstance(self.filter, SecretHidingReporterFilter):
            data["request_GET_items"] = self.filter.get_safe_get_parameters(self.request).items()
        return data
