"""The API docs page in a real Chromium: Swagger UI renders the OpenAPI document under the
portal's Content-Security-Policy, with no CSP violation."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_the_document_under_the_csp(browser, site):
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(f"{site.url}/api/v1/docs/")
        page.wait_for_selector("text=API Key Portal management API", timeout=15_000)
        page.wait_for_selector("text=/api/v1/keys/{key_id}/renew/", timeout=15_000)
    finally:
        context.close()
    assert problems == []  # a CSP refusal would show here as a console error
