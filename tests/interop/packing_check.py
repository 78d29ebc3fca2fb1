#!/usr/bin/env python3
"""What TRL makes of a dataset when it packs it, for the Node side to compare with its rows.

Usage: packing_check.py SPEC.json OUT.json

SPEC: {"model_dir": str, "max_length": int, "texts": [str, ...],
       "examples": [{"prompt": str, "completion": str}, ...], "ids": [[int, ...], ...]}.
- "packed_text": a real trl.SFTTrainer with packing=True, packing_strategy="wrapped" (concatenate,
  then cut into max_length rows, as run_clm's group_texts) on the texts as a language-modelling
  dataset: its prepared rows' input_ids.
- "packed_prompt_completion": the same for the prompt-completion examples (completion-only loss
  on, its default): input_ids and labels (-100 on the prompt).
- "windows": trl.pack_dataset(strategy="wrapped") applied to each of `ids` alone: the
  consecutive windows of each sequence.
OUT: {"versions", "packed_text", "packed_prompt_completion", "windows"}.
"""
import sys
import tempfile

from _common import read_json, setup, write_json


def main() -> int:
    spec_path, out_path = sys.argv[1], sys.argv[2]
    spec = read_json(spec_path)
    torch, transformers = setup()
    import datasets
    import trl
    from trl import SFTConfig, SFTTrainer, pack_dataset

    datasets.disable_progress_bars()
    tokenizer = transformers.AutoTokenizer.from_pretrained(spec["model_dir"])
    model = transformers.AutoModelForCausalLM.from_pretrained(spec["model_dir"])

    def packed(train):
        with tempfile.TemporaryDirectory() as out_dir:
            args = SFTConfig(output_dir=out_dir, max_length=spec["max_length"], packing=True, packing_strategy="wrapped", report_to=[], use_cpu=True)
            trainer = SFTTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
            rows = trainer.train_dataset
            return [{"input_ids": rows[i]["input_ids"], "labels": rows[i]["labels"]} for i in range(len(rows))]

    packed_text = packed(datasets.Dataset.from_list([{"text": t} for t in spec["texts"]]))
    packed_pc = packed(datasets.Dataset.from_list(spec["examples"]))
    windows = []
    for ids in spec["ids"]:
        rows = pack_dataset(datasets.Dataset.from_dict({"input_ids": [ids]}), spec["max_length"], strategy="wrapped")
        windows.append([rows[i]["input_ids"] for i in range(len(rows))])
    write_json(out_path, {
        "versions": {"trl": trl.__version__, "transformers": transformers.__version__, "datasets": datasets.__version__},
        "packed_text": [r["input_ids"] for r in packed_text],
        "packed_prompt_completion": packed_pc,
        "windows": windows,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
