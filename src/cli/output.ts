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
