// Process-level operations hooks of the features in a build: request observers (metrics,
// tracing) and admin routes. Core calls them without knowing which feature provides what.
import type { AdminResponse, CompletedRequest, FeatureDefinition, FeatureOperations, ProcessContext, RequestObserver } from '../feature';
import type { Engine } from './engine';

export interface Operations {
  /** One observer calling every feature's, or undefined when none observes (the hot path
   *  then skips the calls entirely). */
  observer: RequestObserver | undefined;
  admin: Record<string, () => Promise<AdminResponse>>;
  close(): void;
}

function combine(parts: FeatureOperations[]): Operations {
  const observers = parts.flatMap((p) => (p.observer ? [p.observer] : []));
  const admin: Operations['admin'] = {};
  for (const p of parts) Object.assign(admin, p.admin ?? {});
  let observer: RequestObserver | undefined;
  if (observers.length === 1) observer = observers[0];
  else if (observers.length > 1) {
    observer = {
      started: () => { for (const o of observers) o.started?.(); },
      completed: (r: CompletedRequest) => { for (const o of observers) o.completed(r); },
    };
  }
  return { observer, admin, close: () => { for (const p of parts) p.close?.(); } };
}

/** Runs the operations hooks of a serving process (single or worker). */
export function startOperations(features: FeatureDefinition[], ctx: ProcessContext): Operations {
  return combine(features.flatMap((f) => (f.operations ? [f.operations(ctx)] : [])));
}

/** Runs the primary-side hooks in the primary of `serve --workers`. */
export function startPrimaryOperations(features: FeatureDefinition[]): Operations {
  return combine(features.flatMap((f) => (f.primary ? [f.primary()] : [])));
}

/** The Lua heap size of an engine's VM, when its heap counter was located (it is whenever a
 *  memory limit is set, the default). */
export function engineHeapBytes(engine: Engine | undefined): number | undefined {
  // Whether the counter was located is private to the VM; reading it through this cast keeps
  // this file the only place that knows.
  const vm = engine?.vm as unknown as { heap?: { known: boolean }; heapBytes(): number } | undefined;
  if (!vm || !vm.heap?.known) return undefined;
  return vm.heapBytes();
}
