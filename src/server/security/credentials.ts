/**
 * Who may call Transit: the roles, the credentials file, and the tokens.
 *
 * The file (`TRANSIT_CREDENTIALS_FILE`) holds one credential per line, never a token, only its
 * SHA-256 digest (docs/security.md):
 *
 *     # name       roles             token digest
 *     ops-alice    operator          sha256:3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b
 *     agent-a      host:host-a       sha256:...
 *     fence-agent  fencer,viewer     sha256:...
 *
 * A token is 32 random bytes in base64url (256 bits), so one SHA-256 round is enough: nobody can
 * guess a token from its digest, and there is no password to stretch. `npm run token` makes one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const Role = {
  /** Queries, and the `transitions` and `events` subscriptions. */
  VIEWER: 'viewer',
  /** Viewer, plus `migrateVm`, `cancelMigration`, `registerHost`, `reportHostStatus`. */
  OPERATOR: 'operator',
  /** `reportVmStatuses` and `hostCommands`, for its one host only (`host:<host id>` in the file). */
  HOST: 'host',
  /** `reportFenceResult` and `reportHostStatus`. */
  FENCER: 'fencer',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES: readonly Role[] = Object.freeze(Object.values(Role));

/** Who is calling, as far as authorization is concerned. */
export interface Principal {
  /** The credential's name in the file; rate limits count per name, and refusals say it. */
  readonly name: string;
  readonly roles: readonly Role[];
  /** The host a `host` credential speaks for; null when it has no `host` role. */
  readonly hostId: string | null;
  /** Open mode (no credentials file): every caller may do everything and is not rate limited. */
  readonly open: boolean;
}

/** Everyone, in open mode. */
export const OPEN_ACCESS: Principal = Object.freeze({ name: 'open-mode', roles: ROLES, hostId: null, open: true });

const DIGEST_PREFIX = 'sha256:';
const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** Names and host ids: printable, without spaces (as the domain's ids), at most 256 characters. */
const NAME = /^[\x21-\x7e\u00a0-\uffff]{1,256}$/u;
/** Longer "tokens" are refused without hashing them: ours are 43 characters. */
const MAX_TOKEN_LENGTH = 512;
const TOKEN_BYTES = 32;

/** A new token: 32 random bytes, base64url (43 characters). Shown once; the file keeps its digest. */
export const newToken = (): string => randomBytes(TOKEN_BYTES).toString('base64url');

/** `sha256:<hex>` of the token's UTF-8 bytes, as the file stores it. */
export const tokenDigest = (token: string): string => `${DIGEST_PREFIX}${createHash('sha256').update(token, 'utf8').digest('hex')}`;

export interface CredentialSpec {
  readonly name: string;
  readonly roles: readonly Role[];
  /** Required with the `host` role, refused without it. */
  readonly hostId?: string | null;
}

/** The file's line for a credential: `<name> <roles> sha256:<digest>`. */
export function credentialLine(spec: CredentialSpec, token: string): string {
  const roles = spec.roles.map((role) => (role === Role.HOST ? `${Role.HOST}:${spec.hostId ?? ''}` : role)).join(',');
  const line = `${spec.name} ${roles} ${tokenDigest(token)}`;
  parseLine(line); // the helper never prints a line the server would refuse
  return line;
}

interface Credential {
  readonly principal: Principal;
  readonly digest: Buffer;
}

/** Reads `name roles digest`; throws saying what is wrong. */
function parseLine(text: string): Credential {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 3) throw new Error(`expected "<name> <roles> sha256:<digest>", found ${fields.length} field(s)`);
  const [name, roleList, digest] = fields as [string, string, string];
  if (!NAME.test(name)) throw new Error(`the name must be printable characters without spaces, at most 256`);
  if (!DIGEST.test(digest)) throw new Error(`the token digest must be "sha256:" and 64 lowercase hex digits`);
  const roles: Role[] = [];
  let hostId: string | null = null;
  for (const entry of roleList.split(',')) {
    const [role, ...rest] = entry.split(':');
    const host = rest.join(':');
    if (!ROLES.includes(role as Role)) throw new Error(`unknown role "${role}" (roles: ${ROLES.join(', ')})`);
    if (roles.includes(role as Role)) throw new Error(`role "${role}" given twice`);
    if (role === Role.HOST) {
      if (!NAME.test(host)) throw new Error(`the host role names its host: "host:<host id>"`);
      hostId = host;
    } else if (rest.length > 0) {
      throw new Error(`only the host role takes a host ("${entry}")`);
    }
    roles.push(role as Role);
  }
  return {
    principal: Object.freeze({ name, roles: Object.freeze(roles), hostId, open: false }),
    digest: Buffer.from(digest.slice(DIGEST_PREFIX.length), 'hex'),
  };
}

/** The credentials of one file, looked up by token. */
export class CredentialStore {
  private readonly byDigest = new Map<string, Credential>();

  private constructor(credentials: readonly Credential[]) {
    for (const credential of credentials) this.byDigest.set(credential.digest.toString('hex'), credential);
  }

  /**
   * Reads the file's text. Blank lines and lines starting with `#` are skipped. Throws naming the
   * source and line of the first problem: a server must not start on a file it half understood.
   */
  static parse(text: string, source: string): CredentialStore {
    const credentials: Credential[] = [];
    const names = new Set<string>();
    const digests = new Set<string>();
    text.split(/\r?\n/).forEach((raw, index) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      let credential: Credential;
      try {
        credential = parseLine(line);
      } catch (error) {
        throw new Error(`${source}:${index + 1}: ${(error as Error).message}`, { cause: error });
      }
      const hex = credential.digest.toString('hex');
      if (names.has(credential.principal.name)) throw new Error(`${source}:${index + 1}: the name "${credential.principal.name}" is given twice`);
      if (digests.has(hex)) throw new Error(`${source}:${index + 1}: the same token is given twice`);
      names.add(credential.principal.name);
      digests.add(hex);
      credentials.push(credential);
    });
    if (credentials.length === 0) throw new Error(`${source}: no credential (a server nobody may call is a mistake; remove TRANSIT_CREDENTIALS_FILE to run open on loopback)`);
    return new CredentialStore(credentials);
  }

  static load(path: string): CredentialStore {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the credentials file ${path}: ${(error as Error).message}`, { cause: error });
    }
    return CredentialStore.parse(text, path);
  }

  get size(): number {
    return this.byDigest.size;
  }

  /**
   * The principal whose token this is; null for an unknown token. The digest indexes the map
   * (timing can only tell an attacker about the digest of a guess they chose, which they know);
   * equality itself is decided in constant time.
   */
  authenticate(token: string): Principal | null {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
    const digest = createHash('sha256').update(token, 'utf8').digest();
    const found = this.byDigest.get(digest.toString('hex'));
    if (found === undefined || !timingSafeEqual(found.digest, digest)) return null;
    return found.principal;
  }
}
