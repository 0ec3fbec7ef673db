"""FreeSWITCH's event socket: the protocol (pure) and a client that heals itself."""
