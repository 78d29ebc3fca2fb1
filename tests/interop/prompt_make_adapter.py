#!/usr/bin/env python3
"""PEFT → studio: make prompt-tuning and P-tuning adapters with PEFT itself, for the studio to
import.

Usage: prompt_make_adapter.py SPEC.json OUT.json

SPEC.json: {"model_dir": str, "ids": [[int]], "train_ids": [[int]],
            "variants": [{"name": str, "seed": int, "peft_type": "PROMPT_TUNING" | "P_TUNING",
                          "config": {config kwargs}, "steps": int, "lr": float, "out_dir": str}]}
For each variant: get_peft_model(GPT2LMHeadModel.from_pretrained(model_dir), Config(**config))
(a TEXT init reads the tokenizer from model_dir); `steps` AdamW steps of causal-LM loss on
train_ids (labels = ids, so PEFT pads the labels over the virtual tokens itself); then eval mode,
save_pretrained(out_dir), and eval-mode logits on `ids` of the trained model (P-tuning: through
its encoder), with the adapter disabled, and of the saved folder reloaded by
PeftModel.from_pretrained. OUT.json maps each name to {logits, reloaded_logits, base_logits,
losses, trainable, saved_prompt, warnings, files}.
"""
import os
import sys

from _common import captured, logits_of, read_json, setup, versions, write_json


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    spec = read_json(spec_path)
    torch, _ = setup()
    from peft import PeftModel, PromptEncoderConfig, PromptTuningConfig, get_peft_model
    from safetensors.torch import load_file
    from transformers import GPT2LMHeadModel

    configs = {"PROMPT_TUNING": PromptTuningConfig, "P_TUNING": PromptEncoderConfig}
    out = {"versions": versions(), "variants": {}}
    train_ids = torch.tensor(spec["train_ids"], dtype=torch.long)
    for v in spec["variants"]:
        torch.manual_seed(v["seed"])
        kwargs = dict(v["config"])
        if kwargs.get("prompt_tuning_init") == "TEXT":
            kwargs["tokenizer_name_or_path"] = spec["model_dir"]
        warnings_seen = []
        with captured(warnings_seen):
            model = get_peft_model(GPT2LMHeadModel.from_pretrained(spec["model_dir"]), configs[v["peft_type"]](**kwargs))
            losses = []
            if v["steps"]:
                model.train()
                opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=v["lr"])
                for _ in range(v["steps"]):
                    loss = model(input_ids=train_ids, labels=train_ids).loss
                    loss.backward()
                    opt.step()
                    opt.zero_grad()
                    losses.append(loss.detach().item())
            # Eval mode before saving: PEFT saves whatever the encoder outputs in the current mode.
            model.eval()
            logits = logits_of(model, spec["ids"])
            with model.disable_adapter():
                base_logits = logits_of(model, spec["ids"])
            model.save_pretrained(v["out_dir"])
            reloaded = PeftModel.from_pretrained(GPT2LMHeadModel.from_pretrained(spec["model_dir"]), v["out_dir"])
            reloaded_logits = logits_of(reloaded, spec["ids"])
        out["variants"][v["name"]] = {
            "logits": logits,
            "reloaded_logits": reloaded_logits,
            "base_logits": base_logits,
            "losses": losses,
            "trainable": model.get_nb_trainable_parameters()[0],
            "saved_prompt": load_file(os.path.join(v["out_dir"], "adapter_model.safetensors"))["prompt_embeddings"].tolist(),
            "warnings": warnings_seen,
            "files": sorted(os.listdir(v["out_dir"])),
        }
    write_json(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
