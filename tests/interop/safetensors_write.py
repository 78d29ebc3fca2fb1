#!/usr/bin/env python3
"""The reference safetensors writer, for byte-for-byte comparison with the studio's writer.

Usage: safetensors_write.py SPEC.json OUT_DIR

SPEC.json: {
  "files": [{"file": str, "metadata": {str: str} | null,
             "tensors": [{"name": str, "shape": [int], "f32le_base64": str}]}],
  "resave": [{"file": str, "source": str}],          # load_file(source) → save_file(metadata={"format": "pt"})
  "save_pretrained": [{"dir": str, "model_dir": str}] # GPT2LMHeadModel.from_pretrained(model_dir).save_pretrained(dir)
}
Tensors are built from their little-endian float32 bytes (so NaN payloads, -0 and subnormals
survive) and written with safetensors.torch.save_file in the order given.
"""
import base64
import os
import sys

from _common import read_json, setup


def main() -> int:
    spec_path, out_dir = sys.argv[1:3]
    spec = read_json(spec_path)
    torch, _ = setup()
    from safetensors.torch import load_file, save_file

    def tensor(entry):
        raw = bytearray(base64.b64decode(entry["f32le_base64"]))
        shape = tuple(entry["shape"])
        if len(raw) == 0:
            return torch.empty(shape, dtype=torch.float32)
        if sys.byteorder != "little":
            raise SystemExit("this check assumes a little-endian host")
        return torch.frombuffer(raw, dtype=torch.float32).reshape(shape).clone()

    for f in spec.get("files", []):
        tensors = {t["name"]: tensor(t) for t in f["tensors"]}
        save_file(tensors, os.path.join(out_dir, f["file"]), metadata=f["metadata"])

    for r in spec.get("resave", []):
        save_file(load_file(r["source"]), os.path.join(out_dir, r["file"]), metadata={"format": "pt"})

    if spec.get("save_pretrained"):
        from transformers import GPT2LMHeadModel

        for s in spec["save_pretrained"]:
            GPT2LMHeadModel.from_pretrained(s["model_dir"]).save_pretrained(os.path.join(out_dir, s["dir"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
