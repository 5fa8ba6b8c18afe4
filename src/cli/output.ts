import Table from 'cli-table3';

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** A plain table of the chosen columns (cli-table3: aligned, no colours so output pipes cleanly). */
export function printRows<T extends object>(rows: T[], columns: Array<keyof T & string>): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const table = new Table({ head: columns, style: { head: [], border: [] } });
  for (const row of rows) table.push(columns.map((c) => formatCell(row[c])));
  console.log(table.toString());
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  return String(value);
}

export interface FitOptions {
  maxWidth: number;
  /** Columns that may be cut (with …) when the lines would be wider than maxWidth, first one first. */
  shrink: string[];
  /** A cut column keeps at least this many characters (default 12), so it stays recognisable. */
  minWidth?: number;
}

/**
 * Borderless columns two spaces apart (header, then rows), never wider than `maxWidth`: over it, the `shrink`
 * columns are cut down in turn (to no less than minWidth) with an ellipsis. Numbers align right.
 */
export function fitRows(rows: Array<Record<string, string | number>>, options: FitOptions): string[] {
  if (rows.length === 0) return ['(none)'];
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
  for (const name of options.shrink) {
    const i = columns.indexOf(name);
    const floor = Math.min(widths[i] ?? 0, Math.max(name.length, options.minWidth ?? 12));
    if (i >= 0 && total() > options.maxWidth) widths[i] = Math.max(floor, widths[i]! - (total() - options.maxWidth));
  }
  const numeric = columns.map((c) => rows.every((r) => typeof r[c] === 'number'));
  const fit = (text: string, i: number) => {
    const cut = text.length > widths[i]! ? `${text.slice(0, widths[i]! - 1)}…` : text;
    return numeric[i] ? cut.padStart(widths[i]!) : cut.padEnd(widths[i]!);
  };
  return [columns, ...cells].map((row) => row.map(fit).join('  ').trimEnd());
}

export function printFitted(rows: Array<Record<string, string | number>>, options: FitOptions): void {
  for (const line of fitRows(rows, options)) console.log(line);
}
