"""Run with Debian's python3: parse each .ics with libical and apply its iTIP restrictions.

Prints one JSON object: {path: [error, ...]} (an empty list means the file passed).
"""

import json
import sys

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib  # noqa: E402


def errors(text: str) -> list[str]:
    comp = ICalGLib.Component.new_from_string(text)
    if comp is None:
        return ["libical could not parse the file"]
    comp.check_restrictions()
    found = []
    stack = [comp]
    while stack:
        c = stack.pop()
        prop = c.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
        while prop is not None:
            found.append(f"{ICalGLib.Component.kind_to_string(c.isa())}: {prop.get_xlicerror()}")
            prop = c.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
        sub = c.get_first_component(ICalGLib.ComponentKind.ANY_COMPONENT)
        while sub is not None:
            stack.append(sub)
            sub = c.get_next_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    return found


out = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8", newline="") as f:
        out[path] = errors(f.read())
print(json.dumps(out))
