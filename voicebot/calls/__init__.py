"""Calls: one session per call (session.py), what it does (behaviour.py), and the service
that places calls and keeps their records (service.py)."""
