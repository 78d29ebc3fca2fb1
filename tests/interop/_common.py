"""Shared helpers for the interop scripts: quiet, offline, deterministic Hugging Face stack, and
capture of every warning and log record so the Node side can fail on them.

Only plumbing lives here. Everything that is checked goes through the real libraries
(torch, transformers, peft, safetensors); nothing of theirs is re-implemented.
"""
import contextlib
import json
import logging
import os
import sys
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def setup():
    """Import torch/transformers quietly and make runs reproducible; returns (torch, transformers)."""
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    return torch, transformers


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f)


def versions():
    import peft
    import safetensors
    import tokenizers
    import torch
    import transformers

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "safetensors": safetensors.__version__,
        "tokenizers": tokenizers.__version__,
    }


class _ListHandler(logging.Handler):
    def __init__(self, sink):
        super().__init__(level=logging.WARNING)
        self.sink = sink

    def emit(self, record):
        self.sink.append(f"{record.name} {record.levelname}: {record.getMessage()}")


@contextlib.contextmanager
def captured(sink):
    """Appends every Python warning and every WARNING+ log record of transformers, peft, torch
    and huggingface_hub raised inside the block to `sink` (a list of strings)."""
    handler = _ListHandler(sink)
    loggers = [logging.getLogger(n) for n in ("transformers", "peft", "torch", "huggingface_hub", "safetensors")]
    saved = [(lg, lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.WARNING)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield sink
        finally:
            for w in caught:
                sink.append(f"{w.category.__name__}: {w.message}")
            for lg, level, _ in saved:
                lg.removeHandler(handler)
                lg.setLevel(level)


def logits_of(model, ids):
    """Eval-mode logits for a list of equal-length id rows, as nested lists."""
    import torch

    model.eval()
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ids, dtype=torch.long)).logits
    return out.float().tolist()
