"""Fixtures for tests through the real lab Asterisk."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from voicebot.app import App
from voicebot.config import Settings, load_settings
from voicebot.media import audio
from voicebot.media.wavfile import write_call_audio
from voicebot.store import Store


@pytest.fixture
def settings_for(lab, tmp_path) -> Callable[..., Settings]:
    """Settings pointing at the lab, on free ports, with a data dir of the test's own."""

    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "pbx_root": lab.root,
            "ami": {
                "host": "127.0.0.1",
                "port": 5038,
                "username": "voicebot",
                "secret": lab.secret,
                "connect_timeout": 5,
            },
            "agi": {"host": "127.0.0.1", "port": 0},
            "audiosocket": {"host": "127.0.0.1", "port": 0},
            "dial": {
                "ring_timeout": 5,
                "channel_template": lab.env["VOICEBOT_DIAL__CHANNEL_TEMPLATE"],
                "caller_id": lab.env["VOICEBOT_DIAL__CALLER_ID"],
            },
            "call": {"listen_seconds": 1.0},
        }
        for key, value in overrides.items():
            if isinstance(value, dict):
                base[key] = {**base.get(key, {}), **value}
            else:
                base[key] = value
        return load_settings(None, **base)

    return make


@pytest.fixture
def cli_env(lab, tmp_path) -> dict[str, str]:
    """The environment for a `voicebot` process against the lab: free ports, a data dir of its own,
    and none of the developer's VOICEBOT_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")}
    env.update(lab.env)
    env.update(
        {
            "VOICEBOT_DATA_DIR": str(tmp_path / "cli-data"),
            "VOICEBOT_AGI__PORT": "0",
            "VOICEBOT_AUDIOSOCKET__PORT": "0",
            "VOICEBOT_CALL__LISTEN_SECONDS": "0.5",
        }
    )
    return env


@pytest.fixture
def tone_greeting(tmp_path) -> Path:
    """A 2 s, 440 Hz greeting: easy to find again in the callee's recording."""
    path = tmp_path / "greeting.wav"
    write_call_audio(path, audio.tone(440, 2.0, level=0.3))
    return path


@pytest.fixture
async def app(settings_for, tone_greeting) -> AsyncIterator[App]:
    async with App(settings_for(call={"greeting": tone_greeting})) as running:
        yield running


class TcpProxy:
    """A loopback TCP proxy whose connections the test can cut (a dropped link) or freeze
    (a link that stays open and carries nothing, as a stuck PBX or a half-dead firewall)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.refusing = False
        self._pairs: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.accepted = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.close()
            return
        self.accepted += 1
        await self._flowing.wait()  # a frozen peer accepts, and never answers
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._pairs.append((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()

    def cut(self) -> None:
        """Close every proxied connection, both ways, as a network failure would."""
        for a, b in self._pairs:
            a.transport.abort()
            b.transport.abort()
        self._pairs.clear()

    def freeze(self) -> None:
        """Stop carrying bytes either way; the connections stay open."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    async def close(self) -> None:
        self.thaw()
        self.cut()
        self._server.close()


@pytest.fixture(scope="session")
def lead_voices(lab) -> None:
    """The lab's numbered callees' voices, timed to the English sample script (rendered by a
    process of their own: espeak-ng's output depends on what the process rendered before)."""
    subprocess.run([sys.executable, "-m", "voicebot.lab", str(lab.sounds)], check=True, timeout=300)


@pytest.fixture(scope="session")
def fs_lead_voices(lab, lead_voices, freeswitch) -> None:
    """The same voices for the lab FreeSWITCH's numbered callees."""
    for sound in lab.sounds.glob("lead-*.wav"):
        shutil.copy(sound, freeswitch.sounds / sound.name)


@pytest.fixture
def fs_settings_for(freeswitch, tmp_path) -> Callable[..., Settings]:
    """Settings for a worker on the lab FreeSWITCH ([pbx] kind = "freeswitch"), on free ports."""

    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "pbx": {"kind": "freeswitch", "recordings": str(freeswitch.recordings)},
            "esl": {"port": freeswitch.port, "user": freeswitch.user, "password": freeswitch.password},
            "callsocket": {"port": 0},
            "unicast": {"port": 0, "pbx_ports_from": 31700, "pbx_ports": 200},
            "dial": {
                "ring_timeout": 5,
                "channel_template": "loopback/{number}/voicebot-lab-numbers",
                "number_format": "digits",
                "caller_id": "+861012345678",
            },
            "call": {"listen_seconds": 1.0},
        }
        for key, value in overrides.items():
            base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
        return load_settings(None, **base)

    return make


@dataclass(frozen=True)
class LabPbx:
    """Either lab PBX, for the tests that must pass the same on both."""

    kind: str
    sounds: Path  # where a lab callee's NAME.wav goes
    settings_for: Callable[..., Settings]
    numbers: dict[str, str]  # [dial] settings for the lab's numbered callees
    recordings: Path  # where the lab's callees and agents' phones record what they hear

    def phone(self, name: str) -> str:
        """A lab agent's phone, as the queue rings it: it answers after 1 s and records what the
        agent hears in ``recordings / f"phone-{name}-{call id}-heard.wav"``."""
        if self.kind == "asterisk":
            return f"Local/phone-{name}@voicebot-lab-phones/n"
        return f"loopback/phone-{name}/voicebot-lab-phones"

    def talk(self, name: str) -> str:
        """The destination of a callee who plays NAME.wav (a whole conversation) and hangs up."""
        if self.kind == "asterisk":
            return f"Local/talk-{name}@voicebot-lab/n"
        return f"loopback/talk-{name}/voicebot-lab"


@pytest.fixture(params=["asterisk", "freeswitch"])
def pbx_lab(request) -> LabPbx:
    if request.param == "asterisk":
        lab = request.getfixturevalue("lab")
        return LabPbx(
            "asterisk",
            lab.sounds,
            request.getfixturevalue("settings_for"),
            {"channel_template": "Local/{number}@voicebot-lab-numbers/n", "number_format": "digits"},
            lab.monitor / "voicebot-lab",
        )
    freeswitch = request.getfixturevalue("freeswitch")
    return LabPbx(
        "freeswitch",
        freeswitch.sounds,
        request.getfixturevalue("fs_settings_for"),
        {"channel_template": "loopback/{number}/voicebot-lab-numbers", "number_format": "digits"},
        freeswitch.recordings / "lab",
    )


#: A real headless browser: Debian's chromium through chromium-driver (Selenium); scripts/test.sh
#: installs both, and a test that needs them fails when they are missing.
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser() -> Iterator[Callable[[], webdriver.Chrome]]:
    """Opens browsers (each its own profile: its own cookies), closed after the test."""
    driver_path = shutil.which("chromedriver")
    assert driver_path and shutil.which("chromium"), "chromium and chromium-driver: run scripts/test.sh"
    opened: list[webdriver.Chrome] = []

    def open_one() -> webdriver.Chrome:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        driver.set_page_load_timeout(30)
        opened.append(driver)
        return driver

    yield open_one
    for driver in opened:
        driver.quit()


@pytest.fixture
def empty_desk(lab) -> None:
    """The lab's console queue with no member left over from an earlier run that was cut short
    (a dynamic member outlives the test that added it until Asterisk restarts)."""
    import re

    shown = lab.cli("queue show voicebot-lab-desk")
    for interface in set(re.findall(r"((?:Local|PJSIP)/[^\s)]+)", shown)):
        lab.cli(f"queue remove member {interface} from voicebot-lab-desk")


@pytest.fixture
def empty_fs_desk(freeswitch) -> None:
    """The lab FreeSWITCH's console queue with no agent left over from an earlier test (the
    desk's agents live in mod_callcenter's database until they are deleted)."""
    from voicebot.telephony.callcenter import table

    for row in table(freeswitch.cli("callcenter_config queue list agents voicebot-lab-desk")):
        freeswitch.cli(f"callcenter_config tier del voicebot-lab-desk {row['name']}")
        freeswitch.cli(f"callcenter_config agent del {row['name']}")


@pytest.fixture
def store(db_url, clock):
    """A migrated store on each database (SQLite, PostgreSQL), on the test module's ``clock``."""
    s = Store(db_url, clock=clock)
    s.migrate()
    yield s
    s.close()
