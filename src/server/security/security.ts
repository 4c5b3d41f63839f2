/**
 * Transit's security layer, assembled from the settings: who may connect (the credentials file,
 * or open mode on loopback only), and the envelop/yoga plugins that guard both transports, in
 * order: the origin policy (CORS), CSRF prevention, content type and authentication of HTTP requests, the query limits (parse and
 * validate), authorization, the mutation rate limit and the subscription caps (execute and subscribe).
 */
import type { Plugin } from 'graphql-yoga';
import { isLoopbackHost, type Config } from '../../config.js';
import type { Millis } from '../../domain/model.js';
import { authenticator, useAuthentication, type Authenticator } from './authentication.js';
import { useAuthorization } from './authorization.js';
import { CredentialStore } from './credentials.js';
import { originPolicy, useCorsPolicy } from '../http/cors.js';
import { useCsrfPrevention, useSupportedMediaTypes } from '../http/http-refusals.js';
import type { ListSizes } from './cost-limit.js';
import { useQueryLimits } from './query-limits.js';
import { useMutationRateLimit } from './rate-limit.js';
import { SubscriptionCounter, useSubscriptionCaps } from './subscription-caps.js';
import type { WebSocketOptions } from '../subscriptions/websocket.js';

export const OPEN_MODE_WARNING =
  'OPEN MODE: no TRANSIT_CREDENTIALS_FILE, so anyone who can reach this address may move VMs and report their state. ' +
  'Listening on loopback only; set TRANSIT_CREDENTIALS_FILE before exposing Transit (README, "Running in production").';

export interface Security {
  /** No credentials file: everyone may do everything (loopback only). */
  readonly open: boolean;
  readonly authenticate: Authenticator;
  /** yoga plugins, in the order they must run. */
  readonly plugins: Plugin[];
  readonly webSocket: WebSocketOptions;
  /** Subscriptions open, by credential and in total (docs/contract.md §11). */
  readonly subscriptions: SubscriptionCounter;
}

/**
 * Reads the credentials file (if any) and builds the plugins (`listSizes`: the real sizes of
 * unpaged lists, for the cost limit). Throws when the credentials file
 * cannot be read or is invalid, and when open mode would listen beyond this machine.
 */
export function buildSecurity(config: Config, clock: () => Millis, listSizes: ListSizes = {}): Security {
  if (config.credentialsFile === null && !isLoopbackHost(config.host)) {
    throw new Error(
      `refusing to listen on ${config.host} without credentials: open mode (no TRANSIT_CREDENTIALS_FILE) listens on a loopback address only ` +
        `(127.0.0.1, ::1, localhost). Set TRANSIT_CREDENTIALS_FILE (npm run token) or HOST=127.0.0.1.`,
    );
  }
  const credentials = config.credentialsFile === null ? null : CredentialStore.load(config.credentialsFile);
  const authenticate = authenticator(credentials);
  const origins = originPolicy(config.corsOrigins);
  const subscriptions = new SubscriptionCounter({ perCredential: config.maxSubscriptionsPerCredential, total: config.maxSubscriptions });
  return {
    open: credentials === null,
    authenticate,
    plugins: [
      useCorsPolicy(origins),
      useCsrfPrevention(),
      useSupportedMediaTypes(),
      useAuthentication(authenticate),
      ...useQueryLimits(config, listSizes),
      useAuthorization(),
      useMutationRateLimit({ perSecond: config.mutationsPerSecond, burst: config.mutationBurst, clock }),
      useSubscriptionCaps(subscriptions),
    ],
    subscriptions,
    webSocket: {
      authenticate,
      origins,
      maxPayloadBytes: config.wsMaxPayloadBytes,
      initTimeoutMs: config.wsInitTimeoutMs,
      maxOperations: config.maxSubscriptionsPerConnection,
      maxConnectionsPerCredential: config.maxWsConnectionsPerCredential,
      subscriptionCaps: subscriptions,
    },
  };
}
