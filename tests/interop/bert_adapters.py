#!/usr/bin/env python3
"""BERT-family masked LMs (BERT, RoBERTa, DistilBERT): every kind of studio export, run by the
Python stack.

Usage: bert_adapters.py SPEC.json OUT.json

SPEC.json: {"models": [{"name": str, "model_dir": str, "ids": [[int]], "mask": [[0|1]],
            "peft": [{"name": str, "dir": str}], "bitfit": {"dir": str} | null,
            "houlsby": {"dir": str} | null}]}
(the model folders are made by bert_lora.py make). Every model is AutoModelForMaskedLM of its
folder, in eval mode; logits are on `ids` under the attention `mask`.

peft: each folder is loaded with PeftModel.from_pretrained(model, dir); reported are the
wrapper class, every warning, the parsed config, the logits with the adapter (PEFT puts the
virtual tokens or the prefixes in front and extends the mask) and those of the base model. For
LoRA also where each tensor of the file landed and which modules hold a LoRA adapter.

bitfit: the folder's bitfit_model.safetensors loaded onto the base model with
load_state_dict(strict=False); reported are the missing and unexpected keys, the model's
state-dict keys and bias parameters, per-key landing, the logits and every warning.

houlsby: AdapterHub's `adapters` package is not installable here, so, as houlsby_check.py does
for GPT-2, the pieces of it the file depends on are rebuilt from its source (adapter-hub/adapters).
BERT and RoBERTa (models/bert/mixin_bert.py; RoBERTa reuses it): BertSelfOutput and BertOutput
are BottleneckLayers themselves, each keeping its adapters in a ModuleDict `adapters`;
models/bert/modeling_bert.py runs dense → dropout → bottleneck_layer_forward(h, input_tensor,
LayerNorm), which for double_seq_bn (original_ln_before false, residual_before_ln true,
original_ln_after true) is LayerNorm(h + up(act(down(h))) + input_tensor): here a forward hook
on each output module's `dense` replaces h by h + up(act(down(h))). DistilBERT
(models/distilbert/mixin_distilbert.py, modeling_distilbert.py): each TransformerBlock gets
`attention_adapters` and `output_adapters`, called as attention_adapters(sa_output, x,
sa_layer_norm) and output_adapters(ffn_output, sa_output, output_layer_norm): the same sum, on
the attention module's and the ffn's outputs, here forward hooks on `attention` and `ffn`. The
folder's adapter.safetensors is loaded by state-dict name (load_state_dict, strict=False) onto
the real model with those modules added; reported are the keys that did not land and the logits.
"""
import json
import os
import sys

from _common import captured, jsonable, lora_landed, lora_modules, read_json, setup, versions, write_json


def masked_lm(model_dir):
    import torch
    from transformers import AutoModelForMaskedLM

    model = AutoModelForMaskedLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    return model


def logits_under_mask(model, torch, ids, mask):
    model.eval()
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits.float().tolist()


def peft_report(model_dir, torch, ids, mask, entry):
    from peft import PeftModel
    from safetensors.torch import load_file

    warnings_seen = []
    with captured(warnings_seen):
        model = PeftModel.from_pretrained(masked_lm(model_dir), entry["dir"])
        adapted = logits_under_mask(model, torch, ids, mask)
    # PEFT 0.21's disable_adapter() fails for prompt learning on a model without
    # prepare_inputs_for_generation (a masked LM): the base model is loaded on its own.
    base = logits_under_mask(masked_lm(model_dir), torch, ids, mask)
    config = model.peft_config["default"]
    report = {
        "peft_class": type(model).__name__,
        "warnings": warnings_seen,
        "peft_config": jsonable(config.to_dict()),
        "logits": adapted,
        "base_logits": base,
    }
    if config.peft_type == "LORA":
        file_tensors = load_file(os.path.join(entry["dir"], "adapter_model.safetensors"))
        report["file_keys"] = sorted(file_tensors)
        report["landed"] = lora_landed(model, file_tensors)
        report["lora_modules"] = lora_modules(model, file_tensors)
    return report


def bitfit_report(model_dir, torch, ids, mask, folder):
    from safetensors.torch import load_file

    state = load_file(os.path.join(folder, "bitfit_model.safetensors"))
    warnings_seen = []
    with captured(warnings_seen):
        model = masked_lm(model_dir)
        result = model.load_state_dict(state, strict=False)
    params = dict(model.named_parameters())
    return {
        "file_keys": sorted(state),
        "state_keys": sorted(model.state_dict()),
        "bias_params": sorted(n for n in params if n.endswith(".bias")),
        "missing_keys": sorted(result.missing_keys),
        "unexpected_keys": sorted(result.unexpected_keys),
        "landed": {
            k: float((params[k].detach() - v).abs().max()) if k in params and params[k].shape == v.shape else None
            for k, v in state.items()
        },
        "logits": logits_under_mask(model, torch, ids, mask),
        "warnings": warnings_seen,
    }


def adapter_sites(model, attn, mlp):
    """Where AdapterHub puts the adapter layers of each block, for the sublayers asked for:
    (the module that owns the `adapters` ModuleDict, the module whose output the adapter takes)."""
    sites = []
    if model.config.model_type == "distilbert":
        for block in model.distilbert.transformer.layer:
            if attn:
                sites.append(("attention_adapters", block, block.attention))
            if mlp:
                sites.append(("output_adapters", block, block.ffn))
    else:
        for layer in model.base_model.encoder.layer:
            if attn:
                sites.append((None, layer.attention.output, layer.attention.output.dense))
            if mlp:
                sites.append((None, layer.output, layer.output.dense))
    return sites


def houlsby_report(model_dir, torch, ids, mask, folder):
    from safetensors.torch import load_file
    from torch import nn
    from transformers.activations import get_activation

    with open(os.path.join(folder, "adapter_config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    name = cfg["name"]
    c = cfg["config"]
    d = cfg["hidden_size"]
    m = max(1, int(d // c["reduction_factor"]))

    class Adapter(nn.Module):
        def __init__(self):
            super().__init__()
            self.adapter_down = nn.Sequential(nn.Linear(d, m), get_activation(c["non_linearity"].lower()))
            self.adapter_up = nn.Linear(m, d)

        def forward(self, h):
            return h + self.adapter_up(self.adapter_down(h))

    class BottleneckLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.adapters = nn.ModuleDict()

    def hook(adapter):
        # A module that returns a tuple (DistilBERT's attention) has its hidden states first.
        return lambda _m, _i, out: (adapter(out[0]),) + tuple(out[1:]) if isinstance(out, tuple) else adapter(out)

    warnings_seen = []
    with captured(warnings_seen):
        model = masked_lm(model_dir)
        for attribute, owner, sublayer in adapter_sites(model, c["mh_adapter"], c["output_adapter"]):
            if attribute is not None:
                setattr(owner, attribute, BottleneckLayer())
                owner = getattr(owner, attribute)
            else:
                owner.adapters = nn.ModuleDict()
            owner.adapters[name] = Adapter()
            sublayer.register_forward_hook(hook(owner.adapters[name]))
        result = model.load_state_dict(load_file(os.path.join(folder, "adapter.safetensors")), strict=False)
        adapted = logits_under_mask(model, torch, ids, mask)
    adapter_keys = sorted(k for k, _ in model.state_dict().items() if ".adapters." in k)
    return {
        "warnings": warnings_seen,
        "adapter_keys": adapter_keys,
        "missing_adapter_keys": sorted(k for k in result.missing_keys if ".adapters." in k),
        "unexpected_keys": sorted(result.unexpected_keys),
        "bottleneck": m,
        "logits": adapted,
    }


def model_report(torch, entry):
    ids = torch.tensor(entry["ids"], dtype=torch.long)
    mask = torch.tensor(entry["mask"], dtype=torch.long)
    model_dir = entry["model_dir"]
    return {
        "peft": {p["name"]: peft_report(model_dir, torch, ids, mask, p) for p in entry["peft"]},
        "bitfit": bitfit_report(model_dir, torch, ids, mask, entry["bitfit"]["dir"]) if entry.get("bitfit") else None,
        "houlsby": houlsby_report(model_dir, torch, ids, mask, entry["houlsby"]["dir"]) if entry.get("houlsby") else None,
    }


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    torch, _ = setup()
    spec = read_json(spec_path)
    out = {"versions": versions(), "models": {e["name"]: model_report(torch, e) for e in spec["models"]}}
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
