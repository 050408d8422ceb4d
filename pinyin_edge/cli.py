"""The ``pinyin-edge`` command line: one click group, each command beside the code it drives.

Every command module imports only click at the top; training and export code loads inside the command
bodies, so ``convert`` and ``info`` start fast and never load torch.
"""
from __future__ import annotations

import sys

import click

from .clitools import Group
from .evaluation import commands as evaluation
from .exporters import commands as exporters
from .exporters.web_command import export_web
from .ime import commands as ime
from .runtime import commands as runtime
from .service import commands as service
from .training import commands as training


@click.group(cls=Group)
@click.version_option(package_name="pinyin-edge")
def main() -> None:
    """Context-aware Chinese character-to-pinyin on a tiny int8 ONNX model."""


main.add_section("Use a model", [runtime.convert, runtime.info, ime.dict_group, service.serve])
main.add_section("Measure", [evaluation.eval_command, evaluation.bench])
main.add_section("Other runtimes", [export_web])
main.add_section("Build a model, in pipeline order (extras: train, export, bench)",
                 [training.prepare, training.import_lac, training.pretrain, training.train, training.average,
                  exporters.export, exporters.repolicy, exporters.requantize, evaluation.card])


if __name__ == "__main__":
    sys.exit(main())
