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
import contextlib
import io
import os
import sys

from _common import captured, logits_of, read_json, setup, versions, write_json

RESOLVED = ("num_virtual_tokens", "token_dim", "num_layers", "num_attention_heads", "num_transformer_submodules",
            "encoder_hidden_size", "prefix_projection")


def counted(model):
    trainable, total = model.get_nb_trainable_parameters()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        model.print_trainable_parameters()
    return {
        "trainable": trainable,
        "all": total,
        "printed": printed.getvalue().strip(),
        "tensors": [[n, list(p.shape)] for n, p in model.named_parameters() if p.requires_grad],
    }


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    torch, _ = setup()
    from peft import PrefixTuningConfig, get_peft_model
    from transformers import GPT2LMHeadModel

    out = {"versions": versions(), "variants": {}, "counts": {}}
    train_ids = torch.tensor(spec["train_ids"], dtype=torch.long)
    for v in spec["variants"]:
        torch.manual_seed(v["seed"])
        warnings_seen = []
        with captured(warnings_seen):
            base = GPT2LMHeadModel.from_pretrained(spec["model_dir"])
            model = get_peft_model(base, PrefixTuningConfig(**v["config"]))
            counts = counted(model)
            losses = []
            if v["steps"]:
                model.train()
                trainable = [p for p in model.parameters() if p.requires_grad]
                opt = torch.optim.AdamW(trainable, lr=1e-2)
                for _ in range(v["steps"]):
                    loss = model(input_ids=train_ids, labels=train_ids).loss
                    loss.backward()
                    loss = loss.detach()
                    opt.step()
                    opt.zero_grad()
                    losses.append(loss.item())
            logits = logits_of(model, spec["ids"])
            with model.disable_adapter():
                base_logits = logits_of(model, spec["ids"])
            model.save_pretrained(v["out_dir"])
        out["variants"][v["name"]] = {
            **counts,
            "logits": logits,
            "base_logits": base_logits,
            "losses": losses,
            "warnings": warnings_seen,
            "files": sorted(os.listdir(v["out_dir"])),
        }

    for c in spec["counts"]:
        warnings_seen = []
        with captured(warnings_seen):
            model = get_peft_model(GPT2LMHeadModel.from_pretrained(spec["model_dir"]), PrefixTuningConfig(**c["config"]))
        resolved = model.peft_config["default"]
        out["counts"][c["name"]] = {
            **counted(model),
            "resolved": {k: getattr(resolved, k) for k in RESOLVED},
            "warnings": warnings_seen,
        }
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
