/**
 * Store mixin: opens the service's collections of the system of record on the configured backend
 * (file-backed NeDB in DATA_DIR by default, MongoDB when MONGO_URI is set) as `this.stores.<name>`.
 */
import path from "node:path";
import type { Service, ServiceSchema } from "moleculer";
import { platformConfig } from "../lib/config";
import { Collection, type IndexSpec, type StoreBackend } from "../lib/store/collection";

/** Per collection: its indexes. */
export type CollectionSpecs = Record<string, IndexSpec[]>;
export type Stores<T extends Record<string, object>> = { [K in keyof T]: Collection<T[K]> };

export function StoreMixin(collections: CollectionSpecs): Partial<ServiceSchema> {
  const schema = {
    async started(this: Service & { stores: Record<string, Collection<object>> }) {
      const config = platformConfig(this.broker);
      const backend: StoreBackend = config.mongoUri
        ? { kind: "mongo", dataDir: config.dataDir, mongoUri: config.mongoUri }
        : { kind: "file", dataDir: path.join(config.dataDir, "store") };
      this.stores = {};
      for (const [name, indexes] of Object.entries(collections)) {
        this.stores[name] = await Collection.open(this.broker, this.logger, backend, `${this.name}.${name}`, indexes);
      }
    },
    async stopped(this: Service & { stores?: Record<string, Collection<object>> }) {
      await Promise.all(Object.values(this.stores ?? {}).map((c) => c.close()));
    },
  };
  return schema as unknown as Partial<ServiceSchema>;
}
