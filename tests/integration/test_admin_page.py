"""The operator page in a real browser (Debian's headless Chromium, driven by Playwright).

The page runs under its own strict Content-Security-Policy; its actions send the CSRF token,
and a page of another origin on the same host (same site: the cookie goes along) cannot make
the admin change anything.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp import web

from hub.testing import HubHarness, make_job
from simulators.population_data import WELL_KNOWN
from tests.integration.test_admin import TOKEN, admin  # noqa: F401 - the fixture
from tests.integration.test_dead_letters_admin import _our_fault

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed"),
]
# Screenshots are kept after the run (CI keeps this folder): what each page test saw.
SCREENSHOTS = Path(os.environ.get("LOKET_TEST_SCREENSHOTS",
                                  Path(__file__).resolve().parents[2] / "out/screenshots"))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@asynccontextmanager
async def _signed_in(base: str) -> AsyncIterator[tuple[Any, list[str]]]:
    """A browser page signed in as anne, and the console messages it logs."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
        )
        try:
            page = await browser.new_page()
            # Destructive actions ask first: the operator here says yes.
            page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            await page.goto(base + "/")
            await page.fill("#token", TOKEN)
            await page.click("#login button")
            await page.wait_for_selector("#adapters tbody tr")
            yield page, console
        finally:
            await browser.close()


def _shot(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name


async def test_replay_a_dead_letter_from_the_page(
    admin: tuple[HubHarness, str], simulator: Any, tmp_path: Path  # noqa: F811
) -> None:
    harness, base = admin
    await _our_fault(harness, simulator)
    (letter,) = await harness.dead_letters(expect=1)
    async with _signed_in(base) as (page, console):
        assert "population" in await page.inner_text("#adapters")
        assert "closed" in await page.inner_text("#adapters")
        assert "signed in as anne" in await page.inner_text("#who")
        await page.wait_for_selector(f"button.replay[data-id='{letter.id}']")
        assert "our-fault" in await page.inner_text("#dead")
        await page.screenshot(path=str(_shot("replay-before.png")), full_page=True)
        await page.click(f"button.replay[data-id='{letter.id}']")
        # The page's CSP forbids eval, so no wait_for_function: a locator (Playwright's
        # own isolated world) waits for the text.
        await page.locator("#dead tbody td", has_text="replayed").wait_for()
        await page.click("#audit button")
        await page.wait_for_selector("#audit-rows tbody tr")
        assert "GeefGezinssamenstelling" in await page.inner_text("#audit-rows")
        await page.screenshot(path=str(_shot("replay-after.png")), full_page=True)
        assert await page.inner_text("#message") == ""
        assert not [text for text in console if "Content Security Policy" in text]
    (after,) = await harness.hub.store.dead_letters()
    assert (after.state, after.handled_by) == ("replayed", "anne")


ATTACK = """<!doctype html><html><body>
<form id="f" method="POST" enctype="text/plain" action="{base}/api/dead-letters/{first}/discard">
<input name='{{"a":"' value='"}}'></form>
<script>
fetch("{base}/api/dead-letters/{second}/discard", {{method: "POST", mode: "no-cors",
  credentials: "include", headers: {{"Content-Type": "text/plain"}}, body: "{{}}"}})
  .finally(() => {{ document.title = "fetched"; document.getElementById("f").submit(); }});
</script></body></html>"""


async def test_discard_and_replay_all_from_the_page_and_no_other_origin_can(
    admin: tuple[HubHarness, str], simulator: Any  # noqa: F811
) -> None:
    from playwright.async_api import async_playwright

    harness, base = admin
    for _ in range(4):
        await _our_fault(harness, simulator)
    first, second, third, fourth = await harness.dead_letters(expect=4)

    # An attacker's page on another port of the same host: same site, so the browser sends
    # the SameSite=Strict cookie along with a form post and a no-cors fetch.
    attacker = web.Application()

    async def attack(_: web.Request) -> web.Response:
        return web.Response(text=ATTACK.format(base=base, first=first.id, second=second.id),
                            content_type="text/html")

    attacker.router.add_get("/", attack)
    runner = web.AppRunner(attacker)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    attacker_url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
            )
            try:
                context = await browser.new_context()
                page = await context.new_page()
                page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
                await page.goto(base + "/")
                await page.fill("#token", TOKEN)
                await page.click("#login button")
                await page.wait_for_selector(f"button.discard[data-id='{third.id}']")
                await page.click(f"button.discard[data-id='{third.id}']")
                await page.locator("#dead tbody td", has_text="discarded").wait_for()

                evil = await context.new_page()
                async with evil.expect_navigation(url=f"{base}/api/dead-letters/"
                                                  f"{first.id}/discard") as navigation:
                    await evil.goto(attacker_url)
                answer = await navigation.value
                assert answer is not None and answer.status == 403
                assert "admin's own origin" in await evil.inner_text("body")
                assert (await context.cookies())[0]["name"] == "loket_admin_token"

                await page.click("#replay-all")
                await page.locator("#dead tbody td", has_text="replayed").first.wait_for()
            finally:
                await browser.close()
    finally:
        await runner.cleanup()
    states = {d.id: (d.state, d.handled_by) for d in await harness.hub.store.dead_letters()}
    # the attacker's two requests changed nothing: both letters were replayed afterwards
    assert states[third.id] == ("discarded", "anne")
    assert {states[i] for i in (first.id, second.id, fourth.id)} == {("replayed", "anne")}


async def test_search_the_register_and_save_the_search_from_the_page(
    admin: tuple[HubHarness, str], tmp_path: Path  # noqa: F811
) -> None:
    harness, base = admin
    job = make_job(WELL_KNOWN["single"])
    await harness.client.request(job, timeout=30)
    async with _signed_in(base) as (page, console):
        await page.fill("#requests input[name=dossier]", job["dossier_id"])
        await page.click("#requests button")
        await page.locator("#requests-rows tbody td", has_text="population.attest").wait_for()
        assert "1 found" in await page.inner_text("#requests-total")
        assert "delivered" in await page.inner_text("#requests-rows")
        await page.fill("#requests-name", "this dossier")
        await page.check("#requests-shared")
        await page.click("#requests-save")
        await page.locator("#requests-saved option",
                           has_text="this dossier (shared, anne)").wait_for(state="attached")
        # The Excel report of the search, as the browser downloads it: the request is in it.
        async with page.expect_download() as downloading:
            await page.click("#requests-xlsx")
        download = await downloading.value
        report = _shot("requests-report.xlsx")
        await download.save_as(str(report))
        sheet = openpyxl.load_workbook(report, read_only=True).active
        assert sheet is not None
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert any(job["dossier_id"] in row for row in rows[1:]), rows[:3]
        await page.fill("#audit input[name=subject]", WELL_KNOWN["single"])
        await page.click("#audit button")
        await page.locator("#audit-rows tbody td", has_text="population.attest").wait_for()
        await page.screenshot(path=str(_shot("searches.png")), full_page=True)
        assert await page.inner_text("#message") == ""
        assert not [text for text in console if "Content Security Policy" in text]
    (saved,) = [f for f in await harness.hub.store.saved_filters("requests", "anne")
                if f.name == "this dossier"]
    assert saved.filters == {"dossier": job["dossier_id"]} and saved.shared


async def test_a_refused_replay_is_shown_and_goes_only_when_the_operator_insists(
    admin: tuple[HubHarness, str]  # noqa: F811
) -> None:
    """A letter whose cause is not retryable: the replay is refused and the page says why and
    asks; declined, nothing happens; accepted, it is sent with force. The detail view shows the
    letter's body and cause, and the letter that came back shows the first in its history."""
    from playwright.async_api import async_playwright

    harness, base = admin
    job = make_job("46061400106")
    await harness.client.publish(job, reply=False)
    (letter,) = await harness.dead_letters(expect=1)
    answers: list[bool] = [False, True]  # decline the first "replay anyway?", accept the next
    asked: list[str] = []

    async def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        await (dialog.accept() if answers.pop(0) else dialog.dismiss())

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                   args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            page.on("dialog", lambda dialog: asyncio.ensure_future(answer(dialog)))
            await page.goto(base + "/")
            await page.fill("#token", TOKEN)
            await page.click("#login button")
            await page.click(f"button.detail[data-id='{letter.id}']")
            await page.locator("#detail-cause", has_text="INVALID_INSZ").wait_for()
            assert "not retryable" in await page.inner_text("#detail-cause")
            assert job["job_id"] in await page.inner_text("#detail-body")
            await page.click(f"button.replay[data-id='{letter.id}']")
            await page.locator("#message", has_text="409").wait_for()
            assert "not retryable" in await page.inner_text("#message")
            assert await harness.hub.store.dead_letter(letter.id) is not None
            assert (await harness.hub.store.dead_letter(letter.id)).state == "new"  # type: ignore[union-attr]
            await page.click(f"button.replay[data-id='{letter.id}']")
            await page.locator("#outcome", has_text="replayed (forced)").wait_for()
            _, again = await harness.dead_letters(expect=2)
            await page.click("#dead-filter button")
            await page.click(f"button.detail[data-id='{again.id}']")
            await page.locator("#detail-history td", has_text=f"#{letter.id}").wait_for()
            await page.screenshot(path=str(_shot("refused-replay.png")), full_page=True)
        finally:
            await browser.close()
    assert len(asked) == 2 and all("Replay" in text for text in asked)
    assert (await harness.hub.store.dead_letter(letter.id)).state == "replayed"  # type: ignore[union-attr]
