--[[
  Release a job lock by compare-and-delete: never delete a lock another holder took after ours expired.

  KEYS[1]  the lock key, e.g. "job:{name}:lock"
  ARGV[1]  the caller's token (the value it SET with NX)

  Returns 1 when the key held ARGV[1] and is now deleted; 0 when it is gone or holds another token
  (nothing is changed then). GET and DEL run as one script, so the check cannot go stale before the delete.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
