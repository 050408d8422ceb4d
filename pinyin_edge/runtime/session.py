"""The one place that builds onnxruntime sessions.

Every session in pinyin-edge (the G2P runtime, the CLI, the exporter's parity gate, benchmarks) is made
here, so threading and optimisation settings are the same everywhere, and onnxruntime's low-level load
errors come back as :class:`~pinyin_edge.bundle.BundleError` messages that say what to do.

Telemetry: onnxruntime's Linux and macOS wheels (1.2x and later) start Microsoft's 1DS telemetry when
the module is imported: they write ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/`` (``deviceid``,
``onnxruntime.db``), may upload events, and print a coloured warning when that folder cannot be
written. ``onnxruntime.disable_telemetry_events()`` does not stop this (it runs after the import);
the environment variable ``ORT_DISABLE_TELEMETRY=1`` read at import does. So pinyin-edge sets it
(unless it is already set: ``ORT_DISABLE_TELEMETRY=0`` keeps onnxruntime's default) before its first
import of onnxruntime. A process that imported onnxruntime before pinyin-edge keeps what that
import started.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

from ..bundle import INPUT_NAMES, OUTPUT_NAMES, BundleError

DEFAULT_PROVIDERS = ("CPUExecutionProvider",)
TELEMETRY_ENV = "ORT_DISABLE_TELEMETRY"


def onnxruntime():
    """The onnxruntime module, imported with its telemetry off unless the caller's environment says
    otherwise (see the module's docstring)."""
    os.environ.setdefault(TELEMETRY_ENV, "1")
    import onnxruntime as ort

    return ort


def session_options(threads: int = 1):
    """Session options: ``threads`` intra-op threads (0 = onnxruntime's default, one per core),
    one inter-op thread, sequential execution, every graph optimisation."""
    ort = onnxruntime()

    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"threads must be an integer >= 0 (0 = one per core), got {threads!r}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: no optimiser chatter on stderr
    return options


def _providers(providers: Optional[Sequence]) -> list:
    ort = onnxruntime()

    chosen = list(providers) if providers else list(DEFAULT_PROVIDERS)
    available = ort.get_available_providers()
    for provider in chosen:
        name = provider[0] if isinstance(provider, (tuple, list)) else provider
        if name not in available:
            raise ValueError(f"onnxruntime execution provider {name!r} is not available in this "
                             f"install; available: {', '.join(available)}")
    return chosen


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def create_session(graph_path: str, threads: int = 1, providers: Optional[Sequence] = None,
                   check_io: bool = True, num_labels: Optional[int] = None):
    """An ``onnxruntime.InferenceSession`` for ``graph_path``.

    ``check_io`` verifies the bundle's I/O contract (``input_ids``/``attention_mask``/``query_index``
    int64 in, ``logits`` float out); ``num_labels`` also checks the logits' label dimension when the
    graph declares it. Any load failure raises :class:`BundleError`.
    """
    ort = onnxruntime()

    options = session_options(threads)
    chosen = _providers(providers)
    if not os.path.isfile(graph_path):
        raise BundleError(f"{graph_path}: no such ONNX graph; check the path or re-export the bundle")
    try:
        session = ort.InferenceSession(graph_path, sess_options=options, providers=chosen)
    except Exception as exc:  # onnxruntime raises its own pybind exception types
        detail = _first_line(exc)
        low = detail.lower()
        if "protobuf" in low or "parsing" in low or "invalid_protobuf" in low:
            why = "is not a valid ONNX file (truncated or corrupt)"
        elif "opset" in low or "not a registered" in low or "not_implemented" in low:
            why = "uses operators this onnxruntime cannot run; upgrade onnxruntime or re-export"
        else:
            why = "could not be loaded by onnxruntime"
        raise BundleError(f"{graph_path}: {why} ({detail}); re-export the bundle with "
                          f"`pinyin-edge export`") from None
    if check_io:
        check_session_io(session, graph_path, num_labels)
    return session


_INT64 = "tensor(int64)"
_FLOATS = ("tensor(float)", "tensor(float16)")


def check_session_io(session, where: str, num_labels: Optional[int] = None) -> None:
    """Raise :class:`BundleError` unless the graph honours the bundle's I/O contract."""
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name: o for o in session.get_outputs()}
    if set(inputs) != set(INPUT_NAMES):
        raise BundleError(f"{where}: graph inputs are {sorted(inputs)}, a pinyin-edge bundle needs "
                          f"{list(INPUT_NAMES)}; this graph was not exported by `pinyin-edge export`")
    bad = [n for n, i in inputs.items() if i.type != _INT64]
    if bad:
        raise BundleError(f"{where}: graph input {bad[0]} is {inputs[bad[0]].type}, expected "
                          f"{_INT64}; re-export the bundle")
    if OUTPUT_NAMES[0] not in outputs:
        raise BundleError(f"{where}: graph has no output {OUTPUT_NAMES[0]!r} (it has "
                          f"{sorted(outputs)}); re-export the bundle")
    logits = outputs[OUTPUT_NAMES[0]]
    if logits.type not in _FLOATS:
        raise BundleError(f"{where}: output logits is {logits.type}, expected tensor(float)")
    shape = list(logits.shape or [])
    if len(shape) not in (0, 2):
        raise BundleError(f"{where}: output logits has rank {len(shape)}, expected [n, labels]")
    if num_labels is not None and len(shape) == 2 and isinstance(shape[1], int) \
            and shape[1] != num_labels:
        raise BundleError(f"{where}: the graph scores {shape[1]} labels but the manifest lists "
                          f"{num_labels}; the manifest does not belong to this graph, re-export")
