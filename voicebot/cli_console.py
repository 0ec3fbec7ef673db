"""``voicebot users|console``: the console's users, and the console served on its own."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import NoReturn

import click

from voicebot.cli_support import open_store, operator
from voicebot.config import Settings
from voicebot.errors import VoicebotError


def _fail(e: VoicebotError, code: int) -> NoReturn:
    click.echo(f"error: {e}", err=True)
    sys.exit(code)


def _password(from_env: str | None) -> str:
    """From the named environment variable (scripts), else asked twice on the terminal."""
    if from_env:
        value = os.environ.get(from_env)
        if not value:
            click.echo(f"error: ${from_env} is empty", err=True)
            sys.exit(2)
        return value
    return str(click.prompt("password", hide_input=True, confirmation_prompt=True))


@click.group()
def users() -> None:
    """Console users: agents, supervisors, QA inspectors, compliance, admins."""


@users.command("add")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice(["agent", "supervisor", "qa", "compliance", "admin"])
)
@click.option("--name", default="", help="the name the console shows (and the agent says)")
@click.option("--interface", default=None, help="an agent's phone as the queue rings it: PJSIP/agent101")
@click.option("--queue", "queues", multiple=True, help="a queue the agent takes calls from (repeatable)")
@click.option("--department", default="", help="the department an agent names when introducing themselves")
@click.option("--language", type=click.Choice(["en", "zh"]), default="en")
@click.option("--password-env", default=None, metavar="VAR", help="read the password from $VAR")
@click.pass_obj
def users_add(
    settings: Settings,
    username: str,
    role: str,
    name: str,
    interface: str | None,
    queues: tuple[str, ...],
    department: str,
    language: str,
    password_env: str | None,
) -> None:
    """Add a console user (the password is stored as an argon2id hash)."""
    from voicebot.console.auth import check_username, hash_password
    from voicebot.telephony.callcenter import check_contact
    from voicebot.telephony.queues import check_interface, check_queue

    try:
        check_username(username)
        if role == "agent":
            if not interface:
                raise VoicebotError("an agent needs --interface, the phone the queue rings")
            (check_contact if settings.pbx.kind == "freeswitch" else check_interface)(interface)
            for queue in queues or (settings.call.queue,):
                check_queue(queue)
        password_hash = hash_password(_password(password_env))
    except VoicebotError as e:
        _fail(e, 2)
    with open_store(settings) as store:
        try:
            store.console.add_user(
                username,
                role=role,
                password_hash=password_hash,
                name=name,
                language=language,
                interface=interface if role == "agent" else None,
                queues=(queues or (settings.call.queue,)) if role == "agent" else (),
                department=department,
                actor=operator(),
            )
        except VoicebotError as e:
            _fail(e, 1)
    click.echo(f"user {username} added ({role})")


@users.command("password")
@click.argument("username")
@click.option("--password-env", default=None, metavar="VAR", help="read the password from $VAR")
@click.pass_obj
def users_password(settings: Settings, username: str, password_env: str | None) -> None:
    """Set a user's password (their open logins end)."""
    from voicebot.console.auth import hash_password

    try:
        password_hash = hash_password(_password(password_env))
    except VoicebotError as e:
        _fail(e, 2)
    with open_store(settings) as store:
        try:
            store.console.set_password(username, password_hash, actor=operator())
        except VoicebotError as e:
            _fail(e, 1)
    click.echo(f"password of {username} changed")


@users.command("list")
@click.pass_obj
def users_list(settings: Settings) -> None:
    """The console's users."""
    with open_store(settings) as store:
        for u in store.console.users():
            phone = f"  {u.interface} {','.join(u.queues)}" if u.interface else ""
            click.echo(f"{u.username:<20} {u.role:<11} {u.name}{phone}")


@click.command()
@click.pass_obj
def console(settings: Settings) -> None:
    """Serve the web console alone (no calls, no dialer): agents and supervisors log in at its URL.

    `voicebot serve` serves it too when [console] enabled = true."""
    from voicebot.console.server import ConsoleServer
    from voicebot.store import Store
    from voicebot.telephony.links import pbx_link

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        store = Store(settings.db_url)
        await asyncio.to_thread(store.migrate)
        link = pbx_link(settings.pbx.kind, settings.ami, settings.esl)
        server = ConsoleServer(store, link.queues, link.pbx, settings)
        try:
            await link.client.connect()
            await server.start()
            click.echo(f"voicebot console: {server.url}")
            await stop.wait()
        finally:
            await server.close()
            await link.client.close()
            await asyncio.to_thread(store.close)

    try:
        asyncio.run(run())
    except VoicebotError as e:
        _fail(e, 1)
    except OSError as e:
        click.echo(f"error: cannot serve the console on {settings.console.host}:{settings.console.port}: {e}")
        sys.exit(1)
