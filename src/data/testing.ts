// Shared by the dataset tests: the refusal a reading throws, checked to be a DatasetError and
// returned for its message and listed problems.
import { expect } from 'vitest';
import { DatasetError } from './parse';

/** Runs `fn`, expecting it to refuse the file with a DatasetError, and returns the error. */
export function datasetRejection(fn: () => unknown): DatasetError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError);
    return err as DatasetError;
  }
  throw new Error('expected a DatasetError, nothing was thrown');
}
