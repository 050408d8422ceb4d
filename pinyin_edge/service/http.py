"""JSON-RPC over HTTP: ``POST /`` with one JSON message as the body, the response as the body.

Built on the standard library's ``http.server`` (``ThreadingHTTPServer``): the service binds to
localhost by default and serves one local client (an input method), so it needs no web framework;
the HTTP parsing is the standard library's, kept up with Python. Bodies need a Content-Length and
are capped at :data:`MAX_BODY` bytes. JSON-RPC errors come with status 200 (the JSON-RPC convention
over HTTP); a notification gets 204; other methods than POST get 405.
"""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Tuple

from .jsonrpc import Service

MAX_BODY = 16 << 20


def parse_address(value: str, default_port: int = 8765) -> Tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` (host: 127.0.0.1); ``[::1]:PORT`` for IPv6."""
    value = value.strip()
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = "", value
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port) if port else default_port
    except ValueError:
        raise ValueError(f"not a HOST:PORT address: {value!r}") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"port out of range: {number}")
    return host, number


def make_server(service: Service, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        server_version = "pinyin-edge"
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass  # an input method's helper stays quiet

        def _send(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
            self.send_response(status)
            if body:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _refuse(self, status: int, message: str) -> None:
            self.close_connection = True
            self._send(status, json.dumps({"error": message}).encode("utf-8"))

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                return self._refuse(411, "a Content-Length header is needed")
            if int(length) > MAX_BODY:
                return self._refuse(413, f"body larger than {MAX_BODY} bytes")
            answer = service.handle_text(self.rfile.read(int(length)))
            if answer is None:
                return self._send(204)
            self._send(200, answer.encode("utf-8"))

        def do_GET(self) -> None:  # noqa: N802
            self._refuse(405, "POST a JSON-RPC 2.0 message to /")

        do_PUT = do_DELETE = do_PATCH = do_GET

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
