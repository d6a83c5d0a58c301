#!/usr/bin/env python3
"""A bounded random-frame campaign against `ocpp serve` (built with sanitizers), Python stdlib only.

Many short connections do the WebSocket handshake themselves and send valid and broken frames:
fragmentation, control frames, huge and lying lengths, bad UTF-8, RSV and compression flags (with
and without permessage-deflate, deflate bombs), unmasked frames, reserved opcodes, garbage. Beside
them a few live stations keep calling Heartbeat and must get every answer. At the end the server
must answer /health, its RSS must be back near the baseline taken after a warm-up, and it must exit
cleanly on SIGINT with no sanitizer report.

  python3 tests/wire_fuzz.py build/asan/apps/ocpp/ocpp --seconds 60
"""
import argparse
import base64
import json
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

HOST = "127.0.0.1"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def mask(payload, key):
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def frame(opcode, payload=b"", fin=True, rsv=0, masked=True, length=None):
    """A WebSocket frame; `length` may lie about the payload's size."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    m = 0x80 if masked else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack("!H", n)
    else:
        head += bytes([m | 127]) + struct.pack("!Q", n)
    if masked:
        key = os.urandom(4)
        return head + key + mask(payload, key)
    return head + payload


def deflate(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if out.endswith(b"\x00\x00\xff\xff") else out


def handshake(port, identity, protocol="ocpp1.6", deflate_offer=False, timeout=5.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    req = (f"GET /ocpp/{identity} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n")
    if deflate_offer:
        req += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    s.sendall((req + "\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(head.split(b"\r\n")[0].decode(errors="replace"))
    return s, rest, b"permessage-deflate" in head.lower()


def read_frame(s, buf):
    """(opcode, payload, rest of buf); raises on a closed socket."""
    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
    need(2)
    op, n = buf[0] & 0x0F, buf[1] & 0x7F
    pos = 2
    if n == 126:
        need(4)
        n = struct.unpack("!H", buf[2:4])[0]
        pos = 4
    elif n == 127:
        need(10)
        n = struct.unpack("!Q", buf[2:10])[0]
        pos = 10
    need(pos + n)
    return op, buf[pos:pos + n], buf[pos + n:]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + n


def call(i, action="Heartbeat", payload="{}"):
    return f'[2,"f{i}","{action}",{payload}]'.encode()


BOOT = b'[2,"b1","BootNotification",{"chargePointVendor":"Fuzz","chargePointModel":"Wire"}]'


def cases(rng, deflated):
    """A list of (kind, bytes) to send on one connection."""
    out = []
    for _ in range(rng.randint(1, 6)):
        k = rng.choice(["valid", "valid_fragmented", "broken_json", "bad_utf8", "fragment_misuse", "control",
                        "bad_control", "huge_length", "over_limit", "rsv", "unmasked", "reserved_opcode",
                        "garbage", "close_codes", "deflate", "deflate_bomb", "deflate_garbage", "truncated"])
        i = rng.randint(0, 1 << 30)
        if k == "valid":
            b = frame(1, rng.choice([call(i), BOOT]))
        elif k == "valid_fragmented":
            msg = call(i)
            cut = sorted(rng.sample(range(1, len(msg)), 2))
            b = frame(1, msg[:cut[0]], fin=False) + frame(9, b"p") + frame(0, msg[cut[0]:cut[1]], fin=False) + \
                frame(0, msg[cut[1]:])
        elif k == "broken_json":
            msg = bytearray(call(i))
            for _ in range(rng.randint(1, 4)):
                msg[rng.randrange(len(msg))] = rng.randrange(32, 127)
            b = frame(1, bytes(msg[:rng.randint(1, len(msg))]))
        elif k == "bad_utf8":
            b = frame(1, b'[2,"x","Heartbeat",{"a":"' + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"]) + b'"}]')
        elif k == "fragment_misuse":
            b = rng.choice([frame(0, b"orphan continuation"), frame(1, b"[2,", fin=False) + frame(1, b"again"),
                            frame(1, b"[2,", fin=False) + frame(2, b"binary mid-message"),
                            frame(1, b"", fin=False) * 50 + frame(0, b"")])
        elif k == "control":
            b = rng.choice([frame(9, os.urandom(rng.randint(0, 125))), frame(10, b"unsolicited pong")])
        elif k == "bad_control":
            b = rng.choice([frame(9, b"x" * 126), frame(9, b"x", fin=False), frame(8, b"\x03"),
                            frame(10, b"y" * 200)])
        elif k == "huge_length":
            b = frame(1, b"[2,", length=rng.choice([(1 << 63) - 1, 1 << 40, 1 << 32, 70000]))
        elif k == "over_limit":
            b = frame(1, b'[2,"x","DataTransfer",{"vendorId":"' + b"a" * 70000 + b'"}]')
        elif k == "rsv":
            b = frame(1, call(i), rsv=rng.choice([1, 2, 4, 3, 7]))
        elif k == "unmasked":
            b = frame(1, call(i), masked=False)
        elif k == "reserved_opcode":
            b = frame(rng.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), b"reserved")
        elif k == "garbage":
            b = os.urandom(rng.randint(1, 2048))
        elif k == "close_codes":
            code = rng.choice([1000, 1001, 1004, 1005, 1006, 1015, 999, 5000, 2999, 4000, 1012])
            b = frame(8, struct.pack("!H", code) + rng.choice([b"bye", b"\xff\xfe", b""]))
        elif k == "deflate":  # valid when negotiated, a protocol error (RSV1) when not
            b = frame(1, deflate(call(i) if rng.random() < 0.5 else BOOT), rsv=4)
        elif k == "deflate_bomb":
            b = frame(1, deflate(b"[" + b" " * 5_000_000 + b"]"), rsv=4)
        elif k == "deflate_garbage":
            b = frame(1, os.urandom(rng.randint(1, 300)), rsv=4)
        else:  # truncated: a header promising more than comes, then the socket is closed
            b = frame(1, call(i))[:rng.randint(1, 6)]
        out.append((k if deflated or not k.startswith("deflate") else k + "_unnegotiated", b))
    return out


def fuzz_worker(port, deadline, seed, stats, errors):
    rng = random.Random(seed)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        try:
            if rng.random() < 0.05:  # a broken handshake
                s = socket.create_connection((HOST, port), timeout=2)
                s.sendall(rng.choice([b"GET /ocpp/x HTTP/1.1\r\nUpgrade: websocket\r\n", os.urandom(300),
                                      b"GET /ocpp/x HTTP/1.1\r\nSec-WebSocket-Protocol: ,,,\r\n\r\n"]))
                stats.add("handshake_broken")
                s.close()
                continue
            s, _, deflated = handshake(port, f"fuzz{seed}-{n}", rng.choice(["ocpp1.6", "ocpp2.0.1", "ocpp2.1"]),
                                       deflate_offer=rng.random() < 0.5, timeout=5)
        except (OSError, ConnectionError) as e:
            stats.add("handshake_refused")
            if "Connection refused" in str(e):
                errors.append(f"the server refused a TCP connection: {e}")
                return
            continue
        stats.add("connections")
        s.settimeout(0.3)
        try:
            for kind, data in cases(rng, deflated):
                stats.add(kind)
                stats.add("bytes", len(data))
                # Sometimes trickled, to exercise partial reads.
                if rng.random() < 0.2 and len(data) > 4:
                    cut = rng.randrange(1, len(data))
                    s.sendall(data[:cut])
                    time.sleep(0.005)
                    s.sendall(data[cut:])
                else:
                    s.sendall(data)
            try:
                while s.recv(65536):
                    pass
            except socket.timeout:
                pass
        except OSError:
            stats.add("closed_by_server")
        finally:
            if rng.random() < 0.5:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
            s.close()


def live_station(port, deadline, index, stats, errors):
    """A well-behaved station: Heartbeat every 100 ms; each must be answered within 5 s."""
    try:
        s, buf, _ = handshake(port, f"live{index}", "ocpp1.6")
        s.settimeout(5)
        i = 0
        worst = 0.0
        while time.monotonic() < deadline:
            i += 1
            start = time.monotonic()
            s.sendall(frame(1, f'[2,"live{i}","Heartbeat",{{}}]'.encode()))
            while True:
                op, payload, buf = read_frame(s, buf)
                if op == 9:
                    s.sendall(frame(10, payload))
                    continue
                if op == 1:
                    msg = json.loads(payload)
                    if msg[0] == 3 and msg[1] == f"live{i}" and "currentTime" in msg[2]:
                        break
                    raise RuntimeError(f"unexpected answer {payload[:200]!r}")
                if op == 8:
                    raise RuntimeError(f"closed by the server: {payload!r}")
            worst = max(worst, time.monotonic() - start)
            stats.add("live_calls")
            time.sleep(0.1)
        s.sendall(frame(8, struct.pack("!H", 1000)))
        s.close()
        with stats.lock:
            stats.counts["live_worst_ms"] = max(stats.counts.get("live_worst_ms", 0), int(worst * 1000))
    except Exception as e:  # noqa: BLE001 -- any failure of a live station fails the campaign
        errors.append(f"live station {index}: {type(e).__name__}: {e}")


def health(port):
    s = socket.create_connection((HOST, port), timeout=5)
    s.sendall(f"GET /health HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.startswith(b"HTTP/1.1 200")


def campaign(port, seconds, workers, stations, seed, stats, errors):
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=fuzz_worker, args=(port, deadline, seed * 1000 + w, stats, errors))
               for w in range(workers)]
    threads += [threading.Thread(target=live_station, args=(port, deadline, seed * 100 + i, stats, errors))
                for i in range(stations)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)


def settle(pid, seconds=3.0):
    """RSS once the closed connections are gone: the smallest reading over a few seconds."""
    low = rss_kb(pid)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.25)
        low = min(low, rss_kb(pid))
    return low


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ocpp", help="the ocpp binary (built with sanitizers)")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--stations", type=int, default=3)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()

    env = dict(os.environ)
    # A small quarantine, so that freed memory is reused and RSS can return to its baseline.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "detect_leaks=1") + ":quarantine_size_mb=16:halt_on_error=1"
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    server = subprocess.Popen([args.ocpp, "serve", "--port", "0", "--host", HOST, "--quiet", "--metrics",
                               "--threads", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    line = server.stdout.readline()
    m = re.search(r"listening on \S+:(\d+)", line)
    if not m:
        server.kill()
        print(f"wire_fuzz: no port in {line!r}: {server.stderr.read()}", file=sys.stderr)
        return 1
    port = int(m.group(1))
    threading.Thread(target=lambda: server.stdout.read(), daemon=True).start()
    stderr_lines = []
    threading.Thread(target=lambda: stderr_lines.extend(server.stderr), daemon=True).start()

    stats, errors = Stats(), []
    print(f"wire_fuzz: seed {args.seed}, {args.seconds:.0f} s, {args.workers} fuzzing connections at a time, "
          f"{args.stations} live stations, server pid {server.pid} port {port}")
    start = time.monotonic()
    warmup = min(10.0, args.seconds / 4)
    campaign(port, warmup, args.workers, args.stations, args.seed, stats, errors)
    baseline = settle(server.pid)
    campaign(port, args.seconds - warmup, args.workers, args.stations, args.seed + 1, stats, errors)
    peak = rss_kb(server.pid)
    final = settle(server.pid)
    up = server.poll() is None and health(port)
    elapsed = time.monotonic() - start

    server.send_signal(signal.SIGINT)
    try:
        code = server.wait(60)
    except subprocess.TimeoutExpired:
        server.kill()
        code = "hung on SIGINT"
    time.sleep(0.2)
    report = "".join(stderr_lines)
    sanitizer = re.findall(r"(ERROR: AddressSanitizer.*|ERROR: LeakSanitizer.*|runtime error:.*)", report)

    c = stats.counts
    kinds = {k: v for k, v in sorted(c.items()) if k not in ("connections", "bytes", "live_calls", "live_worst_ms")}
    print(f"wire_fuzz: {c.get('connections', 0)} connections, {c.get('bytes', 0) / 1e6:.1f} MB sent in {elapsed:.0f} s; "
          f"live stations: {c.get('live_calls', 0)} calls answered, worst {c.get('live_worst_ms', 0)} ms")
    print("wire_fuzz: cases " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
    print(f"wire_fuzz: server RSS baseline {baseline / 1024:.1f} MB (after warm-up), peak {peak / 1024:.1f} MB, "
          f"after {final / 1024:.1f} MB; exit {code}")
    # ASan keeps freed blocks in quarantine and its allocator caches: allow that slack, not a leak per connection.
    if final > baseline * 1.25 + 16 * 1024:
        errors.append(f"RSS did not return to its baseline: {baseline} kB -> {final} kB")
    if not up:
        errors.append("the server was not up (or /health failed) after the campaign")
    if code != 0:
        errors.append(f"the server exited with {code}")
    if sanitizer:
        errors.append("sanitizer report: " + "; ".join(sanitizer[:5]))
    if c.get("live_calls", 0) == 0:
        errors.append("no live call was answered")
    for e in errors:
        print(f"wire_fuzz: FAIL: {e}", file=sys.stderr)
    if errors and report:
        print(report[-4000:], file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
