"""The JSON-RPC service: its core on the fixture bundle, the stdio and HTTP transports in-process, and
a client in another language (node) driving ``pinyin-edge serve`` as real processes."""
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from pinyin_edge.service.http import make_server, parse_address
from pinyin_edge.service.jsonrpc import Service
from pinyin_edge.service.stdio import serve_stdio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def service(g2p):
    return Service(g2p)


def call(service, method, params=None, rid=1):
    request = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        request["params"] = params
    return json.loads(service.handle_text(json.dumps(request)))


def test_methods_answer_what_the_api_answers(service, g2p):
    assert call(service, "pinyin", {"text": "银行", "style": "tone3"}) == \
        {"jsonrpc": "2.0", "id": 1, "result": ["yin2", "hang2"]}
    assert call(service, "pinyin", ["行业", "tone"])["result"] == g2p.pinyin("行业", style="tone")
    assert call(service, "pinyin_batch", {"texts": ["行长", "走"]})["result"] == g2p.pinyin_batch(["行长", "走"])
    assert call(service, "annotate", {"text": "行长"})["result"] == [a.to_dict() for a in g2p.annotate("行长")]
    got = call(service, "word_readings", {"word": "行长", "k": 2, "style": "normal"})["result"]
    assert got == [r.to_dict() for r in g2p.word_readings("行长", k=2, style="normal")]
    assert len(call(service, "word_readings_batch", {"words": ["银行", "长"]})["result"]) == 2
    assert "pinyin" in call(service, "info")["result"]["methods"]


@pytest.mark.parametrize("message,code", [
    ("{not json", -32700),
    ("\"a string\"", -32600),
    ("[]", -32600),
    ('{"jsonrpc": "1.0", "id": 1, "method": "pinyin"}', -32600),
    ('{"jsonrpc": "2.0", "id": [1], "method": "pinyin"}', -32600),
    ('{"jsonrpc": "2.0", "id": 1, "method": "nope"}', -32601),
    ('{"jsonrpc": "2.0", "id": 1, "method": "pinyin"}', -32602),
    ('{"jsonrpc": "2.0", "id": 1, "method": "pinyin", "params": {"text": 1}}', -32602),
    ('{"jsonrpc": "2.0", "id": 1, "method": "pinyin", "params": {"text": "a", "extra": 1}}', -32602),
    ('{"jsonrpc": "2.0", "id": 1, "method": "pinyin", "params": ["a", "tone3", false, false, 5]}', -32602),
    ('{"jsonrpc": "2.0", "id": 1, "method": "pinyin", "params": "a"}', -32602),
    ('{"jsonrpc": "2.0", "id": 1, "method": "pinyin", "params": {"text": "a", "style": "x"}}', -32602),
    ('{"jsonrpc": "2.0", "id": 1, "method": "word_readings", "params": {"word": "a", "k": 0}}', -32602),
    ('{"jsonrpc": "2.0", "id": 1, "method": "pinyin_batch", "params": {"texts": "银行"}}', -32602),
])
def test_bad_requests_get_error_objects(service, message, code):
    answer = json.loads(service.handle_text(message))
    assert answer["jsonrpc"] == "2.0" and answer["error"]["code"] == code and "result" not in answer
    assert answer["error"]["message"]


def test_an_engine_failure_is_an_internal_error_not_a_dead_service(g2p):
    class Broken:
        def pinyin(self, text, **kw):
            raise RuntimeError("boom")

    answer = json.loads(Service(Broken()).handle_text('{"jsonrpc":"2.0","id":7,"method":"pinyin","params":["a"]}'))
    assert answer["id"] == 7 and answer["error"]["code"] == -32603 and "boom" in answer["error"]["data"]


def test_notifications_and_batches(service):
    assert service.handle_text('{"jsonrpc": "2.0", "method": "pinyin", "params": ["银行"]}') is None
    batch = json.loads(service.handle_text(
        '[{"jsonrpc": "2.0", "id": "a", "method": "pinyin", "params": ["银行"]},'
        ' {"jsonrpc": "2.0", "method": "pinyin", "params": ["银行"]}, 5]'))
    assert batch[0] == {"jsonrpc": "2.0", "id": "a", "result": ["yin2", "hang2"]}
    assert len(batch) == 2 and batch[1]["error"]["code"] == -32600


def test_stdio_one_line_each_way(service):
    lines = ['{"jsonrpc": "2.0", "id": 1, "method": "pinyin", "params": {"text": "银行"}}', "", "oops",
             '{"jsonrpc": "2.0", "method": "pinyin", "params": ["x"]}',
             '{"jsonrpc": "2.0", "id": 2, "method": "pinyin", "params": {"text": "行\\n长"}}']
    sink = io.BytesIO()
    serve_stdio(service, io.BytesIO(("\n".join(lines) + "\n").encode("utf-8")), sink)
    answers = [json.loads(l) for l in sink.getvalue().decode("utf-8").splitlines()]
    assert [a.get("id") for a in answers] == [1, None, 2]
    assert answers[1]["error"]["code"] == -32700
    assert len(answers[2]["result"]) == 3 and answers[2]["result"][1] == "\n"  # escaped: still one line


def test_http_transport(service):
    server = make_server(service, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = "http://127.0.0.1:%d/" % server.server_address[1]
    try:
        def post(body: bytes):
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()

        status, body = post(b'{"jsonrpc": "2.0", "id": 1, "method": "pinyin", "params": {"text": "\xe9\x93\xb6\xe8\xa1\x8c"}}')
        assert status == 200 and json.loads(body)["result"] == ["yin2", "hang2"]
        status, body = post(b"\xff\xfe")
        assert status == 200 and json.loads(body)["error"]["code"] == -32700
        status, body = post(b'{"jsonrpc": "2.0", "method": "pinyin", "params": ["x"]}')
        assert status == 204 and body == b""
        with pytest.raises(urllib.error.HTTPError) as got:
            urllib.request.urlopen(url, timeout=30)
        assert got.value.code == 405
    finally:
        server.shutdown()
        server.server_close()


def test_parse_address():
    assert parse_address("127.0.0.1:9000") == ("127.0.0.1", 9000)
    assert parse_address(":0") == ("127.0.0.1", 0)
    assert parse_address("8080") == ("127.0.0.1", 8080)
    assert parse_address("[::1]:80") == ("::1", 80)
    for bad in ("host:port", "1:99999"):
        with pytest.raises(ValueError):
            parse_address(bad)


def test_serve_needs_one_transport(bundle):
    from click.testing import CliRunner

    from pinyin_edge.cli import main

    result = CliRunner().invoke(main, ["serve", "--model", bundle])
    assert result.exit_code == 1 and "choose one transport" in result.stderr
    result = CliRunner().invoke(main, ["serve", "--stdio", "--http", ":0", "--model", bundle])
    assert result.exit_code == 1


def test_a_node_client_drives_the_service():
    """tests/service_client.js speaks to ``pinyin-edge serve`` (the shipped model) over stdio and HTTP."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the cross-language client test needs it")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([node, os.path.join(ROOT, "tests", "service_client.js"), sys.executable],
                          capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "stdio: ok" in done.stdout and "http: ok" in done.stdout
