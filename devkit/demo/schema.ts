/**
 * The demo's tables (devkit/demo/schema.sql: `users`, `digest_items`) in a database sendonce has migrated: what
 * `npm start`, the tests, chaos, soak and benchmark databases read recipients from. The one place they are made.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client, Pool } from 'pg';

export const DEMO_SCHEMA_FILE = path.join(__dirname, 'schema.sql');

export async function applyDemoSchema(db: Pool | Client): Promise<void> {
  await db.query(fs.readFileSync(DEMO_SCHEMA_FILE, 'utf8'));
}
