"""The operator page in a real browser (Debian's headless Chromium, driven by Playwright)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from hub.testing import HubHarness
from tests.integration.test_admin import TOKEN, admin  # noqa: F401 - the fixture
from tests.integration.test_dead_letters_admin import _our_fault

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed"),
]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


async def test_replay_a_dead_letter_from_the_page(
    admin: tuple[HubHarness, str], simulator: Any, tmp_path: Path  # noqa: F811
) -> None:
    from playwright.async_api import async_playwright

    harness, base = admin
    await _our_fault(harness, simulator)
    (letter,) = await harness.dead_letters(expect=1)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
        )
        try:
            page = await browser.new_page()
            await page.goto(base + "/")
            await page.fill("#token", TOKEN)
            await page.click("#login button")
            await page.wait_for_selector("#adapters tbody tr")
            assert "population" in await page.inner_text("#adapters")
            assert "closed" in await page.inner_text("#adapters")
            await page.wait_for_selector(f"button.replay[data-id='{letter.id}']")
            assert "our-fault" in await page.inner_text("#dead")
            await page.screenshot(path=str(tmp_path / "before.png"), full_page=True)
            await page.click(f"button.replay[data-id='{letter.id}']")
            # The page's CSP forbids eval, so no wait_for_function: a locator (Playwright's
            # own isolated world) waits for the text.
            await page.locator("#dead tbody td", has_text="replayed").wait_for()
            await page.click("#audit button")
            await page.wait_for_selector("#audit-rows tbody tr")
            assert "GeefGezinssamenstelling" in await page.inner_text("#audit-rows")
            await page.screenshot(path=str(tmp_path / "after.png"), full_page=True)
        finally:
            await browser.close()
    (after,) = await harness.hub.store.dead_letters()
    assert (after.state, after.handled_by) == ("replayed", "anne")
    shutil.copy(tmp_path / "after.png", "/tmp/admin-page.png")
