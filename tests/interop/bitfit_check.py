#!/usr/bin/env python3
"""Studio BitFit export → transformers: the trained-bias file loads onto the base model with
load_state_dict(strict=False), and the merged checkpoint loads with from_pretrained.

Usage: bitfit_check.py SPEC.json OUT.json
SPEC.json: {"model_dir": str, "ids": [[int]], "text": str,
            "cases": [{"name": str, "dir": str, "merged_dir": str | null, "model_dir": str (optional)}]}
A case's own model_dir, when given, is its base model instead of the spec's. Every model is
loaded in float32, as the studio computes, also from a checkpoint saved in bfloat16.
Per case, OUT.json gets:
  bias_file   load_state_dict(load_file(bitfit_model.safetensors), strict=False) onto
              AutoModelForCausalLM.from_pretrained(model_dir): missing / unexpected keys, the model's
              state-dict keys, per-key landing (max |file − parameter|), the logits, warnings
  merged      AutoModelForCausalLM.from_pretrained(merged_dir, output_loading_info=True): its
              class, loading info, warnings, logits, max |merged − (base + bias file)| over every
              parameter, and whether AutoTokenizer from the merged folder encodes `text` as the
              base folder's tokenizer does (null without a merged_dir)
"""
import sys

from _common import captured, logits_of, read_json, setup, versions, write_json


def check(torch, model_dir, ids, text, case):
    import os

    from safetensors import safe_open
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = os.path.join(case["dir"], "bitfit_model.safetensors")
    state = load_file(path)
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata()

    load_warnings = []
    with captured(load_warnings):
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        model.eval()
        base_logits = logits_of(model, ids)
        result = model.load_state_dict(state, strict=False)
    params = dict(model.named_parameters())
    landed = {
        k: {
            "found": k in params,
            "max_abs_diff": float((params[k].detach() - v).abs().max()) if k in params and params[k].shape == v.shape else None,
        }
        for k, v in state.items()
    }
    bias_file = {
        "metadata": metadata,
        "file_keys": sorted(state.keys()),
        "state_keys": sorted(model.state_dict().keys()),
        "missing_keys": sorted(result.missing_keys),
        "unexpected_keys": sorted(result.unexpected_keys),
        "landed": landed,
        "logits": logits_of(model, ids),
        "base_logits": base_logits,
        "warnings": load_warnings,
    }
    if not case.get("merged_dir"):
        return {"bias_file": bias_file, "merged": None}

    merged_warnings = []
    with captured(merged_warnings):
        merged, info = AutoModelForCausalLM.from_pretrained(case["merged_dir"], output_loading_info=True, dtype=torch.float32)
        merged.eval()
        tok_base = AutoTokenizer.from_pretrained(model_dir)
        tok_merged = AutoTokenizer.from_pretrained(case["merged_dir"])
    with torch.no_grad():
        merged_params = dict(merged.named_parameters())
        diff = max(float((merged_params[k] - p).abs().max()) for k, p in model.named_parameters())
        same_names = sorted(merged_params) == sorted(params)
    return {
        "bias_file": bias_file,
        "merged": {
            "class": type(merged).__name__,
            "loading_info": {k: sorted(str(x) for x in v) for k, v in info.items()},
            "warnings": merged_warnings,
            "logits": logits_of(merged, ids),
            "max_param_diff_vs_bias_file": diff,
            "same_parameter_names": same_names,
            "tied": merged.get_output_embeddings().weight.data_ptr() == merged.get_input_embeddings().weight.data_ptr(),
            "tokenizer_equal": tok_base(text)["input_ids"] == tok_merged(text)["input_ids"],
            "token_count": len(tok_merged(text)["input_ids"]),
        },
    }


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    torch, _ = setup()
    out = {"versions": versions(), "cases": {}}
    for case in spec["cases"]:
        out["cases"][case["name"]] = check(torch, case.get("model_dir", spec["model_dir"]), spec["ids"], spec["text"], case)
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
