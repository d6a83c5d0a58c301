#!/usr/bin/env python3
"""Includes point down: a lower layer never includes an upper one.

Usage: layering_test.py <repository root>

The layers, bottom up, one CMake library each (src/CMakeLists.txt):

    rpc < log < messages (= schema, codegen/runtime) < engine < http < tls < redis < transport
        < session < cluster < client | server (peers: neither includes the other) < apps (apps/ocpp,
        include/ocpp/ocpp.hpp)

redis (the Redis client) needs only tls, log and http below it; cluster (node, presence, routed
calls, its in-memory and Redis adapters) needs engine and redis, and the server builds on it.

A file's layer is its folder: include/ocpp/<layer>/, src/<layer>/, codegen/runtime/ (messages),
apps/ (apps). An include's layer is the layer of the file it resolves to, the way the compiler
finds it (a quoted include next to the includer first, then include/, src/ and codegen/), or, for a
header that does not exist, its first folder: "ocpp/<layer>/..." (public) or "<layer>/..." (a
private header reached from src/, "runtime/..." being the messages layer's).

Rules:
  * an include points to the same layer or a lower one (client and server never include each
    other); wasm/ and web/ (the browser client) build only the IO-free layers, so they include
    only those;
  * no "../" in any include (src/, include/, apps/, tests/, codegen/, wasm/, bench/, examples/);
  * the IO-free layers (rpc, log, messages, engine, http; and wasm/) include no Asio, Beast,
    OpenSSL, threads, locks or coroutines;
  * public headers (include/ocpp/) never include private ones (under src/ or codegen/), and declare
    their API between OCPP_API_BEGIN and OCPP_API_END (the shared library exports only that);
  * an "ocpp/<x>" folder that is not a layer is an error: a new layer is placed in LAYERS on purpose.
Exceptions are named one by one in EXEMPT, with the reason, and printed on every run.

Prints every violation as "path:line: what (layer X includes layer Y)" and exits 1 if there is
one; otherwise prints "layering: N files, M includes checked, 0 violations" and exits 0.
Python 3 standard library only.
"""

import os
import re
import sys

# Bottom up; names on one rank are one layer (aliases) unless listed as PEERS.
LAYERS = ["rpc", "log", "messages", "engine", "http", "tls", "redis", "transport", "session", "cluster", "client",
          "server", "apps"]
ALIASES = {"schema": "messages", "runtime": "messages"}  # schema/: the validators; runtime/: codegen/runtime
PEERS = {"client": "server", "server": "client"}  # same rank, neither includes the other
RANK = {name: i for i, name in enumerate(LAYERS)}
RANK["server"] = RANK["client"]
RANK["apps"] = RANK["client"] + 1

IO_FREE = {"rpc", "log", "messages", "engine", "http"}
# Headers an IO-free layer never includes: (test on the include's text, what to call it).
IO_HEADERS = [
    (lambda s: s == "boost/asio.hpp" or s.startswith("boost/asio/"), "Asio"),
    (lambda s: s == "boost/beast.hpp" or s.startswith("boost/beast/"), "Beast"),
    (lambda s: s.startswith("openssl/"), "OpenSSL"),
    (lambda s: s in ("thread", "mutex", "shared_mutex", "condition_variable", "future", "stop_token"), "threads"),
    (lambda s: s == "coroutine", "coroutines"),
]

# Known exceptions, each on purpose and named: (file, include) -> why. Printed on every run.
EXEMPT: dict = {}

SCANNED_DIRS = ["src", "include", "apps", "tests", "codegen", "wasm", "web", "bench", "examples"]
CXX_EXTENSIONS = (".h", ".hh", ".hpp", ".hxx", ".ipp", ".inl", ".tpp", ".c", ".cc", ".cpp", ".cxx")
# Where a quoted include that is not next to its includer is looked for (the targets' include dirs).
INCLUDE_ROOTS = ["include", "src", "codegen", "apps/ocpp"]  # apps/ocpp: the ocpp tool's own headers
UNKNOWN = "?"


# Public headers that declare nothing: the umbrella header and the markers' own.
UNMARKED_HEADERS = {"include/ocpp/ocpp.hpp", "include/ocpp/rpc/visibility.hpp"}


def canonical(folder):
    """The layer a folder name stands for, or None when it is not a layer."""
    folder = ALIASES.get(folder, folder)
    return folder if folder in RANK else None


def layer_of_file(rel):
    """(layer, problem) of a repository-relative path; layer None: not layered (tests, bench...)."""
    parts = rel.split("/")
    if parts[0] == "include":
        if parts[1:] == ["ocpp", "ocpp.hpp"]:
            return "apps", None  # the umbrella header is the top
        if len(parts) >= 4 and parts[1] == "ocpp":
            layer = canonical(parts[2])
            if layer and parts[2] not in ("runtime", "apps"):
                return layer, None
            return UNKNOWN, "public header in unknown layer folder include/ocpp/%s/" % parts[2]
        return UNKNOWN, "public header outside include/ocpp/<layer>/"
    if parts[0] == "src":
        if len(parts) >= 3:
            layer = canonical(parts[1])
            if layer and parts[1] not in ("runtime", "apps"):
                return layer, None
            return UNKNOWN, "source in unknown layer folder src/%s/" % parts[1]
        return UNKNOWN, "source outside src/<layer>/"
    if parts[0] == "codegen" and len(parts) >= 3 and parts[1] == "runtime":
        return "messages", None
    if parts[0] == "apps":
        return "apps", None
    if parts[0] in ("wasm", "web"):
        return "wasm", None
    return None, None


def allowed(src, dst):
    if src == "wasm":
        return dst in IO_FREE
    if src == dst:
        return True
    if PEERS.get(src) == dst:
        return False
    return RANK[dst] < RANK[src]


HEADER_RE = re.compile(r"[ \t]*#[ \t]*include(?:_next)?[ \t]*([<\"])([^\">\n]*)([\">])")
RAW_RE = re.compile(r"(?:u8|u|U|L)?R\"([^()\\ \t\n]{0,16})\(")
CHAR_RE = re.compile(r"'(?:\\[^\n']{1,10}|[^'\\\n])'")


def includes_of(text):
    """Yield (line, form, spec) for every #include outside comments and string literals."""
    i, n, line = 0, len(text), 1
    at_line_start = True
    while i < n:
        if at_line_start:
            at_line_start = False
            m = HEADER_RE.match(text, i)
            if m:
                yield line, m.group(1), m.group(2)
                i = m.end()
                continue
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            at_line_start = True
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif c == '"' or (c in "uULR" and RAW_RE.match(text, i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"))):
            m = RAW_RE.match(text, i) if c != '"' else None
            if m:
                end = text.find(")" + m.group(1) + '"', m.end())
                j = n if end < 0 else end + len(m.group(1)) + 2
            else:
                j = i + 1
                while j < n and text[j] not in '"\n':
                    j += 2 if text[j] == "\\" else 1
                j = min(j + 1, n)
            line += text.count("\n", i, j)
            i = j
        elif c == "'":
            m = CHAR_RE.match(text, i)
            i = m.end() if m else i + 1
        else:
            i += 1


def source_files(root):
    for top in SCANNED_DIRS:
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames
                                 if d != "node_modules" and not d.startswith("build") and not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith(CXX_EXTENSIONS):
                    yield os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")


def resolve(root, includer, form, spec):
    """The repository-relative file an include reaches, or None (a system or third-party header)."""
    candidates = []
    if form == '"':
        candidates.append(os.path.join(os.path.dirname(includer), spec))
    candidates += [os.path.join(top, spec) for top in INCLUDE_ROOTS]
    for rel in candidates:
        rel = os.path.normpath(rel).replace(os.sep, "/")
        if not rel.startswith("../") and os.path.isfile(os.path.join(root, rel)):
            return rel
    return None


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print("usage: layering_test.py <repository root>", file=sys.stderr)
        return 2
    root = os.path.abspath(argv[1])
    violations = []
    exempt = []
    files = 0
    checked = 0

    for rel in source_files(root):
        files += 1
        layer, problem = layer_of_file(rel)
        if problem:
            violations.append("%s:1: %s (layer %s)" % (rel, problem, UNKNOWN))
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        if (rel.startswith("include/ocpp/") and rel.endswith(".hpp") and rel not in UNMARKED_HEADERS
                and "OCPP_API_BEGIN" not in text):
            violations.append("%s:1: a public header without OCPP_API_BEGIN/OCPP_API_END: its API would be "
                              "hidden in the shared library (see ocpp/rpc/visibility.hpp)" % rel)
        for line, form, spec in includes_of(text):
            checked += 1
            shown = ('"%s"' % spec) if form == '"' else ("<%s>" % spec)
            where = "%s:%d: " % (rel, line)
            me = layer or rel.split("/")[0]

            def report(what, target):
                violations.append("%s%s %s (layer %s includes layer %s)" % (where, shown, what, me, target))

            parts = re.split(r"[/\\]", spec)
            # What it reaches: the file (as the compiler finds it), else its first folder.
            target_file = resolve(root, rel, form, spec)
            if ".." in parts:
                lexical = os.path.normpath(os.path.join(os.path.dirname(rel), spec)).replace(os.sep, "/")
                reached = layer_of_file(target_file or lexical)[0]
                report("climbs out with ../; include from the include roots instead",
                       reached if reached and reached != UNKNOWN else "?")
            target, private = None, False
            if target_file:
                target, target_problem = layer_of_file(target_file)
                private = target_file.startswith(("src/", "codegen/"))
                if target_problem:
                    report("reaches a header in no known layer (%s)" % target_problem, UNKNOWN)
                    continue
                if target == "wasm":
                    target = None
            elif parts[0] == "ocpp" and len(parts) >= 2:
                if spec == "ocpp/ocpp.hpp":
                    target = "apps"
                elif spec == "ocpp/version.hpp":
                    target = "rpc"  # generated into the build tree from cmake/version.hpp.in; includes nothing
                else:
                    target = canonical(parts[1]) if parts[1] not in ("runtime", "apps") else None
                    if target is None or len(parts) < 3:
                        report("names unknown layer folder ocpp/%s/; add it to LAYERS in tests/layering_test.py "
                               "in its place" % parts[1], UNKNOWN)
                        continue
            elif len(parts) >= 2 and canonical(parts[0]):
                target, private = canonical(parts[0]), True

            if layer is None or layer == UNKNOWN:
                continue  # tests, bench, examples: only the ../ and unknown-folder rules

            if layer in IO_FREE or layer == "wasm":
                for matches, what in IO_HEADERS:
                    if matches(spec):
                        if (rel, spec) in EXEMPT:
                            exempt.append("%s%s exempt: %s" % (where, shown, EXEMPT[(rel, spec)]))
                        else:
                            report("brings %s into an IO-free layer" % what, "IO(%s)" % what)

            if rel.startswith("include/") and private:
                report("is a private header included from a public one", target or "?")

            if target and not allowed(layer, target):
                if layer == "wasm":
                    why = "is not IO-free; wasm/ builds only rpc, log, messages, engine, http"
                elif PEERS.get(layer) == target:
                    why = "crosses between peers"
                else:
                    why = "points up"
                report(why, target)

    for v in violations:
        print(v)
    for e in exempt:
        print("note: " + e)
    if len(exempt) < len(EXEMPT):
        print("note: %d of the %d exemptions matched nothing; drop the stale ones from EXEMPT"
              % (len(EXEMPT) - len(exempt), len(EXEMPT)))
    print("layering: %d files, %d includes checked, %d violations%s"
          % (files, checked, len(violations), " (%d exempt)" % len(exempt) if exempt else ""))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
