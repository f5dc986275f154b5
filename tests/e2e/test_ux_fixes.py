"""What a new user met (issue 12, part 9), in the browser: choices laid out beside their labels,
quiet secondary buttons, the due-within-the-hour list, pick lists for routing conditions."""

from __future__ import annotations

from tests.e2e.conftest import NewPage, Site, script_errors, shot

CHOICES = """
<form class="visit-report" id="probe" style="max-width:40rem">
  <fieldset class="choices"><legend>功能测试（必填）</legend>
    <label class="check"><input type="radio" name="t" value="passed"> 通过</label>
    <label class="check"><input type="radio" name="t" value="failed"> 未通过</label>
  </fieldset>
</form>"""


def test_radio_choices_sit_beside_their_labels(site: Site, new_page: NewPage) -> None:
    """The rule that gives inputs the full width left a radio floating mid-box and its label
    wrapping one character a line (the engineer's function test, the outcome, the portal's stars)."""
    page = new_page(site.engineer)
    page.goto(f"{site.url}/ui/visits/day")
    page.evaluate("html => document.querySelector('main').insertAdjacentHTML('afterbegin', html)", CHOICES)
    radio = page.locator("#probe input[value=passed]").bounding_box()
    label = page.locator("#probe label.check").first.bounding_box()
    second = page.locator("#probe label.check").nth(1).bounding_box()
    assert radio and label and second
    assert radio["width"] < 30 and radio["x"] - label["x"] < 10  # at the start of its label
    assert label["height"] < 40 and label["width"] < 200  # one line, not one character a line
    assert abs(second["y"] - label["y"]) < 5  # the choices side by side
    shot(page, "ux-01-radios")


def test_quiet_buttons_and_the_due_list(site: Site, new_page: NewPage) -> None:
    page = new_page(site.lead)
    page.goto(f"{site.url}/ui/teams/{site.field_team}/queue")
    off = page.locator("#members button.secondary").first
    colour = off.evaluate("b => getComputedStyle(b).color")
    background = off.evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour != "rgb(217, 226, 236)" and background == "rgb(255, 255, 255)"  # readable on white
    shot(page, "ux-02-team-queue")
    page.goto(f"{site.url}/ui/work-orders?breach_within=60")
    heads = page.locator("#work-order-table thead th").all_text_contents()
    assert any("到期时间" in h for h in heads) and "剩余时间" in heads and "处理人" in heads
    shot(page, "ux-03-due-within-1h")
    assert not script_errors(page), script_errors(page)
