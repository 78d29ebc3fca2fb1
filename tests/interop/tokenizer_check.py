#!/usr/bin/env python3
"""Check that Python's Hugging Face stack tokenizes like the studio does.

Usage: tokenizer_check.py FOLDER CASES.json [--roundtrip]

FOLDER holds tokenizer.json and tokenizer_config.json as the studio writes them; CASES.json is a
list of {"text": str, "ids": [int, ...]} produced by the studio's JS tokenizer
(src/tokenize/tokenizer.ts, i.e. @huggingface/tokenizers with add_special_tokens=True).
Both `tokenizers.Tokenizer.from_file` and `transformers.AutoTokenizer.from_pretrained` must give
exactly those ids; with --roundtrip, decoding the ids must also give the text back (true for the
built-in byte-level tokenizer, not for every tokenizer). Exits 1 listing every mismatch.
"""
import argparse
import json
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder")
    parser.add_argument("cases")
    parser.add_argument("--roundtrip", action="store_true", help="also require decode(ids) == text")
    args = parser.parse_args()

    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    with open(args.cases, encoding="utf-8") as f:
        cases = json.load(f)
    if not isinstance(cases, list) or not cases:
        print(f"FAIL {args.cases}: expected a non-empty JSON list of {{text, ids}}", file=sys.stderr)
        return 1

    raw = Tokenizer.from_file(os.path.join(args.folder, "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(args.folder)
    failures = []
    for i, case in enumerate(cases):
        text, expected = case["text"], case["ids"]
        got = {
            "tokenizers": raw.encode(text, add_special_tokens=True).ids,
            "transformers": auto(text, add_special_tokens=True)["input_ids"],
        }
        for who, ids in got.items():
            if ids != expected:
                failures.append(f"case {i} {text!r}: {who} gave {ids}, the studio gave {expected}")
        if args.roundtrip:
            decoded = {
                "tokenizers": raw.decode(expected, skip_special_tokens=False),
                "transformers": auto.decode(expected, skip_special_tokens=False),
            }
            for who, back in decoded.items():
                if back != text:
                    failures.append(f"case {i} {text!r}: {who} decoded the ids to {back!r}")

    if failures:
        print(f"FAIL {len(failures)} mismatch(es) for {args.folder}:", file=sys.stderr)
        for line in failures:
            print("  " + line, file=sys.stderr)
        return 1
    print(f"OK {len(cases)} cases: tokenizers and transformers ({type(auto).__name__}) match the studio's ids")
    return 0


if __name__ == "__main__":
    sys.exit(main())
