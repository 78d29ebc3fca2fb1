#!/usr/bin/env python3
"""Llama family: transformers makes tiny random checkpoints and computes their logits.

Usage: llama_logits.py SPEC.json OUT.json

SPEC.json: {"ids": [[...], ...], "prefix_length": P, "variants": [{"name", "class",
"config": {...}, "dir"}, ...]}. For each variant: builds <class>Config(**config) and
AutoModelForCausalLM.from_config with torch.manual_seed, replaces every parameter with seeded
random values of a size that makes attention and the MLP matter (transformers' own init,
std 0.02, leaves logits nearly uniform), saves it with save_pretrained (safetensors, float32)
to `dir`, loads it back with AutoModelForCausalLM.from_pretrained and computes eval-mode
logits on `ids`; then logits with P positions of random past keys/values per layer in a
DynamicCache (the tokens then take positions P onwards). When the saved config.json holds
`rope_parameters` (transformers 5's key), the same folder with config.json rewritten the 4.x
way (top-level rope_theta, rope_scaling) is loaded too, to show both spellings mean one model.

OUT.json: {versions, variants: {name: {class, loading_info, warnings, state_dict, num_parameters,
saved_tensors, logits, prefix_k, prefix_v, prefix_logits, legacy_logits_diff}}}.
"""
import json
import os
import sys

from _common import captured, logits_of, randomise_weights, read_json, setup, versions, write_json


def legacy_config(config):
    """config.json as transformers 4.x writes it: rope_theta at the top, rope_scaling for the rest."""
    out = dict(config)
    params = dict(out.pop("rope_parameters"))
    out["rope_theta"] = params.pop("rope_theta")
    out["rope_scaling"] = None if params.get("rope_type") == "default" else params
    return out


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    torch, transformers = setup()
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM, DynamicCache

    spec = read_json(spec_path)
    ids = torch.tensor(spec["ids"], dtype=torch.long)
    P = spec["prefix_length"]
    out = {"versions": versions(), "variants": {}}
    for i, v in enumerate(spec["variants"]):
        warnings_seen = []
        with captured(warnings_seen):
            config = getattr(transformers, v["class"])(**v["config"])
            torch.manual_seed(i)
            made = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
            randomise_weights(made, torch, 1000 + i)
            made.save_pretrained(v["dir"])
            model, info = AutoModelForCausalLM.from_pretrained(v["dir"], output_loading_info=True)
            model.eval()
            logits = logits_of(model, spec["ids"])

            # Past keys/values: [B, num_key_value_heads, P, head_dim] per layer, as the cache holds them.
            c = model.config
            head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
            gen = torch.Generator().manual_seed(2000 + i)
            shape = (ids.shape[0], c.num_key_value_heads, P, head_dim)
            ks = [torch.randn(shape, generator=gen) for _ in range(c.num_hidden_layers)]
            vs = [torch.randn(shape, generator=gen) for _ in range(c.num_hidden_layers)]
            cache = DynamicCache(config=c)
            for layer in range(c.num_hidden_layers):
                cache.update(ks[layer], vs[layer], layer)
            with torch.no_grad():
                prefix_logits = model(
                    input_ids=ids,
                    past_key_values=cache,
                    attention_mask=torch.ones(ids.shape[0], P + ids.shape[1], dtype=torch.long),
                ).logits.tolist()

            legacy_diff = None
            with open(os.path.join(v["dir"], "config.json"), encoding="utf-8") as f:
                saved_config = json.load(f)
            if "rope_parameters" in saved_config:
                legacy_dir = v["dir"] + "-legacy"
                os.makedirs(legacy_dir, exist_ok=True)
                write_json(os.path.join(legacy_dir, "config.json"), legacy_config(saved_config))
                os.symlink(os.path.join(v["dir"], "model.safetensors"), os.path.join(legacy_dir, "model.safetensors"))
                legacy = AutoModelForCausalLM.from_pretrained(legacy_dir)
                legacy_diff = (torch.tensor(logits_of(legacy, spec["ids"])) - torch.tensor(logits)).abs().max().item()

        with safe_open(os.path.join(v["dir"], "model.safetensors"), framework="pt") as f:
            saved = {k: [f.get_slice(k).get_dtype(), list(f.get_slice(k).get_shape())] for k in f.keys()}
        out["variants"][v["name"]] = {
            "class": type(model).__name__,
            "loading_info": {k: sorted(map(str, x)) for k, x in info.items()},
            "warnings": warnings_seen,
            "state_dict": [[k, list(t.shape)] for k, t in model.state_dict().items()],
            "num_parameters": model.num_parameters(),
            "tied": model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr(),
            "saved_tensors": saved,
            "logits": logits,
            "prefix_k": [k.tolist() for k in ks],
            "prefix_v": [x.tolist() for x in vs],
            "prefix_logits": prefix_logits,
            "legacy_logits_diff": legacy_diff,
        }
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
