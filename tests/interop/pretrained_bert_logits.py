#!/usr/bin/env python3
"""Built-in masked LM: transformers loads public/models/studio-bert-en as it ships.

Usage: pretrained_bert_logits.py MODEL_DIR IDS.json DOCS.json K OUT.json

IDS.json is a list of equal-length rows of token ids (from the studio's tokenizer, [MASK]s
included); DOCS.json a list of texts (held-out documents). Loads MODEL_DIR with BertForMaskedLM
(output_loading_info), AutoModelForMaskedLM and AutoTokenizer, and writes OUT.json: {versions,
classes, loading_info, warnings, tied, num_parameters, dtype, mask_token_id, logits_bert,
logits_auto, slice: {nats, bytes, tokens, windows, nats_per_token, nats_per_byte}}.

The slice is scored as the model card defines it, here with AutoTokenizer and the full
AutoModelForMaskedLM forward: each document's tokens (no special tokens) in windows of
max_position_embeddings-2, each fed as [CLS] window [SEP]; for k in 0..K-1 every token at window
position i with i % K == k becomes [MASK] and the true token's nats there are summed.
"""
import sys

from _common import captured, logits_of, read_json, setup, versions, write_json


def main() -> int:
    model_dir, ids_path, docs_path, k_arg, out_path = sys.argv[1:6]
    torch, _ = setup()
    import torch.nn.functional as F
    from transformers import AutoModelForMaskedLM, AutoTokenizer, BertForMaskedLM

    ids = read_json(ids_path)
    docs = read_json(docs_path)
    K = int(k_arg)
    warnings_seen = []
    with captured(warnings_seen):
        bert, info = BertForMaskedLM.from_pretrained(model_dir, output_loading_info=True)
        auto = AutoModelForMaskedLM.from_pretrained(model_dir)
        tok = AutoTokenizer.from_pretrained(model_dir)
        logits_bert = logits_of(bert, ids)
        logits_auto = logits_of(auto, ids)

    # Outside the capture: tokenizing a whole document rightly warns that it is longer than
    # model_max_length; the windows below never feed the model more than it takes.
    width = auto.config.max_position_embeddings - 2
    nats, nbytes, ntok, nwin = 0.0, 0, 0, 0
    with torch.no_grad():
        for text in docs:
            nbytes += len(text.encode("utf-8"))
            doc = tok(text, add_special_tokens=False)["input_ids"]
            for s in range(0, len(doc), width):
                w = doc[s : s + width]
                nwin += 1
                for k in range(K):
                    at = list(range(k, len(w), K))
                    x = [tok.cls_token_id] + w + [tok.sep_token_id]
                    for i in at:
                        x[1 + i] = tok.mask_token_id
                    logp = F.log_softmax(auto(input_ids=torch.tensor([x])).logits[0].float(), -1)
                    nats -= sum(logp[1 + i, w[i]].item() for i in at)
                    ntok += len(at)

    write_json(
        out_path,
        {
            "versions": versions(),
            "classes": [type(bert).__name__, type(auto).__name__, type(tok).__name__],
            "loading_info": {k: sorted(map(str, v)) for k, v in info.items()},
            "warnings": warnings_seen,
            "tied": bert.cls.predictions.decoder.weight.data_ptr() == bert.bert.embeddings.word_embeddings.weight.data_ptr(),
            "num_parameters": bert.num_parameters(),
            "dtype": str(bert.dtype),
            "mask_token_id": tok.mask_token_id,
            "logits_bert": logits_bert,
            "logits_auto": logits_auto,
            "slice": {"nats": nats, "bytes": nbytes, "tokens": ntok, "windows": nwin, "nats_per_token": nats / ntok, "nats_per_byte": nats / nbytes},
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
