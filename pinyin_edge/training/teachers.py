"""Soft teachers for distillation: a distribution over each polyphone's candidate readings.

``EnsembleTeacher`` multiplies (product of experts) the candidate probabilities of one of our bundles
with g2pM's, restricted to the same candidates. g2pM learnt CPP's 79k training sentences, which we do
not have; our bundle learnt the rest. On the CPP dev slice their errors overlap little: the bundle
alone is 96.8 model-only, the product 97.7 (``python export/analysis.py ensemble BUNDLE``). The student learns
the product's full distribution (``prepare --weak-mode distill``), not its argmax. g2pM (PyPI ``g2pM``)
must be installed.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np

from ..data import Soft
from ..readings import ReadingError, normalize


class G2pMScorer:
    """g2pM's logits for chosen characters of a sentence (its own numpy BiLSTM, unmasked classes)."""

    def __init__(self):
        try:
            import g2pM.g2pM as module
        except ImportError as exc:
            raise RuntimeError(f"the distill teacher needs g2pM ({exc.name or 'g2pM'} is missing): "
                               "pip install g2pM") from None
        self.model = module.G2pM()
        self.unk = self.model.char2idx[module.UNK_TOKEN]
        self.bos = self.model.char2idx[module.BOS_TOKEN]
        self.eos = self.model.char2idx[module.EOS_TOKEN]
        self.class_index = {}
        for index, raw in self.model.idx2class.items():
            try:
                self.class_index[normalize(raw)] = index
            except ReadingError:  # a few of g2pM's classes are not pinyin (bia1); none is a candidate
                continue

    def logits(self, text: str, offsets: Sequence[int]) -> np.ndarray:
        """[len(offsets), num_classes]; the same computation as ``G2pM.predict``, before its argmax."""
        m = self.model
        ids = [self.bos] + [m.char2idx.get(c, self.unk) for c in text] + [self.eos]
        inputs = np.array([ids], dtype=np.int32)
        lengths = np.array([len(ids)])
        forward_emb = m.get_embedding(inputs)
        backward_emb = m.get_embedding(m.reverse_sequence(inputs, lengths))
        forward_state = backward_state = None
        forward_h, backward_h = [], []
        for t in range(len(ids)):
            forward_state = m.fw_lstm_cell(forward_emb[:, t, :], forward_state)
            backward_state = m.bw_lstm_cell(backward_emb[:, t, :], backward_state)
            forward_h.append(forward_state[0])
            backward_h.append(backward_state[0])
        backward = m.reverse_sequence(np.stack(backward_h, axis=1), lengths)
        hidden = np.concatenate([np.stack(forward_h, axis=1), backward], axis=2)[0]
        return m.fc_layer(hidden[[o + 1 for o in offsets]])  # +1: BOS

    def decides(self, char: str) -> bool:
        """g2pM's classifier was trained only on characters its CC-CEDICT digest lists with several
        readings; its logits elsewhere mean nothing."""
        return len(self.model.cedict.get(char, ())) > 1

    def candidate_probs(self, text: str, offsets: Sequence[int],
                        candidates: Sequence[Sequence[str]]) -> List[Optional[np.ndarray]]:
        """Per offset, g2pM's softmax over that character's candidates (readings it lacks get 0),
        or None where g2pM does not decide the character."""
        logits = self.logits(text, offsets)
        out: List[Optional[np.ndarray]] = []
        for offset, row, cands in zip(offsets, logits, candidates):
            if not self.decides(text[offset]):
                out.append(None)
                continue
            scores = np.array([row[self.class_index[c]] if c in self.class_index else -np.inf
                               for c in cands], dtype=np.float64)
            if not np.isfinite(scores).any():
                out.append(np.full(len(cands), 1.0 / len(cands)))
                continue
            exp = np.exp(scores - scores[np.isfinite(scores)].max())
            out.append(exp / exp.sum())
        return out


class EnsembleTeacher:
    """Soft labels for every polyphone a bundle decides: bundle x g2pM, renormalised (the bundle
    alone where g2pM does not decide the character). Readings below ``floor`` are dropped."""

    soft = True

    def __init__(self, bundle: str, floor: float = 1e-3):
        from ..runtime.predictor import Predictor

        self.predictor = Predictor(bundle)
        self.g2pm = G2pMScorer()
        self.floor = floor

    def __call__(self, text: str, table=None) -> Dict[int, Soft]:
        ours = self.predictor.probabilities([text])[0]
        if not ours:
            return {}
        offsets = sorted(ours)
        candidates = [self.predictor.candidates(text[o]) for o in offsets]
        theirs = self.g2pm.candidate_probs(text, offsets, candidates)
        out: Dict[int, Soft] = {}
        for offset, cands, p, q in zip(offsets, candidates, theirs, [ours[o] for o in offsets]):
            joint = q if p is None else p * q
            joint = joint / joint.sum() if joint.sum() > 0 else q
            keep = [(c, float(x)) for c, x in zip(cands, joint) if x >= self.floor]
            total = sum(x for _, x in keep)
            out[offset] = tuple(sorted(((c, x / total) for c, x in keep), key=lambda pair: -pair[1]))
        return out
