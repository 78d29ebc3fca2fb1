#!/usr/bin/env python3
"""BERT masked LM: the studio's prompt-learning and Houlsby exports, run by the Python stack.

Usage: bert_adapters.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "ids": [[int]], "mask": [[0|1]],
            "peft": [{"name": str, "dir": str}], "houlsby": {"dir": str} | null}
(the model folder is made by bert_lora.py make).

peft: each folder is loaded with PeftModel.from_pretrained(BertForMaskedLM, dir); reported are
the wrapper class, every warning, the parsed config, and eval-mode logits on `ids` under the
attention `mask` with the adapter (PEFT puts the virtual tokens or the prefixes in front and
extends the mask) and with it disabled.

houlsby: AdapterHub's `adapters` package is not installable here, so, as houlsby_check.py does
for GPT-2, the pieces of it the file depends on are rebuilt from its source (adapter-hub/adapters):
models/bert/mixin_bert.py makes BertSelfOutput and BertOutput BottleneckLayers themselves, each
keeping its adapters in a ModuleDict `adapters`; models/bert/modeling_bert.py runs
dense → dropout → bottleneck_layer_forward(h, input_tensor, LayerNorm), which for double_seq_bn
(original_ln_before false, residual_before_ln true, original_ln_after true) is
LayerNorm(h + up(act(down(h))) + input_tensor): here a forward hook on each output module's
`dense` replaces h by h + up(act(down(h))). The folder's adapter.safetensors is loaded by
state-dict name (load_state_dict, strict=False) onto the real BertForMaskedLM with those
modules added; reported are the keys that did not land and the logits.
"""
import json
import os
import sys

from _common import captured, jsonable, read_json, setup, versions, write_json


def logits_under_mask(model, torch, ids, mask):
    model.eval()
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits.float().tolist()


def peft_report(spec, torch, ids, mask, entry):
    from peft import PeftModel
    from transformers import BertForMaskedLM

    warnings_seen = []
    with captured(warnings_seen):
        model = PeftModel.from_pretrained(BertForMaskedLM.from_pretrained(spec["model_dir"]), entry["dir"])
        adapted = logits_under_mask(model, torch, ids, mask)
    # PEFT 0.21's disable_adapter() fails for prompt learning on a model without
    # prepare_inputs_for_generation (BertForMaskedLM): the base model is loaded on its own.
    base = logits_under_mask(BertForMaskedLM.from_pretrained(spec["model_dir"]), torch, ids, mask)
    return {
        "peft_class": type(model).__name__,
        "warnings": warnings_seen,
        "peft_config": jsonable(model.peft_config["default"].to_dict()),
        "logits": adapted,
        "base_logits": base,
    }


def houlsby_report(spec, torch, ids, mask, folder):
    from safetensors.torch import load_file
    from torch import nn
    from transformers import BertForMaskedLM
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

    warnings_seen = []
    with captured(warnings_seen):
        model = BertForMaskedLM.from_pretrained(spec["model_dir"])
        for layer in model.bert.encoder.layer:
            for owner, wanted in ((layer.attention.output, c["mh_adapter"]), (layer.output, c["output_adapter"])):
                if not wanted:
                    continue
                owner.adapters = nn.ModuleDict({name: Adapter()})
                adapter = owner.adapters[name]
                owner.dense.register_forward_hook(lambda _m, _i, out, a=adapter: a(out))
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


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    torch, _ = setup()
    spec = read_json(spec_path)
    ids = torch.tensor(spec["ids"], dtype=torch.long)
    mask = torch.tensor(spec["mask"], dtype=torch.long)
    out = {"versions": versions(), "peft": {}, "houlsby": None}
    for entry in spec["peft"]:
        out["peft"][entry["name"]] = peft_report(spec, torch, ids, mask, entry)
    if spec.get("houlsby"):
        out["houlsby"] = houlsby_report(spec, torch, ids, mask, spec["houlsby"]["dir"])
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
