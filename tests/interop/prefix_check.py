#!/usr/bin/env python3
"""Studio prefix-tuning / P-tuning v2 export → PEFT: load each adapter folder with
PeftModel.from_pretrained and report what landed where and what PEFT computes with it.

Usage: prefix_check.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "ids": [[int]], "gen_ids": [int], "gen_new": int,
            "adapters": [{"name": str, "dir": str, "resave_dir": str, "model_dir": str (optional)}]}
An adapter's own model_dir, when given, is the base model it is loaded onto instead of the spec's.
For each adapter, OUT.json gets (under its name):
  load_warnings    every warning / WARNING log raised while loading (must be empty)
  metadata         the safetensors header metadata
  file_keys        tensor names in adapter_model.safetensors
  landed           the in-memory prompt encoder parameters (name → shape) and, for the file's
                   `prompt_embeddings`, max |file − prompt_encoder.default.embedding.weight|
  peft_state_keys  the keys PEFT itself would save (get_peft_model_state_dict)
  peft_config      the PrefixTuningConfig PEFT parsed from adapter_config.json
  prompt           PEFT's get_prompt(batch 1): per layer, the key and value tensors its
                   DynamicCache holds ([1, heads, n, head_dim] each)
  logits, base_logits   eval-mode logits on the ids, with the adapter and with it disabled
  loss             the causal-LM loss PEFT computes with labels = ids (and an all-ones attention mask)
  generated        greedy model.generate(gen_ids, max_new_tokens=gen_new): the new ids only
  save_warnings    warnings while re-saving with save_pretrained into resave_dir
  counts           get_peft_model(base, PrefixTuningConfig.from_pretrained(dir) in training
                   mode): trainable / all / the print_trainable_parameters line / tensors
"""
import sys

from _common import adapted_and_base_logits, captured, jsonable, load_adapter_folder, read_json, setup, trainable_counts, versions, write_json


def counts_for(model_dir, config):
    """What get_peft_model + print_trainable_parameters say for this config on a fresh base model."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    warnings_seen = []
    with captured(warnings_seen):
        model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32), config)
    return {**trainable_counts(model), "warnings": warnings_seen}


def check(model_dir, spec, adapter):
    torch, _ = setup()
    from peft import PrefixTuningConfig
    from peft.utils import get_peft_model_state_dict

    adapter_dir = adapter["dir"]
    model, load_warnings, file_tensors, metadata = load_adapter_folder(model_dir, adapter_dir)

    encoder_params = {n: list(p.shape) for n, p in model.prompt_encoder.named_parameters()}
    embedding = model.prompt_encoder["default"].embedding.weight.detach()
    saved = file_tensors.get("prompt_embeddings")
    landed = {
        "encoder_params": encoder_params,
        "max_abs_diff": (
            float((embedding - saved).abs().max()) if saved is not None and saved.shape == embedding.shape else None
        ),
    }

    with torch.no_grad():
        cache = model.get_prompt(1)
    prompt = [
        {"keys": layer.keys.tolist(), "values": layer.values.tolist(), "shape": list(layer.keys.shape)}
        for layer in cache.layers
    ]

    logits, base_logits = adapted_and_base_logits(model, spec["ids"])
    # The causal-LM loss PEFT computes with labels = ids: for PREFIX_TUNING it pads nothing (the
    # prefix lives in the cache, not in the sequence), unlike the virtual-token methods.
    with torch.no_grad():
        ids_t = torch.tensor(spec["ids"], dtype=torch.long)
        loss = float(model(input_ids=ids_t, attention_mask=torch.ones_like(ids_t), labels=ids_t).loss)

    gen_warnings = []
    with captured(gen_warnings), torch.no_grad():
        ids = torch.tensor([spec["gen_ids"]], dtype=torch.long)
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=spec["gen_new"],
            do_sample=False,
            pad_token_id=model.get_base_model().config.eos_token_id,
        )
    generated = out[0, ids.shape[1] :].tolist()

    save_warnings = []
    with captured(save_warnings):
        model.save_pretrained(adapter["resave_dir"])

    config = PrefixTuningConfig.from_pretrained(adapter_dir)
    config.inference_mode = False
    counts = counts_for(model_dir, config)

    return {
        "load_warnings": load_warnings,
        "metadata": metadata,
        "file_keys": sorted(file_tensors.keys()),
        "landed": landed,
        "peft_state_keys": sorted(get_peft_model_state_dict(model).keys()),
        "peft_config": jsonable(model.peft_config["default"].to_dict()),
        "prompt": prompt,
        "logits": logits,
        "loss": loss,
        "base_logits": base_logits,
        "generated": generated,
        "generate_warnings": gen_warnings,
        "save_warnings": save_warnings,
        "counts": counts,
    }


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    out = {"versions": versions(), "adapters": {}}
    for adapter in spec["adapters"]:
        out["adapters"][adapter["name"]] = check(adapter.get("model_dir", spec["model_dir"]), spec, adapter)
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
