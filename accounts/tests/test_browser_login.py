import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_logs_in_through_the_form_and_sees_the_tenant_list(page_for, alice):
    page = page_for(alice)
    assert page.url.endswith("/tenants/")
    assert page.get_by_role("heading", name="Tenants", exact=True).is_visible()
    # No inline script anywhere means the strict CSP holds; the browser would report it.
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
