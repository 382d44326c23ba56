"""The access advisor in a real Chromium at 1280 and 390 px: axe finds nothing on the findings
list, a key's advice (every list open) and the narrowing confirmation, in the light and the
dark scheme; nothing scrolls sideways; and "Narrow to what is used" works without JavaScript,
from the key's row of the keys list to the key holding only what it used."""

import pytest
from django.utils import timezone

from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create
from kernel.usage import ALLOWED
from portal.tests.test_accessibility import AXE, RUN_OPTIONS, describe
from scopes.models import Scope
from scopes.routes import route_table
from usage.models import DayUsage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCOPES = ["tax.tax_read", "tax.tax_manage", "brand.brand_manage", "category.category_manage"]


@pytest.fixture
def erp(site, acme):
    """A custom key whose gateway calls used tax.tax_read only, and the Emporix API key used
    for one operation (its finding offers a custom key instead)."""
    key, _ = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="ERP orders", scopes=Scope.objects.filter(name__in=SCOPES)
    )
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    emporix = ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)
    for used in (key, emporix):
        ApiKey.objects.filter(pk=used.pk).update(last_used_at=timezone.now())
        DayUsage.objects.create(
            bucket=today,
            tenant=acme,
            key=used,
            secret_id=used.secrets.first().pk,
            operation=route_table().opened_by_scope("tax.tax_read")[0].operation_id,
            outcome=ALLOWED,
            calls=42,
        )
    return key, emporix


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("options => axe.run(document, options).then(r => r.violations)", RUN_OPTIONS)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_advisor_pages_are_accessible_and_fit(page_for, site, alice, erp, width):
    key, emporix = erp
    assert AXE.exists(), "axe-core is missing: run `npm ci` (make test does)"
    page = page_for(alice, width=width, bypass_csp=True)
    base = f"{site.url}/tenants/acme/access-advisor/"
    pages = {
        "findings": base,
        "custom key's advice": f"{base}{key.public_id}/",
        "built-in key's advice": f"{base}{emporix.public_id}/",
        "narrowing": f"{base}{key.public_id}/narrow/",
    }
    report, wide = [], []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for name, url in pages.items():
            page.goto(url)
            page.evaluate("document.querySelectorAll('main details').forEach(d => { d.open = true; })")
            report += describe(f"{width}px {scheme} {name}", _axe(page))
            if not _fits(page):
                wide.append(f"{scheme} {name}")
    assert report == [], "\n".join(report)
    assert wide == [], f"sideways scroll at {width}px: {wide}"


@pytest.mark.parametrize("width", [1280, 390])
def test_narrow_to_what_is_used_without_javascript(page_for, site, alice, erp, width):
    key, _ = erp
    page = page_for(alice, width=width, javascript=False)
    page.goto(f"{site.url}/tenants/acme/api-keys/?view=cards")
    page.get_by_role("link", name="Access advisor for ERP orders").click()
    page.get_by_text("3 scopes unused in 90 days").first.wait_for()
    assert _fits(page)
    page.get_by_role("link", name="Narrow to what is used: ERP orders").click()
    page.get_by_role("heading", name="Keep only the 1 scope ERP orders used?").wait_for()
    assert "Removed:" in page.content()
    page.get_by_role("button", name="Keep 1 scope").click()
    page.get_by_text("ERP orders now keeps the 1 scope it used.").wait_for()
    assert list(key.scopes.values_list("name", flat=True)) == ["tax.tax_read"]
    assert page.get_by_text("Every scope used in 90 days").count() == 1
