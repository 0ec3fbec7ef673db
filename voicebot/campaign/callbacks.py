"""When the callee asked to be called back: "tomorrow morning", "明天上午", "in an hour". Pure.

The script hands over the words it heard (the ``callback_time`` entity); this
turns them into a time in the callee's zone, or None when they name no time
(the campaign's default delay applies). The dialer then moves the time into the
calling window: "this evening" becomes the next morning's opening.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

_EN_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ZH_DAYS = "一二三四五六日"
_ZH_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

#: Parts of the day, as the hour a person would expect the call.
_PARTS = (
    (re.compile(r"\bmorning\b|上午|早上|早晨"), time(10, 0)),
    (re.compile(r"\bnoon\b|\blunch|中午"), time(12, 0)),
    (re.compile(r"\bafternoon\b|下午"), time(15, 0)),
    (re.compile(r"\bevening\b|\btonight\b|\bnight\b|晚上|今晚"), time(19, 0)),
)
_RELATIVE = re.compile(
    r"\bin (?:(an?|one|half an?|\d+(?:\.\d+)?|two|three) )?(hour|minute|min|day)s?\b"
    r"|(半|[\d一二两三四五六七八九十]+)个?(小时|钟头|分钟|天)"
)
_EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "half a": 0.5, "half an": 0.5}
_UNITS = {
    "hour": 3600,
    "小时": 3600,
    "钟头": 3600,
    "minute": 60,
    "min": 60,
    "分钟": 60,
    "day": 86400,
    "天": 86400,
}
#: The furthest ahead a callee's "in N days" is taken as a callback time.
MAX_AHEAD = timedelta(days=90)
_EN_HOUR = re.compile(r"\b(?:at|after|around|about|by)?\s*(\d{1,2})(?::(\d{2}))?\s*(am|pm|o'?clock)?\b")
_ZH_HOUR = re.compile(r"([\d一二两三四五六七八九十]{1,3})点(半|(\d{1,2})分?)?")


def parse_callback(text: str | None, now: datetime) -> datetime | None:
    """The callback time ``text`` names, relative to ``now`` (aware, the callee's zone)."""
    if not text:
        return None
    t = text.strip().lower()
    relative = _RELATIVE.search(t)
    if relative:
        span = _span(relative)
        return now + span if span <= MAX_AHEAD else None  # "in 99999999999 days" is no callback time
    day = _day(t, now)
    at = _time_of_day(t)
    if day is None and at is None:
        return None
    if day is None:  # a time alone: today if still ahead, else tomorrow
        candidate = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)  # type: ignore[union-attr]
        return candidate if candidate > now else candidate + timedelta(days=1)
    clock = at or now.time()  # "tomorrow": about the same time of day as now
    return day.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)


def _span(match: re.Match[str]) -> timedelta:
    if match.group(2):  # English
        count = match.group(1) or "1"
        n = _EN_NUMBERS.get(count) or float(count)
        seconds = n * _UNITS[match.group(2)]
    else:
        count = match.group(3)
        n = 0.5 if count == "半" else _zh_number(count)
        seconds = n * _UNITS[match.group(4)]
    return timedelta(seconds=min(seconds, MAX_AHEAD.total_seconds() + 1))


def _day(t: str, now: datetime) -> datetime | None:
    if "day after tomorrow" in t or "大后天" in t:
        return now + timedelta(days=3 if "大后天" in t else 2)
    if "后天" in t:
        return now + timedelta(days=2)
    if "tomorrow" in t or "明天" in t or "明早" in t or "明晚" in t:
        return now + timedelta(days=1)
    if "next week" in t or "下周" in t or "下星期" in t or "下个星期" in t:
        return now + timedelta(days=7 - now.weekday())  # next Monday
    for i, name in enumerate(_EN_DAYS):
        if re.search(rf"\b{name}\b", t):
            return _next_weekday(now, i)
    zh = re.search(rf"(?:周|星期|礼拜)([{_ZH_DAYS}天])", t)
    if zh:
        return _next_weekday(now, 6 if zh.group(1) == "天" else _ZH_DAYS.index(zh.group(1)))
    if re.search(r"\btoday\b|\bthis\b|\btonight\b|今天|今晚", t):
        return now
    return None


def _next_weekday(now: datetime, weekday: int) -> datetime:
    ahead = (weekday - now.weekday()) % 7 or 7
    return now + timedelta(days=ahead)


def _time_of_day(t: str) -> time | None:
    afternoon = bool(re.search(r"afternoon|evening|tonight|下午|晚上|今晚", t))
    zh = _ZH_HOUR.search(t)
    if zh:
        hour = _zh_number(zh.group(1))
        minute = 30 if zh.group(2) == "半" else int(zh.group(3) or 0)
        return _clock(hour, minute, pm=True if afternoon else None)
    for m in _EN_HOUR.finditer(t):
        if m.group(3) or re.search(r"\b(at|after|around|about|by)\s*$", t[: m.start(1)]):
            hour, minute, suffix = int(m.group(1)), int(m.group(2) or 0), m.group(3) or ""
            if suffix == "am":
                return _clock(hour % 12, minute, pm=False)
            return _clock(hour, minute, pm=True if suffix == "pm" or afternoon else None)
    for pattern, at in _PARTS:
        if pattern.search(t):
            return at
    return None


def _clock(hour: int, minute: int, *, pm: bool | None) -> time | None:
    """pm None: a bare "at 5" in business talk is 17:00, "at 9" is 09:00."""
    if (pm is True and hour < 12) or (pm is None and 1 <= hour <= 7):
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def _zh_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text.startswith("十"):
        return 10 + (_ZH_DIGITS.get(text[1:], 0) if len(text) > 1 else 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _ZH_DIGITS[tens] * 10 + (_ZH_DIGITS[ones] if ones else 0)
    return _ZH_DIGITS.get(text, 0)
