"""Training (extra ``[train]``): MLM pretraining from zero and polyphone fine-tuning."""
import os

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no per-load weight reports on stderr
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
