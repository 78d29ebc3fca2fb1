import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCompact,
  formatDuration,
  formatInt,
  formatLearningRate,
  formatLoss,
  formatNumber,
  formatTokensPerSecond,
  formatTrainablePercent,
  formatWallTime,
  toFixedHalfEven,
  trainableParamsLine,
} from './format';

describe('format', () => {
  it('groups integers with commas', () => {
    expect(formatInt(0)).toBe('0');
    expect(formatInt(999)).toBe('999');
    expect(formatInt(294912)).toBe('294,912');
    expect(formatInt(124734720)).toBe('124,734,720');
    expect(formatInt(NaN)).toBe('—');
  });

  it("writes HF PEFT's print_trainable_parameters line exactly", () => {
    expect(trainableParamsLine(294912, 124734720)).toBe(
      'trainable params: 294,912 || all params: 124,734,720 || trainable%: 0.2364',
    );
    expect(formatTrainablePercent(0, 100)).toBe('0.0000');
    expect(formatTrainablePercent(100, 100)).toBe('100.0000');
    expect(formatTrainablePercent(1, 0)).toBe('—');
  });

  it('rounds exact ties to even like Python', () => {
    // f"{0.03125:.4f}" == '0.0312'; f"{0.09375:.4f}" == '0.0938'; f"{2.5:.0f}" == '2'
    expect(toFixedHalfEven(0.03125, 4)).toBe('0.0312');
    expect(toFixedHalfEven(0.09375, 4)).toBe('0.0938');
    expect(toFixedHalfEven(2.5, 0)).toBe('2');
    expect(toFixedHalfEven(3.5, 0)).toBe('4');
    // Not a tie in binary: 0.00015 is slightly above or below; follow the exact value.
    expect(toFixedHalfEven(1.23456, 4)).toBe('1.2346');
    expect(toFixedHalfEven(0.1, 4)).toBe('0.1000');
  });

  it('formats durations for people', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45_400)).toBe('45 s');
    expect(formatDuration(80_000)).toBe('1 min 20 s');
    expect(formatDuration(120_000)).toBe('2 min');
    expect(formatDuration(59_600)).toBe('1 min');
    expect(formatDuration(3_900_000)).toBe('1 h 5 min');
    expect(formatDuration(7_200_000)).toBe('2 h');
    expect(formatDuration(Infinity)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
  });

  it('formats losses, rates and sizes', () => {
    expect(formatLoss(3.4149)).toBe('3.41');
    expect(formatLoss(10)).toBe('10.00');
    expect(formatLearningRate(0.0003)).toBe('3.00e-4');
    expect(formatLearningRate(0.01)).toBe('0.0100');
    expect(formatLearningRate(0)).toBe('0');
    expect(formatNumber(1.23456)).toBe('1.23');
    expect(formatNumber(0.5)).toBe('0.5');
    expect(formatTokensPerSecond(1234.5)).toBe('1,235 tok/s');
    expect(formatTokensPerSecond(56.74)).toBe('56.7 tok/s');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12.3 * 1024 * 1024)).toBe('12.3 MiB');
    expect(formatCompact(294912)).toBe('295K');
    expect(formatCompact(124734720)).toBe('125M');
    expect(formatCompact(12)).toBe('12');
  });

  it('writes wall times in tenths of a second below a minute', () => {
    expect(formatWallTime(0)).toBe('0.0 s');
    expect(formatWallTime(3_449)).toBe('3.4 s');
    expect(formatWallTime(59_949)).toBe('59.9 s');
    expect(formatWallTime(59_950)).toBe('1 min');
    expect(formatWallTime(80_000)).toBe('1 min 20 s');
    expect(formatWallTime(-1)).toBe('—');
  });
});
