// P-Tuning v2: Prompt Tuning Can Be Comparable to Fine-tuning Universally Across Scales and Tasks
// (Liu et al. 2021, arXiv 2110.07602).
//
// "Deep prompt tuning": trainable prompts at every layer rather than only at the input, which
// for a decoder are per-layer key/value prefixes, optimised directly (the authors found the
// reparameterisation MLP of prefix tuning task-dependent and drop it by default). The
// authors' own implementation is the PrefixEncoder that Hugging Face PEFT adopted
// (peft/tuners/prefix_tuning/model.py, "Based on https://github.com/THUDM/P-tuning-v2"), so
// this method is PEFT's PREFIX_TUNING with prefix_projection false: one trainable
// [n, num_layers·2·token_dim] matrix, N(0, 1) initialised, saved as `prompt_embeddings`.
// The math, hooks, export and import are shared with prefix tuning (./prefix-tuning.ts).
import { prefixMethod } from './prefix-tuning';

export const pTuningV2 = prefixMethod({
  id: 'p-tuning-v2',
  label: 'P-tuning v2',
  summary: 'Deep prompts: trainable key/value vectors in front of every layer, optimised directly (no reparameterisation by default).',
  paper: {
    title: 'P-Tuning v2: Prompt Tuning Can Be Comparable to Fine-tuning Universally Across Scales and Tasks (Liu et al. 2021)',
    url: 'https://arxiv.org/abs/2110.07602',
  },
  defaultProjection: false,
  fieldLabels: {
    tokens: 'Prompt length (per layer)',
    tokensHelp: 'Deep-prompt slots at every layer; the real tokens start after them, so they use up context positions.',
    projection: ['MLP (optional, as in prefix tuning)', 'None: deep prompts trained directly (paper default)'],
  },
  // The file holds the final prefixes either way, so prefix_projection false describes it as it
  // is: a [n, L·2·d] prefix with no MLP behind it (PEFT's PrefixEncoder.load_prompt_embeddings
  // accepts such a tensor only with prefix_projection false), and it is recognised as P-tuning v2
  // on import. PeftModel.from_pretrained loads it in inference mode either way.
  savedProjection: () => false,
  // PEFT's default (false, or the key absent) is P-tuning v2's layout.
  claims: (p) => !p,
});
