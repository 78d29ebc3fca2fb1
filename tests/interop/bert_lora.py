#!/usr/bin/env python3
"""BERT-family masked LMs: transformers makes the base model folders; PEFT loads the studio's LoRA on BERT.

Usage: bert_lora.py make SPEC.json OUT.json
       bert_lora.py check SPEC.json OUT.json

make — SPEC.json: {"folders": [{"dir": str, "config_class": "BertConfig" | "RobertaConfig" |
"DistilBertConfig", "config": {...its kwargs}, "tokenizer": "wordpiece" | "byte-bpe",
"tokenizer_class": str, "vocab": [str] (wordpiece), "bpe_vocab_size": int (byte-bpe), "seed": int,
"texts": [str]}]}. For each folder: builds the model type's tokenizer (tokenizer_for), then
AutoModelForMaskedLM.from_config(config with vocab_size = len(tokenizer) unless given) with
torch.manual_seed(seed), redraws its parameters at a scale where attention and the FFN matter
(_common.randomise_weights; transformers' own init, std 0.02, leaves the logits nearly uniform),
saves it with save_pretrained (safetensors, float32) and the tokenizer next to it
(tokenizer.json + tokenizer_config.json). OUT.json: {versions, folders: [{class, files,
saved_dtypes, vocab_size, encoded: the tokenizer's input_ids for each text, warnings}]}.

check — SPEC.json: {"model_dir": str, "adapter_dir": str, "merged_dir": str, "ids": [[int]],
"mask": [[0|1]]}. Loads the model with PeftModel.from_pretrained(BertForMaskedLM, adapter_dir)
and reports, as peft_check.py does for GPT-2: the wrapper class, every warning, where each file
tensor landed, the LoRA modules, the keys PEFT would save, what re-placing the file's tensors
leaves missing or unexpected, the parsed config; then eval-mode logits on `ids` under the
attention `mask` with the adapter, with it disabled, and of merge_and_unload(); and the logits
of the studio's merged checkpoint in merged_dir loaded as a plain BertForMaskedLM.
"""
import os
import sys
import tempfile

from _common import captured, jsonable, lora_landed, lora_modules, randomise_weights, read_json, setup, versions, write_json


def tokenizer_for(spec, tmp):
    """The tokenizer the model type's checkpoints come with, built by transformers: BERT's and
    DistilBERT's WordPiece from `vocab` written as vocab.txt; RoBERTa's byte-level BPE with
    <s> <pad> </s> <unk> <mask> first (the ids RobertaConfig expects), its merges learned
    from `texts` by the tokenizers library up to `bpe_vocab_size`."""
    import transformers

    if spec["tokenizer"] == "wordpiece":
        vocab_file = os.path.join(tmp, "vocab.txt")
        with open(vocab_file, "w", encoding="utf-8") as f:
            f.write("\n".join(spec["vocab"]) + "\n")
        return getattr(transformers, spec["tokenizer_class"])(vocab_file)
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        spec["texts"],
        vocab_size=spec["bpe_vocab_size"],
        min_frequency=1,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        show_progress=False,
    )
    bpe.save_model(tmp)
    return getattr(transformers, spec["tokenizer_class"])(vocab=os.path.join(tmp, "vocab.json"), merges=os.path.join(tmp, "merges.txt"))


def make_folder(torch, transformers, spec):
    from safetensors import safe_open
    from transformers import AutoModelForMaskedLM

    warnings_seen = []
    with captured(warnings_seen):
        with tempfile.TemporaryDirectory() as tmp:
            tokenizer = tokenizer_for(spec, tmp)
        config = getattr(transformers, spec["config_class"])(**{"vocab_size": len(tokenizer), **spec["config"]})
        torch.manual_seed(spec["seed"])
        model = AutoModelForMaskedLM.from_config(config, dtype=torch.float32)
        randomise_weights(model, torch, spec["seed"] + 1000)
        model.save_pretrained(spec["dir"])
        tokenizer.save_pretrained(spec["dir"])
        encoded = [tokenizer(t)["input_ids"] for t in spec["texts"]]
    with safe_open(os.path.join(spec["dir"], "model.safetensors"), framework="pt") as f:
        dtypes = sorted({f.get_slice(k).get_dtype() for k in f.keys()})
    return {
        "class": type(model).__name__,
        "files": sorted(os.listdir(spec["dir"])),
        "saved_dtypes": dtypes,
        "vocab_size": len(tokenizer),
        "encoded": encoded,
        "warnings": warnings_seen,
    }


def make(spec):
    torch, transformers = setup()
    return {"versions": versions(), "folders": [make_folder(torch, transformers, f) for f in spec["folders"]]}


def check(spec):
    torch, _ = setup()
    from peft import PeftModel
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

    landed = lora_landed(model, file_tensors)
    modules = lora_modules(model, file_tensors)
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
        "lora_modules": modules,
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
