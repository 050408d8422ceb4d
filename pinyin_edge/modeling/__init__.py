"""The PyTorch polyphone model and its checkpoint format, shared by training, export and evaluation
(extras ``[train]`` or ``[export]``: torch and transformers)."""
import os

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no per-load weight reports on stderr
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
