import { describe, expect, it } from 'vitest';
import { compareRows } from './compare-series';

describe('compareRows', () => {
  it('puts each method in its own column over a shared, sorted step axis', () => {
    const rows = compareRows(
      {
        lora: [
          { step: 0, evalLoss: 5 },
          { step: 2, evalLoss: 4 },
        ],
        bitfit: [
          { step: 0, evalLoss: 5.5 },
          { step: 1, evalLoss: 5.1 },
          { step: 2, evalLoss: NaN },
        ],
        ignored: [{ step: 9, evalLoss: 1 }],
      },
      ['lora', 'bitfit'],
    );
    expect(rows).toEqual([{ step: 0, lora: 5, bitfit: 5.5 }, { step: 1, bitfit: 5.1 }, { step: 2, lora: 4 }]);
  });
});
