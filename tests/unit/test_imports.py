"""The pure core imports no sockets, telephony, speech engines or database."""

import subprocess
import sys

import pytest

IO = ["panoramisk", "sqlalchemy", "vosk", "pyttsx3", "alembic", "voicebot.store", "voicebot.telephony.ami"]
NETWORK = ["socket", "asyncio"]
PURE = {
    "voicebot.telephony.audiosocket.codec": IO + NETWORK,
    "voicebot.telephony.callstate": IO + NETWORK,
    "voicebot.media.audio": IO + NETWORK,
    "voicebot.calls.destination": IO + NETWORK,
    "voicebot.errors": IO + NETWORK,
    # pacing hands out asyncio futures for plays, but does no I/O
    "voicebot.media.pacing": IO,
    "voicebot.speech.turns": IO + NETWORK,
    "voicebot.campaign.rules": IO + NETWORK,
    "voicebot.campaign.retry": IO + NETWORK,
    "voicebot.campaign.callbacks": IO + NETWORK,
    "voicebot.campaign.report": IO + NETWORK,
    # pydantic's plugin discovery (importlib.metadata -> email.utils) imports socket; no I/O here
    "voicebot.campaign.definition": IO,
    # reads lead files (the edge), but no database, network or telephony
    "voicebot.campaign.leads": IO + NETWORK,
    "voicebot.dialog.features": IO + NETWORK,
    "voicebot.dialog.intents": IO + NETWORK,
    # scikit-learn's joblib pulls in socket, but the classifier itself does no I/O
    "voicebot.dialog.classifier": IO,
}


@pytest.mark.parametrize(("module", "forbidden"), PURE.items())
def test_pure_module_imports(module, forbidden):
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(','.join(m for m in {forbidden!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulls in {out.stdout.strip()}"
