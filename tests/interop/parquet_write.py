"""Writes Parquet files the way the Hugging Face ecosystem does, for the studio to read.

Usage: parquet_write.py OUT_DIR

Each file is written by a real writer — `datasets.Dataset.to_parquet` (how the Hub's datasets
are saved: snappy, int64 class labels, list<struct> conversations) or pyarrow.parquet with
another codec and several row groups — and OUT_DIR/expected.json holds, per file, the rows as
pyarrow reads them back (`to_pylist`), which the studio's rows must equal.
"""

import json
import os
import sys

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

TEXTS = [
    "Call me Ishmael.",
    "Some years ago—never mind how long precisely—having little or no money in my purse,",
    "Ünïcödé café, naïve 日本語 🎉",
    "",
    "It is a way I have of driving off the spleen, and regulating the circulation.",
]

CHATS = [
    [{"role": "user", "content": "Hello!"}, {"role": "assistant", "content": "Hi. How can I help?"}],
    [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
    ],
]


def main() -> None:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    expected = {}

    def save_dataset(name: str, ds: "datasets.Dataset") -> None:
        path = os.path.join(out, name)
        ds.to_parquet(path)
        expected[name] = pq.read_table(path).to_pylist()

    def save_table(name: str, table: pa.Table, **kwargs) -> None:
        path = os.path.join(out, name)
        pq.write_table(table, path, **kwargs)
        expected[name] = pq.read_table(path).to_pylist()

    # A text dataset as the Hub saves one (snappy, one row group).
    save_dataset("text.parquet", datasets.Dataset.from_dict({"text": TEXTS}))
    # GLUE-style sentence pairs with a ClassLabel: stored as int64 ids.
    features = datasets.Features(
        {
            "sentence1": datasets.Value("string"),
            "sentence2": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["not_equivalent", "equivalent"]),
            "idx": datasets.Value("int32"),
        }
    )
    save_dataset(
        "pairs.parquet",
        datasets.Dataset.from_dict(
            {
                "sentence1": ["The cat sat.", "A storm came.", "He left early.", "Prices rose."],
                "sentence2": ["A cat was sitting.", "The sun shone.", "He went away early.", "Costs fell."],
                "label": [1, 0, 1, 0],
                "idx": [0, 1, 2, 3],
            },
            features=features,
        ),
    )
    # A ClassLabel whose names are not in alphabetical order, and rows that do not read: an empty
    # text, and the id -1 `datasets` gives an unlabelled row (as GLUE's test splits have).
    sentiment = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["positive", "negative"])})
    save_dataset(
        "sentiment.parquet",
        datasets.Dataset.from_dict(
            {
                "text": ["A delight from start to finish.", "Dull and far too long.", "", "I loved every minute.", "Not worth the ticket.", "No label here."],
                "label": [0, 1, 0, 0, 1, -1],
            },
            features=sentiment,
        ),
    )
    # Chats, two of which do not read: one without an assistant reply, one with no messages.
    save_dataset(
        "chat-bad.parquet",
        datasets.Dataset.from_dict({"messages": [CHATS[0], [{"role": "user", "content": "Anyone there?"}], CHATS[1], []]}),
    )
    # Chat data: messages as list<struct<role, content>>.
    save_dataset("chat.parquet", datasets.Dataset.from_dict({"messages": CHATS}))
    # Alpaca fields, zstd, two rows per row group, with a null input.
    alpaca = pa.table(
        {
            "instruction": ["Give the plural.", "Add the numbers.", "Name a colour."],
            "input": ["whale", "2 and 3", None],
            "output": ["whales", "5", "blue"],
        }
    )
    save_table("alpaca-zstd.parquet", alpaca, compression="zstd", row_group_size=2)
    # The other codecs pyarrow writes, and no compression, on the text rows.
    for codec in ["gzip", "brotli", "lz4", "none"]:
        save_table(f"text-{codec}.parquet", pa.table({"text": TEXTS}), compression=codec, row_group_size=2)
    # A 64-bit integer too large for a float64, and a float column.
    save_table("numbers.parquet", pa.table({"text": ["a", "b"], "big": pa.array([2**60 + 1, -3], pa.int64()), "score": [0.5, 1.25]}))

    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"versions": {"datasets": datasets.__version__, "pyarrow": pa.__version__}, "files": json_safe(expected)}, f)


def json_safe(value):
    """An integer beyond float64's exact range as its decimal string, as the studio reads it."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1:
        return str(value)
    return value


if __name__ == "__main__":
    main()
