/**
 * `npm run token -- --role <role>[,<role>] [--host <host id>] [--name <name>]`: makes a new token,
 * prints it once (only its digest goes into the credentials file, so it cannot be shown again),
 * and the line to add to the file named by TRANSIT_CREDENTIALS_FILE.
 *
 *     npm run token -- --role host --host host-a
 *     npm run token -- --role operator --name ops-alice
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { credentialLine, newToken, Role, ROLES } from '../server/security/credentials.js';

const USAGE = `usage: npm run token -- --role <${ROLES.join('|')}>[,<role>...] [--host <host id>] [--name <name>]
  --role  what the credential may do (docs/security.md); several roles separated by commas
  --host  the one host a host credential speaks for (required with --role host)
  --name  the credential's name in the file (default: the host id, or the role and a random suffix)`;

export interface TokenRequest {
  readonly roles: readonly Role[];
  readonly hostId: string | null;
  readonly name: string;
}

/** Reads the command line; throws saying what is wrong. */
export function parseTokenArgs(argv: readonly string[]): TokenRequest {
  const { values } = parseArgs({
    args: [...argv],
    options: { role: { type: 'string' }, host: { type: 'string' }, name: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.role === undefined) throw new Error('--role is required');
  const roles = values.role.split(',').map((r) => r.trim());
  for (const role of roles) if (!ROLES.includes(role as Role)) throw new Error(`unknown role "${role}"`);
  const hostId = values.host ?? null;
  if (roles.includes(Role.HOST) !== (hostId !== null)) throw new Error('--host goes with --role host, and only with it');
  const name = values.name ?? hostId ?? `${roles.join('+')}-${randomBytes(3).toString('hex')}`;
  return { roles: roles as Role[], hostId, name };
}

function main(argv: readonly string[]): number {
  let request: TokenRequest;
  try {
    request = parseTokenArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const token = newToken();
  let line: string;
  try {
    line = credentialLine(request, token);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  console.log(`token (shown once; give it to the client as "Authorization: Bearer <token>"):\n  ${token}\n`);
  console.log(`line for the credentials file (TRANSIT_CREDENTIALS_FILE):\n  ${line}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
