#!/usr/bin/env python3
"""Studio Houlsby export (AdapterHub layout) → PyTorch: a small Houlsby block written here, in
AdapterHub's module layout, loads the exported adapter.safetensors by state-dict name onto the
real transformers GPT2LMHeadModel (or LlamaForCausalLM, Qwen2ForCausalLM) and runs it through
forward hooks.

AdapterHub's `adapters` package cannot be installed on this machine, so this script rebuilds
the pieces of it the file depends on, from its source (adapter-hub/adapters):
  - models/gpt2/mixin_gpt2.py: every GPT2Block gets `attention_adapters` and `output_adapters`,
    BottleneckLayer modules that keep their adapters in a ModuleDict named `adapters`;
  - methods/modeling.py Adapter: adapter_down = Sequential(Linear(d, m), activation),
    adapter_up = Linear(m, d), forward x + adapter_up(adapter_down(x)) * scaling for
    double_seq_bn (residual_before_ln, original_ln_before false);
  - methods/bottleneck.py: m = int(hidden_size // reduction_factor), at least 1;
  - the activation is transformers' get_activation(non_linearity.lower()), as
    Activation_Function_Class resolves it;
  - models/gpt2/modeling_gpt2.py GPT2BlockWithAdapters: the adapters act on the output of
    `self.attn` and `self.mlp`, before the residual add — here forward hooks on those modules;
  - models/llama/mixin_llama.py and modeling_llama.py LlamaDecoderLayerWithAdapters (Qwen2's
    the same): `attention_adapters` / `output_adapters` on each decoder layer, called on the
    output of `self_attn` and of `mlp` with the residual and no layer norm — the same sum, here
    forward hooks on `self_attn` and `mlp`.
Everything else (the model, the activations, safetensors, load_state_dict) is the real library.

Usage: houlsby_check.py SPEC.json OUT.json
SPEC.json: {"model_dir": str, "ids": [[int]], "work": str,
            "adapters": [{"name": str, "zip": str, "control_post_residual": bool, "model_dir": str (optional)}],
            "broken": [{"name": str, "dir": str}]}
An adapter's own model_dir, when given, is its base model instead of the spec's (loaded in float32).
For each adapter: the zip is extracted as AdapterHub extracts a downloaded zip; the folder it
holds is read. OUT.json gets per adapter: folder listing, config (as json.load gives it) and the
Python type name of every config value, the bottleneck size AdapterHub's formula gives, the
load_state_dict result, per-key landing, logits (and base logits), and, when asked, the logits
with the output adapter moved after the residual add (a placement the studio must not match).
"""
import json
import os
import sys
import zipfile

from _common import captured, logits_of, read_json, setup, versions, write_json


def build(torch, d, m, act_name):
    from torch import nn
    from transformers.activations import get_activation

    class Adapter(nn.Module):
        def __init__(self):
            super().__init__()
            self.adapter_down = nn.Sequential(nn.Linear(d, m), get_activation(act_name.lower()))
            self.adapter_up = nn.Linear(m, d)

        def forward(self, x):
            # double_seq_bn: scaling 1.0, dropout off in eval, residual = the adapter's input.
            return x + self.adapter_up(self.adapter_down(x)) * 1.0

    class BottleneckLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.adapters = nn.ModuleDict()

    return Adapter, BottleneckLayer


def sublayers(model):
    """Each block with its attention and feed-forward modules, whose outputs the adapters take."""
    if model.config.model_type == "gpt2":
        return [(block, block.attn, block.mlp) for block in model.transformer.h]
    return [(layer, layer.self_attn, layer.mlp) for layer in model.model.layers]


def check(torch, model_dir, ids, work, spec):
    out = {}
    extract = os.path.join(work, f"{spec['name']}-extracted")
    with zipfile.ZipFile(spec["zip"]) as z:
        out["zip_names"] = sorted(z.namelist())
        z.extractall(extract)
    tops = sorted(os.listdir(extract))
    out["zip_top"] = tops
    folder = os.path.join(extract, tops[0])
    out["folder_files"] = sorted(os.listdir(folder))
    return out | run_folder(torch, model_dir, ids, folder, spec.get("control_post_residual", False))


def run_folder(torch, model_dir, ids, folder, control_post_residual=False):
    from safetensors import safe_open
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    with open(os.path.join(folder, "adapter_config.json"), encoding="utf-8") as f:
        full = json.load(f)
    cfg = full["config"]
    name = full["name"]
    d = full["hidden_size"]
    m = max(1, int(d // cfg["reduction_factor"]))

    warnings_seen = []
    with captured(warnings_seen):
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    base_logits = logits_of(model, ids)
    base_keys = set(model.state_dict().keys())

    Adapter, BottleneckLayer = build(torch, d, m, cfg["non_linearity"])
    for block, _, _ in sublayers(model):
        block.attention_adapters = BottleneckLayer()
        block.output_adapters = BottleneckLayer()
        if cfg["mh_adapter"]:
            block.attention_adapters.adapters[name] = Adapter()
        if cfg["output_adapter"]:
            block.output_adapters.adapters[name] = Adapter()
    adapter_keys = set(model.state_dict().keys()) - base_keys

    weights_path = os.path.join(folder, "adapter.safetensors")
    state = load_file(weights_path)
    with safe_open(weights_path, framework="pt") as f:
        metadata = f.metadata()
    result = model.load_state_dict(state, strict=False)
    params = dict(model.named_parameters())
    landed = {
        k: {
            "found": k in params,
            "shape": list(v.shape),
            "max_abs_diff": float((params[k].detach() - v).abs().max()) if k in params and params[k].shape == v.shape else None,
        }
        for k, v in state.items()
    }

    handles = []
    for block, attn, mlp in sublayers(model):
        if cfg["mh_adapter"]:
            a = block.attention_adapters.adapters[name]
            handles.append(attn.register_forward_hook(lambda mod, inp, o, a=a: (a(o[0]),) + tuple(o[1:])))
        if cfg["output_adapter"]:
            a = block.output_adapters.adapters[name]
            handles.append(mlp.register_forward_hook(lambda mod, inp, o, a=a: a(o)))
    logits = logits_of(model, ids)

    post_residual = None
    if control_post_residual and cfg["output_adapter"]:
        # The same output adapter, on the block's output (after the residual add) instead.
        for h in handles:
            h.remove()
        for block, attn, _ in sublayers(model):
            if cfg["mh_adapter"]:
                a = block.attention_adapters.adapters[name]
                attn.register_forward_hook(lambda mod, inp, o, a=a: (a(o[0]),) + tuple(o[1:]))
            a = block.output_adapters.adapters[name]
            block.register_forward_hook(lambda mod, inp, o, a=a: a(o))
        post_residual = logits_of(model, ids)

    return {
        "adapter_config": full,
        "config_types": {k: type(v).__name__ for k, v in cfg.items()},
        "top_types": {k: type(v).__name__ for k, v in full.items()},
        "bottleneck": m,
        "metadata": metadata,
        "file_keys": sorted(state.keys()),
        "module_keys": sorted(adapter_keys),
        "missing_keys": sorted(result.missing_keys),
        "unexpected_keys": sorted(result.unexpected_keys),
        "base_keys": sorted(base_keys),
        "landed": landed,
        "logits": logits,
        "base_logits": base_logits,
        "post_residual_logits": post_residual,
        "warnings": warnings_seen,
    }


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    torch, _ = setup()
    out = {"versions": versions(), "adapters": {}, "broken": {}}
    for a in spec["adapters"]:
        out["adapters"][a["name"]] = check(torch, a.get("model_dir", spec["model_dir"]), spec["ids"], spec["work"], a)
    for b in spec.get("broken", []):
        out["broken"][b["name"]] = run_folder(torch, spec["model_dir"], spec["ids"], b["dir"])
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
