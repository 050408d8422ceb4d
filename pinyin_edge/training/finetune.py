"""Polyphone fine-tuning on top of any BERT-family encoder (our pretrained one, a local dir, a hub id).

The head scores only labelled positions; cross-entropy runs over each character's candidates only.
The encoder learns at ``encoder_lr_scale`` x the head's rate, can be frozen whole or but its last N
layers. Dev accuracy picks the best checkpoint (early stopping); ``--resume`` continues a run. The run
writes ``OUT/best`` and ``OUT/last`` in the checkpoint format of :mod:`pinyin_edge.modeling.checkpoint`.
"""
from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

import torch

from ..candidates import CandidateTable
from ..data import Example, read_many
from ..modeling.checkpoint import save_checkpoint, write_json
from ..modeling.encoding import Encoder, window
from ..modeling.model import PolyphoneModel, autocast, resolve_device
from .common import JsonlLog, Progress, seed_everything, warmup_cosine


@dataclass
class FinetuneConfig:
    base_model: str
    train: List[str]
    dev: List[str]
    out: str
    weak: List[str] = field(default_factory=list)
    weak_ratio: float = 2.0          # weak sentences sampled per gold sentence, each epoch
    weak_weight: float = 0.5         # weight of the weak labels' mean loss; the gold mean weighs 1
    weak_cap: float = 0.0            # >0: a character's weak labels weigh at most cap x its gold count
    epochs: int = 3
    max_steps: int = 0               # 0: epochs decide
    batch_size: int = 64
    lr: float = 1e-3                 # the head's learning rate
    encoder_lr_scale: float = 0.3    # the encoder's rate = lr x this (alpha)
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    freeze_encoder: bool = False
    train_last_layers: Optional[int] = None
    max_length: int = 128
    eval_every: int = 500
    patience: int = 6                # evaluations without improvement before stopping
    min_label_count: int = 1         # polyphones seen fewer times in training go to the dictionary
    device: str = "auto"
    seed: int = 0
    skip_bad: bool = False
    random_init: bool = False        # same architecture and tokenizer, random weights (a baseline)


# ----------------------------------------------------------------------------- training

def build_label_space(gold, weak, min_count: int) -> Tuple[CandidateTable, List[str], Dict[str, int]]:
    """Candidate table extended with training readings; labels = readings of polyphones seen."""
    table = CandidateTable.from_pypinyin()
    pairs = list(gold.labelled_pairs()) + [p for w in weak for p in w.labelled_pairs()]
    table.extend(pairs)
    counts: Dict[str, int] = {}
    for char, _ in pairs:
        counts[char] = counts.get(char, 0) + 1
    trained = {c for c, n in counts.items() if n >= min_count and table.is_polyphone(c)}
    labels = sorted({r for c in trained for r in table.get(c)})
    return table, labels, {c: counts[c] for c in sorted(trained)}


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per row, -sum(target x log softmax(logits)): cross-entropy for one-hot targets, the
    distillation loss for a teacher's soft ones. Masked-out labels carry no target mass."""
    log_probs = torch.log_softmax(logits, dim=-1)
    return -torch.where(target > 0, target * log_probs, torch.zeros_like(log_probs)).sum(dim=-1)


def mixed_loss(losses: torch.Tensor, weight: torch.Tensor, weak: torch.Tensor, weak_weight: float) -> torch.Tensor:
    """Mean over gold labels + ``weak_weight`` x weighted mean over weak labels: a weak sentence
    labels every polyphone, a gold one a single character, so a joint mean would drown the gold."""
    gold = ~weak
    loss = (losses * gold).sum() / gold.sum().clamp(min=1)
    if weak.any():
        w = weight * weak
        loss = loss + weak_weight * (losses * w).sum() / w.sum().clamp(min=1e-6)
    return loss


def weak_char_scale(gold, weak, cap: float, sampled_fraction: float) -> Optional[Dict[str, float]]:
    """Per character, the factor that keeps its weak labels (as sampled each epoch) at no more than
    ``cap`` x its gold labels: where gold exists, gold sets the convention (CPP's 地 de5, 肖 xiao1);
    weak labels still teach the characters gold never shows."""
    if cap <= 0:
        return None
    gold_counts: Dict[str, int] = {}
    for char, _ in gold.labelled_pairs():
        gold_counts[char] = gold_counts.get(char, 0) + 1
    weak_counts: Dict[str, int] = {}
    for part in weak:
        for char, _ in part.labelled_pairs():
            weak_counts[char] = weak_counts.get(char, 0) + 1
    scale = {}
    for char, n_gold in gold_counts.items():
        n_weak = weak_counts.get(char, 0) * sampled_fraction
        if n_weak > cap * n_gold:
            scale[char] = cap * n_gold / n_weak
    return scale


def evaluate(model, encoder: Encoder, examples: List[Example], batch_size: int, device) -> Dict[str, float]:
    model.eval()
    correct = total = 0
    loss_sum = 0.0
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            batch = encoder(examples[start:start + batch_size])
            if batch is None:
                continue
            with autocast(device):
                logits = model(batch["input_ids"].to(device), batch["attention_mask"].to(device),
                               batch["query_index"].to(device), batch["candidate_mask"].to(device)).float()
            gold = batch["gold"].to(device)
            loss_sum += float(torch.nn.functional.cross_entropy(logits, gold, reduction="sum"))
            correct += int((logits.argmax(-1) == gold).sum())
            total += len(gold)
    model.train()
    return {"dev_accuracy": correct / max(1, total), "dev_loss": loss_sum / max(1, total),
            "dev_total": total}


def freeze(model: PolyphoneModel, freeze_encoder: bool, train_last_layers: Optional[int]) -> None:
    if freeze_encoder:
        for p in model.encoder.parameters():
            p.requires_grad = False
    elif train_last_layers is not None:
        for p in model.encoder.parameters():
            p.requires_grad = False
        layers = model.encoder.encoder.layer
        for layer in layers[max(0, len(layers) - train_last_layers):]:
            for p in layer.parameters():
                p.requires_grad = True


def finetune(cfg: FinetuneConfig, resume: bool = False, log=print) -> Dict[str, float]:
    from transformers import AutoModel, AutoTokenizer

    seed_everything(cfg.seed)
    dist = Distributed.from_env()
    device = dist.device(cfg.device)
    if not dist.is_main:
        log = lambda *_: None  # noqa: E731  (one rank speaks)
    gold = read_many(cfg.train, skip_bad=cfg.skip_bad)
    dev = read_many(cfg.dev, skip_bad=cfg.skip_bad)
    weak = [read_many([p], skip_bad=cfg.skip_bad) for p in cfg.weak]
    if not len(gold):
        raise ValueError("no training examples in --train")
    table, labels, trained = build_label_space(gold, weak, cfg.min_label_count)
    log(f"train: {len(gold)} gold sentences, {sum(len(w) for w in weak)} weak; dev: {len(dev)}; "
        f"{len(labels)} labels over {len(trained)} polyphones")

    tokenizer = AutoTokenizer.from_pretrained(cfg.base_model)
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{cfg.base_model}: needs a fast tokenizer (offset mapping) for exact alignment")
    if cfg.random_init:
        from transformers import AutoConfig

        encoder_model = AutoModel.from_config(AutoConfig.from_pretrained(cfg.base_model),
                                              add_pooling_layer=False)
    else:
        encoder_model = AutoModel.from_pretrained(cfg.base_model, add_pooling_layer=False)
    model = PolyphoneModel(encoder_model, num_labels=len(labels)).to(device)
    freeze(model, cfg.freeze_encoder, cfg.train_last_layers)
    forward = dist.wrap(model)
    max_chars = cfg.max_length - 2
    # The model decides only the polyphones it was trained on (the runtime does the same).
    encode = Encoder(tokenizer, labels, CandidateTable.from_json(table.to_json(trained)), cfg.max_length)

    gold_examples = [window(e, max_chars) for e in gold]
    weak_examples = [window(e, max_chars) for w in weak for e in w]
    dev_examples = [window(e, max_chars) for e in dev]
    per_epoch_weak = min(len(weak_examples), int(cfg.weak_ratio * len(gold_examples)))
    weak_scale = weak_char_scale(gold, weak, cfg.weak_cap, per_epoch_weak / max(1, len(weak_examples)))
    # At least one (partial) batch per epoch, or a set smaller than one batch would train 0 steps.
    steps_per_epoch = max(1, (len(gold_examples) + per_epoch_weak) // cfg.batch_size)
    total_steps = cfg.max_steps or cfg.epochs * steps_per_epoch

    head_params = list(model.head.parameters())
    enc_params = [p for p in model.encoder.parameters() if p.requires_grad]
    groups = [{"params": head_params, "lr": cfg.lr}]
    if enc_params:
        groups.append({"params": enc_params, "lr": cfg.lr * cfg.encoder_lr_scale})
    optimizer = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(int(cfg.warmup_ratio * total_steps), total_steps, floor=0.0))

    step, best, stale = 0, -1.0, 0
    last_dir, best_dir = os.path.join(cfg.out, "last"), os.path.join(cfg.out, "best")
    if resume and os.path.exists(os.path.join(last_dir, "state.pt")):
        state = torch.load(os.path.join(last_dir, "state.pt"), map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, best, stale = state["step"], state["best"], state["stale"]
        log(f"resumed from {last_dir} at step {step} (best dev accuracy {best:.4f})")
    elif resume:
        log("--resume: no checkpoint yet, starting from step 0")

    meta = {"labels": labels, "candidates": table.to_json(trained), "trained_counts": trained,
            "max_length": cfg.max_length, "base_model": cfg.base_model, "config": asdict(cfg)}
    os.makedirs(cfg.out, exist_ok=True)
    logger = JsonlLog(os.path.join(cfg.out, "log.jsonl"))
    n_enc = sum(p.numel() for p in model.encoder.parameters())
    log(f"encoder {n_enc / 1e6:.2f}M parameters ({sum(p.numel() for p in enc_params) / 1e6:.2f}M trainable), "
        f"head {len(labels)} labels; {total_steps} steps on {device}")
    progress = Progress(total_steps, "train", stream=None if dist.is_main else open(os.devnull, "w"))
    model.train()

    def epoch_batches(epoch: int):
        rng = random.Random(cfg.seed * 1000 + epoch)
        weak_pick = rng.sample(range(len(weak_examples)), per_epoch_weak) if per_epoch_weak else []
        items = [(e, False) for e in gold_examples] + [(weak_examples[i], True) for i in weak_pick]
        rng.shuffle(items)
        items = items[: steps_per_epoch * cfg.batch_size]
        # Length bucketing: sort within pools of 50 batches so padding stays small, then shuffle batches.
        pool = 50 * cfg.batch_size
        batches = []
        for p in range(0, len(items), pool):
            chunk = sorted(items[p:p + pool], key=lambda item: len(item[0].text))
            batches.extend(chunk[i:i + cfg.batch_size] for i in range(0, len(chunk), cfg.batch_size))
        rng.shuffle(batches)
        return batches

    metrics: Dict[str, float] = {}
    while step < total_steps:
        epoch, index = divmod(step, steps_per_epoch)
        batches = epoch_batches(epoch)
        for chunk in batches[index:]:
            if step >= total_steps:
                break
            chunk = chunk[dist.rank::dist.world]  # each rank takes its share of the global batch
            batch = encode([e for e, _ in chunk], [w for _, w in chunk], weak_scale)
            step += 1
            if batch is None:  # keep every rank in step: a zero loss that touches all parameters
                loss = sum(p.sum() * 0.0 for p in model.parameters() if p.requires_grad)
            else:
                with autocast(device):
                    logits = forward(batch["input_ids"].to(device), batch["attention_mask"].to(device),
                                     batch["query_index"].to(device), batch["candidate_mask"].to(device)).float()
                losses = soft_cross_entropy(logits, batch["target"].to(device))
                loss = mixed_loss(losses, batch["weight"].to(device), batch["weak"].to(device), cfg.weak_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            progress.update(step, f"epoch {epoch + 1} loss {loss.item():.4f} best dev {max(best, 0):.4f}")
            if step % 50 == 0:
                logger.write(step=step, epoch=epoch + 1, loss=loss.item(), lr=scheduler.get_last_lr()[0])
            if (step % cfg.eval_every == 0 or step == total_steps) and not dist.is_main:
                if dist.agree_to_stop(False):
                    step = total_steps
                    break
            elif step % cfg.eval_every == 0 or step == total_steps:
                metrics = evaluate(model, encode, dev_examples, cfg.batch_size * 2, device)
                logger.write(step=step, eval=True, **metrics)
                improved = metrics["dev_accuracy"] > best
                if improved:
                    best, stale = metrics["dev_accuracy"], 0
                    save_checkpoint(best_dir, model, tokenizer, {**meta, "step": step, "metrics": metrics})
                else:
                    stale += 1
                log(f"\nstep {step}: dev accuracy {metrics['dev_accuracy']:.4f} "
                    f"loss {metrics['dev_loss']:.4f}{' (best)' if improved else ''}")
                save_checkpoint(last_dir, model, tokenizer, {**meta, "step": step, "metrics": metrics},
                                state={"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                       "scheduler": scheduler.state_dict(), "step": step, "best": best,
                                       "stale": stale})
                if dist.agree_to_stop(stale >= cfg.patience):
                    log(f"early stop: no dev improvement in {stale} evaluations")
                    step = total_steps
                    break
    progress.close()
    summary = {"steps": step, "best_dev_accuracy": best, **{k: v for k, v in metrics.items()}}
    if dist.is_main:
        write_json(os.path.join(cfg.out, "summary.json"), summary)
    dist.close()
    return summary


@dataclass
class Distributed:
    """torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK); a single process when absent.

    Several GPUs: ``torchrun --nproc_per_node=N -m pinyin_edge.cli train ...``. Each rank takes a
    slice of every global batch; DDP averages the gradients; rank 0 evaluates and saves.
    """

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> "Distributed":
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        import torch.distributed as td

        if not td.is_initialized():
            td.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return cls(rank=td.get_rank(), world=world, local_rank=int(os.environ.get("LOCAL_RANK", "0")))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, name: str) -> torch.device:
        if self.world > 1 and torch.cuda.is_available() and name in ("auto", "cuda"):
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank)
        return resolve_device(name)

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if self.world <= 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.local_rank] if next(model.parameters()).is_cuda else None
        return DistributedDataParallel(model, device_ids=ids)

    def agree_to_stop(self, stop: bool) -> bool:
        """Rank 0 decides; every rank learns the decision (and waits for rank 0's evaluation)."""
        if self.world <= 1:
            return stop
        import torch.distributed as td

        flag = torch.tensor([1 if stop else 0])
        td.broadcast(flag, src=0)
        return bool(flag.item())

    def close(self) -> None:
        if self.world > 1:
            import torch.distributed as td

            td.destroy_process_group()
