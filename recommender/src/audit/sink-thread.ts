/**
 * The audit thread (see thread-sink.ts): a FileSink fed by the service thread's messages. Outcomes are
 * rebuilt from their parts once per epoch and kept by id, so a FileSink writes each once per file as it
 * does on any thread; what the sink reports goes back in one message per batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FileSink } from './file-sink.js';
import { Outcome } from './outcome.js';
import { NamesMirror, partsFromWire, type FromThread, type ThreadSinkData, type ToThread } from './thread-wire.js';

const port = parentPort!;
const report = { taken: 0, written: 0, dropped: 0, errors: [] as string[] };
let reportSoon = false;

function post(m: FromThread): void {
  port.postMessage(m);
}

function sendReport(flushed?: number): void {
  reportSoon = false;
  post({ type: 'events', ...report, ...(flushed === undefined ? {} : { flushed }) });
  report.taken = report.written = report.dropped = 0;
  report.errors = [];
}

function soon(): void {
  if (reportSoon) return;
  reportSoon = true;
  setImmediate(() => sendReport());
}

async function main(): Promise<void> {
  const data = workerData as ThreadSinkData;
  let sink: FileSink;
  try {
    sink = await FileSink.open({
      ...data,
      events: {
        written: (n) => ((report.written += n), soon()),
        dropped: (n) => ((report.dropped += n), soon()),
        error: (err) => (report.errors.length < 10 && report.errors.push(err.message), soon()),
      },
    });
  } catch (err) {
    post({ type: 'failed', message: (err as Error).message });
    return;
  }
  const names = new NamesMirror();
  let outcomes = new Map<number, Outcome>();
  port.on('message', (m: ToThread) => {
    if (m.type === 'entries') {
      for (const d of m.names) names.apply(d);
      for (const e of m.entries) {
        if ('epoch' in e) outcomes = new Map();
        else if ('lost' in e) sink.lost(e.lost);
        else if ('decision' in e) {
          let outcome = outcomes.get(e.oid);
          if (e.parts) {
            const parts = partsFromWire(e.parts, names, m.nums, m.bytes);
            outcomes.set(e.oid, (outcome = new Outcome(() => parts)));
          }
          if (outcome) sink.write({ decision: e.decision, outcome, user: e.user });
          else {
            // Cannot happen (the service thread sends the parts with an outcome's first reference in an epoch), but if it did…
            sink.lost(1);
            report.dropped++;
          }
        } else sink.write(e);
      }
      report.taken += m.entries.length;
      soon();
    } else if (m.type === 'flush') {
      void sink.flush().then(() => sendReport(m.id));
    } else {
      void sink.close().then(() => {
        sendReport(m.id);
        port.close();
      });
    }
  });
  post({ type: 'ready' });
}

void main();
