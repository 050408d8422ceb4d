"""Training (extra ``[train]``): MLM pretraining from zero and polyphone fine-tuning."""
from .. import modeling  # noqa: F401  (quiets transformers' per-load reports, as for export)
