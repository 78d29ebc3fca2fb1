"""Shared helpers for the interop scripts: quiet, offline, deterministic Hugging Face stack, and
capture of every warning and log record so the Node side can fail on them.

Only plumbing lives here. Everything that is checked goes through the real libraries
(torch, transformers, peft, safetensors); nothing of theirs is re-implemented.
"""
import contextlib
import io
import json
import logging
import os
import re
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


def jsonable(value):
    """`value` with sets as sorted lists, tuples as lists, keys as strings and anything else
    json cannot write (enums, classes) as its str(): a PEFT config's to_dict() made writable."""
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def trainable_counts(model):
    """What PEFT says a PeftModel trains: get_nb_trainable_parameters(), the line
    print_trainable_parameters() prints, and the trainable tensors (name, shape) in order."""
    trainable, total = model.get_nb_trainable_parameters()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        model.print_trainable_parameters()
    return {
        "trainable": trainable,
        "all": total,
        "printed": printed.getvalue().strip(),
        "tensors": [[n, list(p.shape)] for n, p in model.named_parameters() if p.requires_grad],
    }


def load_adapter_folder(model_dir, adapter_dir):
    """PeftModel.from_pretrained(AutoModelForCausalLM of model_dir, adapter_dir) in eval mode, and every
    warning raised while loading; also the file's tensors and its safetensors header metadata."""
    import torch
    from peft import PeftModel
    from safetensors import safe_open
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    load_warnings = []
    with captured(load_warnings):
        # float32 as the studio computes, also for a checkpoint saved in bfloat16 (which
        # transformers would otherwise run in its saved dtype).
        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32), adapter_dir)
        model.eval()
    weights_path = os.path.join(adapter_dir, "adapter_model.safetensors")
    file_tensors = load_file(weights_path)
    with safe_open(weights_path, framework="pt") as f:
        metadata = f.metadata()
    return model, load_warnings, file_tensors, metadata


def train_adamw(model, train_ids, steps, lr):
    """`steps` AdamW steps of causal-LM loss (labels = the input ids) on the model's trainable
    parameters; the losses. No step, no change of mode."""
    import torch

    losses = []
    if not steps:
        return losses
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(steps):
        loss = model(input_ids=train_ids, labels=train_ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.detach().item())
    return losses


def adapted_and_base_logits(model, ids):
    """Eval-mode logits on `ids` with the PeftModel's adapter and with it disabled."""
    logits = logits_of(model, ids)
    with model.disable_adapter():
        base_logits = logits_of(model, ids)
    return logits, base_logits


def make_peft_variant(model_dir, ids, train_ids, variant, make_config, lr):
    """PEFT makes an adapter for the studio to import: get_peft_model(GPT2LMHeadModel of model_dir,
    make_config()) seeded with variant["seed"], variant["steps"] AdamW steps at `lr` on train_ids, eval-mode
    logits on `ids` with and without the adapter, then save_pretrained(variant["out_dir"]) in eval
    mode (PEFT saves what the prompt encoder outputs in the current mode). Returns the model and its
    report {logits, base_logits, losses, warnings, files}; `warnings` is the list every warning of
    these steps went to, building the config included."""
    import torch
    from peft import get_peft_model
    from transformers import GPT2LMHeadModel

    torch.manual_seed(variant["seed"])
    warnings_seen = []
    with captured(warnings_seen):
        model = get_peft_model(GPT2LMHeadModel.from_pretrained(model_dir), make_config())
        losses = train_adamw(model, torch.tensor(train_ids, dtype=torch.long), variant["steps"], lr)
        model.eval()
        logits, base_logits = adapted_and_base_logits(model, ids)
        model.save_pretrained(variant["out_dir"])
    return model, {
        "logits": logits,
        "base_logits": base_logits,
        "losses": losses,
        "warnings": warnings_seen,
        "files": sorted(os.listdir(variant["out_dir"])),
    }


def randomise_weights(model, torch, seed):
    """Every parameter redrawn at a scale that makes attention and the feed-forward layers
    matter (transformers' own init, std 0.02, leaves logits nearly uniform): normalisation
    scales around 1, biases ±0.3, embeddings of unit scale, and linear weights scaled by
    1/sqrt(fan_in) so activations stay of order one. Seeded: the same seed, the same model."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if "norm" in name.lower() and name.endswith(".weight"):
                p.copy_(1 + 0.2 * noise)
            elif name.endswith("bias"):
                p.copy_(0.3 * noise)
            elif "embed" in name:
                p.copy_(noise)
            else:
                p.copy_(1.5 * noise / p.shape[1] ** 0.5)


LORA_KEY = re.compile(r"^(?P<module>.+)\.(?P<part>lora_[AB])\.weight$")


def lora_landed(model, file_tensors):
    """Where PEFT put each tensor of a LoRA file: per file key, the in-memory parameter it
    loads into (`<module>.lora_A.default.weight` naming), whether that parameter exists, both
    shapes, max |file − parameter| and whether the file's tensor is non-zero."""
    params = dict(model.named_parameters())
    landed = {}
    for key, value in file_tensors.items():
        m = LORA_KEY.match(key)
        target = f"{m['module']}.{m['part']}.default.weight" if m else None
        param = params.get(target) if target else None
        landed[key] = {
            "parameter": target,
            "found": param is not None,
            "shape_file": list(value.shape),
            "shape_param": list(param.shape) if param is not None else None,
            "max_abs_diff": (
                float((param.detach() - value).abs().max())
                if param is not None and param.shape == value.shape and value.numel() > 0
                else None
            ),
            "nonzero": bool(value.abs().sum() > 0),
        }
    return landed


def lora_modules(model, file_tensors):
    """Every module of a PeftModel that holds a "default" LoRA adapter: its r, scaling,
    fan_in_fan_out, and whether the file has both its lora_A and lora_B tensors."""
    from peft.tuners.lora import LoraLayer

    modules = {}
    for name, module in model.named_modules():
        if isinstance(module, LoraLayer) and "default" in module.lora_A:
            modules[name] = {
                "r": module.r["default"],
                "scaling": float(module.scaling["default"]),
                "fan_in_fan_out": bool(getattr(module, "fan_in_fan_out", False)),
                "in_file": all(f"{name}.{p}.weight" in file_tensors for p in ("lora_A", "lora_B")),
            }
    return modules
