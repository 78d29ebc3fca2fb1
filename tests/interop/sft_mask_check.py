#!/usr/bin/env python3
"""What TRL's SFTTrainer trains on for prompt-completion data, for the Node side to compare.

Usage: sft_mask_check.py SPEC.json OUT.json

SPEC: {"model_dir": str, "max_length": int, "examples": [{"prompt": str, "completion": str}, ...]}.
Builds a real trl.SFTTrainer on the model folder (its tokenizer read by AutoTokenizer) with the
examples as a prompt-completion dataset and default settings (completion_only_loss is then on),
and writes, per example, the input_ids and labels of its prepared train dataset (TRL folds the
completion mask into the labels there, -100 on the prompt) and the labels its data collator
makes of that row. OUT: {"versions", "completion_only_loss", "rows": [...]}.
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
    from trl import SFTConfig, SFTTrainer

    datasets.disable_progress_bars()
    tokenizer = transformers.AutoTokenizer.from_pretrained(spec["model_dir"])
    model = transformers.AutoModelForCausalLM.from_pretrained(spec["model_dir"])
    train = datasets.Dataset.from_list(spec["examples"])
    with tempfile.TemporaryDirectory() as out_dir:
        args = SFTConfig(output_dir=out_dir, max_length=spec["max_length"], report_to=[], use_cpu=True)
        trainer = SFTTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
        prepared = trainer.train_dataset
        rows = []
        for i in range(len(prepared)):
            row = prepared[i]
            batch = trainer.data_collator([{k: row[k] for k in ("input_ids", "labels")}])
            rows.append({
                "input_ids": row["input_ids"],
                "labels": row["labels"],
                "collated_labels": batch["labels"][0].tolist(),
            })
    write_json(out_path, {
        "versions": {"trl": trl.__version__, "transformers": transformers.__version__},
        "completion_only_loss": trainer.completion_only_loss,
        "rows": rows,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
