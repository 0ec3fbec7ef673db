"""Audio: pure math (audio.py), files (wavfile.py) and the MediaStream contract (stream.py)."""
