// A file read as a JSON object, for the places that only ask "is this a config, and what does it
// say" (recognising an adapter's format, an optional generation config) and treat anything else
// as absent rather than as an error.

/** The bytes as a JSON object; undefined when missing, not UTF-8, not JSON, or not an object. */
export function jsonObject(bytes: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
