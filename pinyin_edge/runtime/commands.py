"""CLI commands of the runtime: convert, info (placeholder until the runtime lands)."""
import click


@click.command()
def convert():
    """Convert text to pinyin."""


@click.command()
def info():
    """Show the model bundle's manifest."""
