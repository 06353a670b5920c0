/// The Redis Function library every host loads (`FUNCTION LOAD REPLACE`, again after a Redis restart or a
/// `FUNCTION FLUSH`): the fleet's grant, block and pause decisions run inside Redis, atomically, timed by the
/// Redis server's clock (`TIME`), so the hosts' own clocks never matter.
///
/// The grant is a GCRA (the shape of go-redis/redis_rate's script): a theoretical arrival time (TAT) in
/// microseconds; a request at `now` conforms when `now >= TAT - tolerance`, and then TAT advances by one
/// emission interval. See `FleetBudget.Parameters` for why burst and interval keep every sliding window within
/// the budget. Times are kept as integers written with `%d`: Lua's tostring would round them (`%.14g`).
enum FleetFunctions {
    static let library = "imagedrop"
    static let grant = "imagedrop_grant"
    static let block = "imagedrop_block"

    /// KEYS: budget, block, pause, hosts. ARGV: burst, interval_us (burst 0: unlimited), host.
    /// Returns {granted 0|1, wait_ms, why 0 budget|1 blocked|2 paused, hosts alive in the last 5 min, pause reason}.
    static let source = #"""
    #!lua name=imagedrop
    local function now_us()
      local t = redis.call('TIME')
      return tonumber(t[1]) * 1000000 + tonumber(t[2])
    end

    local function grant(keys, args)
      local now = now_us()
      local burst = tonumber(args[1])
      local interval = tonumber(args[2])
      -- Every caller says it is alive: `fleet status` and the degraded share count the hosts from here.
      redis.call('ZADD', keys[4], math.floor(now / 1000000), args[3])
      redis.call('ZREMRANGEBYSCORE', keys[4], '-inf', math.floor(now / 1000000) - 86400)
      local alive = redis.call('ZCOUNT', keys[4], math.floor(now / 1000000) - 300, '+inf')
      local reason = redis.call('GET', keys[3])
      if reason then return {0, 1000, 2, alive, reason} end
      local blocked = redis.call('PTTL', keys[2])
      if blocked > 0 then return {0, blocked, 1, alive, ''} end
      if burst <= 0 then return {1, 0, 0, alive, ''} end
      local tolerance = interval * (burst - 1)
      local tat = tonumber(redis.call('GET', keys[1]) or '0')
      if tat < now then tat = now end
      local early = (tat - tolerance) - now
      if early > 0 then return {0, math.ceil(early / 1000), 0, alive, ''} end
      local next_tat = tat + interval
      redis.call('SET', keys[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1000)
      return {1, 0, 0, alive, ''}
    end

    -- A 429: the block only ever grows (two hosts seeing 429s keep the longer Retry-After).
    local function block(keys, args)
      local ms = tonumber(args[1])
      if redis.call('PTTL', keys[1]) < ms then redis.call('SET', keys[1], '1', 'PX', ms) end
      return redis.call('PTTL', keys[1])
    end

    redis.register_function('imagedrop_grant', grant)
    redis.register_function('imagedrop_block', block)
    """#
}
