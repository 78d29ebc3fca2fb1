import { describe, expect, it } from 'vitest';
import { TRAIN_DEFAULTS, TRAIN_FIELDS, validateTrainInputs } from './train-form';

describe('train form', () => {
  it('has the labels the page promises', () => {
    expect(TRAIN_FIELDS.map((f) => f.label)).toEqual([
      'Steps',
      'Epochs',
      'Batch size',
      'Sequence length',
      'Learning rate',
      'Warmup steps',
      'Weight decay',
      'Max grad norm',
      'Eval every',
      'Seed',
    ]);
  });

  it('turns the defaults into a TrainConfig', () => {
    const v = validateTrainInputs(TRAIN_DEFAULTS);
    expect(v.errors).toEqual({});
    expect(v.config).toEqual({
      steps: 100,
      epochs: 1,
      batchSize: 8,
      sequenceLength: 128,
      learningRate: 0.0003,
      warmupSteps: 10,
      weightDecay: 0.01,
      maxGradNorm: 1,
      evalFraction: 0.1,
      evalEvery: 20,
      seed: 42,
    });
  });

  it('reports one message per invalid field and no config', () => {
    const v = validateTrainInputs({ ...TRAIN_DEFAULTS, batchSize: '0', learningRate: '0', steps: '2.5', epochs: '', seed: 'x' });
    expect(v.config).toBeUndefined();
    expect(v.errors.batchSize).toMatch(/positive whole number/);
    expect(v.errors.learningRate).toMatch(/greater than 0/);
    expect(v.errors.steps).toMatch(/whole number/);
    expect(v.errors.epochs).toMatch(/required/);
    expect(v.errors.seed).toMatch(/number/);
    expect(v.errors.warmupSteps).toBeUndefined();
  });

  it('allows Steps 0 (epochs decide) and Max grad norm 0 (no clipping)', () => {
    const v = validateTrainInputs({ ...TRAIN_DEFAULTS, steps: '0', maxGradNorm: '0' });
    expect(v.config?.steps).toBe(0);
    expect(v.config?.maxGradNorm).toBe(0);
  });

  it("caps Sequence length at the model's context length", () => {
    const v = validateTrainInputs({ ...TRAIN_DEFAULTS, sequenceLength: '256' }, { maxSequenceLength: 128 });
    expect(v.errors.sequenceLength).toMatch(/at most 128/);
    expect(validateTrainInputs(TRAIN_DEFAULTS, { maxSequenceLength: 128 }).config?.sequenceLength).toBe(128);
  });
});
