"""JSON-RPC 2.0 over any transport: one request (or batch) in, one response (or batch) out.

Methods (params by name, or by position in the order listed):

* ``pinyin(text, style="tone3", heteronym=false, tone_sandhi=false)`` -> one item per character;
  ``pinyin_batch(texts, ...)`` -> a list of those;
* ``annotate(text, style="tone3", tone_sandhi=false)`` -> per character ``{char, offset, reading,
  candidates, source}``; ``annotate_batch(texts, ...)``;
* ``word_readings(word, k=3, style="tone3")`` -> ``[{pinyin, probability}, ...]`` best first;
  ``word_readings_batch(words, ...)``;
* ``info()`` -> the package version and the model in use.

Errors are JSON-RPC error objects (parse error -32700, invalid request -32600, method not found
-32601, invalid params -32602, internal error -32603); nothing a client sends stops the service.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR = (
    -32700, -32600, -32601, -32602, -32603)
MAX_BATCH = 1024  # requests in one batch message
MAX_ITEMS = 100_000  # texts or words in one call

_REQUIRED = object()


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def to_dict(self) -> Dict[str, Any]:
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def _string(name: str, value) -> str:
    if not isinstance(value, str):
        raise RpcError(INVALID_PARAMS, f"{name} must be a string")
    return value


def _strings(name: str, value) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RpcError(INVALID_PARAMS, f"{name} must be a list of strings")
    if len(value) > MAX_ITEMS:
        raise RpcError(INVALID_PARAMS, f"{name}: at most {MAX_ITEMS} items per call")
    return value


def _flag(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise RpcError(INVALID_PARAMS, f"{name} must be true or false")
    return value


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise RpcError(INVALID_PARAMS, f"{name} must be an integer from 1 to 64")
    return value


Spec = Sequence[Tuple[str, Callable[[str, Any], Any], Any]]  # (name, checker, default or _REQUIRED)
STYLE = ("style", _string, "tone3")
SANDHI = ("tone_sandhi", _flag, False)


class Service:
    """The methods of one :class:`~pinyin_edge.G2P`, callable through :meth:`handle_text`."""

    def __init__(self, g2p):
        self.g2p = g2p
        self.methods: Dict[str, Tuple[Spec, Callable[..., Any]]] = {
            "pinyin": ((("text", _string, _REQUIRED), STYLE, ("heteronym", _flag, False), SANDHI),
                       lambda text, **kw: g2p.pinyin(text, **kw)),
            "pinyin_batch": ((("texts", _strings, _REQUIRED), STYLE, ("heteronym", _flag, False), SANDHI),
                             lambda texts, **kw: g2p.pinyin_batch(texts, **kw)),
            "annotate": ((("text", _string, _REQUIRED), STYLE, SANDHI),
                         lambda text, **kw: [a.to_dict() for a in g2p.annotate(text, **kw)]),
            "annotate_batch": ((("texts", _strings, _REQUIRED), STYLE, SANDHI),
                               lambda texts, **kw: [[a.to_dict() for a in one]
                                                    for one in g2p.annotate_batch(texts, **kw)]),
            "word_readings": ((("word", _string, _REQUIRED), ("k", _count, 3), STYLE),
                              lambda word, **kw: [r.to_dict() for r in g2p.word_readings(word, **kw)]),
            "word_readings_batch": ((("words", _strings, _REQUIRED), ("k", _count, 3), STYLE),
                                    lambda words, **kw: [[r.to_dict() for r in one]
                                                         for one in g2p.word_readings_batch(words, **kw)]),
            "info": ((), lambda: self.info()),
        }

    def info(self) -> Dict[str, Any]:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed: Optional[str] = version("pinyin-edge")
        except PackageNotFoundError:  # run from a source tree
            installed = None
        return {"version": installed, "model": str(self.g2p.model_path), "methods": sorted(self.methods)}

    # -- dispatch -------------------------------------------------------------------------------------
    def handle_text(self, text: Union[str, bytes]) -> Optional[str]:
        """One message (a request or a batch) -> the response line, or None when nothing is due
        (notifications only)."""
        try:
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            message = json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            return _dump({"jsonrpc": "2.0", "id": None,
                          "error": RpcError(PARSE_ERROR, "parse error", str(exc)).to_dict()})
        response = self.handle(message)
        return None if response is None else _dump(response)

    def handle(self, message) -> Optional[Union[Dict[str, Any], List[Dict[str, Any]]]]:
        if isinstance(message, list):
            if not message:
                return _error(None, RpcError(INVALID_REQUEST, "invalid request: an empty batch"))
            if len(message) > MAX_BATCH:
                return _error(None, RpcError(INVALID_REQUEST, f"invalid request: at most {MAX_BATCH} per batch"))
            answers = [a for a in (self.handle_one(m) for m in message) if a is not None]
            return answers or None
        return self.handle_one(message)

    def handle_one(self, request) -> Optional[Dict[str, Any]]:
        if not isinstance(request, dict):
            return _error(None, RpcError(INVALID_REQUEST, "invalid request: not an object"))
        rid = request.get("id")
        valid_id = rid is None or (isinstance(rid, (str, int, float)) and not isinstance(rid, bool))
        if request.get("jsonrpc") != "2.0" or not isinstance(request.get("method"), str) or not valid_id:
            return _error(rid if valid_id else None,
                          RpcError(INVALID_REQUEST, "invalid request: needs jsonrpc \"2.0\", a method "
                                                    "name and an id that is a string, number or null"))
        notification = "id" not in request
        try:
            result = self.call(request["method"], request.get("params"))
        except RpcError as exc:
            return None if notification else _error(rid, exc)
        except (ValueError, TypeError) as exc:  # what the engine refuses (unknown style, ...)
            return None if notification else _error(rid, RpcError(INVALID_PARAMS, str(exc)))
        except Exception as exc:  # never a dead service
            return None if notification else _error(
                rid, RpcError(INTERNAL_ERROR, "internal error", f"{type(exc).__name__}: {exc}"))
        return None if notification else {"jsonrpc": "2.0", "id": rid, "result": result}

    def call(self, method: str, params) -> Any:
        if method not in self.methods:
            raise RpcError(METHOD_NOT_FOUND, f"method not found: {method}",
                           {"methods": sorted(self.methods)})
        spec, fn = self.methods[method]
        names = [name for name, _, _ in spec]
        if params is None:
            given: Dict[str, Any] = {}
        elif isinstance(params, list):
            if len(params) > len(spec):
                raise RpcError(INVALID_PARAMS, f"{method} takes at most {len(spec)} params ({', '.join(names)})")
            given = dict(zip(names, params))
        elif isinstance(params, dict):
            unknown = sorted(set(params) - set(names))
            if unknown:
                raise RpcError(INVALID_PARAMS, f"{method}: unknown params {', '.join(unknown)}; "
                                               f"it takes {', '.join(names) or 'none'}")
            given = params
        else:
            raise RpcError(INVALID_PARAMS, "params must be an object or an array")
        args = {}
        for name, check, default in spec:
            if name in given:
                args[name] = check(name, given[name])
            elif default is _REQUIRED:
                raise RpcError(INVALID_PARAMS, f"{method}: missing param {name}")
            else:
                args[name] = default
        return fn(**args)


def _error(rid, exc: RpcError) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": exc.to_dict()}


def _dump(response) -> str:
    return json.dumps(response, ensure_ascii=False)  # one line: JSON escapes every newline
