"""The web console: agents take warm leads, supervisors watch and steer (Starlette, Jinja2).

``auth`` (roles, passwords, tokens) and ``wrapup`` (what an agent's disposition does to the
lead) are pure; ``desk`` carries agents' states out on the PBX's queues and turns queue
events into hand-off records and screen-pops; ``web`` is the ASGI app; ``server`` runs it.
"""
