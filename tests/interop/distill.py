#!/usr/bin/env python3
"""Distillation: the studio's student checkpoint and loss against transformers and torch.

Usage: distill.py TEACHER_DIR INIT_STUDENT_DIR TRAINED_STUDENT_DIR INPUT.json OUT.json

INPUT.json: {"ids": [[...], ...], "labels": [[...], ...] (-100 = not a real token),
"teacher_layers": [...], "temperature": T, "alpha_ce", "alpha_clm", "alpha_cos"}.

1. INIT_STUDENT_DIR (the studio's student before training) must hold exactly what Hugging
   Face's extraction script for DistilGPT2 (examples/research_projects/distillation/scripts/
   extract.py) takes from the teacher: wte, wpe, ln_f, and blocks teacher_layers renumbered
   0..n-1. Re-done here on the teacher's state dict with torch, compared with torch.equal.
2. TRAINED_STUDENT_DIR loads with AutoModelForCausalLM (and GPT2LMHeadModel with loading info);
   its logits on `ids` are returned.
3. The distillation loss of the trained student against the teacher, computed as the
   reference distiller's CLM step does (KLDivLoss(batchmean) on log_softmax(s/T) vs
   softmax(t/T) over real tokens × T², CrossEntropyLoss on shifted labels, CosineEmbeddingLoss
   on hidden_states[-1] of real tokens), and the gradient of the weighted sum: its global norm
   over the student's parameters and two parameters' gradients in full.
"""
import sys

from _common import captured, read_json, setup, versions, write_json


def main() -> int:
    teacher_dir, init_dir, trained_dir, input_path, out_path = sys.argv[1:6]
    torch, _ = setup()
    from torch import nn
    from transformers import AutoModelForCausalLM, GPT2LMHeadModel

    inp = read_json(input_path)
    warnings_seen = []
    with captured(warnings_seen):
        teacher = GPT2LMHeadModel.from_pretrained(teacher_dir)
        init_student = AutoModelForCausalLM.from_pretrained(init_dir)
        student, info = GPT2LMHeadModel.from_pretrained(trained_dir, output_loading_info=True)
        auto = AutoModelForCausalLM.from_pretrained(trained_dir)

    # 1. Initialisation, as extract.py builds compressed_sd for gpt2.
    tsd = teacher.state_dict()
    expected = {}
    for name in ["wte.weight", "wpe.weight", "ln_f.weight", "ln_f.bias"]:
        expected[f"transformer.{name}"] = tsd[f"transformer.{name}"]
    for std_idx, teacher_idx in enumerate(inp["teacher_layers"]):
        for layer in ["ln_1", "attn.c_attn", "attn.c_proj", "ln_2", "mlp.c_fc", "mlp.c_proj"]:
            for w in ["weight", "bias"]:
                expected[f"transformer.h.{std_idx}.{layer}.{w}"] = tsd[f"transformer.h.{teacher_idx}.{layer}.{w}"]
    ssd = init_student.state_dict()
    init_report = {
        "n_layer": init_student.config.n_layer,
        "checked": len(expected),
        "missing": sorted(k for k in expected if k not in ssd),
        "different": sorted(k for k in expected if k in ssd and not torch.equal(ssd[k], expected[k])),
        # Every student parameter is accounted for (lm_head is tied to wte).
        "unchecked": sorted(k for k in ssd if k not in expected and k != "lm_head.weight"),
    }

    # 2. The trained student's logits.
    ids = torch.tensor(inp["ids"], dtype=torch.long)
    labels = torch.tensor(inp["labels"], dtype=torch.long)
    auto.eval()
    with torch.no_grad():
        logits_auto = auto(input_ids=ids).logits

    # 3. The reference distiller's loss (CLM branch; attention_mask=None as it passes for CLM).
    T = inp["temperature"]
    student.eval()  # dropout is 0 in these configs; eval() only makes that certain
    teacher.eval()
    s_out = student(input_ids=ids, output_hidden_states=True)
    with torch.no_grad():
        t_out = teacher(input_ids=ids, output_hidden_states=True)
    s_logits, t_logits = s_out.logits, t_out.logits
    attention_mask = labels != -100
    mask = attention_mask.unsqueeze(-1).expand_as(s_logits)
    s_slct = torch.masked_select(s_logits, mask).view(-1, s_logits.size(-1))
    t_slct = torch.masked_select(t_logits, mask).view(-1, s_logits.size(-1))
    loss_ce = nn.KLDivLoss(reduction="batchmean")(
        nn.functional.log_softmax(s_slct / T, dim=-1), nn.functional.softmax(t_slct / T, dim=-1)
    ) * T**2
    shift_logits = s_logits[..., :-1, :].contiguous()
    shift_labels = labels[..., 1:].contiguous()
    loss_clm = nn.CrossEntropyLoss(ignore_index=-100)(shift_logits.view(-1, shift_logits.size(-1)), shift_labels.view(-1))
    s_h, t_h = s_out.hidden_states[-1], t_out.hidden_states[-1]
    hmask = attention_mask.unsqueeze(-1).expand_as(s_h)
    dim = s_h.size(-1)
    s_h_slct = torch.masked_select(s_h, hmask).view(-1, dim)
    t_h_slct = torch.masked_select(t_h, hmask).view(-1, dim)
    target = s_h_slct.new(s_h_slct.size(0)).fill_(1)
    loss_cos = nn.CosineEmbeddingLoss(reduction="mean")(s_h_slct, t_h_slct, target)
    total = inp["alpha_ce"] * loss_ce + inp["alpha_clm"] * loss_clm + inp["alpha_cos"] * loss_cos
    total.backward()
    grads = {n: p.grad for n, p in student.named_parameters()}
    grad_norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values() if g is not None)).item()

    write_json(
        out_path,
        {
            "versions": versions(),
            "warnings": warnings_seen,
            "init": init_report,
            "class": type(auto).__name__,
            "loading_info": {k: sorted(map(str, v)) for k, v in info.items()},
            "n_layer": auto.config.n_layer,
            "num_parameters": auto.num_parameters(),
            "tied": auto.lm_head.weight.data_ptr() == auto.transformer.wte.weight.data_ptr(),
            "logits": logits_auto.float().tolist(),
            "loss": {"ce": loss_ce.item(), "clm": loss_clm.item(), "cos": loss_cos.item(), "total": total.item()},
            "grad_norm": grad_norm,
            "grad_wte": grads["transformer.wte.weight"].tolist(),
            "grad_h0_c_attn": grads["transformer.h.0.attn.c_attn.weight"].tolist(),
            "grad_none": sorted(n for n, g in grads.items() if g is None),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
