/** Argument parsers shared by the commands: a bad value becomes one `sendonce: …` line (main.ts). */
import { InvalidArgumentError } from 'commander';

export function parseTime(value: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) {
    throw new InvalidArgumentError(`'${value}' is not a time: use ISO 8601, e.g. 2026-11-22T00:00:00Z`);
  }
  return d;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${value}' is not a positive whole number`);
  return n;
}
