#!/usr/bin/env python3
"""Base models of other families, as a person downloads them from the Hub: transformers makes
tiny random checkpoints, saves them with save_pretrained in the requested dtype (float32 or
bfloat16) and shard size, copies a tokenizer beside them, loads each back in float32 and
computes its eval-mode logits.

Usage: families_make.py SPEC.json OUT.json

SPEC.json: {"ids": [[int]], "tokenizer_dir": str, "variants": [{"name", "class", "config": {...},
"dir", "dtype": "float32" | "bfloat16", "max_shard_size": str | null}]}
OUT.json: {versions, variants: {name: {files, dtypes, warnings, num_parameters, logits}}}.
"""
import os
import shutil
import sys

from _common import captured, logits_of, read_json, setup, versions, write_json

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def randomise(model, torch, seed):
    """Every parameter redrawn at a scale that makes attention and the MLP matter (transformers'
    own init leaves logits nearly uniform): norms near 1, biases ±0.3, unit-scale embeddings,
    linear weights scaled by 1/sqrt(fan_in)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.3 * noise)
            elif "embed_tokens" in name:
                p.copy_(noise)
            else:
                p.copy_(1.5 * noise / p.shape[1] ** 0.5)


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    torch, transformers = setup()
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM

    spec = read_json(spec_path)
    out = {"versions": versions(), "variants": {}}
    for i, v in enumerate(spec["variants"]):
        warnings_seen = []
        with captured(warnings_seen):
            config = getattr(transformers, v["class"])(**v["config"])
            torch.manual_seed(i)
            made = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
            randomise(made, torch, 3000 + i)
            dtype = getattr(torch, v["dtype"])
            kwargs = {"max_shard_size": v["max_shard_size"]} if v.get("max_shard_size") else {}
            made.to(dtype).save_pretrained(v["dir"], **kwargs)
            for name in TOKENIZER_FILES:
                shutil.copy(os.path.join(spec["tokenizer_dir"], name), os.path.join(v["dir"], name))
            # Loaded in float32, as the studio converts every weight on load.
            model = AutoModelForCausalLM.from_pretrained(v["dir"], dtype=torch.float32)
            model.eval()
            logits = logits_of(model, spec["ids"])
        dtypes = set()
        for name in sorted(os.listdir(v["dir"])):
            if name.endswith(".safetensors"):
                with safe_open(os.path.join(v["dir"], name), framework="pt") as f:
                    dtypes.update(str(f.get_slice(k).get_dtype()) for k in f.keys())
        out["variants"][v["name"]] = {
            "files": sorted(os.listdir(v["dir"])),
            "dtypes": sorted(dtypes),
            "warnings": warnings_seen,
            "num_parameters": model.num_parameters(),
            "logits": logits,
        }
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
