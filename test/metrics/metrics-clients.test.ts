import test from 'ava';
import { ConfigError } from '../../src/errors.js';
import { getCli, NoopMetricsClient } from '../../src/metrics/noop-client.js';
import { getMetricPrefix } from '../../src/metrics/metric-prefix.js';
import { PrometheusMetricsClient, prometheusName } from '../../src/metrics/prometheus-client.js';

test('getCli ignores its arguments; every method, even ones the interface does not name, is a no-op returning undefined', (t) => {
  const cli = getCli('monolith.training', { anything: 1 });
  t.true(cli instanceof NoopMetricsClient);
  t.is(cli.emitCounter('c', 1, { a: 'b' }), undefined);
  t.is(cli.emitTimer('t', 2), undefined);
  t.is(cli.emitStore('s', 3), undefined);
  t.is(cli.flush!(), undefined);
  t.is(cli.anything_at_all!(1, 2, 3), undefined);
  t.not(getCli(), cli, 'a new client each call');
});

test('getMetricPrefix: MONOLITH_METRIC_PREFIX else monolith.training', (t) => {
  t.is(getMetricPrefix({}), 'monolith.training');
  t.is(getMetricPrefix({ MONOLITH_METRIC_PREFIX: 'my.job' }), 'my.job');
});

test('Prometheus client: counters, timers and stores under the prefix, served on 127.0.0.1/metrics', async (t) => {
  const client = new PrometheusMetricsClient({ prefix: 'monolith.training', timerBuckets: [0.5, 1, 5] });
  t.teardown(() => client.close());
  const tags = { model_name: 'ctr', cluster_type: 'stable' };
  client.emitCounter('run_steps.all', 30, tags);
  client.emitCounter('run_steps.all', 12, tags);
  client.emitTimer('run_steps_elapsed_time.all', 0.75, tags);
  client.emitStore('step_loss', 0.25);
  client.emitStore('step_loss', 0.125);
  const endpoint = await client.serve(0);
  t.is(endpoint.host, '127.0.0.1');
  const res = await fetch(endpoint.url);
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /text\/plain/);
  const body = await res.text();
  t.regex(body, /^monolith_training_run_steps_all\{model_name="ctr",cluster_type="stable"\} 42$/m);
  t.regex(body, /^monolith_training_run_steps_elapsed_time_all_bucket\{le="1",model_name="ctr",cluster_type="stable"\} 1$/m);
  t.regex(body, /^monolith_training_run_steps_elapsed_time_all_bucket\{le="0.5",model_name="ctr",cluster_type="stable"\} 0$/m);
  t.regex(body, /^monolith_training_run_steps_elapsed_time_all_sum\{model_name="ctr",cluster_type="stable"\} 0.75$/m);
  t.regex(body, /^monolith_training_step_loss 0.125$/m);
  t.is((await fetch(endpoint.url.replace('/metrics', '/other'))).status, 404);
  await client.close();
  await t.throwsAsync(fetch(endpoint.url), undefined, 'the server is closed');
});

test('Prometheus client: label names are fixed by the first point; kind changes and tag changes are ConfigErrors; a negative counter is dropped', async (t) => {
  const client = new PrometheusMetricsClient({ prefix: '' });
  client.emitCounter('exit_hook', 1, { server_type: 'worker', index: '0', sig: '15' });
  t.throws(() => client.emitCounter('exit_hook', 1, { server_type: 'worker' }), { instanceOf: ConfigError, message: /has tags \[index, server_type, sig\]/ });
  t.throws(() => client.emitStore('exit_hook', 1, { server_type: 'worker', index: '0', sig: '15' }), { instanceOf: ConfigError, message: /first emitted as a counter/ });
  client.emitCounter('exit_hook', -5, { server_type: 'worker', index: '0', sig: '15' });
  t.regex(await client.text(), /^exit_hook\{server_type="worker",index="0",sig="15"\} 1$/m);
  await client.close();
});

test('prometheusName replaces what Prometheus does not allow', (t) => {
  t.is(prometheusName('monolith.training.run_steps.all'), 'monolith_training_run_steps_all');
  t.is(prometheusName('9lives-x'), '_9lives_x');
});
