// Training settings: one labelled number input per TrainConfig field, validated inline.
import { useMemo } from 'react';
import { EVAL_FRACTION, TRAIN_FIELDS, validateTrainInputs } from '../train-form';
import { isBusy, useActions, useStudio } from '../store';
import TrainField from './TrainField';

export default function TrainSettings() {
  const running = useStudio(isBusy);
  const inputs = useStudio((s) => s.trainInputs);
  const maxSeq = useStudio((s) => s.model?.maxPositions);
  const recompute = useStudio((s) => s.recompute);
  const { setTrainField, setRecompute } = useActions();
  const { errors } = useMemo(() => validateTrainInputs(inputs, { maxSequenceLength: maxSeq }), [inputs, maxSeq]);

  return (
    <section className="panel">
      <h2>Training</h2>
      <fieldset className="train-form" disabled={running}>
        <legend className="visually-hidden">Training settings</legend>
        <div className="form-grid">
          {TRAIN_FIELDS.map((spec) => (
            <TrainField
              key={spec.key}
              spec={spec}
              value={inputs[spec.key]}
              error={errors[spec.key]}
              max={spec.key === 'sequenceLength' && maxSeq ? Math.min(maxSeq, spec.max ?? maxSeq) : spec.max}
              onChange={(text) => setTrainField(spec.key, text)}
            />
          ))}
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={recompute} onChange={(e) => setRecompute(e.target.checked)} aria-describedby="recompute-help" />
          Recompute activations in the backward pass
        </label>
        <p className="help" id="recompute-help">
          Keeps only each block's input during the forward pass and runs the block again when its gradients are needed:
          the same updates in much less memory, for about a third more compute per step.
        </p>
        <p className="help">
          Steps wins when it is above 0; set Steps to 0 to train for whole Epochs. {Math.round(EVAL_FRACTION * 100)}% of the
          examples are held out for evaluation.
        </p>
      </fieldset>
    </section>
  );
}
