#!/usr/bin/env python3
"""Built-in pretrained model: transformers loads public/models/studio-gpt2-en as it ships.

Usage: pretrained_logits.py MODEL_DIR IDS.json DOCS.json OUT.json

IDS.json is a list of equal-length rows of token ids (from the studio's tokenizer); DOCS.json a
list of texts (the held-out evaluation slice). Loads MODEL_DIR with GPT2LMHeadModel
(output_loading_info) and AutoModelForCausalLM, tokenizes DOCS with AutoTokenizer, and writes
OUT.json: {versions, classes, loading_info, warnings, tied, num_parameters, dtype, logits_gpt2,
logits_auto, slice: {nats, bytes, tokens, nats_per_byte}}.

The slice loss is scored as scripts/pretrain.py and src/models/heldout.ts score it: each document
as [<|endoftext|>] + tokens in windows of n_positions+1 tokens with stride n_positions.
"""
import sys

from _common import captured, logits_of, read_json, setup, versions, write_json


def main() -> int:
    model_dir, ids_path, docs_path, out_path = sys.argv[1:5]
    torch, _ = setup()
    import torch.nn.functional as F
    from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2LMHeadModel

    ids = read_json(ids_path)
    docs = read_json(docs_path)
    warnings_seen = []
    with captured(warnings_seen):
        gpt2, info = GPT2LMHeadModel.from_pretrained(model_dir, output_loading_info=True)
        auto = AutoModelForCausalLM.from_pretrained(model_dir)
        tok = AutoTokenizer.from_pretrained(model_dir)
        logits_gpt2 = logits_of(gpt2, ids)
        logits_auto = logits_of(auto, ids)

    # Outside the capture: tokenizing a whole document rightly warns that it is longer than
    # model_max_length; the windows below never feed the model more than n_positions.
    n_pos = auto.config.n_positions
    eos = tok.eos_token_id
    nats, nbytes, ntok = 0.0, 0, 0
    with torch.no_grad():
        for text in docs:
            seq = [eos] + tok(text)["input_ids"]
            nbytes += len(text.encode("utf-8"))
            for s in range(0, len(seq) - 1, n_pos):
                w = torch.tensor([seq[s : s + n_pos + 1]])
                logits = auto(input_ids=w[:, :-1]).logits
                nats += F.cross_entropy(logits[0].float(), w[0, 1:], reduction="sum").item()
                ntok += w.shape[1] - 1

    write_json(
        out_path,
        {
            "versions": versions(),
            "classes": [type(gpt2).__name__, type(auto).__name__, type(tok).__name__],
            "loading_info": {k: sorted(map(str, v)) for k, v in info.items()},
            "warnings": warnings_seen,
            "tied": gpt2.lm_head.weight.data_ptr() == gpt2.transformer.wte.weight.data_ptr(),
            "num_parameters": gpt2.num_parameters(),
            "dtype": str(gpt2.dtype),
            "eos_token_id": eos,
            "logits_gpt2": logits_gpt2,
            "logits_auto": logits_auto,
            "slice": {"nats": nats, "bytes": nbytes, "tokens": ntok, "nats_per_byte": nats / nbytes},
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
