/**
 * The broadcast path: a subscriber's stream written straight to its transport, its results
 * serialized once per operation (`EncodedResult`), instead of each subscriber pulling its own
 * async iterator through the envelop pipeline and serializing its own message.
 *
 * A `Delivery` polls one subscriber's `SubscriberStream` (so order, resume, the backlog and the
 * per-subscriber bound are the stream's, unchanged) and writes each delivery due to its `FrameSink`
 * while the sink has room. When the sink's buffer is full (the client reads slowly or not at all),
 * items wait in the stream, which ends itself with SUBSCRIBER_TOO_SLOW once its buffer is full, as
 * in pull mode; the sink calls `resume` when it drains.
 *
 * Deliveries are flushed together, once per turn of the event loop (`FlushScheduler`, on
 * `setImmediate`): every change of that turn (several reports may land in one) reaches a socket in
 * one batch, which the transports write with one system call per socket (cork).
 */
import type { Delivery as Due } from '../../schema/errors.js';
import type { EncodedResult } from './encoded-result.js';
import type { SubscriberStream } from './subscriber-stream.js';

/** A subscriber's end of a transport. */
export interface FrameSink {
  /** Room for more now; false while the transport's buffer is full (the sink then calls `resume`). */
  readonly writable: boolean;
  write(result: EncodedResult): void;
  /** The subscription is over: the transport's closing frame (`complete`). */
  complete(): void;
  /** Something failed while delivering: end this subscription with an error, if the transport can. */
  fail(error: unknown): void;
}

/** The result of an item for the subscriber's operation, serialized: computed once per item and operation. */
export type Encode = (item: Due<unknown>) => EncodedResult | Promise<EncodedResult>;

export class FlushScheduler {
  private due: Delivery[] = [];
  private scheduled = false;

  schedule(delivery: Delivery): void {
    if (delivery.queued) return;
    delivery.queued = true;
    this.due.push(delivery);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  /** Flushes every delivery due now (shutdown: before the sockets close). */
  flushNow(): void {
    this.run();
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const due = this.due;
    this.due = [];
    for (const delivery of due) {
      delivery.queued = false;
      delivery.flush();
    }
  };
}

export class Delivery {
  /** In the scheduler's list for the next flush. */
  queued = false;
  private finished = false;
  /** An item's result is being computed asynchronously; nothing else is written meanwhile. */
  private pending = false;

  constructor(
    private readonly stream: SubscriberStream<unknown>,
    private readonly encode: Encode,
    private readonly sink: FrameSink,
    private readonly scheduler: FlushScheduler,
    /** Called once when the delivery is over (completed, stopped, failed): release the operation. */
    private readonly onDone: () => void,
  ) {
    stream.onReady(this.resume);
    scheduler.schedule(this); // a backlog, or an error, may be due at once
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Something may be due, or the sink has room again: flush on the next turn. */
  readonly resume = (): void => {
    if (!this.finished) this.scheduler.schedule(this);
  };

  /** Writes what is due while the sink has room. */
  flush(): void {
    try {
      while (!this.finished && !this.pending && this.sink.writable) {
        const due = this.stream.poll();
        if (due === null) return;
        if (due.done === true) {
          this.finish();
          this.sink.complete();
          return;
        }
        const encoded = this.encode(due.value);
        if (encoded instanceof Promise) {
          this.pending = true;
          encoded.then(
            (result) => {
              this.pending = false;
              if (this.finished) return;
              this.sink.write(result);
              this.resume();
            },
            (error: unknown) => this.abort(error),
          );
          return;
        }
        this.sink.write(encoded);
      }
    } catch (error) {
      this.abort(error);
    }
  }

  /** The client went away, or unsubscribed: nothing more is written. */
  stop(): void {
    this.finish();
  }

  private abort(error: unknown): void {
    if (this.finished) return;
    this.finish();
    this.sink.fail(error);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.onDone();
  }
}
