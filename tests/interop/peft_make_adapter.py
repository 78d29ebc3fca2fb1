#!/usr/bin/env python3
"""PEFT → studio: make LoRA adapters with PEFT itself, for the studio to import.

Usage: peft_make_adapter.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "ids": [[int]], "train_ids": [[int]],
            "variants": [{"name": str, "seed": int, "config": {LoraConfig kwargs}, "steps": int, "out_dir": str}]}
For each variant: get_peft_model(GPT2LMHeadModel.from_pretrained(model_dir), LoraConfig(**config));
`steps` AdamW steps (lr 1e-2) of causal-LM loss on train_ids; then save_pretrained(out_dir) and
record eval-mode logits on `ids` with the adapter and with it disabled. OUT.json maps each name
to {logits, base_logits, losses, trainable, scalings (LoRA module → scaling), warnings, files}.
"""
import sys
from functools import partial

from _common import make_peft_variant, read_json, setup, versions, write_json


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    setup()
    from peft import LoraConfig
    from peft.tuners.lora import LoraLayer

    out = {"versions": versions(), "variants": {}}
    for v in spec["variants"]:
        model, report = make_peft_variant(spec["model_dir"], spec["ids"], spec["train_ids"], v, partial(LoraConfig, **v["config"]), lr=1e-2)
        out["variants"][v["name"]] = {
            **report,
            "trainable": model.get_nb_trainable_parameters()[0],
            "scalings": {
                name: float(m.scaling["default"])
                for name, m in model.named_modules()
                if isinstance(m, LoraLayer) and "default" in m.lora_A
            },
        }
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
