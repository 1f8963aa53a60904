import type { Command } from 'commander';
import { MLPEnv } from '../context/mlp-env.js';
import { ConfigError } from '../errors.js';
import type { RedisTrainingOptions, TrainerRole } from '../graph/redis-training.js';
import { list, nonNegativeInt, positiveInt } from './options.js';

const ROLES: TrainerRole[] = ['chief', 'worker'];

/** Flags of `train` for several trainers sharing parameters in a Redis Cluster. */
export function withRedisFlags(cmd: Command): Command {
  return cmd
    .option('--redis-nodes <list>', 'train against embedding tables and dense parameters in this Redis Cluster (host:port,…; any nodes, the rest are discovered), shared with other trainers', list)
    .option('--role <role>', 'with --redis-nodes: chief (initialises the cluster, writes checkpoints and exports) or worker (only trains); default: from the MLP job environment (WORKER 0 is the chief), else chief')
    .option('--trainer-index <n>', 'with --redis-nodes: this trainer\'s number (per-trainer counters, logs); default: MLP_ROLE_INDEX (or the MPI rank), else 0', nonNegativeInt)
    .option('--staleness-ms <ms>', 'with --redis-nodes: a cached embedding row is read again from Redis once it is this old (0: every step reads its rows)', nonNegativeInt, 1000)
    .option('--dense-sync-steps <n>', 'with --redis-nodes: sync the dense parameters with Redis every n steps…', positiveInt, 10)
    .option('--dense-sync-ms <ms>', '…or every this many ms, whichever comes first', nonNegativeInt, 1000)
    .option('--redis-timeout-ms <ms>', 'with --redis-nodes: a node silent this long fails training with an error naming it', positiveInt, 5000)
    .option('--kafka-session-timeout-ms <ms>', 'Kafka consumer session.timeout.ms: how soon the group gives a dead trainer\'s partitions to the others', positiveInt);
}

/** The Redis training options of the flags, or undefined without --redis-nodes (then the Redis-only flags must be at their defaults). */
export function redisOptionsFromFlags(o: Record<string, unknown>, flagGiven: (name: string) => boolean, env: NodeJS.ProcessEnv = process.env): RedisTrainingOptions | undefined {
  if (o.role !== undefined && !ROLES.includes(o.role as TrainerRole)) throw new ConfigError(`--role must be chief or worker, got ${String(o.role)}`);
  if (!o.redisNodes) {
    const stray = ['role', 'trainerIndex', 'stalenessMs', 'denseSyncSteps', 'denseSyncMs', 'redisTimeoutMs'].filter(flagGiven);
    if (stray.length) throw new ConfigError(`${stray.map((s) => `--${s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} need${stray.length > 1 ? '' : 's'} --redis-nodes`);
    return undefined;
  }
  const nodes = o.redisNodes as string[];
  for (const n of nodes) {
    const port = Number(n.slice(n.lastIndexOf(':') + 1));
    if (n.lastIndexOf(':') <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`--redis-nodes: "${n}" is not host:port`);
  }
  // An MLP job (MLP_ROLE=WORKER, MLP_ROLE_INDEX / MPI rank) says who this trainer is, as Monolith's MLPEnv does: worker 0 is the chief.
  const mlp = o.role === undefined || o.trainerIndex === undefined ? new MLPEnv({ env }) : undefined;
  const fromMlp = mlp?.available && mlp.role === 'WORKER' ? mlp.index : undefined;
  const trainerIndex = (o.trainerIndex as number | undefined) ?? fromMlp ?? 0;
  return {
    nodes,
    role: (o.role as TrainerRole | undefined) ?? (fromMlp !== undefined && fromMlp > 0 ? 'worker' : 'chief'),
    trainerIndex,
    stalenessMs: o.stalenessMs as number,
    denseSyncSteps: o.denseSyncSteps as number,
    denseSyncMs: o.denseSyncMs as number,
    timeoutMs: o.redisTimeoutMs as number,
  };
}
