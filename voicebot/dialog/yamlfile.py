"""YAML as script writers expect it: only true/false are booleans.

PyYAML follows YAML 1.1, where yes, no, on and off are booleans too: a callee
line ``user: yes`` would become ``True`` and a key ``on:`` would become ``true``.
This loader resolves booleans the YAML 1.2 way.
"""

from __future__ import annotations

import re

import yaml


class ScriptLoader(yaml.SafeLoader):  # type: ignore[misc]
    pass


ScriptLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ScriptLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
