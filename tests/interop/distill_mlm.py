#!/usr/bin/env python3
"""Distillation from a BERT teacher: the studio's student checkpoint and masked-LM loss against
transformers and torch.

Usage: distill_mlm.py SPEC.json OUT.json

SPEC.json: {"teacher_dir", "init_dir", "trained_dir": str, "teacher_layers": [int],
"ids": [[int]] (the masked input both models read), "attention_mask": [[0|1]],
"mlm_labels": [[int]] (-100 where nothing is predicted), "logit_ids", "logit_mask": [[int]]
(an unmasked input for the logits comparison), "temperature": T, "alpha_ce", "alpha_mlm",
"alpha_cos"}.

1. init_dir (the studio's student before training) must hold exactly what Hugging Face's
   extraction for a masked-LM teacher of the same architecture takes from the teacher's state
   dict (examples/research_projects/distillation/scripts/extract.py, as for RoBERTa, with
   --vocab_transform; extract_distilbert.py takes the same tensors for BERT under DistilBERT's
   names): the word, position and token type embeddings and their LayerNorm, blocks
   teacher_layers renumbered 0..n-1, and the MLM head (decoder weight and bias, transform dense
   and LayerNorm). Re-done here on the teacher's state dict with torch, compared with torch.equal.
2. trained_dir loads with AutoModelForMaskedLM (and BertForMaskedLM with loading info); its
   logits on logit_ids under logit_mask are returned.
3. The distillation loss of the trained student against the teacher on the masked batch, as the
   reference distiller's MLM step computes it: KLDivLoss(batchmean) of log_softmax(s/T) against
   softmax(t/T) over the attention mask (restrict_ce_to_mask off, its default) × T², and over the
   masked positions (restrict_ce_to_mask on); CrossEntropyLoss on the MLM labels;
   CosineEmbeddingLoss on hidden_states[-1] over the attention mask; and the gradient of the
   weighted sum: its global norm over the student's parameters and two parameters' in full.
"""
import sys

from _common import captured, read_json, setup, versions, write_json


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    torch, _ = setup()
    from torch import nn
    from transformers import AutoModelForMaskedLM, BertForMaskedLM

    inp = read_json(spec_path)
    warnings_seen = []
    with captured(warnings_seen):
        teacher = BertForMaskedLM.from_pretrained(inp["teacher_dir"])
        init_student = AutoModelForMaskedLM.from_pretrained(inp["init_dir"])
        student, info = BertForMaskedLM.from_pretrained(inp["trained_dir"], output_loading_info=True)
        auto = AutoModelForMaskedLM.from_pretrained(inp["trained_dir"])

    # 1. Initialisation, as the extraction builds compressed_sd for a masked-LM teacher.
    prefix = "bert"
    tsd = teacher.state_dict()
    expected = {}
    for w in ["word_embeddings", "position_embeddings", "token_type_embeddings"]:
        expected[f"{prefix}.embeddings.{w}.weight"] = tsd[f"{prefix}.embeddings.{w}.weight"]
    for w in ["weight", "bias"]:
        expected[f"{prefix}.embeddings.LayerNorm.{w}"] = tsd[f"{prefix}.embeddings.LayerNorm.{w}"]
    for std_idx, teacher_idx in enumerate(inp["teacher_layers"]):
        for layer in [
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
            "attention.output.LayerNorm",
            "intermediate.dense",
            "output.dense",
            "output.LayerNorm",
        ]:
            for w in ["weight", "bias"]:
                expected[f"{prefix}.encoder.layer.{std_idx}.{layer}.{w}"] = tsd[f"{prefix}.encoder.layer.{teacher_idx}.{layer}.{w}"]
    expected["cls.predictions.decoder.weight"] = tsd["cls.predictions.decoder.weight"]
    expected["cls.predictions.bias"] = tsd["cls.predictions.bias"]
    for w in ["weight", "bias"]:
        expected[f"cls.predictions.transform.dense.{w}"] = tsd[f"cls.predictions.transform.dense.{w}"]
        expected[f"cls.predictions.transform.LayerNorm.{w}"] = tsd[f"cls.predictions.transform.LayerNorm.{w}"]
    ssd = init_student.state_dict()
    init_report = {
        "class": type(init_student).__name__,
        "num_hidden_layers": init_student.config.num_hidden_layers,
        "checked": len(expected),
        "missing": sorted(k for k in expected if k not in ssd),
        "different": sorted(k for k in expected if k in ssd and not torch.equal(ssd[k], expected[k])),
        # Every student tensor is accounted for (the decoder's bias is the head's bias, tied).
        "unchecked": sorted(k for k in ssd if k not in expected and k != "cls.predictions.decoder.bias"),
        "decoder_bias_is_head_bias": torch.equal(ssd["cls.predictions.decoder.bias"], ssd["cls.predictions.bias"]),
    }

    # 2. The trained student's logits on an unmasked, padded input.
    auto.eval()
    with torch.no_grad():
        logits_auto = auto(
            input_ids=torch.tensor(inp["logit_ids"], dtype=torch.long),
            attention_mask=torch.tensor(inp["logit_mask"], dtype=torch.long),
        ).logits

    # 3. The reference distiller's MLM step on the masked batch.
    T = inp["temperature"]
    ids = torch.tensor(inp["ids"], dtype=torch.long)
    attention_mask = torch.tensor(inp["attention_mask"], dtype=torch.long)
    lm_labels = torch.tensor(inp["mlm_labels"], dtype=torch.long)
    student.train()  # dropout is 0 in these configs, as the studio runs it
    teacher.eval()
    s_out = student(input_ids=ids, attention_mask=attention_mask, output_hidden_states=True)
    with torch.no_grad():
        t_out = teacher(input_ids=ids, attention_mask=attention_mask, output_hidden_states=True)
    s_logits, t_logits = s_out.logits, t_out.logits

    def soft_target(mask):
        mask = mask.unsqueeze(-1).expand_as(s_logits)
        s_slct = torch.masked_select(s_logits, mask).view(-1, s_logits.size(-1))
        t_slct = torch.masked_select(t_logits, mask).view(-1, s_logits.size(-1))
        return nn.KLDivLoss(reduction="batchmean")(
            nn.functional.log_softmax(s_slct / T, dim=-1), nn.functional.softmax(t_slct / T, dim=-1)
        ) * T**2

    loss_ce = soft_target(attention_mask.bool())
    with torch.no_grad():
        loss_ce_restricted = soft_target(lm_labels > -1)
    loss_mlm = nn.CrossEntropyLoss(ignore_index=-100)(s_logits.view(-1, s_logits.size(-1)), lm_labels.view(-1))
    s_h, t_h = s_out.hidden_states[-1], t_out.hidden_states[-1]
    hmask = attention_mask.bool().unsqueeze(-1).expand_as(s_h)
    dim = s_h.size(-1)
    s_h_slct = torch.masked_select(s_h, hmask).view(-1, dim)
    t_h_slct = torch.masked_select(t_h, hmask).view(-1, dim)
    target = s_h_slct.new(s_h_slct.size(0)).fill_(1)
    loss_cos = nn.CosineEmbeddingLoss(reduction="mean")(s_h_slct, t_h_slct, target)
    total = inp["alpha_ce"] * loss_ce + inp["alpha_mlm"] * loss_mlm + inp["alpha_cos"] * loss_cos
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
            "num_hidden_layers": auto.config.num_hidden_layers,
            "num_parameters": auto.num_parameters(),
            "tied": auto.cls.predictions.decoder.weight.data_ptr() == auto.bert.embeddings.word_embeddings.weight.data_ptr(),
            "logits": logits_auto.float().tolist(),
            "loss": {
                "ce": loss_ce.item(),
                "ce_restricted": loss_ce_restricted.item(),
                "mlm": loss_mlm.item(),
                "cos": loss_cos.item(),
                "total": total.item(),
            },
            "grad_norm": grad_norm,
            "grad_word_embeddings": grads["bert.embeddings.word_embeddings.weight"].tolist(),
            "grad_l0_query": grads["bert.encoder.layer.0.attention.self.query.weight"].tolist(),
            "grad_none": sorted(n for n, g in grads.items() if g is None),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
