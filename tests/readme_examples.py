#!/usr/bin/env python3
"""The README's quick start must be the examples/ files that the build compiles, verbatim."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
blocks = re.findall(r"```cpp\n(.*?)```", (root / "README.md").read_text(), re.S)
missing = [p.name for p in sorted((root / "examples").glob("*.cpp")) if p.read_text() not in blocks]
if missing:
    sys.exit("README.md has no verbatim copy of examples/" + ", examples/".join(missing))
print("README quick start matches examples/")
