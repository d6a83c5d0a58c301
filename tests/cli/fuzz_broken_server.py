#!/usr/bin/env python3
"""A deliberately broken OCPP-J server for tests/cli/fuzz_test.sh: it upgrades every connection
with the offered subprotocol, then, by --mode,
  silent:        reads and never answers anything (no CALLRESULT, no pong, no close);
  close-on-call: closes with 1000 when a connection's first frame is text (else as silent);
  exit-on-call:  exits, as a crash would, when a connection's first frame is text.
Prints "listening on 127.0.0.1:PORT" and serves until killed.
"""
import argparse
import base64
import hashlib
import os
import socket
import struct
import threading

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def upgrade(conn):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        head += chunk
    headers = {}
    for line in head.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    accept = base64.b64encode(hashlib.sha1((headers.get("sec-websocket-key", "") + GUID).encode()).digest()).decode()
    protocol = headers.get("sec-websocket-protocol", "").split(",")[0].strip()
    conn.sendall((f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n").encode())
    return head.split(b"\r\n\r\n", 1)[1]


def serve(conn, mode):
    try:
        buf = upgrade(conn)
        while buf is not None and not buf:
            buf = conn.recv(65536) or None
        if buf is None:
            return
        if mode != "silent" and buf[0] & 0x0F == 1:  # the connection's first frame is text
            if mode == "exit-on-call":
                os._exit(3)
            conn.sendall(bytes([0x88, 2]) + struct.pack("!H", 1000))
            return
        while conn.recv(65536):
            pass
    except OSError:
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["silent", "close-on-call", "exit-on-call"], required=True)
    args = ap.parse_args()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    print(f"listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, args.mode), daemon=True).start()


if __name__ == "__main__":
    main()
