"""Tiny hand-written data and model builders for the training / export tests.

Nothing here imports torch or transformers at module level: the tests that need them skip cleanly
(``pytest.importorskip``) before calling these helpers.

Labelled sentences use a small markup: a Han character followed by ``{reading}`` is labelled with that
reading; every other Han character is left unlabelled (``-`` in the full-sentence TSV).
"""
from __future__ import annotations

import os
import re
from typing import Dict, List, Sequence, Tuple

from pinyin_edge.readings import is_han

# Clear contexts for six polyphones: 行 hang2 before 业/长 and after 银, else xing2; 长 zhang3 after
# 行/校/家, else chang2; 重 chong2 before 新/复, else zhong4; 了 liao3 before 解, else le5;
# 还 huan2 before 给/钱/书, else hai2; 乐 yue4 after 音, else le4.
TRAIN_MARKED = [
    "银行{hang2}的行{hang2}长{zhang3}来了{le5}。",
    "他走路很慢，不行{xing2}了{le5}。",
    "我们一起去银行{hang2}取钱。",
    "这条路很长{chang2}，我们走了{le5}很久。",
    "校长{zhang3}在开会。",
    "他的头发很长{chang2}。",
    "重{chong2}新开始吧。",
    "这个箱子很重{zhong4}。",
    "我明白了{le5}，谢谢你。",
    "我了{liao3}解这个问题。",
    "他还{hai2}没有回家。",
    "请把书还{huan2}给我。",
    "音乐{yue4}会很好听。",
    "大家都很快乐{le4}。",
    "行{xing2}人要走人行{xing2}道。",
    "2024年AI行{hang2}业发展很快。",
    "互联网行{hang2}业的工资很高。",
    "重{zhong4}要的事情说三遍。",
    "请重{chong2}复一遍。",
    "家长{zhang3}来学校了{le5}。",
    "你还{huan2}钱了{le5}吗？",
    "他还{hai2}在学校。",
    "我喜欢音乐{yue4}。",
    "祝你生日快乐{le4}！",
    "这件事很重{zhong4}要。",
    "他们了{liao3}解情况了{le5}。",
    "河水很长{chang2}很长{chang2}。",
    "银行{hang2}行{hang2}长{zhang3}很忙。",
    "自行{xing2}车很好骑。",
    "他不太了{liao3}解音乐{yue4}。",
    "我们出发了{le5}，一路顺风。",
    "这是一个长{chang2}故事。",
    "重{chong2}新做一次吧。",
    "他的行{xing2}为很好。",
    "她还{hai2}是很快乐{le4}。",
    "我把钱还{huan2}给银行{hang2}了{le5}。",
]

DEV_MARKED = [
    "这家银行{hang2}的行{hang2}长{zhang3}很年轻。",
    "这条河很长{chang2}。",
    "请重{chong2}新写一遍。",
    "这本书很重{zhong4}。",
    "我了{liao3}解你的意思。",
    "他回家了{le5}。",
    "请还{huan2}书。",
    "他还{hai2}没来。",
    "音乐{yue4}很好听。",
    "今天很快乐{le4}。",
    "AI行{hang2}业很热。",
    "人行{xing2}道上有人。",
]

# Unlabelled corpus lines for pretraining (plus the plain text of the labelled sentences).
CORPUS_EXTRA = [
    "今天天气很好，我们去公园散步吧。",
    "他每天早上七点起床，然后去上班。",
    "这家饭店的菜很好吃，价格也不贵。",
    "我们学校有很多老师和学生。",
    "明天下午三点我们在学校门口见面。",
    "她喜欢看书，也喜欢听音乐。",
    "中国有很长的历史和文化。",
    "请问去火车站怎么走？",
    "我的朋友下个月要去北京工作。",
    "这个问题很难，我们一起想办法吧。",
    "孩子们在公园里玩得很开心。",
    "他的中文说得越来越好了。",
    "2024年的春天来得很早。",
    "AI和大数据改变了很多行业。",
    "我们的生活越来越好。",
    "老师说明天要考试。",
]


def parse_marked(marked: str) -> Tuple[str, Dict[int, str]]:
    """``银行{hang2}`` -> (``银行``, {1: "hang2"})."""
    text, labels = "", {}
    for piece, reading in re.findall(r"([^{}])(?:\{([a-z]+[1-5])\})?", marked):
        if reading:
            assert is_han(piece), marked
            labels[len(text)] = reading
        text += piece
    return text, labels


def plain(marked: Sequence[str]) -> List[str]:
    return [parse_marked(m)[0] for m in marked]


def write_tsv(path: str, marked: Sequence[str]) -> str:
    """Full-sentence TSV ``text<TAB>readings`` (``-`` for unlabelled Han characters)."""
    with open(path, "w", encoding="utf-8") as handle:
        for line in marked:
            text, labels = parse_marked(line)
            cols = [labels.get(i, "-") for i, ch in enumerate(text) if is_han(ch)]
            handle.write(f"{text}\t{' '.join(cols)}\n")
    return path


def write_cpp(sent_path: str, marked: Sequence[str]) -> str:
    """CPP-style ``X.sent`` + ``X.lb``: one line per labelled character, wrapped in U+2581."""
    sents, lbs = [], []
    for line in marked:
        text, labels = parse_marked(line)
        for offset, reading in sorted(labels.items()):
            sents.append(text[:offset] + "\u2581" + text[offset] + "\u2581" + text[offset + 1:])
            lbs.append(reading)
    with open(sent_path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(sents) + "\n")
    with open(os.path.splitext(sent_path)[0] + ".lb", "w", encoding="utf-8") as handle:
        handle.write("\n".join(lbs) + "\n")
    return sent_path


def write_corpus(path: str, lines: Sequence[str] = ()) -> str:
    lines = list(lines) or (CORPUS_EXTRA + plain(TRAIN_MARKED)) * 3
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def all_text() -> List[str]:
    return CORPUS_EXTRA + plain(TRAIN_MARKED) + plain(DEV_MARKED)


def make_base_model(out_dir: str, layers: int = 2, hidden: int = 32, heads: int = 2, seed: int = 0) -> str:
    """A randomly initialised BERT encoder + char-vocab BertTokenizerFast saved like a hub model."""
    import torch
    from transformers import BertModel

    from pinyin_edge.training.presets import EncoderPreset, bert_config
    from pinyin_edge.training.vocab import build_vocab, save_tokenizer

    vocab = build_vocab(all_text(), min_count=1)
    tokenizer = save_tokenizer(vocab, out_dir)
    torch.manual_seed(seed)
    preset = EncoderPreset(layers=layers, hidden=hidden, heads=heads, intermediate=2 * hidden, max_positions=64)
    model = BertModel(bert_config(preset, len(tokenizer)))
    model.save_pretrained(out_dir)
    return out_dir


def make_bigru_model(out_dir: str, hidden: int = 32, embedding: int = 16, layers: int = 2, seed: int = 0) -> str:
    """A randomly initialised character BiGRU (``pinyin-edge-bigru``) + the same char-vocab tokenizer."""
    import torch

    from pinyin_edge.modeling.bigru import BiGRUConfig, BiGRUModel
    from pinyin_edge.training.vocab import build_vocab, save_tokenizer

    vocab = build_vocab(all_text(), min_count=1)
    tokenizer = save_tokenizer(vocab, out_dir)
    torch.manual_seed(seed)
    config = BiGRUConfig(vocab_size=len(tokenizer), embedding_size=embedding, hidden_size=hidden,
                         num_hidden_layers=layers, pad_token_id=tokenizer.pad_token_id)
    BiGRUModel(config).save_pretrained(out_dir)
    return out_dir


def finetune_config(base: str, data: Dict[str, str], out: str, **overrides):
    """A FinetuneConfig small enough to run in a second or two on a loaded 2-core CPU."""
    from pinyin_edge.training.finetune import FinetuneConfig

    settings = dict(base_model=base, train=[data["train_tsv"]], dev=[data["dev_tsv"]], out=out,
                    batch_size=8, lr=5e-3, encoder_lr_scale=1.0, max_steps=40, eval_every=10,
                    max_length=32, patience=100, device="cpu", seed=0, warmup_ratio=0.1)
    settings.update(overrides)
    return FinetuneConfig(**settings)


def read_jsonl(path: str) -> List[dict]:
    import json

    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_json(path: str):
    import json

    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_file(path: str, data) -> None:
    """Write bytes or text to ``path``."""
    with open(path, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def quiet(*_args, **_kwargs) -> None:
    """A ``log=`` callback that drops messages."""
