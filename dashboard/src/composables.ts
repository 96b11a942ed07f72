/** Vue glue for the views: live subscriptions tied to a component's life, and loaders with their states. */
import { onUnmounted, ref, shallowRef, type Ref, type ShallowRef } from "vue";
import { describeError } from "./lib/api";
import { coalesce } from "./lib/coalesce";
import type { LiveEventName, LiveEvents } from "./lib/live";
import { live } from "./state";

export function useLive<E extends LiveEventName>(event: E, handler: (data: LiveEvents[E]) => void): void {
  onUnmounted(live.on(event, handler));
}

export function useResync(handler: () => void): void {
  onUnmounted(live.onResync(handler));
}

export interface Loader<T> {
  data: ShallowRef<T | undefined>;
  /** True until the first load finished; reloads keep showing the previous data. */
  loading: Ref<boolean>;
  error: Ref<string>;
  reload(): Promise<void>;
  /** Forgets the data and loads anew (the selection changed): shows the loading state again. */
  restart(): Promise<void>;
  /** A reload coalesced with others (for bursts of live events), at most `LIVE_RELOAD_MS` behind. */
  refresh(): void;
}

/** Live events trigger reloads at most this often per view. */
export const LIVE_RELOAD_MS = 250;

export function useLoader<T>(load: () => Promise<T>): Loader<T> {
  const data = shallowRef<T>();
  const loading = ref(true);
  const error = ref("");
  let generation = 0;
  const reload = async () => {
    // Only the newest request may write: an older answer arriving late must not overwrite a newer one.
    const mine = ++generation;
    try {
      const value = await load();
      if (mine !== generation) return;
      data.value = value;
      error.value = "";
    } catch (err) {
      if (mine === generation) error.value = describeError(err);
    } finally {
      if (mine === generation) loading.value = false;
    }
  };
  const coalesced = coalesce(reload, LIVE_RELOAD_MS);
  onUnmounted(() => coalesced.cancel());
  const restart = () => {
    data.value = undefined;
    loading.value = true;
    return reload();
  };
  return { data, loading, error, reload, restart, refresh: coalesced.trigger };
}
