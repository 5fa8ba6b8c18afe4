/**
 * The rate-limit scripts (Lua, run atomically by Redis; loaded by rate-limit.ts with defineCommand).
 *
 * RESERVE
 *   KEYS[1]  the sender's bucket counter, e.g. "email_rate:{sender}:{YYYYMMDDHH}"
 *   KEYS[2]  the job's last-send time for the gap, e.g. "email_gap:{job}:{sender}"
 *   ARGV[1]  cap per bucket (0 = no cap)
 *   ARGV[2]  TTL of the counter in ms (about two buckets: it outlives its bucket, then disappears)
 *   ARGV[3]  now, ms since the epoch (the worker's injectable clock, the same one that labels the bucket)
 *   ARGV[4]  minimum gap between sends in ms (0 = none)
 *   ARGV[5]  ms until the next bucket starts
 *   Returns {1, count}: reserved (count = sends in this bucket, 0 without a cap);
 *           {0, waitMs}: not reserved, NOTHING changed — try again in waitMs.
 *   Checking before INCR is the same as "INCR, and undo it when over the cap", but in one atomic step.
 *
 * REFUND
 *   KEYS[1]  the bucket counter a reservation was counted in
 *   Gives one reservation back (the send did not happen: already sent, fenced, no longer eligible).
 *   Returns the new count; never goes below 0.
 */
export const RESERVE_LUA = `
local now = tonumber(ARGV[3])
local gap = tonumber(ARGV[4])
if gap > 0 then
  local last = redis.call('GET', KEYS[2])
  if last and now - tonumber(last) < gap then
    return {0, gap - (now - tonumber(last))}
  end
end
local cap = tonumber(ARGV[1])
local count = 0
if cap > 0 then
  count = tonumber(redis.call('GET', KEYS[1]) or '0')
  if count >= cap then
    return {0, tonumber(ARGV[5])}
  end
  count = redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if gap > 0 then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
end
return {1, count}
`;

export const REFUND_LUA = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
`;
