"""CLI: ``pinyin-edge serve --stdio | --http HOST:PORT`` (see docs/service.md). Only click is
imported at the top; the runtime loads inside the command body."""
from __future__ import annotations

import sys

import click

from ..clitools import Command, UserError


@click.command("serve", cls=Command)
@click.option("--stdio", is_flag=True, help="JSON-RPC 2.0 on stdin/stdout, one message per line.")
@click.option("--http", "address", metavar="HOST:PORT",
              help="JSON-RPC 2.0 over HTTP (POST /); HOST defaults to 127.0.0.1, port 0 picks a free one.")
@click.option("--model", help="Model bundle directory or bundled model name.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--overrides", type=click.Path(dir_okay=False), help="Overrides file (phrase<TAB>readings).")
def serve(stdio, address, model, threads, overrides):
    """Serve pinyin, annotate and word_readings to programs in any language (JSON-RPC 2.0)."""
    if stdio == bool(address):
        raise UserError("choose one transport: --stdio or --http HOST:PORT")
    from ..runtime.cli_support import load_g2p as _load_g2p
    from .jsonrpc import Service

    service = Service(_load_g2p(model, threads, overrides))
    if stdio:
        from .stdio import serve_stdio

        serve_stdio(service, sys.stdin.buffer, sys.stdout.buffer)
        return
    from .http import make_server, parse_address

    try:
        host, port = parse_address(address)
        server = make_server(service, host, port)
    except (ValueError, OSError) as exc:
        raise UserError(f"--http {address}: {exc}") from None
    bound_host, bound_port = server.server_address[:2]
    click.echo(f"serving JSON-RPC on http://{bound_host}:{bound_port}/", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
