"""JSON-RPC over stdin/stdout: one JSON message per line each way, answered in order.

Lines are UTF-8; a blank line is ignored; a line longer than :data:`MAX_LINE` bytes is answered with
an invalid-request error and skipped. The service ends at end of input."""
from __future__ import annotations

from typing import BinaryIO

from .jsonrpc import INVALID_REQUEST, RpcError, Service, _dump, _error

MAX_LINE = 16 << 20


def serve_stdio(service: Service, source: BinaryIO, sink: BinaryIO) -> int:
    """Answer every line of ``source`` on ``sink``; returns the number of messages handled."""
    handled = 0
    while True:
        line = source.readline(MAX_LINE + 1)
        if not line:
            return handled
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while True:  # drop the rest of the oversized line
                rest = source.readline(MAX_LINE)
                if not rest or rest.endswith(b"\n"):
                    break
            answer = _dump(_error(None, RpcError(INVALID_REQUEST, f"request longer than {MAX_LINE} bytes")))
        elif not line.strip():
            continue
        else:
            answer = service.handle_text(line)
        handled += 1
        if answer is not None:
            try:
                sink.write(answer.encode("utf-8") + b"\n")
                sink.flush()
            except BrokenPipeError:  # the client went away
                return handled
