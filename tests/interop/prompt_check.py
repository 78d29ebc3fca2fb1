#!/usr/bin/env python3
"""Studio prompt-tuning / P-tuning export → PEFT: load each adapter folder with
PeftModel.from_pretrained and report what landed where and what PEFT computes with it; and run
PEFT's own PromptEncoder on the studio's P-tuning encoder weights.

Usage: prompt_check.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "ids": [[int]], "gen_ids": [int], "gen_new": int,
            "adapters": [{"name": str, "dir": str, "resave_dir": str, "model_dir": str (optional)}],
            "encoders": [{"name": str, "config": {PromptEncoderConfig kwargs}, "state": str}],
            "text_inits": [{"name": str, "config": {PromptTuningConfig kwargs}}]}

An adapter's own model_dir, when given, is the base model it is loaded onto instead of the spec's.

OUT.json "adapters" (per name):
  load_warnings    every warning / WARNING log raised while loading (must be empty)
  metadata         the safetensors header metadata
  file_keys        tensor names in adapter_model.safetensors
  encoder_params   the loaded prompt encoder's parameters (name → shape)
  landed_max_abs_diff  max |file prompt_embeddings − prompt_encoder.default.embedding.weight|
  prompt           PEFT's get_prompt(batch_size=1)[0]: the virtual tokens it prepends
  peft_state_keys  the keys PEFT itself would save (get_peft_model_state_dict)
  peft_config      the config PEFT parsed from adapter_config.json
  logits           eval-mode logits on `ids` (input_ids only), virtual positions included
  logits_masked    the same with an all-ones attention_mask passed, as a tokenizer gives it
  base_logits      logits with the adapter disabled
  generated        greedy model.generate(gen_ids, max_new_tokens=gen_new): the new ids only
  generated_logits the raw logits generate() decided each new token from (with its KV cache)
  generate_warnings  warnings raised by generate
  save_warnings    warnings while re-saving with save_pretrained into resave_dir
  resaved_equal    whether the re-saved prompt_embeddings equal the file's exactly
  counts           get_peft_model on the same config in training mode: trainable, all, the
                   print_trainable_parameters line, the trainable tensors (name, shape)
OUT.json "encoders" (per name): get_peft_model(base, PromptEncoderConfig(**config)) with the
  studio's encoder tensors loaded strictly into prompt_encoder.default; reports counts, the
  load result, the prompt PEFT would save (eval mode) and eval-mode logits with the encoder.
OUT.json "text_inits" (per name): get_peft_model(base, PromptTuningConfig(**config)) — PEFT's own
  TEXT initialisation with the model's tokenizer; reports the initial prompt embedding.
"""
import sys

from _common import captured, jsonable, load_adapter_folder, logits_of, read_json, setup, trainable_counts, versions, write_json


def check_adapter(torch, model_dir, ids, gen_ids, gen_new, adapter):
    from peft import PeftConfig, get_peft_model
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    model, load_warnings, file_tensors, metadata = load_adapter_folder(model_dir, adapter["dir"])
    encoder = model.prompt_encoder["default"]
    embedding = encoder.embedding.weight.detach()
    saved = file_tensors.get("prompt_embeddings")
    landed = float((embedding - saved).abs().max()) if saved is not None and saved.shape == embedding.shape else None

    ids_t = torch.tensor(ids, dtype=torch.long)
    with torch.no_grad():
        prompt = model.get_prompt(batch_size=1)[0].tolist()
        logits = model(input_ids=ids_t).logits.tolist()
        logits_masked = model(input_ids=ids_t, attention_mask=torch.ones_like(ids_t)).logits.tolist()
    with model.disable_adapter():
        base_logits = logits_of(model, ids)

    gen_in = torch.tensor([gen_ids], dtype=torch.long)
    generate_warnings = []
    with captured(generate_warnings), torch.no_grad():
        out = model.generate(
            input_ids=gen_in,
            attention_mask=torch.ones_like(gen_in),
            max_new_tokens=gen_new,
            do_sample=False,
            pad_token_id=model.config.eos_token_id,
            output_logits=True,
            return_dict_in_generate=True,
        )
    generated = out.sequences[0, len(gen_ids):].tolist()
    generated_logits = [step[0].tolist() for step in out.logits]

    save_warnings = []
    with captured(save_warnings):
        model.save_pretrained(adapter["resave_dir"])
    resaved = load_file(f"{adapter['resave_dir']}/adapter_model.safetensors")
    resaved_equal = sorted(resaved) == sorted(file_tensors) and all(torch.equal(resaved[k], file_tensors[k]) for k in file_tensors)

    # PEFT's own count for this config, as if training it from scratch (a TEXT init reads the
    # tokenizer from the model folder).
    config = PeftConfig.from_pretrained(adapter["dir"])
    config.inference_mode = False
    if getattr(config, "prompt_tuning_init", None) == "TEXT":
        config.tokenizer_name_or_path = model_dir
    counts = trainable_counts(get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32), config))

    return {
        "load_warnings": load_warnings,
        "metadata": metadata,
        "file_keys": sorted(file_tensors.keys()),
        "encoder_params": {n: list(p.shape) for n, p in encoder.named_parameters()},
        "landed_max_abs_diff": landed,
        "prompt": prompt,
        "peft_state_keys": sorted(get_peft_model_state_dict(model).keys()),
        "peft_config": jsonable(model.peft_config["default"].to_dict()),
        "logits": logits,
        "logits_masked": logits_masked,
        "base_logits": base_logits,
        "generated": generated,
        "generated_logits": generated_logits,
        "generate_warnings": generate_warnings,
        "save_warnings": save_warnings,
        "resaved_equal": resaved_equal,
        "counts": counts,
    }


def check_encoder(torch, model_dir, ids, entry):
    from peft import PromptEncoderConfig, get_peft_model
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    warnings_seen = []
    with captured(warnings_seen):
        model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32), PromptEncoderConfig(**entry["config"]))
    counts = trainable_counts(model)
    state = load_file(entry["state"])
    result = model.prompt_encoder["default"].load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        saved_prompt = model.get_prompt_embedding_to_save("default").tolist()
    return {
        "warnings": warnings_seen,
        "counts": counts,
        "state_keys": sorted(model.prompt_encoder["default"].state_dict().keys()),
        "load_result": {"missing": list(result.missing_keys), "unexpected": list(result.unexpected_keys)},
        "prompt": saved_prompt,
        "logits": logits_of(model, ids),
    }


def text_init(model_dir, entry):
    import torch
    from peft import PromptTuningConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    config = dict(entry["config"], tokenizer_name_or_path=model_dir)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32), PromptTuningConfig(**config))
    return {"prompt": model.prompt_encoder["default"].embedding.weight.detach().tolist()}


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    torch, _ = setup()
    out = {"versions": versions(), "adapters": {}, "encoders": {}, "text_inits": {}}
    for adapter in spec.get("adapters", []):
        out["adapters"][adapter["name"]] = check_adapter(torch, adapter.get("model_dir", spec["model_dir"]), spec["ids"], spec["gen_ids"], spec["gen_new"], adapter)
    for entry in spec.get("encoders", []):
        out["encoders"][entry["name"]] = check_encoder(torch, spec["model_dir"], spec["ids"], entry)
    for entry in spec.get("text_inits", []):
        out["text_inits"][entry["name"]] = text_init(spec["model_dir"], entry)
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
