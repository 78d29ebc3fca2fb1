// The checks every architecture's config.json reader applies to a field, with one message
// shape: the file, the field, what it must be and what it was.

export function positiveInt(value: unknown, field: string, fileName: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${fileName}: "${field}" must be a positive integer (got ${JSON.stringify(value)})`);
  }
  return value;
}

export function positiveNumber(value: unknown, field: string, fileName: string): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new Error(`${fileName}: "${field}" must be a positive number (got ${JSON.stringify(value)})`);
  }
  return value;
}

export function flag(value: unknown, field: string, fileName: string): boolean {
  if (typeof value !== 'boolean') throw new Error(`${fileName}: "${field}" must be true or false (got ${JSON.stringify(value)})`);
  return value;
}
