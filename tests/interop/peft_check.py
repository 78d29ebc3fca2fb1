#!/usr/bin/env python3
"""Studio export → PEFT: load each adapter folder with PeftModel.from_pretrained and report what
landed where.

Usage: peft_check.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "ids": [[int]], "adapters": [{"name": str, "dir": str, "resave_dir": str}]}
For each adapter, OUT.json gets (under its name):
  load_warnings    every warning / WARNING log raised while loading (must be empty)
  metadata         the safetensors header metadata
  file_keys        tensor names in adapter_model.safetensors
  landed           per file key: the in-memory parameter PEFT uses for it (lora_A.default.weight
                   naming), whether it exists, and the max |file − parameter|
  lora_modules     every module of the PeftModel that holds a "default" LoRA adapter, with
                   its scaling, r, fan_in_fan_out and whether the file has both its tensors
  peft_state_keys  the keys PEFT itself would save (get_peft_model_state_dict)
  reload_result    set_peft_model_state_dict(file tensors) → LoRA-related missing / unexpected keys
  peft_config      the LoraConfig PEFT parsed from adapter_config.json
  logits, base_logits   eval-mode logits on the ids, with the adapter and with it disabled
  save_warnings    warnings while re-saving with save_pretrained into resave_dir
"""
import sys

from _common import adapted_and_base_logits, captured, jsonable, load_adapter_folder, lora_landed, lora_modules, read_json, setup, versions, write_json


def check(model_dir, ids, adapter):
    setup()
    from peft.utils import get_peft_model_state_dict, load_peft_weights, set_peft_model_state_dict

    adapter_dir = adapter["dir"]
    model, load_warnings, file_tensors, metadata = load_adapter_folder(model_dir, adapter_dir)

    landed = lora_landed(model, file_tensors)
    modules = lora_modules(model, file_tensors)

    peft_state_keys = sorted(get_peft_model_state_dict(model).keys())

    logits, base_logits = adapted_and_base_logits(model, ids)

    # PEFT's own accounting: load the same weights again and ask which LoRA keys it could not place.
    reload_warnings = []
    with captured(reload_warnings):
        result = set_peft_model_state_dict(model, load_peft_weights(adapter_dir), adapter_name="default")
    reload_result = {
        "missing_lora_keys": sorted(k for k in result.missing_keys if "lora_" in k),
        "unexpected_keys": sorted(result.unexpected_keys),
        "warnings": reload_warnings,
    }

    save_warnings = []
    with captured(save_warnings):
        model.save_pretrained(adapter["resave_dir"])

    return {
        "load_warnings": load_warnings,
        "metadata": metadata,
        "file_keys": sorted(file_tensors.keys()),
        "landed": landed,
        "lora_modules": modules,
        "peft_state_keys": peft_state_keys,
        "reload_result": reload_result,
        "peft_config": jsonable(model.peft_config["default"].to_dict()),
        "logits": logits,
        "base_logits": base_logits,
        "save_warnings": save_warnings,
    }


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    out = {"versions": versions(), "adapters": {}}
    for adapter in spec["adapters"]:
        out["adapters"][adapter["name"]] = check(spec["model_dir"], spec["ids"], adapter)
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
