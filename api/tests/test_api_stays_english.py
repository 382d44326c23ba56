"""The management API answers in English whatever language the caller's client asks for (issue
23: the JSON API stays English). The messages it shares with the German pages (the last admin,
an address invited already, the activity's action labels, the advisor's finding) are translated
where they are made, in the language active for the request: for the API that must be English."""

import pytest

from activity.models import Action, ActivityEntry

from .conftest import every_offered_scope

pytestmark = pytest.mark.django_db
GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9"}


def test_the_apis_messages_are_english_for_a_german_client(api, caller, acme, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _, _, token = caller(acme, every_offered_scope())
    last_admin = api("patch", "/api/v1/members/alice@example.com/", token, {"role": "viewer"}, **GERMAN)
    assert last_admin.status_code == 409
    assert last_admin.json()["detail"] == "A tenant needs at least one admin: make someone else admin first."
    assert api("post", "/api/v1/invitations/", token, {"email": "new@example.com", "role": "viewer"}).status_code == 201
    again = api("post", "/api/v1/invitations/", token, {"email": "new@example.com", "role": "viewer"}, **GERMAN)
    assert again.json()["errors"]["email"] == [
        "This address has been invited already: resend or cancel the invitation below."
    ]
    ActivityEntry.objects.create(tenant=acme, action=Action.KEY_CHANGED, key_name="K")
    activity = api("get", "/api/v1/activity/?action=key.changed", token, **GERMAN).json()["results"]
    assert {entry["action_label"] for entry in activity} == {"Key changed"}
