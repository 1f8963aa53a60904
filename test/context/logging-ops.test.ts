import test from 'ava';
import { tensorflow } from '../../src/proto.js';
import { checkMachineHealth, currentMemoryUsage, DEFAULT_MACHINE_INFO_MEM_LIMIT, machineInfo } from '../../src/context/machine-health.js';
import { emitTimer, formatTags, parseTags, tensorsTimestamp } from '../../src/context/logging-ops.js';
import { MemoryMetricsClient } from '../../src/metrics/memory-client.js';
import { lookupType } from '../../src/io/schema-registry.js';

test('test_tensors_timestamp: values pass unchanged; a later call has a timestamp no older (Unix µs)', (t) => {
  const values = [1, 2];
  const [out1, ts1] = tensorsTimestamp(values);
  const [, ts2] = tensorsTimestamp(values);
  t.is(out1, values);
  t.true(ts2 >= ts1);
  t.true(Math.abs(ts1 / 1000 - Date.now()) < 5_000, 'microseconds since the epoch');
});

test('test_emit_timer: tags become k=v|k2=v2 and the timer reaches the client', (t) => {
  const client = new MemoryMetricsClient();
  t.deepEqual(emitTimer('test', 0.0, {}, client), { key: 'test', value: 0, tags: '' });
  t.deepEqual(emitTimer('lat', 1.5, { model: 'm', shard: '3' }, client), { key: 'lat', value: 1.5, tags: 'model=m|shard=3' });
  t.deepEqual(client.points.map((p) => [p.kind, p.name, p.value, p.tags]), [['timer', 'test', 0, {}], ['timer', 'lat', 1.5, { model: 'm', shard: '3' }]]);
  t.is(formatTags({ a: '1' }), 'a=1');
  t.deepEqual(parseTags('a=1|b=x=y'), { a: '1', b: 'x=y' });
});

test('test_machine_health: a high limit is healthy → empty bytes; the default limit is 2^62', (t) => {
  t.is(machineInfo().memLimit, DEFAULT_MACHINE_INFO_MEM_LIMIT);
  t.is(DEFAULT_MACHINE_INFO_MEM_LIMIT, 2 ** 62);
  t.is(checkMachineHealth(machineInfo()).length, 0);
  t.true(currentMemoryUsage() > 0);
});

test('test_machine_health_oom: limit 0 → a serialized MachineHealthResult with OUT_OF_MEMORY and the numbers', (t) => {
  const bytes = checkMachineHealth(machineInfo(0), () => 123_456);
  t.true(bytes.length > 0);
  // field 1 (varint) = 1, field 2 (string)
  t.is(bytes[0], 0x08);
  t.is(bytes[1], 0x01);
  const { MachineHealthResult } = tensorflow.monolith_tf;
  const decoded = MachineHealthResult.decode(bytes);
  t.is(decoded.status, MachineHealthResult.MachineHealthStatus.OUT_OF_MEMORY);
  t.is(decoded.message, 'Memory limit exceeded. Current: 123456, Limit: 0');
  // also by reflection over the schema (independent of the static codec)
  const reflected = lookupType('tensorflow.monolith_tf.MachineHealthResult').toObject(lookupType('tensorflow.monolith_tf.MachineHealthResult').decode(bytes), { enums: String });
  t.is(reflected.status, 'OUT_OF_MEMORY');
  t.true(checkMachineHealth(machineInfo(0)).length > 0, 'the real usage is above 0');
  t.throws(() => checkMachineHealth(machineInfo(0), () => 0), { message: /unable to get the current process usage/ });
});
