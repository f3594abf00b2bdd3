namespace Conec.Redis;

/// <summary>
/// The directory's Lua scripts: each runs atomically in Redis, so a claim, a lease check and a takeover can never
/// interleave with another node's. A claim's value is <c>node|epoch|session</c>; it is live while the node's record
/// (its lease) holds that epoch. Scripts build keys of ids they read from Redis with the cluster's key prefix,
/// which shares one hash tag with every declared key.
/// </summary>
internal static class RedisScripts
{
    /// <summary>
    /// Register or renew. KEYS: node record, nodes set. ARGV: epoch, host, port, lease (ms), nodes-set member.
    /// Returns 1 renewed, 2 written anew (first registration, or the lease had lapsed), 0 another epoch holds it.
    /// </summary>
    public const string Lease = """
        local current = redis.call('HGET', KEYS[1], 'epoch')
        if current == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[4])
          return 1
        end
        if current then
          return 0
        end
        redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'host', ARGV[2], 'port', ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('SADD', KEYS[2], ARGV[5])
        return 2
        """;

    /// <summary>
    /// Claim. KEYS: the client's claim, this incarnation's claims set. ARGV: value, this incarnation's value prefix
    /// (<c>node|epoch|</c>), key prefix, client id. Returns nil once claimed, or the node that holds the id live.
    /// A claim of this incarnation (an earlier session, already gone here) or of a node whose lease lapsed is taken.
    /// </summary>
    public const string Claim = """
        local current = redis.call('GET', KEYS[1])
        if current and string.sub(current, 1, #ARGV[2]) ~= ARGV[2] then
          local node, epoch = string.match(current, '^([^|]+)|([^|]+)|')
          if node then
            if redis.call('HGET', ARGV[3] .. 'node:' .. node, 'epoch') == epoch then
              return node
            end
            redis.call('SREM', ARGV[3] .. 'claims:' .. node .. ':' .. epoch, ARGV[4])
          end
        end
        redis.call('SET', KEYS[1], ARGV[1])
        redis.call('SADD', KEYS[2], ARGV[4])
        return false
        """;

    /// <summary>Release. KEYS: the client's claim, this incarnation's claims set. ARGV: value, client id. Only the claiming session's value is removed.</summary>
    public const string Release = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('DEL', KEYS[1])
          redis.call('SREM', KEYS[2], ARGV[2])
        end
        return 1
        """;

    /// <summary>Locate. KEYS: the client's claim. ARGV: key prefix. Returns {node, host, port} of the live holder, or nil.</summary>
    public const string Locate = """
        local current = redis.call('GET', KEYS[1])
        if not current then
          return false
        end
        local node, epoch = string.match(current, '^([^|]+)|([^|]+)|')
        if not node then
          return false
        end
        local record = redis.call('HMGET', ARGV[1] .. 'node:' .. node, 'epoch', 'host', 'port')
        if record[1] ~= epoch then
          return false
        end
        return {node, record[2], record[3]}
        """;

    /// <summary>
    /// Drop claims of clients gone from this node. KEYS: this incarnation's claims set. ARGV: value prefix, key
    /// prefix, client ids. A claim another session took meanwhile is left alone.
    /// </summary>
    public const string Drop = """
        for i = 3, #ARGV do
          local key = ARGV[2] .. 'client:' .. ARGV[i]
          local current = redis.call('GET', key)
          if current and string.sub(current, 1, #ARGV[1]) == ARGV[1] then
            redis.call('DEL', key)
          end
          redis.call('SREM', KEYS[1], ARGV[i])
        end
        return 1
        """;

    /// <summary>
    /// Re-assert claims. KEYS: this incarnation's claims set. ARGV: value prefix, key prefix, then id, value pairs.
    /// Claims what is free, this incarnation's or a dead node's; returns the ids a live other node holds.
    /// </summary>
    public const string Assert = """
        local conflicts = {}
        for i = 3, #ARGV, 2 do
          local id, value = ARGV[i], ARGV[i + 1]
          local key = ARGV[2] .. 'client:' .. id
          local current = redis.call('GET', key)
          local free = true
          if current and current ~= value and string.sub(current, 1, #ARGV[1]) ~= ARGV[1] then
            local node, epoch = string.match(current, '^([^|]+)|([^|]+)|')
            if node and redis.call('HGET', ARGV[2] .. 'node:' .. node, 'epoch') == epoch then
              free = false
              conflicts[#conflicts + 1] = id
            end
          end
          if free then
            redis.call('SET', key, value)
            redis.call('SADD', KEYS[1], id)
          end
        end
        return conflicts
        """;

    /// <summary>
    /// Sweep. KEYS: nodes set. ARGV: key prefix. Every incarnation whose record is gone or holds another epoch is
    /// dead: its claims that still name it go, then its claims set and its member. Returns the claims removed.
    /// </summary>
    public const string Sweep = """
        local removed = 0
        for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local node, epoch = string.match(member, '^(.+)|([^|]+)$')
          if node and redis.call('HGET', ARGV[1] .. 'node:' .. node, 'epoch') ~= epoch then
            local claims = ARGV[1] .. 'claims:' .. node .. ':' .. epoch
            local prefix = node .. '|' .. epoch .. '|'
            for _, id in ipairs(redis.call('SMEMBERS', claims)) do
              local key = ARGV[1] .. 'client:' .. id
              local current = redis.call('GET', key)
              if current and string.sub(current, 1, #prefix) == prefix then
                redis.call('DEL', key)
                removed = removed + 1
              end
            end
            redis.call('DEL', claims)
            local parts = ARGV[1] .. 'bcasts:' .. node .. ':' .. epoch
            for _, name in ipairs(redis.call('SMEMBERS', parts)) do
              redis.call('HDEL', ARGV[1] .. 'bcast:' .. name, member)
            end
            redis.call('DEL', parts)
            redis.call('SREM', KEYS[1], member)
          end
        end
        return removed
        """;

    /// <summary>
    /// Leave. KEYS: node record, nodes set, this incarnation's claims set. ARGV: epoch, nodes-set member, key
    /// prefix, value prefix, events channel, node id. Drops the record (if still this epoch's), every claim and
    /// every broadcast part, then announces the departure.
    /// </summary>
    public const string Leave = """
        if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] then
          redis.call('DEL', KEYS[1])
        end
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
          local key = ARGV[3] .. 'client:' .. id
          local current = redis.call('GET', key)
          if current and string.sub(current, 1, #ARGV[4]) == ARGV[4] then
            redis.call('DEL', key)
          end
        end
        redis.call('DEL', KEYS[3])
        local parts = ARGV[3] .. 'bcasts:' .. ARGV[2]:gsub('|', ':')
        for _, name in ipairs(redis.call('SMEMBERS', parts)) do
          redis.call('HDEL', ARGV[3] .. 'bcast:' .. name, ARGV[2])
        end
        redis.call('DEL', parts)
        redis.call('SREM', KEYS[2], ARGV[2])
        redis.call('PUBLISH', ARGV[5], 'left|' .. ARGV[6])
        return 1
        """;

    /// <summary>
    /// A broadcast's parts. KEYS: the broadcast's hash (member <c>node|epoch</c> -> <c>incarnation|senders|receivers|members</c>),
    /// this incarnation's broadcasts set, the set of broadcast names. ARGV: this incarnation's member, the new value
    /// (empty: this node has no members any more; <c>?</c>: read only), the broadcast name, key prefix.
    /// Writes this node's part, then returns the other live nodes' parts as {node, host, port, value}; parts of
    /// nodes whose lease lapsed are dropped on the way, so a dead node stops counting within its lease.
    /// </summary>
    public const string Broadcast = """
        if ARGV[2] == '' then
          redis.call('HDEL', KEYS[1], ARGV[1])
          redis.call('SREM', KEYS[2], ARGV[3])
        elseif ARGV[2] ~= '?' then
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
          redis.call('SADD', KEYS[2], ARGV[3])
          redis.call('SADD', KEYS[3], ARGV[3])
        end
        local parts = {}
        local all = redis.call('HGETALL', KEYS[1])
        for i = 1, #all, 2 do
          local member, value = all[i], all[i + 1]
          if member ~= ARGV[1] then
            local node, epoch = string.match(member, '^(.+)|([^|]+)$')
            local record = redis.call('HMGET', ARGV[4] .. 'node:' .. node, 'epoch', 'host', 'port')
            if record[1] == epoch then
              parts[#parts + 1] = {node, record[2], record[3], value}
            else
              redis.call('HDEL', KEYS[1], member)
            end
          end
        end
        if redis.call('EXISTS', KEYS[1]) == 0 then
          redis.call('SREM', KEYS[3], ARGV[3])
        end
        return parts
        """;
}
