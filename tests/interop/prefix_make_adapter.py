#!/usr/bin/env python3
"""PEFT → studio: make PREFIX_TUNING adapters with PEFT itself, for the studio to import, and
count what PEFT calls trainable for the studio's settings.

Usage: prefix_make_adapter.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "ids": [[int]], "train_ids": [[int]],
            "variants": [{"name": str, "seed": int, "config": {PrefixTuningConfig kwargs}, "steps": int, "out_dir": str}],
            "counts": [{"name": str, "config": {PrefixTuningConfig kwargs}}]}
For each variant: get_peft_model(GPT2LMHeadModel.from_pretrained(model_dir), PrefixTuningConfig(**config));
`steps` AdamW steps (lr 1e-2) of causal-LM loss on train_ids; eval-mode logits on `ids` with the
adapter (training-mode config: the prefix comes through the MLP when prefix_projection is on) and
with it disabled; then save_pretrained(out_dir). OUT.json "variants" maps each name to {logits,
base_logits, losses, trainable, all, printed, tensors, warnings, files}; "counts" maps each name
to {trainable, all, printed, tensors, resolved (the config PEFT completed from the model), warnings}.
"""
import sys
from functools import partial

from _common import captured, make_peft_variant, read_json, setup, trainable_counts, versions, write_json

RESOLVED = ("num_virtual_tokens", "token_dim", "num_layers", "num_attention_heads", "num_transformer_submodules",
            "encoder_hidden_size", "prefix_projection")


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    setup()
    from peft import PrefixTuningConfig, get_peft_model
    from transformers import GPT2LMHeadModel

    out = {"versions": versions(), "variants": {}, "counts": {}}
    for v in spec["variants"]:
        model, report = make_peft_variant(spec["model_dir"], spec["ids"], spec["train_ids"], v, partial(PrefixTuningConfig, **v["config"]), lr=1e-2)
        # Training changes values, not which parameters train, so the counts are the config's.
        out["variants"][v["name"]] = {**trainable_counts(model), **report}

    for c in spec["counts"]:
        warnings_seen = []
        with captured(warnings_seen):
            model = get_peft_model(GPT2LMHeadModel.from_pretrained(spec["model_dir"]), PrefixTuningConfig(**c["config"]))
        resolved = model.peft_config["default"]
        out["counts"][c["name"]] = {
            **trainable_counts(model),
            "resolved": {k: getattr(resolved, k) for k in RESOLVED},
            "warnings": warnings_seen,
        }
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
