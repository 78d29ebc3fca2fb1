#!/usr/bin/env python3
"""How transformers renders chats and what TRL's SFTTrainer trains on for them, for the Node side.

Usage: chat_template_check.py SPEC.json OUT.json

SPEC: {"tokenizer_dir": str, "model_dir": str, "max_length": int, "chats": [[{role, content, ...}, ...], ...],
       "tool_chat": {"messages": [...], "tools": [...]}, "save_dir": str}.
Loads the tokenizer folder with AutoTokenizer and, per chat, renders it with
tokenizer.apply_chat_template(chat, tokenize=False) with and without the generation prompt, and the tool chat with its tools. Then
builds a real trl.SFTTrainer with assistant_only_loss=True on the chats as a conversational
("messages") dataset, and writes per kept row its input_ids and labels (-100 outside the
assistant's tokens) and the labels its data collator makes of it. Finally saves the tokenizer
with save_pretrained into save_dir (transformers 5 writes the template to chat_template.jinja).
OUT: {"versions", "renders": [{"plain", "prompt"}], "tool_render": str, "swapped_template": bool, "rows": [...]}.
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
    tokenizer = transformers.AutoTokenizer.from_pretrained(spec["tokenizer_dir"])
    renders = [
        {
            "plain": tokenizer.apply_chat_template(chat, tokenize=False),
            "prompt": tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True),
        }
        for chat in spec["chats"]
    ]
    tool_render = tokenizer.apply_chat_template(spec["tool_chat"]["messages"], tools=spec["tool_chat"]["tools"], tokenize=False)
    model = transformers.AutoModelForCausalLM.from_pretrained(spec["model_dir"])
    train = datasets.Dataset.from_list([{"messages": chat} for chat in spec["chats"]])
    with tempfile.TemporaryDirectory() as out_dir:
        args = SFTConfig(
            output_dir=out_dir, max_length=spec["max_length"], assistant_only_loss=True, report_to=[], use_cpu=True
        )
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
    tokenizer.save_pretrained(spec["save_dir"])
    write_json(out_path, {
        "versions": {"trl": trl.__version__, "transformers": transformers.__version__},
        "renders": renders,
        "tool_render": tool_render,
        # TRL swaps in its own marked copy of a template it knows that has no generation markers.
        "swapped_template": trainer.chat_template is not None,
        "rows": rows,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
