//! The Lua scripts that make each store operation atomic.
//!
//! Layout: a session is a hash at `{prefix}s:{hex}` with fields `v` (version), `d` (the record
//! as JSON) and `u` (its user, or empty), expiring at the record's expiry; each user's sessions
//! are a set at `{prefix}u:{user}` of session hex keys; a renewed signed-in session's old hex key
//! forwards to its new one for a while from a string at `{prefix}f:{hex}`. Keys are built inside
//! the scripts from the prefix, so this layout is for a single Redis (or a primary with
//! replicas), not Cluster.

/// KEYS: session, user index. ARGV: record JSON, expires_at, user (or ""), hex key.
/// Returns 1 if created, 0 if the key was taken.
pub(crate) const CREATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', 1, 'd', ARGV[1], 'u', ARGV[3])
redis.call('EXPIREAT', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('SADD', KEYS[2], ARGV[4])
  if redis.call('EXPIRETIME', KEYS[2]) < tonumber(ARGV[2]) then
    redis.call('EXPIREAT', KEYS[2], ARGV[2])
  end
end
return 1
";

/// KEYS: session. ARGV: expected version, record JSON, expires_at, user (or ""), hex key,
/// user-index prefix. Returns {1} written, {-1} missing, {0, json, version} conflict.
pub(crate) const UPDATE: &str = r"
local current = redis.call('HGET', KEYS[1], 'v')
if not current then return {-1} end
if tonumber(current) ~= tonumber(ARGV[1]) then
  return {0, redis.call('HGET', KEYS[1], 'd'), current}
end
local old_user = redis.call('HGET', KEYS[1], 'u')
redis.call('HSET', KEYS[1], 'v', tonumber(current) + 1, 'd', ARGV[2], 'u', ARGV[4])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
if old_user and old_user ~= '' and old_user ~= ARGV[4] then
  redis.call('SREM', ARGV[6] .. old_user, ARGV[5])
end
if ARGV[4] ~= '' then
  local index = ARGV[6] .. ARGV[4]
  redis.call('SADD', index, ARGV[5])
  if redis.call('EXPIRETIME', index) < tonumber(ARGV[3]) then
    redis.call('EXPIREAT', index, ARGV[3])
  end
end
return {1}
";

/// KEYS: session. ARGV: user-index prefix, hex key, session-key prefix, forward-key prefix,
/// how many forwards to follow at most. Deletes the session, or, if there is none, follows the
/// forward a renewal left under the hex key (removing it) to the session it points to, and so
/// on. Returns {1, version, record JSON} of the session deleted, or {0} if there was none
/// (integers, read alike over RESP2 and RESP3).
pub(crate) const DELETE: &str = r"
local session, hex = KEYS[1], ARGV[2]
local most = tonumber(ARGV[5])
for followed = 0, most do
  local stored = redis.call('HMGET', session, 'v', 'd', 'u')
  if stored[1] then
    redis.call('DEL', session)
    local user = stored[3]
    if user and user ~= '' then redis.call('SREM', ARGV[1] .. user, hex) end
    return {1, stored[1], stored[2]}
  end
  if followed == most then return {0} end
  local forward = ARGV[4] .. hex
  local to = redis.call('GET', forward)
  if not to then return {0} end
  redis.call('DEL', forward)
  hex = to
  session = ARGV[3] .. hex
end
return {0}
";

/// KEYS: session, its forward. ARGV: user-index prefix, hex key, the renewed session's hex key
/// (or ""), the forward's expiry. Deletes the session as DELETE does, never following a
/// forward; if it deleted one and a renewed key is given, leaves the forward to it. Returns
/// what DELETE returns.
pub(crate) const DELETE_RENEWED: &str = r"
local stored = redis.call('HMGET', KEYS[1], 'v', 'd', 'u')
if not stored[1] then return {0} end
redis.call('DEL', KEYS[1])
local user = stored[3]
if user and user ~= '' then redis.call('SREM', ARGV[1] .. user, ARGV[2]) end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[2], ARGV[3], 'EXAT', ARGV[4])
end
return {1, stored[1], stored[2]}
";

/// KEYS: user index. ARGV: session-key prefix, the hex key of the session to keep (or "").
/// Returns how many sessions were deleted.
pub(crate) const DELETE_ALL_FOR_USER: &str = r"
local deleted = 0
for _, hex in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if hex ~= ARGV[2] then
    deleted = deleted + redis.call('DEL', ARGV[1] .. hex)
    redis.call('SREM', KEYS[1], hex)
  end
end
return deleted
";
