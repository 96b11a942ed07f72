/** What the risk modules take in place of the service's collections and `publish`. */
import type { TopicName, TopicPayloads } from "../../schemas";
import type { Collection } from "../store/collection";

/** The part of a Collection risk relies on: the service hands in its collections, a test an in-memory store. */
export type RecordStore<T extends object> = Pick<Collection<T>, "get" | "insert" | "insertIfAbsent" | "put" | "find">;

/** Publishes a topic's payload; risk's modules take it in place of the service's `publish`. */
export type Publish = <T extends TopicName>(topic: T, payload: TopicPayloads[T], options?: { idempotencyKey?: string; traceId?: string }) => Promise<unknown>;
