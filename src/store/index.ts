/**
 * The data store (the `irods` target): interface, errors, path rules and the
 * embedded implementation.
 *
 * @module
 */
import type { Config } from '../config.js';
import { EmbeddedStore } from './embedded/store.js';
import type { FlowStore, StoreAdmin } from './types.js';

export * from './types.js';
export * from './errors.js';
export * from './paths.js';
export * from './principals.js';
export { EmbeddedStore, type EmbeddedStoreOptions, type PutTreeOptions, type PutTreeResult } from './embedded/index.js';

/** Settings the store reads (a subset of {@link Config}). */
export type StoreConfig = Pick<Config, 'dataDir' | 'irodsZone' | 'hashWorkers'> & Partial<Pick<Config, 'storeSync' | 'storeDirectWrites' | 'storeInlineMax'>>;

/** Opens the embedded store of `config.dataDir` (zone `config.irodsZone`), creating it when new. */
export async function openStore(config: StoreConfig): Promise<FlowStore & StoreAdmin> {
  return openEmbeddedStore(config);
}

/**
 * Like {@link openStore}, typed as the embedded class (for its folder put and
 * tools); `layoutRoots`: further collections this handle refuses to move,
 * remove or trash (see {@link EmbeddedStoreOptions.layoutRoots}).
 */
export async function openEmbeddedStore(config: StoreConfig, layoutRoots: readonly string[] = []): Promise<EmbeddedStore> {
  return EmbeddedStore.open({
    dataDir: config.dataDir,
    zone: config.irodsZone,
    hashWorkers: config.hashWorkers,
    sync: config.storeSync,
    directWrites: config.storeDirectWrites,
    inlineMaxBytes: config.storeInlineMax,
    layoutRoots,
  });
}
