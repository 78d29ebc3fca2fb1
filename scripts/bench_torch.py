"""Training speed and memory of GPT2LMHeadModel on PyTorch CPU, for `npm run bench`.

Usage: bench_torch.py SPEC.json OUT.json

SPEC: {"configs": [{"name", "config": <a GPT-2 config.json>, "batch", "sequence", "recompute",
                    "methods": [{"id", "peft": <"lora" | "prompt" | "prefix" | "p-tuning" | "bitfit" | "full">,
                                 "kwargs": {...}}]}],
       "warmup": int, "steps": int}
OUT: {"torch", "transformers", "peft", "threads", "rows": [one per config × method]}

Each run: GPT2LMHeadModel(GPT2Config(**config)) randomly initialised (speed does not depend on
the values), the method applied with peft.get_peft_model (BitFit: only the biases require a
gradient; full fine-tuning: every weight), AdamW over the trainable parameters, one fixed batch
of `batch` × `sequence` token ids with labels = ids. Each step is forward, backward, AdamW step,
zero_grad; `warmup` steps are run untimed, then `steps` steps are timed one by one. With
"recompute", every block is checkpointed (transformers' gradient_checkpointing_enable, the
non-reentrant torch.utils.checkpoint): its activations are recomputed in the backward pass.

Memory counts what training holds at its peak, the moment the backward pass begins:
  parameters (every tensor of model.parameters(), frozen or not)
  + gradients (one per trainable parameter, as backward allocates them)
  + AdamW state (exp_avg and exp_avg_sq of each trainable parameter, measured from the optimizer
    after the warm-up)
  + activations: the bytes of every distinct tensor storage autograd saves for backward during
    one forward pass (torch.autograd.graph.saved_tensors_hooks), less storages that are
    parameters (already counted).
The loss, the logits' temporary copies and allocator overhead are not counted.
"""
import json
import statistics
import sys
import time

import peft
import torch
import transformers
from peft import LoraConfig, PrefixTuningConfig, PromptEncoderConfig, PromptTuningConfig, TaskType, get_peft_model
from transformers import GPT2Config, GPT2LMHeadModel


def build(method, config, recompute=False):
    model = GPT2LMHeadModel(GPT2Config(**config))
    if recompute:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    kind, kwargs = method["peft"], method.get("kwargs", {})
    if kind == "full":
        return model
    if kind == "bitfit":
        for name, p in model.named_parameters():
            p.requires_grad_(name.endswith(".bias"))
        return model
    cls = {"lora": LoraConfig, "prompt": PromptTuningConfig, "prefix": PrefixTuningConfig, "p-tuning": PromptEncoderConfig}[kind]
    if kind == "lora":
        # GPT-2's Conv1D stores weights transposed.
        kwargs = {**kwargs, "fan_in_fan_out": True}
    return get_peft_model(model, cls(task_type=TaskType.CAUSAL_LM, **kwargs))


def tensor_bytes(t):
    return t.numel() * t.element_size()


def saved_activation_bytes(model, ids, param_ptrs):
    """Bytes of the distinct storages autograd saves during one forward pass, parameters excluded."""
    seen = {}

    def pack(t):
        try:
            storage = t.untyped_storage()
            ptr = storage.data_ptr()
            if ptr not in param_ptrs:
                seen[ptr] = max(seen.get(ptr, 0), storage.nbytes())
        except (RuntimeError, NotImplementedError):
            pass
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = model(input_ids=ids, labels=ids).loss
    del loss
    return sum(seen.values())


def run(method, cfg, warmup, steps):
    torch.manual_seed(0)
    model = build(method, cfg["config"], cfg.get("recompute", False))
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4)
    vocab = cfg["config"]["vocab_size"]
    ids = torch.arange(cfg["batch"] * cfg["sequence"]).reshape(cfg["batch"], cfg["sequence"]).mul(7919).remainder(vocab - 1)

    def step():
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)

    params = list(model.parameters())
    param_bytes = sum(tensor_bytes(p) for p in params)
    grad_bytes = sum(tensor_bytes(p) for p in trainable)
    optimizer_bytes = sum(tensor_bytes(v) for s in opt.state.values() for v in s.values() if torch.is_tensor(v) and v.dim() > 0)
    param_ptrs = {p.untyped_storage().data_ptr() for p in params}
    activation_bytes = saved_activation_bytes(model, ids, param_ptrs)
    return {
        "method": method["id"],
        "config": cfg["name"],
        "stepMs": times,
        "trainable": sum(p.numel() for p in trainable),
        "memory": {
            "paramBytes": param_bytes,
            "gradientBytes": grad_bytes,
            "optimizerBytes": optimizer_bytes,
            "activationBytes": activation_bytes,
            "peakBytes": param_bytes + grad_bytes + optimizer_bytes + activation_bytes,
        },
    }


def main():
    spec = json.load(open(sys.argv[1]))
    rows = []
    for cfg in spec["configs"]:
        for method in cfg["methods"]:
            row = run(method, cfg, spec["warmup"], spec["steps"])
            print(f"pytorch {cfg['name']} {method['id']}: median {statistics.median(row['stepMs']):.1f} ms/step", file=sys.stderr, flush=True)
            rows.append(row)
    out = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__, "threads": torch.get_num_threads(), "rows": rows}
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
