"""Layout, measured in Chromium at 1280 and 390 px: a card's heading sits at the top of the
card (its padding, no empty band above it), cards one after the other do not touch, and the
Members page leaves no empty cell between the people, the invitation form and the policy."""

import pytest

from conftest import browser_login
from portal.tests.test_accessibility import cast  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEYS = "/tenants/acme/api-keys/"

# For every visible card: how far its first heading's top is below the card's padding edge, and
# the gap to the card after it when that is a card too.
MEASURE_CARDS = """() => [...document.querySelectorAll('main .card')].filter(c => c.offsetParent).map(card => {
  const box = card.getBoundingClientRect(), style = getComputedStyle(card);
  const first = card.firstElementChild;
  const heading = first && /^H[1-6]$/.test(first.tagName) ? first.getBoundingClientRect() : null;
  const next = card.nextElementSibling;
  return {
    name: card.getAttribute('aria-labelledby') || card.className,
    band: heading && heading.top - box.top - parseFloat(style.borderTopWidth) - parseFloat(style.paddingTop),
    gap: next && next.classList.contains('card') && next.offsetParent ? next.getBoundingClientRect().top - box.bottom : null,
  };
})"""


@pytest.fixture
def endpoint(cast):  # noqa: F811
    from webhooks.services import endpoint_create

    return endpoint_create(
        tenant=cast["custom"].tenant, url="https://hooks.example.com/in", event_types=["key.created"]
    )[0]


@pytest.mark.parametrize("width", [1280, 390])
def test_cards_have_no_band_above_their_heading_and_do_not_touch(browser, site, alice, cast, endpoint, width):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 600 else 844})
    context.set_default_timeout(10_000)
    page = browser_login(context.new_page(), site, alice)
    pages = {
        "key settings": f"{KEYS}{cast['custom'].public_id}/settings/",
        "leak report": f"{KEYS}report-leak/",
        "members": "/tenants/acme/members/",
        "webhook endpoint": f"/tenants/acme/webhooks/{endpoint.public_id}/",
    }
    try:
        for name, path in pages.items():
            page.goto(site.url + path)
            cards = page.evaluate(MEASURE_CARDS)
            assert [c for c in cards if c["band"] is not None], f"{name}: no card starts with a heading"
            for card in cards:
                if card["band"] is not None:
                    assert -1 <= card["band"] <= 2, f"{name}: {card['band']:.0f} px above the heading of {card['name']}"
                if card["gap"] is not None:
                    assert card["gap"] >= 12, f"{name}: {card['name']} is {card['gap']:.0f} px from the next card"
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        # The settings page's two cards are one after the other: the gap was measured.
        page.goto(site.url + pages["key settings"])
        assert [c["gap"] for c in page.evaluate(MEASURE_CARDS) if c["gap"] is not None], "no pair of cards measured"

        # Members: the policy starts right under the taller of the people and the invitation
        # form (the grid's gap), and nothing stands empty beside it.
        page.goto(site.url + pages["members"])
        people = page.locator("section[aria-labelledby=members-heading]").bounding_box()
        invite = page.locator("section[aria-labelledby=add-member]").bounding_box()
        policy = page.locator("#policy").bounding_box()
        above = max(people["y"] + people["height"], invite["y"] + invite["height"])
        assert 0 <= policy["y"] - above <= 30
        if width == 1280:
            assert abs(policy["x"] - people["x"]) < 1
            assert abs(policy["x"] + policy["width"] - (invite["x"] + invite["width"])) < 1
    finally:
        context.close()
