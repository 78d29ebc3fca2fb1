#!/usr/bin/env python3
"""A studio sequence-classification adapter (SEQ_CLS) loaded as PEFT loads it.

Usage: seq_cls_check.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "adapter_dir": str, "num_labels": int, "pad_token_id": int,
"ids": [[int]], "mask": [[0|1]], "token_types": [[int]] | null}. Loads
AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels, pad_token_id) and
PeftModel.from_pretrained on adapter_dir, and reports: the wrapper class, every warning raised
while loading, where each tensor of the file landed (the parameter PEFT put it in: a LoRA
weight under its adapter name, prompt tuning's embeddings in its prompt encoder, a module to
save in its `modules_to_save.default` copy) and how
far that parameter is from the file, the modules PEFT wrapped as modules to save, and the
eval-mode logits [B, num_labels] on `ids` under the attention `mask` (with the token types when
given).
"""
import sys

from _common import captured, read_json, setup, versions, write_json


def main(spec_path, out_path):
    spec = read_json(spec_path)
    torch, transformers = setup()
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForSequenceClassification

    warnings_seen = []
    with captured(warnings_seen):
        base = AutoModelForSequenceClassification.from_pretrained(
            spec["model_dir"], num_labels=spec["num_labels"], pad_token_id=spec["pad_token_id"], dtype=torch.float32
        )
    load_warnings = []
    with captured(load_warnings):
        model = PeftModel.from_pretrained(base, spec["adapter_dir"])
    model.eval()
    params = dict(model.named_parameters())
    file = load_file(f"{spec['adapter_dir']}/adapter_model.safetensors")
    landed = {}
    for key, value in file.items():
        candidates = []
        if key == "prompt_embeddings":
            candidates.append("prompt_encoder.default.embedding.weight")
        elif ".lora_" in key:
            candidates.append(key.replace(".weight", ".default.weight"))
        else:
            module, _, leaf = key.rpartition(".")
            candidates.append(f"{module}.modules_to_save.default.{leaf}")
            # A module to save inside a wrapped parent (BERT's pooler wraps the pooler, not its dense).
            parts = module.split(".")
            for i in range(len(parts) - 1, 0, -1):
                candidates.append(".".join(parts[:i]) + ".modules_to_save.default." + ".".join(parts[i:]) + "." + leaf)
        found = next((c for c in candidates if c in params), None)
        landed[key] = {
            "parameter": found,
            "max_abs_diff": None if found is None else float((params[found].detach() - value).abs().max()),
        }
    wrapped = sorted(n for n, m in model.named_modules() if type(m).__name__ == "ModulesToSaveWrapper")
    kwargs = {"attention_mask": torch.tensor(spec["mask"])}
    if spec.get("token_types") is not None:
        kwargs["token_type_ids"] = torch.tensor(spec["token_types"])
    with torch.no_grad():
        logits = model(input_ids=torch.tensor(spec["ids"]), **kwargs).logits
    write_json(out_path, {
        "versions": versions(),
        "peft_class": type(model).__name__,
        "base_warnings": warnings_seen,
        "load_warnings": load_warnings,
        "landed": landed,
        "wrapped": wrapped,
        "logits": logits.tolist(),
    })


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
