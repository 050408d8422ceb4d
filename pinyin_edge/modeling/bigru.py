"""A character BiGRU encoder that the Auto classes load like any BERT-family model.

Registered with transformers as ``pinyin-edge-bigru``, so ``AutoModel.from_pretrained(DIR)`` and
``AutoTokenizer.from_pretrained(DIR)`` (a BERT character tokenizer) load it, and fine-tuning, export
and evaluation treat it as one more base model. Its first use is Baidu LAC's encoder
(``lac_import.py``): a segmentation/POS/NER-trained network, a better start than our short MLM run.

Padding never leaks into a sequence: the backward direction runs a forward GRU over each sequence
reversed *within its length* (a gather), so right padding only follows the real characters and the
result does not depend on how sequences were batched. Gathers export to ONNX; packed sequences do not.
In an ONNX export each layer becomes one bidirectional ``GRU`` op with ``sequence_lens`` instead
(:class:`_OnnxBiGRU`), which reverses within each length itself and runs without the gather glue.
"""
from __future__ import annotations

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput

MODEL_TYPE = "pinyin-edge-bigru"


class BiGRUConfig(PretrainedConfig):
    model_type = MODEL_TYPE

    def __init__(self, vocab_size: int = 8000, embedding_size: int = 128, hidden_size: int = 256,
                 num_hidden_layers: int = 2, hidden_dropout_prob: float = 0.1, pad_token_id: int = 0,
                 **kwargs):
        # hidden_size is the output width (both directions), as for BERT; each GRU has half of it.
        if hidden_size % 2:
            raise ValueError(f"hidden_size must be even (two directions), got {hidden_size}")
        super().__init__(pad_token_id=pad_token_id, **kwargs)
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.hidden_dropout_prob = hidden_dropout_prob


def reverse_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """[B, T] positions that reverse each row's first ``length`` items and keep the padding in place."""
    steps = torch.arange(attention_mask.shape[1], device=attention_mask.device).unsqueeze(0)
    lengths = attention_mask.long().sum(dim=1, keepdim=True)
    return torch.where(steps < lengths, lengths - 1 - steps, steps)


def _gather_time(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def _onnx_gates(weight: torch.Tensor) -> torch.Tensor:
    """torch stacks a GRU's gates r, z, n; ONNX stacks z, r, h (lac_import._torch_gates inverts this)."""
    r, z, n = weight.chunk(3, dim=0)
    return torch.cat([z, r, n], dim=0)


class _OnnxBiGRU(torch.autograd.Function):
    """A BiGRULayer as one ONNX ``GRU(direction="bidirectional", sequence_lens=lengths)``.

    ``forward`` passes the torch layer's output through, so tracing gets its shape and values;
    ``symbolic`` exports the GRU op in its place, and the traced torch ops, now unused, are dropped.
    (Running nn.GRU inside ``forward`` instead breaks the tracer.) Both agree on every real position;
    at padding ONNX outputs zeros, which no later step reads before a real one (the next layer's
    forward direction reaches them only after its real steps).
    """

    @staticmethod
    def forward(ctx, torch_output, x, lengths, w, r, b, units):
        return torch_output

    @staticmethod
    def symbolic(g, torch_output, x, lengths, w, r, b, units):
        y, _ = g.op("GRU", g.op("Transpose", x, perm_i=[1, 0, 2]), w, r, b, lengths,
                    direction_s="bidirectional", hidden_size_i=units,
                    linear_before_reset_i=1, outputs=2)  # torch applies r after the hidden matmul
        # Y is [T, 2 directions, B, H] -> [B, T, 2H], forward half first as in the torch layer.
        y = g.op("Transpose", y, perm_i=[2, 0, 1, 3])
        return g.op("Reshape", y, g.op("Constant", value_t=torch.tensor([0, 0, -1])))


class BiGRULayer(nn.Module):
    def __init__(self, input_size: int, units: int):
        super().__init__()
        self.forward_gru = nn.GRU(input_size, units, batch_first=True)
        self.backward_gru = nn.GRU(input_size, units, batch_first=True)

    def forward(self, x: torch.Tensor, reverse: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        forward, _ = self.forward_gru(x)
        backward, _ = self.backward_gru(_gather_time(x, reverse))
        output = torch.cat([forward, _gather_time(backward, reverse)], dim=-1)
        if torch.onnx.is_in_onnx_export():
            return _OnnxBiGRU.apply(output, x, lengths, *self.onnx_weights(), self.forward_gru.hidden_size)
        return output

    def onnx_weights(self) -> tuple:
        """W [2, 3H, I], R [2, 3H, H], B [2, 6H]: computed from parameters only, so the exporter's
        constant folding stores them as initializers."""
        grus = (self.forward_gru, self.backward_gru)
        w = torch.stack([_onnx_gates(gru.weight_ih_l0) for gru in grus])
        r = torch.stack([_onnx_gates(gru.weight_hh_l0) for gru in grus])
        b = torch.stack([torch.cat([_onnx_gates(gru.bias_ih_l0), _onnx_gates(gru.bias_hh_l0)])
                         for gru in grus])  # Wb then Rb
        return w, r, b


class BiGRUStack(nn.Module):
    """``.layer`` like BERT's encoder, so partial fine-tuning (--train-last-layers) finds the layers."""

    def __init__(self, config: BiGRUConfig):
        super().__init__()
        units = config.hidden_size // 2
        sizes = [config.embedding_size] + [config.hidden_size] * (config.num_hidden_layers - 1)
        self.layer = nn.ModuleList(BiGRULayer(size, units) for size in sizes)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        reverse = reverse_index(attention_mask)
        lengths = attention_mask.sum(dim=1).to(torch.int32)  # ONNX GRU's sequence_lens
        for k, layer in enumerate(self.layer):
            x = layer(self.dropout(x) if k else x, reverse, lengths)
        return x


class BiGRUModel(PreTrainedModel):
    config_class = BiGRUConfig
    base_model_prefix = "bigru"

    def __init__(self, config: BiGRUConfig, add_pooling_layer: bool = False):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.embedding_size,
                                       padding_idx=config.pad_token_id)
        self.encoder = BiGRUStack(config)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.1)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.GRU):
            module.reset_parameters()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings = value

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor = None, **_) -> BaseModelOutput:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.encoder(self.embeddings(input_ids), attention_mask)
        return BaseModelOutput(last_hidden_state=hidden)


def register() -> None:
    """Make the Auto classes know this model type (idempotent)."""
    try:
        AutoConfig.register(MODEL_TYPE, BiGRUConfig)
    except ValueError:
        pass  # already registered
    try:
        AutoModel.register(BiGRUConfig, BiGRUModel)
    except ValueError:
        pass


register()
