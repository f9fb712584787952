-- hitstore.lua - minetrace's Redis hit store writer (schema: README "Redis hit store").
-- Loaded once with SCRIPT LOAD, called with EVALSHA; idempotent on hit_id.
-- ARGV: op json ip probe hit_id ts(s) flow_start(us) now(s) maxlen seen_ttl(s) fast [protocol coin
--   pool_host wallet worker agent, then how cjson.encode writes each: '' = '"' .. value .. '"',
--   '?' = quote it here]: fast '1' = a record without miner/estimate whose mining fields ('' =
--   absent) are given, so no decode; '0' = decode
-- op 'all'    KEYS: site, site:hits, site:flows, mt:hits, mt:sites -> 0 duplicate, else 1 + 2 x
--             (bit i-1 set: the hit's value of array i (protocols .. probes) is in that array now)
-- op 'site'   KEYS: site, site:hits, site:flows -> {new, new_site, last_seen, index keys...}
-- op 'stream' KEYS: mt:hits, mt:hits:seen{mt:hits} -> 1 added, 0 duplicate
-- op 'many'   several hits in one call, some of them lean (see the end)
local rcall, fmt, floor, abs, find, byte = redis.call, string.format, math.floor, math.abs, string.find, string.byte
local function I(x) return fmt('%d', x) end
local function T(x) if type(x) == 'table' then return x end return {} end
local function N(x) if type(x) == 'number' then return x end return nil end
local function F(x)
  if x == floor(x) and abs(x) < 1e15 then return fmt('%d', x) end
  return fmt('%.15g', x)
end
local function S(x)
  if type(x) == 'string' and x ~= '' then return x end
  if type(x) == 'number' then return F(x) end
  return nil
end
-- distinct-value arrays (JSON, at most 64): cjson writes elements separated by ',' and escapes
-- every '"' inside a string, so a match of the quoted value that starts after '[' or ',' and ends
-- before ']' or ',' is a whole element
local function has(c, ev)
  local from, n = 1, #ev
  while true do
    local i = find(c, ev, from, true)
    if not i then return false end
    local b, a = byte(c, i - 1), byte(c, i + n)
    if (b == 91 or b == 44) and (a == 93 or a == 44) then return true end
    from = i + 1
  end
end
local function quote(v)
  if string.find(v, '[%c"\\/\128-\255]') then return cjson.encode(v) end
  return '"' .. v .. '"'
end
-- constant name lists (built once per call of the script, not per hit)
local EK = {'country', 'subdivision', 'city', 'city_zh', 'latitude', 'longitude', 'asn', 'org', 'company',
  'credit_code', 'site_address', 'kind', 'verdict'}
local HK = {'hashrate_hs', 'hashrate_low_hs', 'hashrate_high_hs'}
local PK, PN = {'low', 'best', 'high'}, {'power_w_low', 'power_w_best', 'power_w_high'}
local EN = {power_w_low = 'energy_kwh_day_low', power_w_best = 'energy_kwh_day_best',
  power_w_high = 'energy_kwh_day_high'}
local function nz(x) if x ~= '' then return x end return nil end
-- one hit. k1..k5: the keys of op 'all' (op 'stream': mt:hits, its seen set). kind: 'P' plain
-- record, fields A[ai..ai+5] and their encodings A[ai+6..ai+11] given; 'E' the same, then
-- community_id, mining.algo, the miner's 13 enrichment values, estimate flag ('1' = present) and
-- its 7 values (A[ai+12..ai+34]; numbers as JSON number text, strings as decoded, '' = absent),
-- which stand for the decoded record; 'K' as 'E', and the writer knows every array value of the
-- hit stored (see lean()): the arrays are not read, -1 when the check fails; 'J' decode the record
local function one(op, k1, k2, k3, k4, k5, js, ip, probe, hid, tss, fstart, nows, maxlen, ttl, kind, A, ai, qprobe)
  local ts, now = tonumber(tss), tonumber(nows) -- tss, nows: integers as the writer printed them
  if op == 'stream' then
    if rcall('ZADD', k2, 'NX', nows, hid) == 0 then return 0 end
    rcall('ZREMRANGEBYSCORE', k2, '-inf', '(' .. I(now - tonumber(ttl)))
    rcall('XADD', k1, 'MAXLEN', '~', maxlen, '*', 'json', js, 'site', ip, 'probe', probe, 'hit_id', hid)
    return 1
  end
  local site, hits, flows = k1, k2, k3
  local known = kind == 'K'
  if known then kind = 'E' end
  local new
  if not known then
    new = rcall('ZADD', hits, 'NX', tss, hid)
    if new == 0 and op == 'all' then return 0 end
  end
  local h
  local fast = kind == 'P'
  if kind == 'J' then
    h = cjson.decode(js)
  else
    -- the writer extracted the fields: no decode (strings are exactly what cjson.decode gives,
    -- numbers are converted as it converts them)
    h = {mining = {protocol = A[ai], coin = A[ai + 1], pool_host = A[ai + 2], wallet = A[ai + 3],
      worker = A[ai + 4], agent = A[ai + 5]}}
    if kind == 'E' then
      local b = ai + 12
      h.community_id = nz(A[b])
      h.mining.algo = nz(A[b + 1])
      h.miner = {geo = {country = nz(A[b + 2]), subdivision = nz(A[b + 3]), city = nz(A[b + 4]),
          city_zh = nz(A[b + 5]), latitude = tonumber(A[b + 6]), longitude = tonumber(A[b + 7])},
        asn = {number = tonumber(A[b + 8]), org = nz(A[b + 9])},
        enterprise = {company = nz(A[b + 10]), credit_code = nz(A[b + 11]), site_address = nz(A[b + 12]),
          kind = nz(A[b + 13])},
        verdict = nz(A[b + 14])}
      if A[b + 15] == '1' then
        h.estimate = {algo = nz(A[b + 16]), hashrate_hs = tonumber(A[b + 17]),
          hashrate_low_hs = tonumber(A[b + 18]), hashrate_high_hs = tonumber(A[b + 19]),
          power_w = {low = tonumber(A[b + 20]), best = tonumber(A[b + 21]), high = tonumber(A[b + 22])}}
      end
    end
  end
  local m, mi = T(h.mining), T(h.miner)
  local geo, asn, ent = T(mi.geo), T(mi.asn), T(mi.enterprise)
  -- every index key of this hit (a replay in cluster mode rewrites them all; see below)
  local function all_idx()
    local idx = {'mt:idx:probe:' .. probe}
    local function ix(p, v) if v then idx[#idx + 1] = p .. v end end
    ix('mt:idx:pool:', S(m.pool_host))
    ix('mt:idx:wallet:', S(m.wallet))
    ix('mt:idx:company:', S(ent.credit_code))
    ix('mt:idx:companyname:', S(ent.company))
    local cc, sub = S(geo.country), S(geo.subdivision)
    if cc then
      ix('mt:idx:region:', cc)
      if sub then ix('mt:idx:region:', cc .. ':' .. sub) end
    end
    ix('mt:idx:asn:', S(asn.number))
    return idx
  end
  if new == 0 then
    local r = {0, 0, rcall('HGET', site, 'last_seen') or tss}
    local idx = all_idx()
    for i = 1, #idx do r[#r + 1] = idx[i] end
    return r
  end
  -- one read and one write of the site hash per hit
  local F_ = {'ip', 'first_seen', 'last_seen', 'hits', 'protocols', 'coins', 'pools', 'wallets', 'workers',
    'agents', 'probes', 'country', 'subdivision', 'asn', 'credit_code', 'company'}
  -- and the site totals an estimate changes (those of its algo; another algo reads them later)
  local est, nread, pre = h.estimate, fast and 11 or 16, nil
  if type(est) == 'table' then
    local al = tostring(S(est.algo) or S(m.algo) or 'unknown')
    pre = {'hashrate_hs:' .. al, 'hashrate_low_hs:' .. al, 'hashrate_high_hs:' .. al, 'power_w_low', 'power_w_best',
      'power_w_high'}
    for i = 1, 6 do F_[16 + i] = pre[i] end
    nread = 22
  end
  local cur, wseen
  if known then
    -- the arrays are not read (workers_seen stands for the workers array's length); checked as in
    -- lean() before anything is written
    local c = rcall('HMGET', site, 'ip', 'first_seen', 'last_seen', 'hits', 'probes', 'workers_seen',
      unpack(F_, 12, nread))
    if not c[4] or not c[5] or not has(c[5], qprobe) then return -1 end
    new = rcall('ZADD', hits, 'NX', tss, hid)
    if new == 0 then return 0 end
    cur = {c[1], c[2], c[3], c[4], false, false, false, false, false, false, c[5]}
    for i = 7, #c do cur[i + 5] = c[i] end
    wseen = tonumber(c[6])
  else
    cur = rcall('HMGET', site, unpack(F_, 1, nread))
  end
  local set = {}
  local function sv(k, v) set[#set + 1] = k; set[#set + 1] = v end
  local isnew = not cur[1]
  if isnew then sv('ip', ip) end
  local fsv = math.floor((tonumber(fstart) or ts * 1e6) / 1e6)
  local fs = tonumber(cur[2])
  if not fs or fsv < fs then sv('first_seen', I(fsv)) end
  local prev = tonumber(cur[3])
  local ls, lss = prev, cur[3]
  if not ls or ts > ls then
    sv('last_seen', tss)
    ls = ts
    lss = tss
  end
  sv('updated', nows)
  sv('hits', I((tonumber(cur[4]) or 0) + 1))
  local vals = {S(m.protocol), S(m.coin), S(m.pool_host), S(m.wallet), S(m.worker), S(m.agent), probe}
  local added = {}
  local arr = {}
  local pres, bit = 0, 1 -- which values are in their arrays after this hit (the reply of op 'all')
  if known then
    pres = 127
  else
    for i = 1, 7 do
      local v, c = vals[i], cur[4 + i]
      if v then
        local ev
        if kind ~= 'J' and i < 7 then
          ev = A[ai + 5 + i]
          if ev == '' then ev = '"' .. v .. '"' elseif ev == '?' then ev = quote(v) end
        else
          ev = quote(v)
        end
        if not c then
          c = '[' .. ev .. ']'
          sv(F_[4 + i], c)
          added[i] = true
          pres = pres + bit
        elseif not has(c, ev) then
          local a = cjson.decode(c)
          if #a < 64 then
            a[#a + 1] = v
            c = cjson.encode(a)
            sv(F_[4 + i], c)
            pres = pres + bit
          end
          added[i] = true
        else
          pres = pres + bit
        end
      end
      arr[i] = c
      bit = bit * 2
    end
  end
  -- enrichment: from the latest hit (packet time) that carries it
  local eidx = false
  -- (a record without miner carries no enrichment: nothing to copy, no index key to add)
  if not fast and (not prev or ts >= prev) then
    local e = {S(geo.country), S(geo.subdivision), S(geo.city), S(geo.city_zh), S(geo.latitude),
      S(geo.longitude), S(asn.number), S(asn.org), S(ent.company), S(ent.credit_code), S(ent.site_address),
      S(ent.kind), S(mi.verdict)}
    for i = 1, 13 do if e[i] then sv(EK[i], e[i]) end end
  end
  if not fast and S(geo.country) ~= (cur[12] or nil) or S(geo.subdivision) ~= (cur[13] or nil) or S(asn.number) ~= (cur[14] or nil)
    or S(ent.credit_code) ~= (cur[15] or nil) or S(ent.company) ~= (cur[16] or nil) then
    eidx = true
  end
  -- estimates: each flow's latest estimate; site totals = sums over flows
  local flows_changed = false
  if pre then
    local fk = probe .. '|' .. (S(h.community_id) or '') .. '|' .. fstart
    local oj = rcall('HGET', flows, fk)
    local o = nil
    if oj then o = cjson.decode(oj) end
    if not o or ts >= (tonumber(o.last) or 0) then
      local pw = T(est.power_w)
      local nf = {algo = S(est.algo) or S(m.algo) or 'unknown', worker = S(m.worker) or '',
        hashrate_hs = N(est.hashrate_hs), hashrate_low_hs = N(est.hashrate_low_hs),
        hashrate_high_hs = N(est.hashrate_high_hs), last = ts}
      if N(pw.low) or N(pw.best) or N(pw.high) then
        nf.power_w = {low = N(pw.low), best = N(pw.best), high = N(pw.high)}
      end
      rcall('HSET', flows, fk, cjson.encode(nf))
      flows_changed = not o
      local names, delta = {}, {}
      local function adj(f, sign)
        if not f then return end
        local al = ':' .. tostring(f.algo)
        for i = 1, 3 do
          local k = HK[i]
          if N(f[k]) then
            local key = k .. al
            if not delta[key] then names[#names + 1] = key; delta[key] = 0 end
            delta[key] = delta[key] + sign * f[k]
          end
        end
        local p = T(f.power_w)
        for i = 1, 3 do
          local k = PK[i]
          if N(p[k]) then
            local key = PN[i]
            if not delta[key] then names[#names + 1] = key; delta[key] = 0 end
            delta[key] = delta[key] + sign * p[k]
          end
        end
      end
      adj(o, -1)
      adj(nf, 1)
      if #names > 0 then
        local got, miss = {}, {}
        for i = 1, 6 do got[pre[i]] = cur[16 + i] end
        for i = 1, #names do if got[names[i]] == nil then miss[#miss + 1] = names[i] end end
        if #miss > 0 then
          local t = rcall('HMGET', site, unpack(miss))
          for i = 1, #miss do got[miss[i]] = t[i] end
        end
        for i = 1, #names do
          local v = (tonumber(got[names[i]]) or 0) + delta[names[i]]
          if v < 0 then v = 0 end
          sv(names[i], F(v))
          local en = EN[names[i]]
          if en then sv(en, F(v * 24 / 1000)) end
        end
      end
      sv('estimate_updated', nows)
    end
  end
  if isnew or added[5] or flows_changed then
    local nw = 0
    if known and not wseen then arr[5] = rcall('HGET', site, 'workers') end
    if known and wseen then
      nw = wseen
    elseif arr[5] then
      nw = select(2, string.gsub(arr[5], '","', '')) + 1
    end
    sv('workers_seen', I(nw))
    sv('machines_est', I(math.max(nw, rcall('HLEN', flows))))
  end
  rcall('HSET', site, unpack(set))
  -- ip (hex digits, '.', ':'), hit_id (hex) and probe (no '"', '\\', controls) are checked by the
  -- writer, so plain concatenation is valid JSON and cheaper than cjson.encode
  local tail = '","site":"' .. ip .. '","hit_id":"' .. hid .. '","probe":"' .. probe .. '"}'
  if isnew then rcall('PUBLISH', 'mt:events', '{"type":"new_site' .. tail) end
  rcall('PUBLISH', 'mt:events', '{"type":"hit' .. tail)
  -- index keys that can be new for this site (all of them on a replay, above)
  local nidx = {}
  if added[7] then nidx[#nidx + 1] = 'mt:idx:probe:' .. probe end
  if added[3] then nidx[#nidx + 1] = 'mt:idx:pool:' .. vals[3] end
  if added[4] then nidx[#nidx + 1] = 'mt:idx:wallet:' .. vals[4] end
  if eidx then
    local idx = all_idx()
    for i = 1, #idx do
      local k = idx[i]
      if string.find(k, 'mt:idx:company', 1, true) == 1 or string.find(k, 'mt:idx:region:', 1, true) == 1
        or string.find(k, 'mt:idx:asn:', 1, true) == 1 then
        nidx[#nidx + 1] = k
      end
    end
  end
  local zchg = isnew or ls ~= prev
  if op == 'all' then
    rcall('XADD', k4, 'MAXLEN', '~', maxlen, '*', 'json', js, 'site', ip, 'probe', probe, 'hit_id', hid)
    if zchg then rcall('ZADD', k5, 'GT', lss, ip) end
    for i = 1, #nidx do rcall('SADD', nidx[i], ip) end
    return 1 + 2 * pres
  end
  local r = {1, isnew and 1 or 0, lss}
  for i = 1, #nidx do r[#r + 1] = nidx[i] end
  return r
end
-- A lean hit: the writer knows, from the replies of this connection, that every value of the hit
-- (protocol .. agent, probe) is already in the site's arrays, and so that the full path would
-- change none of them, nor any index set. It changes what every hit changes: hits, updated,
-- last_seen / first_seen, the evidence zset, the stream, mt:sites, the hit event. Arrays and index
-- sets only grow, so the writer's knowledge stays true unless someone deletes keys; the check
-- below (the site hash is there and lists this probe) catches a deleted site, and -1 (nothing
-- written) sends the writer back to the full path.
local function lean(site, hits, ksites, kstream, js, ip, probe, qprobe, hid, tss, fstart, nows, maxlen)
  local cur = rcall('HMGET', site, 'first_seen', 'last_seen', 'hits', 'probes')
  if not cur[3] or not cur[4] or not has(cur[4], qprobe) then return -1 end
  if rcall('ZADD', hits, 'NX', tss, hid) == 0 then return 0 end
  local ts = tonumber(tss)
  local set = {'updated', nows, 'hits', I(tonumber(cur[3]) + 1)}
  local fsv = math.floor((tonumber(fstart) or ts * 1e6) / 1e6)
  local fs = tonumber(cur[1])
  if not fs or fsv < fs then set[5] = 'first_seen'; set[6] = I(fsv) end
  local ls = tonumber(cur[2])
  local zchg = not ls or ts > ls
  if zchg then set[#set + 1] = 'last_seen'; set[#set + 1] = tss end
  rcall('HSET', site, unpack(set))
  rcall('PUBLISH', 'mt:events', '{"type":"hit","site":"' .. ip .. '","hit_id":"' .. hid .. '","probe":"' .. probe .. '"}')
  rcall('XADD', kstream, 'MAXLEN', '~', maxlen, '*', 'json', js, 'site', ip, 'probe', probe, 'hit_id', hid)
  if zchg then rcall('ZADD', ksites, 'GT', tss, ip) end
  return 1
end
if ARGV[1] == 'many' then
  -- KEYS: mt:hits, mt:sites, then per hit: site, site:hits (and site:flows unless lean).
  -- ARGV: 'many', n, probe, now, maxlen, seen_ttl, then per hit: kind json ip hit_id ts flow_start,
  -- then kind 'L' (lean): nothing; 'J': nothing; 'P': the 12 field values of op 'all'; 'E', 'K':
  -- those and 23 more (see one()). One reply per hit: 0 duplicate, -1 lean refused (nothing written),
  -- 1 + 2 x presence bits (as op 'all'), or that hit's error (the others still run: each hit is
  -- its own unit)
  local n, probe, nows, maxlen, ttl = tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
  local qprobe = quote(probe)
  local r, a, k = {}, 7, 3
  for i = 1, n do
    local kind = ARGV[a]
    local ok, v
    if kind == 'L' then
      ok, v = pcall(lean, KEYS[k], KEYS[k + 1], KEYS[2], KEYS[1], ARGV[a + 1], ARGV[a + 2], probe, qprobe,
        ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], nows, maxlen)
      k = k + 2
      a = a + 6
    else
      ok, v = pcall(one, 'all', KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[1], KEYS[2], ARGV[a + 1], ARGV[a + 2],
        probe, ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], nows, maxlen, ttl, kind, ARGV, a + 6, qprobe)
      k = k + 3
      a = a + 6 + ((kind == 'P' and 12) or ((kind == 'E' or kind == 'K') and 35) or 0)
    end
    if ok then
      r[i] = v
    elseif type(v) == 'table' and v.err then
      r[i] = {err = v.err}
    else
      r[i] = {err = 'ERR ' .. tostring(v)}
    end
  end
  return r
end
return one(ARGV[1], KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6],
  ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11] == '1' and 'P' or 'J', ARGV, 12)
