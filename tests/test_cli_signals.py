"""Ctrl-C and closed pipes: every command stops with one line of its own (exit 130), and a reader that
goes away (``| head``) ends the command quietly."""
import os
import signal
import subprocess
import sys
import threading

import click
import pytest
from test_cli_tree import leaves

from pinyin_edge.cli import main
from pinyin_edge.clitools import EXIT_INTERRUPTED, Interrupted

NOISE = ("Traceback", "Broken pipe", "BrokenPipeError", "Exception ignored", "Aborted")
RESUMABLE = {"pretrain", "train"}


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigint_stops_convert_reading_an_open_stdin(bundle):
    proc = subprocess.Popen([sys.executable, "-m", "pinyin_edge.cli", "convert", "--model", bundle],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timer = threading.Timer(60, proc.kill)
    timer.start()
    try:
        proc.stdin.write("银行\n".encode())
        proc.stdin.flush()
        first = proc.stdout.readline()  # convert is running, now waiting on stdin, which stays open
        proc.send_signal(signal.SIGINT)
        rest, stderr = proc.communicate(timeout=60)
    finally:
        timer.cancel()
    assert first == b"yin2 hang2\n" and rest == b""
    assert proc.returncode == EXIT_INTERRUPTED == 130
    assert stderr.decode() == "convert: interrupted\n"


@pytest.mark.skipif(os.name != "posix", reason="POSIX pseudo-terminals")
def test_sigint_message_on_a_terminal_starts_its_own_line(bundle):
    """After ``^C`` or a progress line the terminal's cursor is mid-line: the message begins a new one."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "pinyin_edge.cli", "convert", "--model", bundle],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    timer = threading.Timer(60, proc.kill)
    timer.start()
    try:
        proc.stdin.write("银行\n".encode())
        proc.stdin.flush()
        assert proc.stdout.readline() == b"yin2 hang2\n"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        shown = os.read(master, 1000)
    finally:
        timer.cancel()
        os.close(master)
    assert proc.returncode == 130 and shown.replace(b"\r", b"") == b"\nconvert: interrupted\n"


@pytest.mark.parametrize("path, command", [pytest.param(p, c, id=" ".join(p)) for p, c in leaves()])
def test_ctrl_c_on_every_command_names_it(path, command, monkeypatch):
    """Ctrl-C inside any command's body: ``NAME: interrupted`` (the training commands add how to
    resume), status 130; shown by click as one line on stderr."""
    def body(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "callback", body)
    ctx = click.Context(main, info_name="pinyin-edge")
    group = main
    for word in path[:-1]:  # a nested command's groups, as click builds them
        group = group.commands[word]
        ctx = click.Context(group, info_name=word, parent=ctx)
    ctx = click.Context(command, info_name=path[-1], parent=ctx)
    with pytest.raises(Interrupted) as caught:
        command.invoke(ctx)
    name = " ".join(path)
    expected = f"{name}: interrupted" + ("; run again with --resume to continue from the last checkpoint"
                                         if name in RESUMABLE else "")
    assert caught.value.format_message() == expected and caught.value.exit_code == 130


def test_ctrl_c_through_the_whole_cli_is_one_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pinyin_edge.evaluation import evaluate

    data = tmp_path / "t.tsv"
    data.write_text("银行\t- hang2\n", encoding="utf-8")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluate, "evaluate", interrupted)
    result = CliRunner().invoke(main, ["eval", str(data), "--system", "pypinyin"])
    assert result.exit_code == 130 and result.stderr == "eval: interrupted\n"


def _closed_reader(args, stdin=subprocess.DEVNULL, read_first_line=False):
    """Run the CLI with a stdout pipe whose reader goes away (after one line, or at once)."""
    proc = subprocess.Popen([sys.executable, "-m", "pinyin_edge.cli", *args], stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timer = threading.Timer(120, proc.kill)
    timer.start()
    try:
        first = proc.stdout.readline() if read_first_line else b""
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        proc.wait()
    finally:
        timer.cancel()
    return proc.returncode, first, stderr


def test_convert_big_input_into_head(bundle, tmp_path):
    """``pinyin-edge convert < big | head -1``: the first line, then a quiet exit (status 1, as click
    exits on a closed pipe), long before the input is done."""
    big = tmp_path / "big.txt"
    big.write_bytes("银行行长\n".encode() * 200_000)  # 4.8 MB of output: far more than a pipe holds
    with open(big, "rb") as stdin:
        status, first, stderr = _closed_reader(["convert", "--model", bundle], stdin=stdin, read_first_line=True)
    assert first == b"yin2 hang2 hang2 zhang3\n"
    assert status == 1 and stderr == ""


@pytest.mark.parametrize("args", [
    ["convert", "银行行长", "--model", "{bundle}"],
    ["convert", "--model", "{bundle}", "--format", "json"],
    ["info", "--model", "{bundle}"],
    ["info", "--model", "{bundle}", "--json"],
    ["eval", "{data}", "--system", "pypinyin"],
    ["--help"],
    ["export", "--help"],
])
def test_every_output_into_a_closed_pipe_is_quiet(args, bundle, tmp_path):
    data = tmp_path / "t.tsv"
    data.write_text("银行\t- hang2\n", encoding="utf-8")
    args = [a.format(bundle=bundle, data=data) for a in args]
    with open(data, "rb") as stdin:  # convert without TEXT reads the TSV's line
        status, _, stderr = _closed_reader(args, stdin=stdin)
    assert status == 1, stderr
    assert not any(word in stderr for word in NOISE), stderr
