"""The labels shown per row come from kernel.choices.label_of (one look-up and one translation,
not Django's dictionary of every translated choice per call): right in each language, and a
value outside the choices shown as it is, as Django's get_FOO_display does."""

from django.utils import translation

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, Environment, KeyKind, TokenFormat
from kernel.choices import label_of
from webhooks.models import Delivery, DeliveryStatus


def test_each_per_row_label_is_the_choices_label_in_the_active_language():
    entry = ActivityEntry(action=Action.KEY_RENEWED)
    key = ApiKey(kind=KeyKind.CUSTOM, environment=Environment.choices[-1][0], token_format=TokenFormat.JWT)
    delivery = Delivery(status=DeliveryStatus.PENDING)
    for language in ("en", "de"):
        with translation.override(language):
            assert entry.get_action_display() == str(Action.KEY_RENEWED.label)
            assert key.get_kind_display() == str(KeyKind.CUSTOM.label)
            assert key.get_environment_display() == str(Environment(key.environment).label)
            assert key.get_token_format_display() == str(TokenFormat.JWT.label)
            assert delivery.get_status_display() == str(DeliveryStatus.PENDING.label)
    with translation.override("de"):
        assert entry.get_action_display() == "Schlüssel erneuert"
        assert delivery.get_status_display() == "Ausstehend"
    with translation.override("en"):
        assert entry.get_action_display() == "Key renewed"


def test_a_value_outside_the_choices_is_shown_as_it_is():
    assert ActivityEntry(action="key.teleported").get_action_display() == "key.teleported"
    assert label_of(DeliveryStatus, "lost") == "lost"
