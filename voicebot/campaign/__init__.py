"""Campaigns: the dial-time rules (rules.py, pure) and, later, leads and the dialer."""
