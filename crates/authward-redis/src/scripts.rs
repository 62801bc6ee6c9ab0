//! The Lua scripts that change several keys at once. Each touches only keys it is given, all of
//! one bucket (one hash slot), so each runs atomically on a single server and on a cluster.

use std::sync::LazyLock;

use redis::Script;

/// The scripts, hashed once per process.
pub(crate) struct Scripts {
    /// KEYS: token, user index, all index. ARGV: record, TTL ms (0: none), score, member.
    /// Returns the user index's size once stored (at least 1), 0 when the digest exists.
    pub(crate) create: Script,
    /// KEYS: token, user index, all index. ARGV: expected record, member.
    /// Deletes the token if it still holds the expected record; returns 1 if it did.
    pub(crate) delete: Script,
    /// KEYS: user index, all index, token 1..n. ARGV: member 1..n.
    /// Deletes the tokens and their index entries; returns how many tokens existed.
    pub(crate) delete_many: Script,
    /// KEYS: all index, token 1..n, user index 1..n. ARGV: member 1..n, expected record 1..n
    /// (empty when the token was gone). Returns {tokens deleted, entries left because their
    /// token changed meanwhile}.
    pub(crate) delete_expired: Script,
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    create: Script::new(CREATE),
    delete: Script::new(DELETE),
    delete_many: Script::new(DELETE_MANY),
    delete_expired: Script::new(DELETE_EXPIRED),
});

const CREATE: &str = r"
local ttl = tonumber(ARGV[2])
local stored
if ttl > 0 then
  stored = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ttl)
else
  stored = redis.call('SET', KEYS[1], ARGV[1], 'NX')
end
if not stored then return 0 end
-- Each index lives at least as long as its longest-lived token: its TTL is extended, never
-- shortened, and dropped when a token without TTL joins. An extension gives an eighth more than
-- the token needs, so that the tokens of the next eighth of a lifetime (every login, for the
-- per-bucket index) add no PEXPIRE; an index outliving its tokens a little only holds entries
-- the expiry sweep removes.
for i = 2, 3 do
  local index_ttl = redis.call('PTTL', KEYS[i])
  redis.call('ZADD', KEYS[i], ARGV[3], ARGV[4])
  if ttl > 0 then
    if index_ttl == -2 or (index_ttl >= 0 and index_ttl < ttl) then
      redis.call('PEXPIRE', KEYS[i], ttl + math.floor(ttl / 8))
    end
  elseif index_ttl >= 0 then
    redis.call('PERSIST', KEYS[i])
  end
end
return redis.call('ZCARD', KEYS[2])
";

const DELETE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return 1
";

const DELETE_MANY: &str = r"
local deleted = 0
for i = 1, #ARGV do
  deleted = deleted + redis.call('DEL', KEYS[i + 2])
end
redis.call('ZREM', KEYS[1], unpack(ARGV))
redis.call('ZREM', KEYS[2], unpack(ARGV))
return deleted
";

const DELETE_EXPIRED: &str = r"
local n = #ARGV / 2
local deleted, kept = 0, 0
for i = 1, n do
  local member, expected = ARGV[i], ARGV[n + i]
  local token, user = KEYS[1 + i], KEYS[1 + n + i]
  local current = redis.call('GET', token)
  if not current then
    redis.call('ZREM', KEYS[1], member)
  elseif current == expected then
    redis.call('DEL', token)
    redis.call('ZREM', user, member)
    redis.call('ZREM', KEYS[1], member)
    deleted = deleted + 1
  else
    kept = kept + 1
  end
end
return {deleted, kept}
";
