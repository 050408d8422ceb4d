"""Masked-language-model pretraining of a small character-level Chinese encoder, from random weights.

Steps: read corpus -> drop lines containing a test sentence -> build the character vocabulary ->
tokenise and pack into fixed-length sequences (cached) -> train with warm-up + cosine decay,
checkpointing every N steps (``--resume`` continues from the last) -> save a BERT-format encoder that
``AutoModel.from_pretrained(out)`` and ``AutoTokenizer.from_pretrained(out)`` load.
"""
from __future__ import annotations

import json
import os
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterable, List, Optional

import numpy as np
import torch

from ..candidates import CandidateTable
from ..data import iter_corpus, test_sentences
from ..modeling.checkpoint import atomic_dir, write_json
from ..modeling.model import autocast, resolve_device
from .common import JsonlLog, Progress, seed_everything, warmup_cosine
from .presets import PRESETS, EncoderPreset, bert_config
from .vocab import build_vocab, save_tokenizer


@dataclass
class PretrainConfig:
    corpus: List[str]
    out: str
    preset: str = "small"
    layers: Optional[int] = None
    hidden: Optional[int] = None
    heads: Optional[int] = None
    exclude: List[str] = field(default_factory=list)
    seq_len: int = 128
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 200
    max_steps: int = 3000
    mask_rate: float = 0.15
    min_count: int = 2
    max_vocab: int = 8000
    heldout_fraction: float = 0.005
    eval_every: int = 250
    save_every: int = 250
    seed: int = 0
    device: str = "auto"

    def encoder_preset(self) -> EncoderPreset:
        base = PRESETS[self.preset]
        hidden = self.hidden or base.hidden
        return EncoderPreset(
            layers=self.layers or base.layers, hidden=hidden, heads=self.heads or base.heads,
            intermediate=4 * hidden if self.hidden else base.intermediate,
            max_positions=max(base.max_positions, self.seq_len))


def drop_test_lines(lines: List[str], sentences: Iterable[str]) -> List[str]:
    """Drop every line that contains one of ``sentences`` (exact substring), in linear time."""
    by_len: Dict[int, set] = {}
    full: Dict[int, set] = {}
    for s in sentences:
        s = s.strip()
        if len(s) < 4:
            continue
        k = min(8, len(s))
        by_len.setdefault(k, set()).add(s[:k])
        full.setdefault(k, set()).add(s)
    kept = []
    for line in lines:
        hit = False
        for k, keys in by_len.items():
            for i in range(len(line) - k + 1):
                if line[i:i + k] in keys and any(line.startswith(s, i) for s in full[k]
                                                 if s[:k] == line[i:i + k]):
                    hit = True
                    break
            if hit:
                break
        if not hit:
            kept.append(line)
    return kept


def prepare(cfg: PretrainConfig, log=print):
    """Corpus -> (tokenizer, train token array, held-out token array), cached under ``out/data``."""
    cache = os.path.join(cfg.out, "data")
    meta_path = os.path.join(cache, "meta.json")
    from transformers import AutoTokenizer

    if os.path.exists(meta_path):
        tokenizer = AutoTokenizer.from_pretrained(cfg.out)
        with open(meta_path, encoding="utf-8") as handle:
            meta = json.load(handle)
        return (tokenizer, np.load(os.path.join(cache, "train.npy")),
                np.load(os.path.join(cache, "heldout.npy")), meta)
    lines = list(iter_corpus(cfg.corpus))
    n_lines = len(lines)
    if cfg.exclude:
        lines = drop_test_lines(lines, test_sentences(cfg.exclude))
    dropped = n_lines - len(lines)
    log(f"corpus: {n_lines} lines, dropped {dropped} containing a test sentence")
    rng = random.Random(cfg.seed)
    rng.shuffle(lines)
    n_held = max(1, int(len(lines) * cfg.heldout_fraction))
    held, train = lines[:n_held], lines[n_held:]
    polyphones = CandidateTable.from_pypinyin().polyphones()
    vocab = build_vocab(train, cfg.min_count, keep_chars=polyphones, max_size=cfg.max_vocab)
    tokenizer = save_tokenizer(vocab, cfg.out)
    log(f"vocabulary: {len(vocab)} entries")

    def pack(texts: List[str]) -> np.ndarray:
        body = cfg.seq_len - 2
        stream: List[int] = []
        for start in range(0, len(texts), 2000):
            ids = tokenizer(texts[start:start + 2000], add_special_tokens=False)["input_ids"]
            for seq in ids:
                stream.extend(seq)
                stream.append(tokenizer.sep_token_id)
        n = len(stream) // body
        arr = np.asarray(stream[: n * body], dtype=np.int32).reshape(n, body)
        cls = np.full((n, 1), tokenizer.cls_token_id, np.int32)
        sep = np.full((n, 1), tokenizer.sep_token_id, np.int32)
        return np.concatenate([cls, arr, sep], axis=1)

    train_arr, held_arr = pack(train), pack(held)
    meta = {"lines": n_lines, "dropped_test_lines": dropped, "train_lines": len(train),
            "heldout_lines": len(held), "train_tokens": int(train_arr.size),
            "vocab_size": len(vocab), "corpus": cfg.corpus, "exclude": cfg.exclude}
    os.makedirs(cache, exist_ok=True)
    np.save(os.path.join(cache, "train.npy"), train_arr)
    np.save(os.path.join(cache, "heldout.npy"), held_arr)
    write_json(meta_path, meta)
    return tokenizer, train_arr, held_arr, meta


def mask_tokens(ids: torch.Tensor, tokenizer, rate: float, generator: torch.Generator):
    """BERT masking: ``rate`` of ordinary tokens are targets; 80% [MASK], 10% random, 10% kept."""
    special = ids < 5  # the five specials come first in our vocabulary
    probs = torch.full(ids.shape, rate)
    targets = torch.bernoulli(probs, generator=generator).bool() & ~special
    inputs = ids.clone()
    roll = torch.rand(ids.shape, generator=generator)
    inputs[targets & (roll < 0.8)] = tokenizer.mask_token_id
    random_ids = torch.randint(5, len(tokenizer), ids.shape, generator=generator)
    swap = targets & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = random_ids[swap]
    return inputs, targets


def mlm_step(model, batch: torch.Tensor, tokenizer, rate: float, gen, device):
    """Loss and accuracy of one masked batch; the vocabulary projection runs on targets only."""
    inputs, targets = mask_tokens(batch, tokenizer, rate, gen)
    inputs, targets, batch = inputs.to(device), targets.to(device), batch.to(device)
    with autocast(device):
        hidden = model.bert(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
        logits = model.cls(hidden[targets]).float()
    gold = batch[targets].long()
    loss = torch.nn.functional.cross_entropy(logits, gold)
    acc = (logits.argmax(-1) == gold).float().mean()
    return loss, acc, int(targets.sum())


def evaluate_mlm(model, held: np.ndarray, tokenizer, cfg: PretrainConfig, device) -> Dict[str, float]:
    model.eval()
    gen = torch.Generator().manual_seed(1234)  # the same masks every time: comparable numbers
    losses, accs, weights = [], [], []
    with torch.no_grad():
        for start in range(0, min(len(held), 512), cfg.batch_size):
            batch = torch.from_numpy(held[start:start + cfg.batch_size].astype(np.int64))
            loss, acc, n = mlm_step(model, batch, tokenizer, cfg.mask_rate, gen, device)
            losses.append(float(loss) * n)
            accs.append(float(acc) * n)
            weights.append(n)
    model.train()
    total = sum(weights)
    if not total:  # no held-out sequence (a corpus too small for one): no figure, rather than a perfect 0
        return {"mlm_loss": float("nan"), "mlm_accuracy": float("nan")}
    return {"mlm_loss": sum(losses) / total, "mlm_accuracy": sum(accs) / total}


def pretrain(cfg: PretrainConfig, resume: bool = False, log=print) -> Dict[str, float]:
    from transformers import BertForMaskedLM

    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    os.makedirs(cfg.out, exist_ok=True)
    tokenizer, train_arr, held_arr, meta = prepare(cfg, log=log)
    preset = cfg.encoder_preset()
    model = BertForMaskedLM(bert_config(preset, len(tokenizer))).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(cfg.warmup_steps, cfg.max_steps))
    step, tokens_seen = 0, 0
    ckpt = os.path.join(cfg.out, "checkpoint-last")
    if resume and os.path.exists(os.path.join(ckpt, "state.pt")):
        state = torch.load(os.path.join(ckpt, "state.pt"), map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, tokens_seen = state["step"], state["tokens_seen"]
        log(f"resumed from {ckpt} at step {step}")
    elif resume:
        log("--resume: no checkpoint yet, starting from step 0")
    n_params = sum(p.numel() for p in model.bert.encoder.parameters())
    log(f"encoder {preset}: {n_params / 1e6:.2f}M non-embedding parameters, device {device}")
    write_json(os.path.join(cfg.out, "pretrain_config.json"),
               {"config": asdict(cfg), "preset": asdict(preset), "data": meta})
    logger = JsonlLog(os.path.join(cfg.out, "log.jsonl"))
    steps_per_epoch = max(1, len(train_arr) // cfg.batch_size)
    progress = Progress(cfg.max_steps, "pretrain")
    model.train()
    gen = torch.Generator().manual_seed(cfg.seed + step)
    start_time, window_tokens = time.time(), 0
    metrics: Dict[str, float] = {}

    def save_checkpoint(target: str) -> None:
        def write(tmp: str) -> None:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "step": step,
                        "tokens_seen": tokens_seen}, os.path.join(tmp, "state.pt"))
        atomic_dir(target, write)

    while step < cfg.max_steps:
        epoch, index = divmod(step, steps_per_epoch)
        order = np.random.default_rng(cfg.seed + epoch).permutation(len(train_arr))
        rows = order[index * cfg.batch_size:(index + 1) * cfg.batch_size]
        batch = torch.from_numpy(train_arr[rows].astype(np.int64))
        loss, acc, _ = mlm_step(model, batch, tokenizer, cfg.mask_rate, gen, device)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        step += 1
        tokens_seen += batch.numel()
        window_tokens += batch.numel()
        rate = window_tokens / max(1e-9, time.time() - start_time)
        progress.update(step, f"loss {loss.item():.3f} acc {acc.item():.3f} {rate:.0f} tok/s")
        if step % 50 == 0:
            logger.write(step=step, loss=float(loss), accuracy=float(acc),
                         lr=scheduler.get_last_lr()[0], tokens_seen=tokens_seen, tokens_per_s=rate)
        if step % cfg.eval_every == 0 or step == cfg.max_steps:
            metrics = evaluate_mlm(model, held_arr, tokenizer, cfg, device)
            logger.write(step=step, eval=True, tokens_seen=tokens_seen, **metrics)
            log(f"\nstep {step}: held-out MLM loss {metrics['mlm_loss']:.3f}, "
                f"accuracy {metrics['mlm_accuracy']:.3f}")
        if step % cfg.save_every == 0 or step == cfg.max_steps:
            save_checkpoint(ckpt)
    progress.close()
    # The final encoder at the top level of --out: AutoModel/AutoTokenizer load it from there.
    model.save_pretrained(cfg.out)
    tokenizer.save_pretrained(cfg.out)
    summary = {"step": step, "tokens_seen": tokens_seen, **metrics}
    write_json(os.path.join(cfg.out, "pretrain_summary.json"), summary)
    return summary
