"""The words of the warm transfer: the whisper an agent hears before the bridge, and the
built-in apology for a script without a ``no_agent`` node. Pure."""

from __future__ import annotations

from voicebot.dialog.flow import NO_AGENT

__all__ = ["NO_AGENT", "NO_AGENT_EN", "NO_AGENT_ZH", "whisper_text"]

NO_AGENT_EN = (
    "I'm sorry, all our advisers are busy right now. "
    "An adviser will call you back during office hours. Goodbye."
)
NO_AGENT_ZH = "非常抱歉，我们的顾问现在都在忙，稍后会在工作时间给您回电。再见。"
MAX_SAID = 60


def whisper_text(
    *, name: str, grade: str | None, said: str, chinese: bool = False, inbound: bool = False
) -> str:
    """Who is coming (a transfer, or a callee calling back), the grade and their last words to
    the robot; how to decline."""
    said = said if len(said) <= MAX_SAID else said[:MAX_SAID].rsplit(" ", 1)[0] + "…"
    if chinese:
        kind = "客户回电" if inbound else "转接客户"
        parts = [f"{kind}{name or ''}", f"等级{grade}" if grade else "", f"客户说：{said}" if said else ""]
        return "，".join(p for p in parts if p) + "。按2拒接。"
    parts = [
        f"{'Calling back' if inbound else 'Transfer'}: {name or 'a caller'}",
        f"grade {grade}" if grade else "",
        f"said: {said}" if said else "",
    ]
    return ", ".join(p for p in parts if p) + ". Press 2 to decline."
