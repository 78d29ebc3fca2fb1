#!/usr/bin/env python3
"""Full fine-tuning: the studio's checkpoint loaded as transformers loads any checkpoint.

Usage: full_finetune_check.py SPEC.json OUT.json

SPEC.json: {"checks": [{"name", "dir" (the unzipped export), "base_dir" (the base model it was
fine-tuned from), "head": "causal" | "masked" | "seq-cls", "base_head": "causal" | "masked"
(with "seq-cls": the base's own head), "ids": [[...]], "mask": [[...]] or null,
"token_types": [[...]] (optional)}]}.

For each check: the folder loads with AutoModelForCausalLM / AutoModelForMaskedLM /
AutoModelForSequenceClassification (and with the loading info), capturing every warning; every
tensor of its model.safetensors, read with safetensors, must be what the model holds under that
name; every parameter of the model must come from the file, and differ from the base model's
where the base has it (every weight was trained); a tied head must still be the input
embedding. Returns the logits on `ids` under `mask` (and the token types), and for a classifier
its labels and pad id.
"""
import os
import sys

from _common import captured, read_json, setup, versions, write_json


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    torch, _ = setup()
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoModelForSequenceClassification

    auto = {"causal": AutoModelForCausalLM, "masked": AutoModelForMaskedLM, "seq-cls": AutoModelForSequenceClassification}
    spec = read_json(spec_path)
    out = {"versions": versions(), "checks": {}}
    for c in spec["checks"]:
        warnings_seen = []
        with captured(warnings_seen):
            model, info = auto[c["head"]].from_pretrained(c["dir"], output_loading_info=True)
            base = auto[c.get("base_head", c["head"])].from_pretrained(c["base_dir"])
        model.eval()
        base.eval()
        file = load_file(os.path.join(c["dir"], "model.safetensors"))
        state = model.state_dict()
        base_state = base.state_dict()
        params = dict(model.named_parameters())  # tied parameters once, under their first name
        ids = torch.tensor(c["ids"], dtype=torch.long)
        kwargs = {"attention_mask": torch.tensor(c["mask"], dtype=torch.long)} if c["mask"] is not None else {}
        if c.get("token_types") is not None:
            kwargs["token_type_ids"] = torch.tensor(c["token_types"], dtype=torch.long)
        with torch.no_grad():
            logits = model(input_ids=ids, **kwargs).logits
        output_embeddings = model.get_output_embeddings()
        out["checks"][c["name"]] = {
            "class": type(model).__name__,
            "warnings": warnings_seen,
            "loading_info": {k: sorted(map(str, v)) for k, v in info.items()},
            "file_tensors": len(file),
            "not_in_model": sorted(k for k in file if k not in state),
            "different_from_file": sorted(k for k in file if k in state and not torch.equal(state[k], file[k])),
            "parameters_not_in_file": sorted(n for n in params if n not in file),
            "unchanged_from_base": sorted(n for n, p in params.items() if n in base_state and torch.equal(p.data, base_state[n])),
            "not_in_base": sorted(n for n in params if n not in base_state),
            "num_parameters": model.num_parameters(),
            # A classifier has no output embeddings to tie.
            "tied": output_embeddings is not None and output_embeddings.weight is model.get_input_embeddings().weight,
            "id2label": {str(k): v for k, v in (model.config.id2label or {}).items()},
            "pad_token_id": model.config.pad_token_id,
            "tie_word_embeddings": bool(getattr(model.config, "tie_word_embeddings", False)),
            "logits": logits.float().tolist(),
        }
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
