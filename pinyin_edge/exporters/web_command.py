"""The ``export-web`` command: a model bundle -> the browser bundle (:mod:`pinyin_edge.exporters.web`).
Only click is imported at the top; nothing here needs torch."""
from __future__ import annotations

import click

from ..clitools import Command, guard


@click.command("export-web", cls=Command,
               short_help="Write a browser bundle for the JavaScript runtime.")
@click.argument("bundle", default="default")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder to write (replaced whole).")
def export_web(bundle, out):
    """Write the browser bundle of BUNDLE (a bundle directory, or `default` / `fast`) to OUT: the graph,
    the policy's tables in compact form, and a manifest with every file's sha256."""
    from .web import export_web as write
    from .web import gzipped_sizes

    data = guard(lambda: write(bundle, out))
    sizes = gzipped_sizes(out)
    click.echo(f"browser bundle written to {out}: {len(data['files']) + 2} files, "
               f"{sum(f['bytes'] for f in data['files'].values()) / 1e6:.2f} MB, "
               f"{sum(sizes.values()) / 1e6:.2f} MB gzipped")
