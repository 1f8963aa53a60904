// Child process of exit-hook.test: trains "forever" under exitHook with the default exit.
import { interval } from 'rxjs';
import { withCtx, defaultTaskContext } from '../../../src/context/native-task-context.js';
import type { MetricsClient } from '../../../src/metrics/metrics-client.js';
import { exitHook } from '../../../src/streams/hooks/exit-hook.js';

const stdoutClient: MetricsClient = {
  emitCounter: (name, value, tags) => process.stdout.write(`${name} ${value} ${JSON.stringify(tags)}\n`),
  emitTimer: () => undefined,
  emitStore: () => undefined,
};
withCtx({ ...defaultTaskContext(), serverType: 'worker', workerIndex: 0 }, () => {
  interval(50).pipe(exitHook({ client: stdoutClient })).subscribe();
});
process.stdout.write('ready\n');
