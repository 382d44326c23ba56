from typing import Any

from django import forms

from tenants.models import Tenant

from .models import Action, ActivityEntry


class ActivityFilterForm(forms.Form):
    """Filters of the activity page, from GET. Keys are chosen by Client ID, so that a
    deleted key's entries can still be found (entries keep the Client ID and name)."""

    key = forms.ChoiceField(label="Key", required=False)
    action = forms.ChoiceField(label="Action", required=False, choices=[("", "All actions"), *Action.choices])

    def __init__(self, *args: Any, tenant: Tenant, keys: list[tuple[str, str]], **kwargs: Any) -> None:
        """`keys`: the tenant's current keys as (Client ID, name); deleted keys are found in
        the entries themselves."""
        super().__init__(*args, **kwargs)
        current = keys
        known = {client_id for client_id, _ in current}
        deleted: dict[str, str] = {}
        logged = (
            ActivityEntry.objects.filter(tenant=tenant)
            .exclude(key_client_id="")
            .values_list("key_client_id", "key_name")
            .distinct()
        )
        for client_id, name in logged:
            if client_id not in known:
                deleted.setdefault(client_id, name)
        choices = [("", "All keys")]
        choices += [(client_id, f"{name} ({client_id})") for client_id, name in current]
        choices += [(cid, f"{name} ({cid}, deleted)") for cid, name in sorted(deleted.items(), key=lambda i: i[1])]
        self.fields["key"].choices = choices

    def filter(self, entries):
        """`entries` narrowed by the valid filters; an invalid one is ignored (and shown)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("key"):
            entries = entries.filter(key_client_id=data["key"])
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        return entries
