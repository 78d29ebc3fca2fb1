#!/usr/bin/env python3
"""Pretrains the studio's built-in English masked LM (a BERT-architecture encoder) from scratch.

Run through `npm run pretrain -- --model bert` (scripts/pretrain.sh makes the venv). Same text,
same held-out documents and same evaluation slice as the GPT-2 model: scripts/pretrain.py's
`documents()` and `eval_slice()` are imported, not copied. Reproducible (every random choice
is seeded) and resumable from the last checkpoint in --ckpt-dir (same flags, same result).

Tokenizer: WordPiece, lower-cased (BertNormalizer as in bert-base-uncased), trained with the
`tokenizers` library on the training documents only.

Masking (Devlin et al. 2019, section 3.1 and appendix A.1): in each training window 15% of the
real tokens (never [CLS]/[SEP]) are chosen at random; of those, 80% become [MASK], 10% a random
token and 10% stay as they are; the loss is cross-entropy at the chosen positions only.

Held-out metric (deterministic, every token scored exactly once): each document is tokenized
without special tokens and cut into windows of n_positions-2 tokens, each fed as
[CLS] window [SEP]. For k in 0..K-1 the window's tokens at positions i with i % K == k (i counted
from 0 after [CLS]) all become [MASK] (no random or kept tokens), and the nats of the true
token at those positions are summed. Reported per masked token and per UTF-8 byte of text.

Modes:
  pretrain_bert.py                 tokenizer (if missing) -> train (resume) -> export -> eval
  pretrain_bert.py --export-only   export + eval from the latest checkpoint
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time

from pretrain import HELDOUT_MOBY_CHAPTERS, HELDOUT_MOBY_EXTRA, HELDOUT_SOTU, ROOT, SLICE_CHARS, documents, eval_slice

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIALS = [PAD, UNK, CLS, SEP, MASK]  # ids 0..4


# ---------------------------------------------------------------- tokenizer

def train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.WordPiece(unk_token=UNK, continuing_subword_prefix="##", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIALS,
        continuing_subword_prefix="##",
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    tok.post_processor = processors.TemplateProcessing(
        single=f"{CLS}:0 $A:0 {SEP}:0",
        pair=f"{CLS}:0 $A:0 {SEP}:0 $B:1 {SEP}:1",
        special_tokens=[(CLS, tok.token_to_id(CLS)), (SEP, tok.token_to_id(SEP))],
    )
    return tok


def tokenizer_config(n_positions: int) -> dict:
    return {
        "added_tokens_decoder": {
            str(i): {"content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
            for i, s in enumerate(SPECIALS)
        },
        "clean_up_tokenization_spaces": True,
        "cls_token": CLS,
        "do_lower_case": True,
        "mask_token": MASK,
        "model_max_length": n_positions,
        "pad_token": PAD,
        "sep_token": SEP,
        "strip_accents": None,
        "tokenize_chinese_chars": True,
        "tokenizer_class": "BertTokenizer",
        "unk_token": UNK,
    }


def encode_plain(tok, text: str) -> list[int]:
    """Token ids without [CLS]/[SEP]."""
    return tok.encode(text, add_special_tokens=False).ids


# ---------------------------------------------------------------- masking

def bert_mask(batch, special, n_special: int, vocab: int, mask_id: int, gen, rate: float = 0.15):
    """BERT's masking of a [B, T] batch: returns (inputs, labels) with labels -100 where not chosen.

    In each row, round(rate * real) of the real (non-special) positions are chosen uniformly at
    random (at least one); of those, 80% become [MASK], 10% a random non-special token, 10% stay.
    """
    import torch

    B, T = batch.shape
    real = ~special
    n_real = real.sum(1)
    n_pick = torch.clamp((n_real.float() * rate).round().long(), min=1)
    # Choose by ranking random scores; special positions rank last and are never chosen.
    scores = torch.rand(B, T, generator=gen).masked_fill(special, 2.0)
    order = scores.argsort(1)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(T).expand(B, T).contiguous())
    chosen = (rank < n_pick[:, None]) & real
    labels = torch.where(chosen, batch, torch.full_like(batch, -100))
    u = torch.rand(B, T, generator=gen)
    random_ids = torch.randint(n_special, vocab, (B, T), generator=gen)
    inputs = batch.clone()
    inputs[chosen & (u < 0.8)] = mask_id
    swap = chosen & (u >= 0.8) & (u < 0.9)
    inputs[swap] = random_ids[swap]
    return inputs, labels


# ---------------------------------------------------------------- eval

def doc_windows(ids: list[int], width: int) -> list[list[int]]:
    return [ids[s : s + width] for s in range(0, len(ids), width)]


def evaluate(model, tok, docs: list[tuple[str, str]], n_pos: int, K: int) -> dict:
    """Masked-token loss as the module docstring defines it."""
    import torch
    import torch.nn.functional as F

    cls, sep, mask = tok.token_to_id(CLS), tok.token_to_id(SEP), tok.token_to_id(MASK)
    unk = tok.token_to_id(UNK)
    nats, ntok, nbytes, nwin, nunk = 0.0, 0, 0, 0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for _, text in docs:
            nbytes += len(text.encode("utf-8"))
            ids = encode_plain(tok, text)
            nunk += sum(1 for i in ids if i == unk)
            for w in doc_windows(ids, n_pos - 2):
                nwin += 1
                n = len(w)
                row = torch.tensor([cls] + w + [sep])
                # K copies of the window; copy k masks the tokens at positions i ≡ k (mod K).
                pos = torch.arange(n)
                x = row.repeat(K, 1)
                hit = (pos[None, :] % K) == torch.arange(K)[:, None]  # [K, n]
                x[:, 1 : n + 1][hit] = mask
                # The head only where the tokens are masked: each of the n positions once.
                hidden = model.bert(input_ids=x).last_hidden_state[:, 1 : n + 1]  # [K, n, d]
                logits = model.cls(hidden[hit]).float()  # [n, V]
                target = torch.tensor(w).expand(K, n)[hit]
                nats += F.cross_entropy(logits, target, reduction="sum").item()
                ntok += n
    if was_training:
        model.train()
    return {
        "nats": nats,
        "bytes": nbytes,
        "tokens": ntok,
        "unk_tokens": nunk,
        "windows": nwin,
        "nats_per_token": nats / ntok,
        "nats_per_byte": nats / nbytes,
    }


def unigram_baseline(tok, stream, docs: list[tuple[str, str]]) -> dict:
    """What ignoring context scores: every token predicted by its frequency in the training
    stream (add-one smoothed over the vocabulary), on the same tokens the model is scored on."""
    import torch

    counts = torch.bincount(stream.long(), minlength=tok.get_vocab_size()).double() + 1
    logp = (counts / counts.sum()).log()
    ids = torch.tensor([i for _, text in docs for i in encode_plain(tok, text)])
    nats = -logp[ids].sum().item()
    nbytes = sum(len(text.encode("utf-8")) for _, text in docs)
    return {"unigram_nats_per_token": round(nats / len(ids), 5), "unigram_nats_per_byte": round(nats / nbytes, 5)}


def fill_mask_samples(model_dir: str, cases: list[tuple[str, str, str]]) -> list[dict]:
    """Top-5 predictions for the [MASK] in each text, by transformers from the shipped folder."""
    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tk = AutoTokenizer.from_pretrained(model_dir)
    m = AutoModelForMaskedLM.from_pretrained(model_dir)
    m.eval()
    out = []
    for source, text, answer in cases:
        enc = tk(text, return_tensors="pt")
        at = (enc["input_ids"][0] == tk.mask_token_id).nonzero()[0, 0].item()
        with torch.no_grad():
            p = m(**enc).logits[0, at].float().softmax(-1)
        top = p.topk(5)
        out.append(
            {
                "source": source,
                "text": text,
                "answer": answer,
                "top5": [{"token": tk.convert_ids_to_tokens(int(i)), "p": round(float(v), 4)} for v, i in zip(top.values, top.indices)],
            }
        )
    return out


# Sentences from the held-out documents, one word replaced by [MASK]: (source, text, the word).
FILL_MASK = [
    ("moby-dick/chapter_135", "Towards thee I roll, thou all-destroying but unconquering [MASK]; to the last I grapple with thee.", "whale"),
    ("moby-dick/epilogue", "The drama's done. Why then here does any one step forth?—Because one did [MASK] the wreck.", "survive"),
    ("sotu/1863_abraham_lincoln_r", "We remain in peace and friendship with foreign [MASK].", "powers"),
    ("sotu/1962_john_f_kennedy_d", "Members of the Congress, the Constitution makes us not rivals for power but partners for [MASK].", "progress"),
    ("sotu/2000_william_j_clinton_d", "We begin the new century with over 20 million new [MASK].", "jobs"),
]


# ---------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="studio-bert-en")
    ap.add_argument("--out", default=None, help="model folder (default public/models/NAME)")
    ap.add_argument("--ckpt-dir", default=None, help="default .pretrain/NAME")
    ap.add_argument("--vocab", type=int, default=5120, help="WordPiece vocabulary incl. the 5 special tokens")
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=192)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-positions", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--mask-rate", type=float, default=0.15)
    ap.add_argument("--eval-k", type=int, default=7, help="held-out metric: windows masked in K interleaved passes (1/K of tokens each)")
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
    from transformers import BertConfig, BertForMaskedLM

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
    vocab = tok.get_vocab_size()
    cls_id, sep_id, mask_id = tok.token_to_id(CLS), tok.token_to_id(SEP), tok.token_to_id(MASK)

    # Training stream: every document's tokens followed by [SEP]; windows may span documents,
    # like RoBERTa's FULL-SENTENCES packing (no next-sentence prediction).
    cache = os.path.join(ckdir, "train_ids.pt")
    if os.path.exists(cache):
        stream = torch.load(cache)
    else:
        ids: list[int] = []
        for _, text in train_docs:
            ids.extend(encode_plain(tok, text))
            ids.append(sep_id)
        stream = torch.tensor(ids, dtype=torch.int32)
        torch.save(stream, cache)
    train_bytes = sum(len(t.encode()) for _, t in train_docs)
    log(f"train stream {stream.numel()} tokens, {train_bytes / stream.numel():.3f} bytes/token")

    torch.manual_seed(args.seed)
    config = BertConfig(
        vocab_size=vocab,
        hidden_size=args.n_embd,
        num_hidden_layers=args.n_layer,
        num_attention_heads=args.n_head,
        intermediate_size=4 * args.n_embd,
        hidden_act="gelu",
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        max_position_embeddings=args.n_positions,
        type_vocab_size=2,
        pad_token_id=tok.token_to_id(PAD),
        tie_word_embeddings=True,
    )
    model = BertForMaskedLM(config)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.98),
        eps=1e-6,
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
        for k in ("vocab", "n_layer", "n_embd", "n_head", "n_positions", "batch", "steps", "warmup", "lr", "min_lr_frac", "weight_decay", "mask_rate", "eval_k", "seed"):
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
    W = T - 2  # tokens per training window between [CLS] and [SEP]
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
            starts = torch.randint(0, stream.numel() - W, (args.batch,), generator=gen)
            spans = torch.stack([stream[s : s + W] for s in starts.tolist()]).long()
            batch = torch.cat([torch.full((args.batch, 1), cls_id), spans, torch.full((args.batch, 1), sep_id)], 1)
            special = (batch == cls_id) | (batch == sep_id)
            inputs, labels = bert_mask(batch, special, len(SPECIALS), vocab, mask_id, gen, args.mask_rate)
            # The MLM head acts on each position alone, so it is run at the chosen positions only:
            # the same loss as BertForMaskedLM(labels=…), without the 85% of logits it ignores.
            chosen = labels != -100
            hidden = model.bert(input_ids=inputs).last_hidden_state
            loss = torch.nn.functional.cross_entropy(model.cls(hidden[chosen]), labels[chosen])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            state["step"] += 1
            state["tokens_seen"] += args.batch * T
            seg_tok += args.batch * T
            if state["step"] % 50 == 0:
                el = time.time() - seg_t0
                log(f"step {state['step']}/{args.steps} masked-token loss {loss.item():.4f} lr {lr_at(step):.2e} {seg_tok / el:.0f} tok/s")
            if state["step"] % args.eval_every == 0 or state["step"] == last_step:
                ev = evaluate(model, tok, slice_docs, T, args.eval_k)
                state["history"].append(
                    {"step": state["step"], "tokens_seen": state["tokens_seen"], "slice_nats_per_token": ev["nats_per_token"], "slice_nats_per_byte": ev["nats_per_byte"], "train_loss": loss.item()}
                )
                log(f"eval step {state['step']}: slice {ev['nats_per_token']:.4f} nats/masked token, {ev['nats_per_byte']:.4f} nats/byte")
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
                log(f"stopping at step {state['step']}: --max-minutes reached, {state['tokens_seen'] / state['train_seconds']:.0f} tok/s")
                break
            if now - seg_t0 > 120:
                seg_t0, seg_tok = now, 0

    if args.no_export:
        return 0
    export(args, model, config, tok, state, run_args, stream, train_docs, held_docs, slice_docs, train_bytes, nparams, out, ckdir, log)
    return 0


def export(args, model, config, tok, state, run_args, stream, train_docs, held_docs, slice_docs, train_bytes, nparams, out, ckdir, log) -> None:
    from transformers import AutoModelForMaskedLM

    T = args.n_positions
    K = args.eval_k
    model.eval()
    os.makedirs(out, exist_ok=True)
    # save_pretrained writes config.json (architectures: BertForMaskedLM) and model.safetensors
    # without the decoder, which is tied to the word embeddings (its bias is cls.predictions.bias).
    model.save_pretrained(out)
    os.chmod(os.path.join(out, "model.safetensors"), 0o644)
    tok.save(os.path.join(out, "tokenizer.json"))
    # BertTokenizer (the slow one) reads vocab.txt: one token per line, in id order.
    by_id = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    assert [i for _, i in by_id] == list(range(len(by_id)))
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.writelines(f"{t}\n" for t, _ in by_id)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config(T), f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "special_tokens_map.json"), "w") as f:
        json.dump({"cls_token": CLS, "mask_token": MASK, "pad_token": PAD, "sep_token": SEP, "unk_token": UNK}, f, indent=2)
        f.write("\n")

    # Reload from the folder as it ships, so the figures describe the shipped files.
    shipped = AutoModelForMaskedLM.from_pretrained(out)
    shipped.eval()
    ev_slice = evaluate(shipped, tok, slice_docs, T, K)
    ev_full = evaluate(shipped, tok, held_docs, T, K)
    log(f"held-out: full {ev_full['nats_per_token']:.4f} nats/masked token, {ev_full['nats_per_byte']:.4f} nats/byte; slice {ev_slice['nats_per_token']:.4f}, {ev_slice['nats_per_byte']:.4f}")
    samples = fill_mask_samples(out, FILL_MASK)

    secs = state["train_seconds"]
    method = (
        f"each document tokenized without special tokens and cut into windows of {T - 2} tokens, each fed as [CLS] window [SEP]; "
        f"for k in 0..{K - 1} the tokens at window positions i (from 0 after [CLS]) with i mod {K} = k all become [MASK] and the nats "
        f"of the true token there are summed, so every token is masked and scored exactly once; total nats / tokens, and / UTF-8 bytes"
    )
    figures = lambda ev: {  # noqa: E731
        "pytorch_nats_per_token": round(ev["nats_per_token"], 5),
        "pytorch_nats_per_byte": round(ev["nats_per_byte"], 5),
        "bytes": ev["bytes"],
        "tokens": ev["tokens"],
        "unk_tokens": ev["unk_tokens"],
        "windows": ev["windows"],
    }
    evaljs = {
        "model": args.name,
        "unit": "nats per masked token, and nats per byte of UTF-8 text",
        "method": method,
        "eval_k": K,
        "heldout": {
            "moby_dick": [f"chapter_{i}" for i in HELDOUT_MOBY_CHAPTERS] + HELDOUT_MOBY_EXTRA,
            "sotu": HELDOUT_SOTU,
            **figures(ev_full),
            **unigram_baseline(tok, stream, held_docs),
        },
        "slice": {
            "definition": f"the first {SLICE_CHARS} characters of each held-out document, in the order above (Moby-Dick then SOTU)",
            "chars_per_document": SLICE_CHARS,
            "sha256": hashlib.sha256("\0".join(t for _, t in slice_docs).encode("utf-8")).hexdigest(),
            **figures(ev_slice),
            **unigram_baseline(tok, stream, slice_docs),
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
        "fill_mask": samples,
    }
    with open(os.path.join(ckdir, "pytorch_eval.json"), "w") as f:
        json.dump(evaljs, f, indent=2, ensure_ascii=False)
        f.write("\n")
    log(f"wrote {out} and {ckdir}/pytorch_eval.json")


if __name__ == "__main__":
    sys.exit(main())
