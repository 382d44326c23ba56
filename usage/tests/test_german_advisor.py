"""The access advisor in German (issue 23): its pages, and its findings' plurals in both
languages ("1 scope unused", "37 scopes unused")."""

import dataclasses

import pytest
from django.urls import reverse
from django.utils import translation

from tenants.tests.test_german import assert_german, german, text

from . import test_advisor
from .test_advisor import advice_of

# The advisor tests' clock (autouse) and their key of 40 scopes, 3 of them used.
_clock = test_advisor._clock
forty = test_advisor.forty

pytestmark = pytest.mark.django_db


def test_the_findings_plural_is_right_in_both_languages(forty):
    key, _, _ = forty
    advice = advice_of(key)
    one = dataclasses.replace(advice, unused_scopes=advice.unused_scopes[:1])
    assert advice.summary == "37 scopes unused in 90 days"
    assert one.summary == "1 scope unused in 90 days"
    with translation.override("de"):
        assert advice.summary == "37 Scopes ungenutzt in 90 Tagen"
        assert one.summary == "1 Scope ungenutzt in 90 Tagen"


def test_the_advisor_pages_are_german(client_for, alice, forty):
    key, _, _ = forty
    client = client_for(alice)
    findings = text(german(client, reverse("advisor:findings", kwargs={"code": "acme"})))
    assert_german(
        findings,
        present=["Zugriffsberater", "37 Scopes ungenutzt in 90 Tagen", "Auf Genutztes einschränken", "mit Befund"],
        absent=["Access advisor", "Narrow to what is used", "with a finding", "unused", "Back to API keys"],
    )
    page = text(german(client, reverse("advisor:key", kwargs={"code": "acme", "key_id": key.public_id})))
    assert_german(
        page,
        present=[
            "Zugriffsberater: ERP",
            "Befund",
            "Die 37 ungenutzten Scopes",
            "Zuletzt verwendet",
            "Aufrufe, 30 Tage",
            "Aufrufe, 90 Tage",
            "Ungenutzt",
        ],
        absent=["Finding", "The 37 unused scopes", "Last used", "Calls, 30 days", "Unused", "Operations"],
    )
    narrow = text(german(client, reverse("advisor:narrow", kwargs={"code": "acme", "key_id": key.public_id})))
    assert_german(
        narrow,
        present=["Nur die 3 Scopes behalten, die ERP genutzt hat?", "3 Scopes behalten", "Abbrechen"],
        absent=["Keep only", "Keep 3 scopes", "Cancel", "Kept:", "Removed:"],
    )
