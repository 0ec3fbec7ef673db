"""Dialog: intent files (intents.py), the intent classifier (classifier.py), and later the
script engine. Pure: no sockets, no telephony, no database."""
