"""voicebot: outbound sales calls with a voice robot on a real PBX."""

__version__ = "0.1.0"
