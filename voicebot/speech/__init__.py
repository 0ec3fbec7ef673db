"""Speech: voice activity and end of turn (vad.py, turns.py), recognition (asr.py, vosk.py),
and prompts (tts.py, prompts.py)."""
