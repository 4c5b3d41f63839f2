/**
 * Raw HTTP/1.1 over a TCP socket, for tests of what a slow or silent client does to the server:
 * send the headers now and the body later (or never), and read what the server answers, and when.
 */
import { connect, type Socket } from 'node:net';

export interface RawClient {
  readonly socket: Socket;
  /** Everything the server has sent so far. */
  received(): string;
  /** Resolves with what the server sent once it has sent a whole status line. */
  statusLine(): Promise<string>;
  /** Resolves once the server has closed the connection (or it was reset). */
  closed(): Promise<void>;
  write(text: string): void;
  destroy(): void;
}

export function rawClient(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let text = '';
    let waiters: (() => void)[] = [];
    const wake = () => {
      const now = waiters;
      waiters = [];
      for (const w of now) w();
    };
    let isClosed = false;
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      isClosed = true;
      wake();
    });
    const until = (done: () => boolean) =>
      new Promise<void>((ok) => {
        const check = () => (done() ? ok() : waiters.push(check));
        check();
      });
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => text,
        statusLine: async () => {
          await until(() => text.includes('\r\n') || isClosed);
          return text.split('\r\n')[0] ?? '';
        },
        closed: () => until(() => isClosed),
        write: (chunk) => socket.write(chunk),
        destroy: () => socket.destroy(),
      }),
    );
    socket.once('error', reject);
  });
}

/** The head of a JSON POST to `path` announcing `contentLength` bytes of body, with a bearer token or none. */
export function postHead(url: string, contentLength: number, token: string | null = null): string {
  const { host, pathname } = new URL(url);
  return [
    `POST ${pathname} HTTP/1.1`,
    `host: ${host}`,
    'content-type: application/json',
    `content-length: ${contentLength}`,
    ...(token === null ? [] : [`authorization: Bearer ${token}`]),
    '',
    '',
  ].join('\r\n');
}
