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

from _common import captured, logits_of, randomise_weights, read_json, setup, versions, write_json

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


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
            randomise_weights(made, torch, 3000 + i)
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
