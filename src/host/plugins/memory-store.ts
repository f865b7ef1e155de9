/**
 * A {@link PluginStore} in memory, for tests and throwaway hosts; the host
 * site persists plugins in its own database instead.
 *
 * @module
 */
import type { PluginStore } from './types.js';

/** One registered plugin as stored. */
export interface PluginRecord {
  name: string;
  type: string;
  path: string;
}

/** Keeps registrations in a Map; nothing survives the process. */
export class MemoryPluginStore implements PluginStore {
  readonly #records = new Map<string, PluginRecord>();

  /** {@inheritDoc PluginStore.registeredNames} */
  async registeredNames(): Promise<string[]> {
    return [...this.#records.keys()];
  }

  /** {@inheritDoc PluginStore.register} */
  async register(name: string, type: string, path: string): Promise<void> {
    if (!this.#records.has(name)) this.#records.set(name, { name, type, path });
  }

  /** Every stored record (copies), in registration order. */
  records(): PluginRecord[] {
    return [...this.#records.values()].map((r) => ({ ...r }));
  }
}
