"""Settings from defaults, a TOML file and the environment; bad input names file, line and fix."""

from pathlib import Path

import pytest

from voicebot.config import load_settings
from voicebot.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """These tests define the environment they need; the developer's VOICEBOT_* stay out."""
    import os

    for name in list(os.environ):
        if name.startswith("VOICEBOT_"):
            monkeypatch.delenv(name)


def test_defaults(monkeypatch):
    monkeypatch.delenv("VOICEBOT_CONFIG", raising=False)
    monkeypatch.chdir("/")
    s = load_settings()
    assert s.ami.port == 5038 and s.agi.port == 4573 and s.audiosocket.port == 9092
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("voicebot.db")


def test_file_then_environment(tmp_path, monkeypatch):
    f = tmp_path / "voicebot.toml"
    f.write_text('data_dir = "/srv/vb"\n[ami]\nhost = "10.0.0.5"\nsecret = "s3"\n[agi]\nport = 4600\n')
    monkeypatch.setenv("VOICEBOT_AMI__HOST", "pbx.local")
    s = load_settings(f)
    assert s.ami.host == "pbx.local"  # environment wins
    assert s.ami.secret.get_secret_value() == "s3"
    assert s.agi.port == 4600
    assert s.data_dir == Path("/srv/vb")
    assert "s3" not in repr(s)


def test_bad_value_names_file_line_and_env(tmp_path, monkeypatch):
    monkeypatch.delenv("VOICEBOT_AGI__PORT", raising=False)
    f = tmp_path / "voicebot.toml"
    f.write_text("[ami]\nhost = 'x'\n\n[agi]\nport = 'many'\n")
    with pytest.raises(ConfigError) as err:
        load_settings(f)
    text = str(err.value)
    assert f"{f}:5: agi.port" in text
    assert "VOICEBOT_AGI__PORT" in text


def test_unknown_key_is_an_error(tmp_path):
    f = tmp_path / "voicebot.toml"
    f.write_text("[ami]\nsecrte = 'x'\n")
    with pytest.raises(ConfigError, match=r"voicebot.toml:2: unknown setting 'ami.secrte'"):
        load_settings(f)


def test_toml_syntax_error_has_line(tmp_path):
    f = tmp_path / "voicebot.toml"
    f.write_text("[ami]\nhost = \n")
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 2"):
        load_settings(f)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such settings file"):
        load_settings(tmp_path / "nope.toml")


def test_advertised_address():
    s = load_settings(agi={"host": "0.0.0.0", "port": 4573})
    assert s.agi.address() == "127.0.0.1:4573"
    assert s.agi.address(bound_port=5000) == "127.0.0.1:5000"
    s = load_settings(agi={"host": "0.0.0.0", "port": 4573, "advertise": "10.1.1.1:4573"})
    assert s.agi.address() == "10.1.1.1:4573"
