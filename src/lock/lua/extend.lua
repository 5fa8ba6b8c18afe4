--[[
  Extend a job lock, only if the caller still holds it.

  KEYS[1]  the lock key, e.g. "job:{name}:lock"
  ARGV[1]  the caller's token (the value it SET with NX)
  ARGV[2]  the new TTL in milliseconds (positive integer)

  Returns 1 when the key held ARGV[1] and its TTL is now ARGV[2] ms; 0 when the key is gone or holds
  another token (the lock expired, and maybe someone else took it) — nothing is changed then.
  GET and PEXPIRE run as one script, so no other client can take the lock between the check and the extend.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
