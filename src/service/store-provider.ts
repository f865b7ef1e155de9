/**
 * The service's data store, opened once and on demand: when the store cannot
 * be opened, submits answer `Error initializing iRODS: ...` (step 4) and the
 * next submit tries again, instead of the service refusing to run.
 *
 * @module
 */
import type { Config } from '../config.js';
import { openStore } from '../store/index.js';
import type { FlowStore, StoreAdmin } from '../store/types.js';

/** Opens the store lazily and shares it. */
export class StoreProvider {
  private store: (FlowStore & StoreAdmin) | undefined;
  private opening: Promise<FlowStore & StoreAdmin> | undefined;

  constructor(private readonly config: Config) {}

  /** The open store; throws whatever opening it threw. */
  get(): Promise<FlowStore & StoreAdmin> {
    if (this.store) return Promise.resolve(this.store);
    this.opening ??= openStore(this.config).then(
      (s) => (this.store = s),
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return this.opening;
  }

  /** Closes the store if it was opened. */
  async close(): Promise<void> {
    const s = this.store ?? (await this.opening?.catch(() => undefined));
    this.store = undefined;
    this.opening = undefined;
    await s?.close();
  }
}
