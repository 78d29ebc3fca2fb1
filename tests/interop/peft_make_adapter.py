#!/usr/bin/env python3
"""PEFT → studio: make LoRA adapters with PEFT itself, for the studio to import.

Usage: peft_make_adapter.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "ids": [[int]], "train_ids": [[int]],
            "variants": [{"name": str, "seed": int, "config": {LoraConfig kwargs}, "steps": int, "out_dir": str}]}
For each variant: get_peft_model(GPT2LMHeadModel.from_pretrained(model_dir), LoraConfig(**config));
`steps` AdamW steps (lr 1e-2) of causal-LM loss on train_ids; then save_pretrained(out_dir) and
record eval-mode logits on `ids` with the adapter and with it disabled. OUT.json maps each name
to {logits, base_logits, losses, trainable, scalings (LoRA module → scaling), warnings, files}.
"""
import os
import sys

from _common import captured, logits_of, read_json, setup, versions, write_json


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    torch, _ = setup()
    from peft import LoraConfig, get_peft_model
    from peft.tuners.lora import LoraLayer
    from transformers import GPT2LMHeadModel

    out = {"versions": versions(), "variants": {}}
    train_ids = torch.tensor(spec["train_ids"], dtype=torch.long)
    for v in spec["variants"]:
        torch.manual_seed(v["seed"])
        warnings_seen = []
        with captured(warnings_seen):
            base = GPT2LMHeadModel.from_pretrained(spec["model_dir"])
            model = get_peft_model(base, LoraConfig(**v["config"]))
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
            "logits": logits,
            "base_logits": base_logits,
            "losses": losses,
            "trainable": model.get_nb_trainable_parameters()[0],
            "scalings": {
                name: float(m.scaling["default"])
                for name, m in model.named_modules()
                if isinstance(m, LoraLayer) and "default" in m.lora_A
            },
            "warnings": warnings_seen,
            "files": sorted(os.listdir(v["out_dir"])),
        }
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
