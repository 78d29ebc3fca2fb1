#!/usr/bin/env python3
"""BERT family: transformers makes tiny random masked LMs and computes their logits.

Usage: bert_logits.py SPEC.json OUT.json

SPEC.json: {"ids": [[...], ...], "mask": [[1, ..., 0], ...], "prefix_length": P,
"virtual_tokens": V, "variants": [{"name", "class", "config": {...}, "dir"}, ...]}. For each
variant: builds <class>Config(**config) and AutoModelForMaskedLM.from_config (or the class
"save_as" names) with torch.manual_seed, replaces every parameter with seeded random values of a
size that makes attention and the FFN matter (transformers' own init, std 0.02, leaves logits
nearly uniform), saves it with save_pretrained (safetensors, float32) to `dir`, loads it back with
AutoModelForMaskedLM.from_pretrained and computes eval-mode logits and hidden states on `ids`.
Then, on `ids` with every position `mask` zeroes replaced by the model's pad_token_id
("padded_ids"): logits with that attention_mask; logits with V random virtual token embeddings
put in front of the word embeddings (inputs_embeds, the mask extended with ones), as PEFT's
prompt tuning runs an encoder; and, for the models that take past_key_values (BERT, RoBERTa),
logits with P positions of random past keys/values per layer in a DynamicCache (the mask
extended with ones), as PEFT's prefix tuning runs them.

OUT.json: {versions, variants: {name: {class, loading_info, warnings, state_dict, num_parameters,
tied, saved_tensors, logits, hidden_states, padded_ids, masked_logits, virtual, virtual_logits,
prefix_k, prefix_v, prefix_logits}}}.
"""
import os
import sys

from _common import captured, randomise_weights, read_json, setup, versions, write_json


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    torch, transformers = setup()
    from safetensors import safe_open
    from transformers import AutoModelForMaskedLM, DynamicCache

    spec = read_json(spec_path)
    ids = torch.tensor(spec["ids"], dtype=torch.long)
    mask = torch.tensor(spec["mask"], dtype=torch.long)
    B = ids.shape[0]
    P = spec["prefix_length"]
    V = spec["virtual_tokens"]
    out = {"versions": versions(), "variants": {}}
    for i, v in enumerate(spec["variants"]):
        warnings_seen = []
        with captured(warnings_seen):
            config = getattr(transformers, v["class"])(**v["config"])
            torch.manual_seed(i)
            # A checkpoint saved by another class (BertForPreTraining, as bert-base-uncased is)
            # carries weights the masked LM does not read.
            if v.get("save_as"):
                made = getattr(transformers, v["save_as"])(config).to(torch.float32)
            else:
                made = AutoModelForMaskedLM.from_config(config, dtype=torch.float32)
            randomise_weights(made, torch, 1000 + i)
            made.save_pretrained(v["dir"])
            model, info = AutoModelForMaskedLM.from_pretrained(v["dir"], output_loading_info=True)
            model.eval()
            c = model.config
            padded = torch.where(mask.bool(), ids, torch.full_like(ids, c.pad_token_id))
            with torch.no_grad():
                plain = model(input_ids=ids, output_hidden_states=True)
                masked_logits = model(input_ids=padded, attention_mask=mask).logits

                # Virtual tokens in front of the word embeddings, handed over as inputs_embeds.
                gen = torch.Generator().manual_seed(3000 + i)
                virtual = torch.randn((B, V, c.hidden_size), generator=gen)
                embeds = torch.cat([virtual, model.get_input_embeddings()(padded)], dim=1)
                virtual_logits = model(
                    inputs_embeds=embeds,
                    attention_mask=torch.cat([torch.ones(B, V, dtype=torch.long), mask], dim=1),
                ).logits

                # Past keys/values: [B, heads, P, head_dim] per layer, as the cache holds them.
                ks = vs = prefix_logits = None
                if c.model_type in ("bert", "roberta"):
                    heads = c.num_attention_heads
                    shape = (B, heads, P, c.hidden_size // heads)
                    gen = torch.Generator().manual_seed(2000 + i)
                    ks = [torch.randn(shape, generator=gen) for _ in range(c.num_hidden_layers)]
                    vs = [torch.randn(shape, generator=gen) for _ in range(c.num_hidden_layers)]
                    cache = DynamicCache(config=c)
                    for layer in range(c.num_hidden_layers):
                        cache.update(ks[layer], vs[layer], layer)
                    prefix_logits = model(
                        input_ids=padded,
                        past_key_values=cache,
                        attention_mask=torch.cat([torch.ones(B, P, dtype=torch.long), mask], dim=1),
                    ).logits.tolist()

        with safe_open(os.path.join(v["dir"], "model.safetensors"), framework="pt") as f:
            saved = {k: [f.get_slice(k).get_dtype(), list(f.get_slice(k).get_shape())] for k in f.keys()}
        out["variants"][v["name"]] = {
            "class": type(model).__name__,
            "loading_info": {k: sorted(map(str, x)) for k, x in info.items()},
            "warnings": warnings_seen,
            "state_dict": [[k, list(t.shape)] for k, t in model.state_dict().items()],
            "num_parameters": model.num_parameters(),
            "tied": model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr(),
            "saved_tensors": saved,
            "logits": plain.logits.tolist(),
            "hidden_states": [h.tolist() for h in plain.hidden_states],
            "padded_ids": padded.tolist(),
            "masked_logits": masked_logits.tolist(),
            "virtual": virtual.tolist(),
            "virtual_logits": virtual_logits.tolist(),
            "prefix_k": None if ks is None else [k.tolist() for k in ks],
            "prefix_v": None if vs is None else [x.tolist() for x in vs],
            "prefix_logits": prefix_logits,
        }
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
