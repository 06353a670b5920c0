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
    static let cap = "imagedrop_cap"

    /// KEYS: budget, block, pause, hosts, sequence, caps. ARGV: burst, interval_us (burst 0: unlimited), host,
    /// 1 when this host was granted before (0 otherwise).
    /// Returns {granted 0|1, wait_ms, why 0 budget|1 blocked|2 paused|3 capped by the API's Ratelimit header,
    /// hosts alive in the last 5 min, pause reason, the grant's sequence number (0 when refused)}.
    ///
    /// Caps (ServerCaps' rule, shared): a sorted set whose members are the last grant number a cap allows and
    /// whose scores are when it lapses (Redis ms); grant n waits while a cap in force has a member below n.
    static let source = #"""
        #!lua name=imagedrop
        local function now_us()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000000 + tonumber(t[2])
        end

        -- Wait (ms) before grant number `next` may go under the API's caps in force; lapsed caps are dropped.
        local function cap_wait(key, next, now_ms)
          redis.call('ZREMRANGEBYSCORE', key, '-inf', now_ms)
          local wait = 0
          local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
          for i = 1, #entries, 2 do
            local last, untilms = tonumber(entries[i]), tonumber(entries[i + 1])
            if next > last and untilms - now_ms > wait then wait = untilms - now_ms end
          end
          return wait
        end

        local function granted(keys, alive)
          return {1, 0, 0, alive, '', redis.call('INCR', keys[5])}
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
          if reason then return {0, 1000, 2, alive, reason, 0} end
          local blocked = redis.call('PTTL', keys[2])
          if blocked > 0 then return {0, blocked, 1, alive, '', 0} end
          local capped = cap_wait(keys[6], tonumber(redis.call('GET', keys[5]) or '0') + 1, math.floor(now / 1000))
          if capped > 0 then return {0, capped, 3, alive, '', 0} end
          if burst <= 0 then return granted(keys, alive) end
          local tolerance = interval * (burst - 1)
          local tat = tonumber(redis.call('GET', keys[1]) or '0')
          if tat < now then tat = now end
          -- No grant number, yet the caller was granted before (ARGV[4] = 1): this Redis lost its data (restarted
          -- empty, flushed) and with it what the fleet sent in the last window. Start with the burst spent, one
          -- interval away, so that window's traffic plus the steady rate stays within the budget; an idle fleet
          -- regains the burst as usual. A fleet's very first grant (nobody granted before) keeps its burst.
          if args[4] == '1' and redis.call('EXISTS', keys[5]) == 0 then
            tat = math.max(tat, now + tolerance + interval)
            redis.call('SET', keys[5], '0')
            redis.call('SET', keys[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
          end
          local early = (tat - tolerance) - now
          if early > 0 then return {0, math.ceil(early / 1000), 0, alive, '', 0} end
          local next_tat = tat + interval
          redis.call('SET', keys[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1000)
          return granted(keys, alive)
        end

        -- A Ratelimit header: grants up to number ARGV[1] may go in the next ARGV[2] ms. A cap another makes
        -- redundant is dropped; past 16, the two that lapse first merge into one as strict as both.
        local function cap(keys, args)
          local last = tonumber(args[1])
          local until_ms = math.floor(now_us() / 1000)
          redis.call('ZREMRANGEBYSCORE', keys[1], '-inf', until_ms)
          until_ms = until_ms + tonumber(args[2])
          local entries = redis.call('ZRANGE', keys[1], 0, -1, 'WITHSCORES')
          for i = 1, #entries, 2 do
            local other, other_until = tonumber(entries[i]), tonumber(entries[i + 1])
            if other <= last and other_until >= until_ms then return 0 end
          end
          for i = 1, #entries, 2 do
            local other, other_until = tonumber(entries[i]), tonumber(entries[i + 1])
            if other >= last and other_until <= until_ms then redis.call('ZREM', keys[1], entries[i]) end
          end
          redis.call('ZADD', keys[1], 'GT', until_ms, string.format('%d', last))
          if redis.call('ZCARD', keys[1]) > 16 then
            local first = redis.call('ZPOPMIN', keys[1], 2)
            local merged = math.min(tonumber(first[1]), tonumber(first[3]))
            redis.call('ZADD', keys[1], 'GT', tonumber(first[4]), string.format('%d', merged))
          end
          return 1
        end

        -- A 429: the block only ever grows (two hosts seeing 429s keep the longer Retry-After).
        local function block(keys, args)
          local ms = tonumber(args[1])
          if redis.call('PTTL', keys[1]) < ms then redis.call('SET', keys[1], '1', 'PX', ms) end
          return redis.call('PTTL', keys[1])
        end

        redis.register_function('imagedrop_grant', grant)
        redis.register_function('imagedrop_block', block)
        redis.register_function('imagedrop_cap', cap)
        """#
}
