// The line builders the page and the reducer share.
import { describe, expect, it } from 'vitest';
import { stepLine } from './index';

describe('line builders', () => {
  it('formats the step line', () => {
    expect(stepLine({ step: 12, totalSteps: 50, loss: 3.4149 })).toBe('Step 12/50 · loss 3.41');
  });
});
