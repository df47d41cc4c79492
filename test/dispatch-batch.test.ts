// The dispatch batch (core/runtime/http/dispatch-batch.ts): requests added in one event-loop turn
// run together after it, answers are sent after the runs, and a slow run does not hold back the
// answers before it. The forced stop in the middle of a batch is in containment.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchItem, DispatchBatch } from '../core/runtime/http/dispatch-batch';

/** An item that records its run and send in `events`; `busyMs` of CPU in its run. Its answer is
 *  its name, or none (null: answered already, or later). */
function item(events: string[], name: string, answer: string | null = name, busyMs = 0): BatchItem<string> {
  return {
    run() {
      events.push(`run ${name}`);
      const until = performance.now() + busyMs;
      while (performance.now() < until) { /* a slow handler */ }
      return answer ?? undefined;
    },
    reply(a) {
      events.push(`send ${a}`);
    },
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('items added in one turn run together after it, then are answered in order; undefined is not sent', async () => {
  const events: string[] = [];
  // A hold far above any pause this machine can take: the order below is exact.
  const batch = new DispatchBatch<string>(60_000);
  batch.add(item(events, 'a'));
  batch.add(item(events, 'b', null));
  batch.add(item(events, 'c'));
  assert.deepEqual(events, [], 'nothing runs while the turn that read them goes on');
  await turn();
  await turn();
  assert.deepEqual(events, ['run a', 'run b', 'run c', 'send a', 'send c']);
  // The next turn's items are the next batch.
  batch.add(item(events, 'd'));
  await turn();
  await turn();
  assert.deepEqual(events.slice(5), ['run d', 'send d']);
});

test('a run longer than the hold sends the answers before it first', async () => {
  const events: string[] = [];
  const batch = new DispatchBatch<string>(1);
  batch.add(item(events, 'slow', 'slow', 5));
  batch.add(item(events, 'b'));
  await turn();
  await turn();
  assert.deepEqual(events.slice(0, 3), ['run slow', 'send slow', 'run b']);
  assert.deepEqual(events.slice(3), ['send b']);
});
