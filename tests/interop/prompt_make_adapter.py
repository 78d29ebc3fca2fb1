#!/usr/bin/env python3
"""PEFT → studio: make prompt-tuning and P-tuning adapters with PEFT itself, for the studio to
import.

Usage: prompt_make_adapter.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "ids": [[int]], "train_ids": [[int]],
            "variants": [{"name": str, "seed": int, "peft_type": "PROMPT_TUNING" | "P_TUNING",
                          "config": {config kwargs}, "steps": int, "lr": float, "out_dir": str}]}
For each variant: get_peft_model(GPT2LMHeadModel.from_pretrained(model_dir), Config(**config))
(a TEXT init reads the tokenizer from model_dir); `steps` AdamW steps of causal-LM loss on
train_ids (labels = ids, so PEFT pads the labels over the virtual tokens itself); then eval mode,
save_pretrained(out_dir), and eval-mode logits on `ids` of the trained model (P-tuning: through
its encoder), with the adapter disabled, and of the saved folder reloaded by
PeftModel.from_pretrained. OUT.json maps each name to {logits, reloaded_logits, base_logits,
losses, trainable, saved_prompt, warnings, files}.
"""
import os
import sys
from functools import partial

from _common import captured, logits_of, make_peft_variant, read_json, setup, versions, write_json


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    setup()
    from peft import PeftModel, PromptEncoderConfig, PromptTuningConfig
    from safetensors.torch import load_file
    from transformers import GPT2LMHeadModel

    configs = {"PROMPT_TUNING": PromptTuningConfig, "P_TUNING": PromptEncoderConfig}
    out = {"versions": versions(), "variants": {}}
    for v in spec["variants"]:
        kwargs = dict(v["config"])
        if kwargs.get("prompt_tuning_init") == "TEXT":
            kwargs["tokenizer_name_or_path"] = spec["model_dir"]
        model, report = make_peft_variant(spec["model_dir"], spec["ids"], spec["train_ids"], v, partial(configs[v["peft_type"]], **kwargs), lr=v["lr"])
        # The warnings of reloading the saved folder go to the same list.
        with captured(report["warnings"]):
            reloaded = PeftModel.from_pretrained(GPT2LMHeadModel.from_pretrained(spec["model_dir"]), v["out_dir"])
            reloaded_logits = logits_of(reloaded, spec["ids"])
        out["variants"][v["name"]] = {
            **report,
            "reloaded_logits": reloaded_logits,
            "trainable": model.get_nb_trainable_parameters()[0],
            "saved_prompt": load_file(os.path.join(v["out_dir"], "adapter_model.safetensors"))["prompt_embeddings"].tolist(),
        }
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
