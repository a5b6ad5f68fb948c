"""What every browser test of the admin pages checks: nothing said in the console (no
script error, no refused resource), and no page wider than the window."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page


def console_problems(page: Page, *, ignore: tuple[str, ...] = ()) -> list[str]:
    """The errors and warnings the page will log from now on (those containing one of
    ``ignore`` left out), and uncaught script errors: a list that fills as the test runs."""
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and not any(
            text in message.text for text in ignore
        ):
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def assert_fits_width(page: Page) -> None:
    """The page scrolls no wider than the window (a phone's 375 px included)."""
    # Measured once the page's stylesheets are in: a heading can be visible before they are,
    # and an unstyled table is wider than the phone.
    page.wait_for_load_state("load")
    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client, f"{page.url}: {scroll} px wide in {client} px"
