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

/**
 * A parser for variadic id arguments: each value a positive whole number, collected into a list. `what` names
 * the ids in the error and `listedBy` the command that shows them, e.g. ('key', 'unknown list').
 */
export function idsParser(what: string, listedBy: string): (value: string, previous?: number[]) => number[] {
  return (value, previous = []) => {
    if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError(`'${value}' is not a ${what} id (a positive whole number, from \`sendonce ${listedBy}\`)`);
    return [...previous, Number(value)];
  };
}
