"""CLI commands of evaluation: eval, bench (placeholder until they land)."""
import click


@click.command("eval")
def eval_command():
    """Score a system on labelled data."""


@click.command()
def bench():
    """Benchmark accuracy and speed."""
