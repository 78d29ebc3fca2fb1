#!/usr/bin/env python3
"""Studio sequence classifiers loaded as the Python stack loads them, one case per export.

Usage: seq_cls_check.py SPEC.json OUT.json

SPEC.json: {"cases": [{"name": str, "kind": "peft" | "bitfit" | "houlsby", "model_dir": str,
"adapter_dir": str, "num_labels": int, "pad_token_id": int, "ids": [[int]], "mask": [[0|1]],
"token_types": [[int]] | null}]}. Every case starts from
AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels, pad_token_id) in
float32 and reports the eval-mode logits [B, num_labels] on `ids` under the attention `mask`
(with the token types when given and the folder's tokenizer returns them: BERT's does,
RoBERTa's and DistilBERT's do not), every warning raised while loading the export
("warnings") and those about the new head transformers initialised ("base_warnings"). By kind:

peft: PeftModel.from_pretrained on adapter_dir (a SEQ_CLS adapter). Reported: the wrapper
class, where each tensor of the file landed (the parameter PEFT put it in: a LoRA weight under
its adapter name, prompt tuning's embeddings in its prompt encoder, a module to save in its
`modules_to_save.default` copy) and how far that parameter is from the file, and the modules
PEFT wrapped as modules to save.

bitfit: bitfit_model.safetensors loaded with load_state_dict(strict=False) onto the model:
missing and unexpected keys, the model's state-dict keys, per-key landing. The logits are
those of the model the config's own "load_with" code builds (run as written, in adapter_dir,
with the base model's name pointing at model_dir).

houlsby: AdapterHub's `adapters` package is not installable here, so its adapter modules are
rebuilt as houlsby_check.py (GPT-2) and bert_adapters.py (BERT family) rebuild them, on the
real *ForSequenceClassification. Then what AdapterHub's load_adapter(folder,
use_safetensors=True) does with a static head, with the real load_state_dict: adapter.safetensors
by state-dict name, and model_head.safetensors (PredictionHeadLoader: every key of the file
loaded into the model). Reported: both load results, per-key landing, the model's class and
base_model_prefix (which head_config.json's model_class must equal, and which AdapterHub's head
filter saves the keys outside of), head_config.json and adapter_config.json as json.load gives
them.

bitfit and houlsby also report "head_only_logits": a fresh classifier with only the head's
tensors loaded, which the method's own tensors must move.
"""
import json
import os
import sys

from _common import captured, read_json, setup, versions, write_json


def classifier(torch, case, base_warnings):
    """The base model with a new head; what transformers says about the new head goes to base_warnings."""
    from transformers import AutoModelForSequenceClassification

    with captured(base_warnings):
        return AutoModelForSequenceClassification.from_pretrained(
            case["model_dir"], num_labels=case["num_labels"], pad_token_id=case["pad_token_id"], dtype=torch.float32
        )


def takes_token_types(case):
    """Whether the model folder's tokenizer hands the model token types (BERT's does; RoBERTa's and DistilBERT's do not)."""
    from transformers import AutoTokenizer

    return "token_type_ids" in AutoTokenizer.from_pretrained(case["model_dir"]).model_input_names


def logits_of(torch, model, case):
    model.eval()
    kwargs = {"attention_mask": torch.tensor(case["mask"])}
    if case.get("token_types") is not None and takes_token_types(case):
        kwargs["token_type_ids"] = torch.tensor(case["token_types"])
    with torch.no_grad():
        return model(input_ids=torch.tensor(case["ids"]), **kwargs).logits.tolist()


def landed(model, state):
    params = dict(model.named_parameters())
    return {
        k: None if k not in params or params[k].shape != v.shape else float((params[k].detach() - v).abs().max())
        for k, v in state.items()
    }


def peft_case(torch, case, warnings_seen, base_warnings):
    from peft import PeftModel
    from safetensors.torch import load_file

    base = classifier(torch, case, base_warnings)
    with captured(warnings_seen):
        model = PeftModel.from_pretrained(base, case["adapter_dir"])
    params = dict(model.named_parameters())
    file = load_file(f"{case['adapter_dir']}/adapter_model.safetensors")
    where = {}
    for key, value in file.items():
        candidates = []
        if key == "prompt_embeddings":
            candidates.append("prompt_encoder.default.embedding.weight")
        elif ".lora_" in key:
            candidates.append(key.replace(".weight", ".default.weight"))
        else:
            module, _, leaf = key.rpartition(".")
            candidates.append(f"{module}.modules_to_save.default.{leaf}")
            # A module to save inside a wrapped parent (BERT's pooler wraps the pooler, not its dense).
            parts = module.split(".")
            for i in range(len(parts) - 1, 0, -1):
                candidates.append(".".join(parts[:i]) + ".modules_to_save.default." + ".".join(parts[i:]) + "." + leaf)
        found = next((c for c in candidates if c in params), None)
        where[key] = {
            "parameter": found,
            "max_abs_diff": None if found is None else float((params[found].detach() - value).abs().max()),
        }
    return {
        "peft_class": type(model).__name__,
        "landed": where,
        "wrapped": sorted(n for n, m in model.named_modules() if type(m).__name__ == "ModulesToSaveWrapper"),
        "logits": logits_of(torch, model, case),
    }


def bitfit_case(torch, case, warnings_seen, base_warnings):
    import safetensors.torch
    from safetensors.torch import load_file
    from transformers import AutoModelForSequenceClassification

    folder = case["adapter_dir"]
    config = read_json(os.path.join(folder, "bitfit_config.json"))
    state = load_file(os.path.join(folder, "bitfit_model.safetensors"))
    model = classifier(torch, case, base_warnings)
    with captured(warnings_seen):
        result = model.load_state_dict(state, strict=False)
    # The config's own instructions, as a person would paste them, run in the export's folder.
    with captured(base_warnings):
        code = config["load_with"].replace(json.dumps(config["base_model_name_or_path"]), repr(case["model_dir"]))
        scope = {"AutoModelForSequenceClassification": AutoModelForSequenceClassification, "safetensors": safetensors}
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            exec(code, scope)
        finally:
            os.chdir(cwd)
    return {
        "state_keys": sorted(model.state_dict()),
        "missing_keys": sorted(result.missing_keys),
        "unexpected_keys": sorted(result.unexpected_keys),
        "landed": landed(model, state),
        "head_only_logits": head_only_logits(torch, case, {k: v for k, v in state.items() if k.rpartition(".")[0] in config["head_modules"]}, base_warnings),
        "load_with_class": type(scope["model"]).__name__,
        "load_with_max_param_diff": max(float((p - dict(model.named_parameters())[n]).abs().max()) for n, p in scope["model"].named_parameters()),
        "logits": logits_of(torch, scope["model"], case),
    }


def houlsby_case(torch, case, warnings_seen, base_warnings):
    from safetensors.torch import load_file

    from bert_adapters import adapter_sites
    from houlsby_check import build, sublayers

    folder = case["adapter_dir"]
    full = read_json(os.path.join(folder, "adapter_config.json"))
    head_config = read_json(os.path.join(folder, "head_config.json"))
    c = full["config"]
    name = full["name"]
    d = full["hidden_size"]
    m = max(1, int(d // c["reduction_factor"]))
    model = classifier(torch, case, base_warnings)
    base_keys = set(model.state_dict())

    Adapter, BottleneckLayer = build(torch, d, m, c["non_linearity"])
    sites = []  # (the adapter, the module whose output it takes)
    if model.config.model_type == "gpt2":
        for block, attn, mlp in sublayers(model):
            block.attention_adapters = BottleneckLayer()
            block.output_adapters = BottleneckLayer()
            if c["mh_adapter"]:
                block.attention_adapters.adapters[name] = Adapter()
                sites.append((block.attention_adapters.adapters[name], attn))
            if c["output_adapter"]:
                block.output_adapters.adapters[name] = Adapter()
                sites.append((block.output_adapters.adapters[name], mlp))
    else:
        for attribute, owner, sublayer in adapter_sites(model, c["mh_adapter"], c["output_adapter"]):
            if attribute is not None:
                setattr(owner, attribute, BottleneckLayer())
                owner = getattr(owner, attribute)
            else:
                owner.adapters = torch.nn.ModuleDict()
            owner.adapters[name] = Adapter()
            sites.append((owner.adapters[name], sublayer))
    for adapter, sublayer in sites:
        # A module that returns a tuple (GPT-2's attention) has its hidden states first.
        sublayer.register_forward_hook(
            lambda _m, _i, out, a=adapter: (a(out[0]),) + tuple(out[1:]) if isinstance(out, tuple) else a(out)
        )
    adapter_keys = set(model.state_dict()) - base_keys

    adapter_state = load_file(os.path.join(folder, "adapter.safetensors"))
    head_state = load_file(os.path.join(folder, "model_head.safetensors"))
    with captured(warnings_seen):
        adapter_result = model.load_state_dict(adapter_state, strict=False)
        head_result = model.load_state_dict(head_state, strict=False)
    return {
        "model_class": type(model).__name__,
        "base_model_prefix": model.base_model_prefix,
        "num_labels": model.config.num_labels,
        "adapter_config": full,
        "head_config": head_config,
        "adapter_keys": sorted(adapter_keys),
        "adapter_file_keys": sorted(adapter_state),
        "adapter_unexpected_keys": sorted(adapter_result.unexpected_keys),
        "adapter_missing_keys": sorted(k for k in adapter_result.missing_keys if k in adapter_keys),
        "head_file_keys": sorted(head_state),
        "head_unexpected_keys": sorted(head_result.unexpected_keys),
        "landed": landed(model, adapter_state) | landed(model, head_state),
        "logits": logits_of(torch, model, case),
        "head_only_logits": head_only_logits(torch, case, head_state, base_warnings),
    }


def head_only_logits(torch, case, head_state, base_warnings):
    """The logits of the classifier with only the head's tensors loaded: what the method adds is missing."""
    model = classifier(torch, case, base_warnings)
    result = model.load_state_dict(head_state, strict=False)
    assert not result.unexpected_keys, result.unexpected_keys
    return logits_of(torch, model, case)


KINDS = {"peft": peft_case, "bitfit": bitfit_case, "houlsby": houlsby_case}


def main(spec_path, out_path):
    spec = read_json(spec_path)
    torch, _ = setup()
    out = {"versions": versions(), "cases": {}}
    for case in spec["cases"]:
        warnings_seen, base_warnings = [], []
        report = KINDS[case["kind"]](torch, case, warnings_seen, base_warnings)
        out["cases"][case["name"]] = report | {"warnings": warnings_seen, "base_warnings": base_warnings}
    write_json(out_path, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
