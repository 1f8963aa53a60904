import { ConfigError } from '../../errors.js';
import type { EntryLayout } from '../entry-config.js';
import { ftrlStepExponent } from '../optimizers/ftrl.js';
import { opt } from '../optimizers/segment-optimizer.js';

/** Name of the Redis Function library this backend loads (`FUNCTION LOAD REPLACE`). */
export const FUNCTION_LIBRARY = 'monolith_ts';
/** Bumped whenever the Lua below changes, so a cluster running an older library is replaced. */
export const FUNCTION_LIBRARY_VERSION = 3;

/**
 * Redis Functions (Lua) that update one row atomically on the server.
 * A row is the shared-memory table's row, `stride` little-endian 32-bit words:
 * [embedding | optimizer states | last-update seconds (uint32) | padding].
 *
 * `mt_apply KEYS[1]=row ARGV = ts, tsWord, gradients (dim float32s), nseg,
 * then per segment: kind, dim, embAt, stateAt, lr, p1, p2, p3, p4, then optionally
 * ttl` returns 1, or 0 when the row does not exist (the client creates it and
 * calls again). With a ttl > 0 the row expires that many seconds after this
 * update (expiry counts from the last update).
 * The formulas are those of src/hashtable/optimizers (computed in doubles,
 * stored as float32, exactly as the Float32Array rows are).
 */
export const FUNCTION_SOURCE = `#!lua name=${FUNCTION_LIBRARY}
local function f32(s, word) return (struct.unpack('<f', s, word * 4 + 1)) end
local function pw(n, p)
  if p == 0.5 then return math.sqrt(n) elseif p == 1 then return n else return n ^ p end
end

local function apply(keys, args)
  local row = redis.call('GET', keys[1])
  if not row then return 0 end
  local ts = tonumber(args[1])
  local tsWord = tonumber(args[2])
  local grad = args[3]
  local nseg = tonumber(args[4])
  local out = {}
  local a = 5
  for _ = 1, nseg do
    local kind = args[a]
    local dim = tonumber(args[a + 1])
    local w = tonumber(args[a + 2])
    local s = tonumber(args[a + 3])
    local lr = tonumber(args[a + 4])
    local p1 = tonumber(args[a + 5])
    local p2 = tonumber(args[a + 6])
    local p3 = tonumber(args[a + 7])
    local p4 = tonumber(args[a + 8])
    a = a + 9
    for i = 0, dim - 1 do
      local g = f32(grad, w + i)
      local wi = f32(row, w + i)
      if kind == 'sgd' then
        out[w + i] = wi - lr * g
      elseif kind == 'adagrad' then
        g = g + p1 * wi
        local n = f32(row, s + i) + g * g
        out[s + i] = n
        out[w + i] = wi - lr * g / math.sqrt(n)
      elseif kind == 'ftrl' then
        local n = f32(row, s + i)
        local nNew = n + g * g
        local stepNew = pw(nNew, p4)
        local sigma = (stepNew - pw(n, p4)) / lr
        local z = f32(row, s + dim + i) + (g - sigma * wi)
        out[s + dim + i] = z
        out[s + i] = nNew
        local den = stepNew + p1 + p3 * lr
        if math.abs(z) > p2 and den > 0 then
          local sign = z > 0 and 1 or (z < 0 and -1 or 0)
          out[w + i] = lr * (sign * p2 - z) / den
        else
          out[w + i] = 0
        end
      else
        return redis.error_reply('monolith_ts: unknown optimizer ' .. tostring(kind))
      end
    end
  end
  local words = string.len(row) / 4
  local parts = {}
  for j = 0, words - 1 do
    if j == tsWord then
      parts[j + 1] = struct.pack('<I4', ts)
    elseif out[j] ~= nil then
      parts[j + 1] = struct.pack('<f', out[j])
    else
      parts[j + 1] = string.sub(row, j * 4 + 1, j * 4 + 4)
    end
  end
  local ttl = tonumber(args[a] or '0') or 0
  if ttl > 0 then
    redis.call('SET', keys[1], table.concat(parts), 'EX', ttl)
  else
    redis.call('SET', keys[1], table.concat(parts))
  end
  return 1
end

redis.register_function('mt_apply', apply)
redis.register_function{function_name = 'mt_version', callback = function() return ${FUNCTION_LIBRARY_VERSION} end, flags = {'no-writes'}}
`;

/** The optimizers the server-side function implements. */
const SERVER_SIDE = ['sgd', 'adagrad', 'ftrl'];

/**
 * The per-segment FCALL arguments of `layout` except the learning rate
 * (`[kind, dim, embAt, stateAt, lr placeholder, p1, p2, p3, p4]` per segment),
 * with the optimizer parameters read from the same configs and defaults as
 * the local optimizers. Other optimizers are a ConfigError naming the segment.
 */
export function segmentArgs(layout: EntryLayout, table: string): string[][] {
  if (layout.serving) throw new ConfigError(`redis table ${table}: SERVING entries are not supported (training tables only)`);
  return layout.segments.map((seg, k) => {
    const kind = seg.optimizer.kind;
    if (!SERVER_SIDE.includes(kind)) {
      throw new ConfigError(`redis table ${table}: segment ${k} uses optimizer ${kind}; the Redis backend supports ${SERVER_SIDE.join(', ')}`);
    }
    const c = layout.config.segments[k]!.optConfig;
    let p: number[] = [0, 0, 0, 0];
    if (kind === 'adagrad') p = [opt(c?.adagrad?.weightDecayFactor, 0), 0, 0, 0];
    if (kind === 'ftrl') p = [opt(c?.ftrl?.beta, 0), opt(c?.ftrl?.l1RegularizationStrength, 0), opt(c?.ftrl?.l2RegularizationStrength, 0), ftrlStepExponent(c?.ftrl ?? {}, `redis table ${table}: segment ${k}`)];
    return [kind, String(seg.dim), String(seg.embAt), String(seg.stateAt), '', ...p.map(String)];
  });
}

/** The optimizer parameters (p1..p4) of a segment's `segmentArgs` with its L2 (Adagrad weight decay, FTRL L2) times `reg`. */
export function l2Scaled(a: readonly string[], reg: number): string[] {
  const p = a.slice(5, 9);
  if (reg === 1) return p;
  if (a[0] === 'adagrad') p[0] = String(Number(p[0]) * reg);
  if (a[0] === 'ftrl') p[2] = String(Number(p[2]) * reg);
  return p;
}
