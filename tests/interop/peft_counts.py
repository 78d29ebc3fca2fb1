#!/usr/bin/env python3
"""Trainable-parameter counts as PEFT computes them, for the studio's `plan` to match.

Usage: peft_counts.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "configs": [{"name": str, "kwargs": {...}} | {"name": str, "adapter_dir": str}]}
Each config is either LoraConfig(**kwargs) or LoraConfig.from_pretrained(adapter_dir) (the studio's
exported adapter_config.json, switched to training mode). For each, on a fresh GPT2LMHeadModel of
MODEL_DIR, get_peft_model reports: get_nb_trainable_parameters(), the line
print_trainable_parameters() prints, the trainable tensors (name, shape), the target modules
PEFT resolved, and the warnings it raised.
"""
import sys

from _common import captured, read_json, setup, trainable_counts, write_json


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    setup()
    from peft import LoraConfig, get_peft_model
    from transformers import GPT2LMHeadModel

    out = {}
    for entry in spec["configs"]:
        warnings_seen = []
        with captured(warnings_seen):
            if "adapter_dir" in entry:
                config = LoraConfig.from_pretrained(entry["adapter_dir"])
                config.inference_mode = False
            else:
                config = LoraConfig(**entry["kwargs"])
            base = GPT2LMHeadModel.from_pretrained(spec["model_dir"])
            model = get_peft_model(base, config)
        resolved = model.peft_config["default"]
        out[entry["name"]] = {
            **trainable_counts(model),
            "r": resolved.r,
            "lora_alpha": resolved.lora_alpha,
            "target_modules": resolved.target_modules if isinstance(resolved.target_modules, str) else sorted(resolved.target_modules),
            "fan_in_fan_out": resolved.fan_in_fan_out,
            "warnings": warnings_seen,
        }
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
