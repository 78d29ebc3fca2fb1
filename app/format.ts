// Number and time formatting for the page. Pure functions, no DOM, no locale surprises:
// integers use en-US grouping so the HF line below matches Python's `{:,d}` exactly.

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0, useGrouping: true });

/** An exact integer with thousands separators: 124734720 → "124,734,720". */
export function formatInt(n: number): string {
  if (!Number.isFinite(n)) return '—';
  return intFormat.format(Math.round(n));
}

/**
 * `x` with exactly `digits` decimals, rounding ties to even like Python's format spec.
 * (JS toFixed rounds exact ties up; Python rounds them to the even digit.)
 */
export function toFixedHalfEven(x: number, digits: number): string {
  if (!Number.isFinite(x)) return String(x);
  const plain = x.toFixed(digits);
  // An exact binary tie has a short exact decimal expansion: detect "…d5000…0" exactly.
  const wide = x.toFixed(Math.min(100, digits + 20));
  const dot = wide.indexOf('.');
  const tail = wide.slice(dot + 1 + digits);
  if (!/^50*$/.test(tail)) return plain;
  const truncated = wide.slice(0, dot + 1 + digits).replace(/\.$/, '');
  const lastDigit = Number(truncated[truncated.length - 1]);
  if (lastDigit % 2 === 0) return truncated; // tie → keep the even digit (truncate)
  return plain; // toFixed already rounded away from zero onto the even digit
}

/** 100·trainable/total with 4 decimals, computed as Python does (`100 * t / all`). */
export function formatTrainablePercent(trainable: number, total: number): string {
  if (!(total > 0)) return '—';
  return toFixedHalfEven((100 * trainable) / total, 4);
}

/** Hugging Face PEFT's `print_trainable_parameters()` line, character for character. */
export function trainableParamsLine(trainable: number, total: number): string {
  return `trainable params: ${formatInt(trainable)} || all params: ${formatInt(total)} || trainable%: ${formatTrainablePercent(trainable, total)}`;
}

/** Human duration: "45 s", "1 min 20 s", "2 min", "1 h 5 min". Unknown → "—". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 60) return `${totalSeconds} s`;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

/** Loss with two decimals, as the status line shows it. */
export function formatLoss(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : String(x);
}

/** Learning rate: 0.0003 → "3.00e-4"; 0.01 → "0.0100"; 0 → "0". */
export function formatLearningRate(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  if (Math.abs(x) < 1e-3) return x.toExponential(2);
  return x.toPrecision(3);
}

/** A value of a few significant digits (grad norms, rates): 3 sig digits, no exponent ≥ 1e-3. */
export function formatNumber(x: number, significant = 3): string {
  if (!Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  if (Math.abs(x) >= 10 ** significant) return formatInt(x);
  if (Math.abs(x) < 1e-3) return x.toExponential(significant - 1);
  return String(Number(x.toPrecision(significant)));
}

/** Tokens per second: "1,234 tok/s", "56.7 tok/s". */
export function formatTokensPerSecond(x: number): string {
  if (!Number.isFinite(x) || x < 0) return '—';
  return `${x >= 100 ? formatInt(x) : x.toFixed(1)} tok/s`;
}

/** Bytes in binary units: "512 B", "1.5 KiB", "12.3 MiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** Bytes in decimal megabytes, as memory budgets are quoted: 10_973_184 → "10.97 MB". */
export function formatMegabytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  return `${(n / 1e6).toFixed(2)} MB`;
}

/** Compact parameter count for chart ticks: 294912 → "295K", 124734720 → "125M". */
export function formatCompact(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  const scale: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, suffix] of scale) {
    if (abs >= size) return `${Number((n / size).toPrecision(3))}${suffix}`;
  }
  return String(Math.round(n));
}

/** A run's wall time: tenths of a second below a minute ("3.4 s"), else as formatDuration. */
export function formatWallTime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  return formatDuration(ms);
}
