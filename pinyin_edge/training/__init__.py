"""Training (extra ``[train]``): MLM pretraining from zero and polyphone fine-tuning."""
import os

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no per-load weight reports on stderr
