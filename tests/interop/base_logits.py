#!/usr/bin/env python3
"""Base model: transformers loads the studio's built-in model folder as it ships.

Usage: base_logits.py MODEL_DIR IDS.json OUT.json

IDS.json is a list of equal-length rows of token ids. Loads MODEL_DIR with
GPT2LMHeadModel.from_pretrained (with output_loading_info) and AutoModelForCausalLM.from_pretrained,
and writes OUT.json: {versions, classes, loading_info, warnings, tied, num_parameters,
logits_gpt2, logits_auto}. The Node test asserts on it.
"""
import sys

from _common import captured, logits_of, read_json, setup, versions, write_json


def main() -> int:
    model_dir, ids_path, out_path = sys.argv[1:4]
    torch, _ = setup()
    from transformers import AutoModelForCausalLM, GPT2LMHeadModel

    ids = read_json(ids_path)
    warnings_seen = []
    with captured(warnings_seen):
        gpt2, info = GPT2LMHeadModel.from_pretrained(model_dir, output_loading_info=True)
        auto = AutoModelForCausalLM.from_pretrained(model_dir)
        logits_gpt2 = logits_of(gpt2, ids)
        logits_auto = logits_of(auto, ids)

    write_json(
        out_path,
        {
            "versions": versions(),
            "classes": [type(gpt2).__name__, type(auto).__name__],
            "loading_info": {k: sorted(map(str, v)) for k, v in info.items()},
            "warnings": warnings_seen,
            "tied": gpt2.lm_head.weight.data_ptr() == gpt2.transformer.wte.weight.data_ptr(),
            # num_parameters counts the tied lm_head once, as the studio's totalParams does.
            "num_parameters": gpt2.num_parameters(),
            "dtype": str(gpt2.dtype),
            "logits_gpt2": logits_gpt2,
            "logits_auto": logits_auto,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
