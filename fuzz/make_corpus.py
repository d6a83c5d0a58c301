#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ from the edge-case catalogue (the field
reference's section 4: frames, handshake, URLs, payloads, size limits) and the schemas' sample
payloads (tests/messages/generated/samples_*.cpp, written by codegen/generate.py).
Run it again after the samples change: python3 fuzz/make_corpus.py"""
import hashlib
import re
import shutil
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"


def samples():
    """(protocol, action, type, variant, json) in the order of the generated tables."""
    pattern = re.compile(r'\{"(ocpp[^"]+)", "([^"]+)", "([^"]+)", "(full|minimal)", R"json\((.*?)\)json"')
    for v in ("v16", "v201", "v21"):
        text = (ROOT / "tests/messages/generated" / f"samples_{v}.cpp").read_text()
        yield from pattern.findall(text)


def write(target, seeds):
    d = OUT / target
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for s in seeds:
        data = s.encode() if isinstance(s, str) else s
        (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)
    return len(seeds)


def frames():
    long_id = "x" * 36
    seeds = [
        '[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}]',
        '[3,"19223201",{"currentTime":"2013-02-01T20:53:32.486Z","interval":300,"status":"Accepted"}]',
        '[4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}]',
        '[5,"162376037","FormatViolation","bad result",{"why":1}]',
        '[6,"7","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":"2024-01-01T00:00:00Z","data":[]}]',
        '[2,"id","BootNotification",{]',  # truncated
        '{[2,"1","Heartbeat",{}]}', '{"a":[2]}', '[2]', '[2,"1"]', '[2,"1","Heartbeat"]', '[3,"1"]',
        '[4,"1","GenericError"]', '[4,"1","GenericError","d",{},1]', '[4,"1",7,null,[]]',
        '["2","1","Heartbeat",{}]', '[2.0,"1","Heartbeat",{}]', '[-1,"1","Heartbeat",{}]', '[0,"1","Heartbeat",{}]',
        '[7,"1","Heartbeat",{}]', '[99,"1","Heartbeat",{}]', '[18446744073709551615,"1","Heartbeat",{}]',
        '[2,1,"Heartbeat",{}]', '[2,null,"Heartbeat",{}]', '[2,{},"Heartbeat",{}]', '[2,"","Heartbeat",{}]',
        f'[2,"{long_id}","Heartbeat",{{}}]', f'[2,"{long_id}y","Heartbeat",{{}}]', f'[3,"{long_id}y",{{}}]',
        '[2,"1","",{}]', '[2,"1",5,{}]', '[2,"1","heartbeat",{}]', '[2,"1","HeartbeatRequest",{}]',
        '[2,"1","Heartbeat",null]', '[3,"1",null]', '[3,"1",[]]', '[2,"1","Heartbeat",{}] ',
        '\ufeff[2,"1","Heartbeat",{}]', '[2,"1","Heartbeat",{"n":1e400,"m":-0,"k":2147483648,"j":-9223372036854775809}]',
        '[2,"1","Heartbeat",' + '{"a":' * 40 + '{}' + '}' * 40 + ']',
        '[2,"1","Heartbeat",{"s":"\\u0000\\ud83d\\ude00\\"\\\\\\/\\b\\f\\n\\r\\t"}]',
        b'[2,"1","Heartbeat",{"s":"\xff\xfe"}]', b'[2,"\xc3\x28","Heartbeat",{}]',
        '[4,"1","OccurenceConstraintViolation","",{}]', '[4,"1","FormationViolation","x",{"a":[1,2.5,true,null]}]',
    ]
    return seeds


def handshakes():
    def req(target="/ocpp/CP1", protocols="ocpp2.0.1, ocpp1.6", extra="", upgrade=True, method="GET"):
        h = f"{method} {target} HTTP/1.1\r\nHost: csms.example:8080\r\n"
        if upgrade:
            h += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            h += "Sec-WebSocket-Version: 13\r\n"
        if protocols is not None:
            h += f"Sec-WebSocket-Protocol: {protocols}\r\n"
        return h + extra + "\r\n"

    auth = "Authorization: Basic {}\r\n"
    import base64

    b64 = lambda s: base64.b64encode(s.encode()).decode()
    return [
        req(), req("/ocpp/RDAM%7C123"), req("/ocpp/a%2Fb"), req("/ocpp/"), req("/"), req("/ocpp//CP1//"),
        req("/ocpp/%E2%82%AC%zz%4"), req("/ocpp/CP1?tenant=a&x=%20"), req("/ocpp/" + "A" * 48),
        req("/ocpp/" + "A" * 49), req("/ocpp/t1/CP1"), req("/legacy/a/b/c"), req("/v16/CP1", "ocpp1.6"),
        req(protocols=None), req(protocols=""), req(protocols="ocpp2.1,ocpp2.1"), req(protocols="ocpp2.1,,x"),
        req(protocols="ocpp1.6 ocpp2.0.1"), req(protocols="wamp"), req(protocols="\t ocpp2.1 \t"),
        req(extra=auth.format(b64("CP1:0123456789abcdef"))), req(extra=auth.format(b64("CP2:0123456789abcdef"))),
        req(extra=auth.format(b64("CP1:pass:with:colons"))), req(extra=auth.format("%%%")),
        req(extra=auth.format(b64("CP1"))), req(extra="Authorization: Bearer abc\r\n"),
        req("/ocpp/C:P1", extra=auth.format(b64("C:P1:0123456789abcdef"))),
        req("/health", upgrade=False), req("/metrics", upgrade=False), req("/ocpp/CP1", upgrade=False),
        req(method="POST"), "GET /ocpp/CP1 HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",
        "GET /ocpp/CP1 HTTP/1.0\r\n\r\n", "GET /ocpp/CP1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        "GET /ocpp/CP1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET /ocpp/CP1 HTTP/1.1\r\nX: " + "a" * 9000 + "\r\n\r\n",
        # The pieces alone: an identity, a NUL, a password; a subprotocol list.
        "CP1\0" + "0123456789abcdef", "C:P|1\0pa:ss", "ocpp2.1, ocpp2.0.1, ocpp1.6",
    ]


def urls():
    return [
        "ws://localhost:8080/ocpp", "wss://csms.example.com/ocpp/v201/", "ws://[::1]:9000/a?b=c#frag",
        "wss://user:pw@host/x", "ws://host:/x", "ws://host:80a/", "ws://[::1/", "ws://[::1]x/", "ws://?q",
        "http://host/", "ws://", "ws://h#f?q", "ws://a:b:80/p",
        "ws://csms/ocpp\0RDAM|123", "ws://csms/ocpp/?tenant=a\0CP 1/%?#", "wss://h/p\0",
    ]


def payloads():
    """A selector (the type's index, two bytes little-endian) and JSON, as fuzz/messages.cpp reads them."""
    full = [s for s in samples() if s[3] == "full"]
    seeds = [bytes([i & 0xFF, i >> 8]) + s[4].encode() for i, s in enumerate(full)]
    # Edge cases of the catalogue on a few types: date-time forms, multipleOf, bounds, extra members.
    index = {s[2] + s[0]: i for i, s in enumerate(full)}

    def edge(protocol, type_, text):
        i = index[type_ + protocol]
        seeds.append(bytes([i & 0xFF, i >> 8]) + text.encode())

    for t in ("2024-01-15T10:30:00", "2024-01-15t10:30:00.123456z", "2024-02-29T23:59:60+05:30", "2023-02-29T00:00:00Z"):
        edge("ocpp1.6", "BootNotificationResponse", f'{{"status":"Accepted","currentTime":"{t}","interval":1}}')
    for n in ("8.1", "6.25", "2147483648", "-0", "1e400", "0.30000000000000004"):
        edge("ocpp1.6", "SetChargingProfileRequest",
             '{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":'
             '"TxProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A",'
             f'"chargingSchedulePeriod":[{{"startPeriod":0,"limit":{n}}}]}}}}}}')
    edge("ocpp2.0.1", "HeartbeatRequest", '{"customData":{"vendorId":"v","x":[1,{"y":null}]}}')
    edge("ocpp2.0.1", "HeartbeatRequest", '{"extra":1}')
    edge("ocpp2.1", "AuthorizeRequest", '{"idToken":{"idToken":"' + "\u00e9" * 36 + '","type":"Central"}}')
    return seeds


def deflate_seeds():
    """Window/takeover byte, limit byte, then frames of (header, payload) as fuzz/inflate.cpp reads them."""

    def message(text, window=10, frame=64):
        c = zlib.compressobj(6, zlib.DEFLATED, -window, 2)
        data = c.compress(text) + c.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(b"\x00\x00\xff\xff")
        data = data[:-4]
        if len(data) % 2:
            data += b"\x00"  # frames carry an even number of bytes; a stray byte is just more input
        out = b""
        chunks = [data[i:i + frame] for i in range(0, len(data), frame)] or [b""]
        for n, chunk in enumerate(chunks):
            out += bytes([(0x80 if n == len(chunks) - 1 else 0) | len(chunk) // 2]) + chunk
        return out

    heartbeat = b'[2,"1","Heartbeat",{}]'
    boot = b'[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"Single"}]' * 4
    return [
        bytes([1, 3]) + message(heartbeat), bytes([1, 3]) + message(boot, frame=16) + message(heartbeat),
        bytes([6, 1]) + message(boot, window=15), bytes([0x81, 2]) + message(boot) + message(boot),
        bytes([1, 0]) + message(b"\0" * 70000, frame=120),  # a bomb against the 1-byte limit
        bytes([1, 3]) + message(b"\0" * 70000, frame=120),  # ... and the 64 KiB one
        bytes([1, 3, 0x81, 0xff, 0xff]), bytes([1, 3, 0x80]), bytes([3, 2, 0x9A, 0x9A]),
    ]


def wire_cases():
    """8 bytes of seed, a protocol byte, a connection byte, then bytes as a server might send them."""
    server = [b"", b"\x88\x02\x03\xe8", b'\x81\x1a[3,"c1-0",{"status":"ok"}]', b"\x89\x01p",
              b"\x01\x03[3,\x80\x04\"a\",{}]", b"\x81\x7f" + b"\x7f" * 8, b"\x81\x7e\x01\x00"]
    return [i.to_bytes(8, "little") + bytes([i % 3, i]) + tail for i, tail in enumerate(server)]


if __name__ == "__main__":
    counts = {
        "frame": write("frame", frames()), "json_text": write("json_text", frames()), "handshake": write("handshake", handshakes()), "url": write("url", urls()),
        "messages": write("messages", payloads()), "inflate": write("inflate", deflate_seeds()),
        "wire_cases": write("wire_cases", wire_cases()),
    }
    print(" ".join(f"{k}: {v}" for k, v in counts.items()), "seeds")
