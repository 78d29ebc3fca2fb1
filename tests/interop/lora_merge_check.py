#!/usr/bin/env python3
"""Studio merged LoRA checkpoint vs PEFT's merge_and_unload.

Usage: lora_merge_check.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "ids": [[int]], "cases": [{"name": str, "adapter_dir": str, "merged_dir": str}]}
For each case, OUT.json gets (under its name):
  peft_logits        logits of PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
  merged_logits      logits of AutoModelForCausalLM.from_pretrained(merged_dir) (the studio's merge)
  loading_info       from_pretrained's missing / unexpected / mismatched keys for merged_dir
  max_param_diff     max |studio merged − PEFT merged| over every parameter of the state dict
  same_parameter_names  whether both state dicts name the same parameters
  warnings           every warning raised while loading either
"""
import sys

from _common import captured, logits_of, read_json, setup, write_json


def check(model_dir, ids, case):
    torch, _ = setup()
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    warnings = []
    with captured(warnings):
        base = AutoModelForCausalLM.from_pretrained(model_dir)
        peft_merged = PeftModel.from_pretrained(base, case["adapter_dir"]).merge_and_unload()
        ours, info = AutoModelForCausalLM.from_pretrained(case["merged_dir"], output_loading_info=True)
    theirs_sd = peft_merged.state_dict()
    ours_sd = ours.state_dict()
    diffs = [float((ours_sd[k] - theirs_sd[k]).abs().max()) for k in theirs_sd if k in ours_sd]
    return {
        "peft_logits": logits_of(peft_merged, ids),
        "merged_logits": logits_of(ours, ids),
        "loading_info": {k: sorted(map(str, v)) for k, v in info.items()},
        "max_param_diff": max(diffs),
        "same_parameter_names": sorted(theirs_sd) == sorted(ours_sd),
        "warnings": warnings,
    }


def main():
    spec = read_json(sys.argv[1])
    out = {"cases": {c["name"]: check(spec["model_dir"], spec["ids"], c) for c in spec["cases"]}}
    write_json(sys.argv[2], out)


if __name__ == "__main__":
    main()
