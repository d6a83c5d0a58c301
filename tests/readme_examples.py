#!/usr/bin/env python3
"""README.md's C++ must compile.

The quick start must be the examples/ files that the build compiles, verbatim. Every other ```cpp
block is compiled here (syntax only), unless it is marked just before its fence:

  <!-- fragment -->                      not compiled, on purpose (say why next to it)
  <!-- compile-as-body: PARAMETERS -->   compiled as the body of `void f(PARAMETERS)` after
                                         <ocpp/ocpp.hpp> and <iostream>: the parameters stand for
                                         what the snippet uses without declaring it

A block without a marker must be a whole translation unit.
Usage: readme_examples.py [c++ compiler [build dir]]
(the build dir holds the generated include/ocpp/version.hpp; default build/release)
"""
import concurrent.futures
import pathlib
import re
import subprocess
import sys
import tempfile

root = pathlib.Path(__file__).resolve().parent.parent
compiler = sys.argv[1] if len(sys.argv) > 1 else "c++"
build = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else root / "build" / "release"
# As the library's targets compile (see src/CMakeLists.txt: ocpp_transport's public definitions).
flags = ["-std=c++20", "-fsyntax-only", "-I", str(root / "include"), "-I", str(build / "include"),
         "-DBOOST_ASIO_NO_DEPRECATED",
         "-DBOOST_BEAST_USE_STD_STRING_VIEW", "-Wall", "-Wextra", "-Wno-mismatched-new-delete",
         "-Wno-unused-parameter",
         # The README's designated initializers leave the other members at their defaults on purpose.
         "-Wno-missing-field-initializers"]

readme = (root / "README.md").read_text()
fence = re.compile(r"(?:<!--\s*(fragment|compile-as-body:(.*?))\s*-->\n)?```cpp\n(.*?)```", re.S)
blocks = []  # (line, marker, parameters, code)
for m in fence.finditer(readme):
    blocks.append((readme.count("\n", 0, m.start(3)), m.group(1), (m.group(2) or "").strip(), m.group(3)))

codes = [b[3] for b in blocks]
missing = [p.name for p in sorted((root / "examples").glob("*.cpp")) if p.read_text() not in codes]
if missing:
    sys.exit("README.md has no verbatim copy of examples/" + ", examples/".join(missing))
examples = {p.read_text() for p in (root / "examples").glob("*.cpp")}


def source(line, marker, parameters, code):
    at = f'#line {line + 1} "README.md"\n'  # errors point into the README
    if marker is None:
        return at + code
    return "#include <ocpp/ocpp.hpp>\n\n#include <iostream>\n\n[[maybe_unused]] void readme_block(" + \
        parameters + ") {\n" + at + code + "}\n"


def compile_block(tmp, line, marker, parameters, code):
    path = pathlib.Path(tmp) / f"readme_line_{line + 1}.cpp"
    path.write_text(source(line, marker, parameters, code))
    r = subprocess.run([compiler, *flags, str(path)], capture_output=True, text=True, timeout=300)
    return line, r.returncode, r.stderr


# The examples/ copies are compiled by the build; fragments never are.
todo = [b for b in blocks if b[1] != "fragment" and b[3] not in examples]
failed = []
with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(2) as pool:
    for line, rc, err in pool.map(lambda b: compile_block(tmp, *b), todo):
        if rc != 0:
            failed.append(f"README.md block at line {line + 1} does not compile:\n{err}")
        elif err:  # warnings: shown, not fatal
            print(f"README.md block at line {line + 1} compiles with warnings:\n{err}")
if failed:
    sys.exit("\n".join(failed) + "\nMark a block that cannot compile alone with <!-- fragment --> or "
             "<!-- compile-as-body: PARAMETERS --> (see tests/readme_examples.py).")
fragments = sum(1 for b in blocks if b[1] == "fragment")
print(f"README: quick start matches examples/, {len(todo)} more blocks compile, {fragments} fragments")
