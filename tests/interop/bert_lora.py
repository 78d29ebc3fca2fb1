#!/usr/bin/env python3
"""BERT masked LM + LoRA: transformers makes the base model folder, PEFT loads the studio's adapter.

Usage: bert_lora.py make SPEC.json OUT.json
       bert_lora.py check SPEC.json OUT.json

make — SPEC.json: {"dir": str, "config": {...BertConfig kwargs}, "vocab": [str], "seed": int,
"texts": [str]}. Builds BertForMaskedLM(BertConfig(**config)) with torch.manual_seed(seed),
redraws its parameters at a scale where attention and the FFN matter (transformers' own init,
std 0.02, leaves the logits nearly uniform), saves it with save_pretrained (safetensors,
float32), and saves next to it the BertTokenizerFast that transformers builds from `vocab`
written as vocab.txt (tokenizer.json + tokenizer_config.json). OUT.json: {versions, files,
saved_dtypes, encoded: the tokenizer's input_ids for each text, warnings}.

check — SPEC.json: {"model_dir": str, "adapter_dir": str, "merged_dir": str, "ids": [[int]],
"mask": [[0|1]]}. Loads the model with PeftModel.from_pretrained(BertForMaskedLM, adapter_dir)
and reports, as peft_check.py does for GPT-2: the wrapper class, every warning, where each file
tensor landed, the LoRA modules, the keys PEFT would save, what re-placing the file's tensors
leaves missing or unexpected, the parsed config; then eval-mode logits on `ids` under the
attention `mask` with the adapter, with it disabled, and of merge_and_unload(); and the logits
of the studio's merged checkpoint in merged_dir loaded as a plain BertForMaskedLM.
"""
import os
import re
import sys
import tempfile

from _common import captured, jsonable, read_json, setup, versions, write_json

LORA_KEY = re.compile(r"^(?P<module>.+)\.(?P<part>lora_[AB])\.weight$")


def randomise(model, torch, seed):
    """Every parameter redrawn: LayerNorm scales around 1, biases ±0.1, embeddings of scale 0.5,
    linear weights scaled by 1/sqrt(fan_in) so activations stay of order one."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if "LayerNorm" in name and name.endswith(".weight"):
                p.copy_(1 + 0.1 * noise)
            elif name.endswith("bias"):
                p.copy_(0.1 * noise)
            elif "embeddings" in name:
                p.copy_(0.5 * noise)
            else:
                p.copy_(noise / p.shape[1] ** 0.5)


def make(spec):
    torch, transformers = setup()
    from safetensors import safe_open
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    warnings_seen = []
    with captured(warnings_seen):
        torch.manual_seed(spec["seed"])
        model = BertForMaskedLM(BertConfig(**spec["config"])).to(torch.float32)
        randomise(model, torch, spec["seed"] + 1000)
        model.save_pretrained(spec["dir"])
        with tempfile.TemporaryDirectory() as tmp:
            vocab_file = os.path.join(tmp, "vocab.txt")
            with open(vocab_file, "w", encoding="utf-8") as f:
                f.write("\n".join(spec["vocab"]) + "\n")
            tokenizer = BertTokenizerFast(vocab_file)
        tokenizer.save_pretrained(spec["dir"])
        encoded = [tokenizer(t)["input_ids"] for t in spec["texts"]]
    with safe_open(os.path.join(spec["dir"], "model.safetensors"), framework="pt") as f:
        dtypes = sorted({f.get_slice(k).get_dtype() for k in f.keys()})
    return {
        "versions": versions(),
        "files": sorted(os.listdir(spec["dir"])),
        "saved_dtypes": dtypes,
        "vocab_size": len(tokenizer),
        "encoded": encoded,
        "warnings": warnings_seen,
    }


def check(spec):
    torch, _ = setup()
    from peft import PeftModel
    from peft.tuners.lora import LoraLayer
    from peft.utils import get_peft_model_state_dict, load_peft_weights, set_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import BertForMaskedLM

    ids = torch.tensor(spec["ids"], dtype=torch.long)
    mask = torch.tensor(spec["mask"], dtype=torch.long)

    def logits(model):
        model.eval()
        with torch.no_grad():
            return model(input_ids=ids, attention_mask=mask).logits.float().tolist()

    load_warnings = []
    with captured(load_warnings):
        model = PeftModel.from_pretrained(BertForMaskedLM.from_pretrained(spec["model_dir"]), spec["adapter_dir"])
        model.eval()
    file_tensors = load_file(os.path.join(spec["adapter_dir"], "adapter_model.safetensors"))

    params = dict(model.named_parameters())
    landed = {}
    for key, value in file_tensors.items():
        m = LORA_KEY.match(key)
        target = f"{m['module']}.{m['part']}.default.weight" if m else None
        param = params.get(target) if target else None
        landed[key] = {
            "parameter": target,
            "found": param is not None,
            "shape_file": list(value.shape),
            "shape_param": list(param.shape) if param is not None else None,
            "max_abs_diff": float((param.detach() - value).abs().max()) if param is not None and param.shape == value.shape else None,
        }
    lora_modules = {}
    for name, module in model.named_modules():
        if isinstance(module, LoraLayer) and "default" in module.lora_A:
            lora_modules[name] = {
                "r": module.r["default"],
                "scaling": float(module.scaling["default"]),
                "in_file": all(f"{name}.{p}.weight" in file_tensors for p in ("lora_A", "lora_B")),
            }
    peft_state_keys = sorted(get_peft_model_state_dict(model).keys())

    adapted = logits(model)
    with model.disable_adapter():
        base = logits(model)

    reload_warnings = []
    with captured(reload_warnings):
        result = set_peft_model_state_dict(model, load_peft_weights(spec["adapter_dir"]), adapter_name="default")
    reload_result = {
        "missing_lora_keys": sorted(k for k in result.missing_keys if "lora_" in k),
        "unexpected_keys": sorted(result.unexpected_keys),
        "warnings": reload_warnings,
    }
    peft_class = type(model).__name__
    peft_config = jsonable(model.peft_config["default"].to_dict())

    merge_warnings = []
    with captured(merge_warnings):
        merged = model.merge_and_unload()
    merged_logits = logits(merged)

    checkpoint_warnings = []
    with captured(checkpoint_warnings):
        studio_merged, info = BertForMaskedLM.from_pretrained(spec["merged_dir"], output_loading_info=True)
    studio_merged_logits = logits(studio_merged)

    return {
        "versions": versions(),
        "peft_class": peft_class,
        "load_warnings": load_warnings,
        "file_keys": sorted(file_tensors.keys()),
        "landed": landed,
        "lora_modules": lora_modules,
        "peft_state_keys": peft_state_keys,
        "reload_result": reload_result,
        "peft_config": peft_config,
        "logits": adapted,
        "base_logits": base,
        "merge_warnings": merge_warnings,
        "merged_logits": merged_logits,
        "checkpoint_warnings": checkpoint_warnings,
        "checkpoint_loading_info": {k: sorted(map(str, v)) for k, v in info.items()},
        "studio_merged_logits": studio_merged_logits,
    }


def main() -> int:
    mode, spec_path, out_path = sys.argv[1:4]
    spec = read_json(spec_path)
    write_json(out_path, make(spec) if mode == "make" else check(spec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
