-- hitstore.lua - minetrace's Redis hit store writer (schema: README "Redis hit store").
-- Loaded once with SCRIPT LOAD, called with EVALSHA; idempotent on hit_id.
-- ARGV: op json ip probe hit_id ts(s) flow_start(us) now(s) maxlen seen_ttl(s)
-- op 'all'    KEYS: site, site:hits, site:flows, mt:hits, mt:sites -> 1 new, 0 duplicate
-- op 'site'   KEYS: site, site:hits, site:flows -> {new, new_site, last_seen, index keys...}
-- op 'stream' KEYS: mt:hits, mt:hits:seen{mt:hits} -> 1 added, 0 duplicate
local op, js, ip, probe, hid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ts, fstart, now = tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])
local function I(x) return string.format('%d', x) end
if op == 'stream' then
  if redis.call('ZADD', KEYS[2], 'NX', I(now), hid) == 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. I(now - tonumber(ARGV[10])))
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[9], '*', 'json', js, 'site', ip, 'probe', probe, 'hit_id', hid)
  return 1
end
local site, hits, flows = KEYS[1], KEYS[2], KEYS[3]
local new = redis.call('ZADD', hits, 'NX', I(ts), hid)
if new == 0 and op == 'all' then return 0 end
local h = cjson.decode(js)
local function T(x) if type(x) == 'table' then return x end return {} end
local function N(x) if type(x) == 'number' then return x end return nil end
local function F(x)
  if x == math.floor(x) and math.abs(x) < 1e15 then return I(x) end
  return string.format('%.15g', x)
end
local function S(x)
  if type(x) == 'string' and x ~= '' then return x end
  if type(x) == 'number' then return F(x) end
  return nil
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
  local r = {0, 0, redis.call('HGET', site, 'last_seen') or I(ts)}
  local idx = all_idx()
  for i = 1, #idx do r[#r + 1] = idx[i] end
  return r
end
-- one read and one write of the site hash per hit
local F_ = {'ip', 'first_seen', 'last_seen', 'hits', 'protocols', 'coins', 'pools', 'wallets', 'workers',
  'agents', 'probes', 'country', 'subdivision', 'asn', 'credit_code', 'company'}
local cur = redis.call('HMGET', site, unpack(F_))
local set = {}
local function sv(k, v) set[#set + 1] = k; set[#set + 1] = v end
local isnew = not cur[1]
if isnew then sv('ip', ip) end
local fsv = math.floor((tonumber(fstart) or ts * 1e6) / 1e6)
local fs = tonumber(cur[2])
if not fs or fsv < fs then sv('first_seen', I(fsv)) end
local prev = tonumber(cur[3])
local ls = prev
if not ls or ts > ls then
  sv('last_seen', I(ts))
  ls = ts
end
sv('updated', I(now))
sv('hits', I((tonumber(cur[4]) or 0) + 1))
-- distinct-value arrays (JSON, at most 64): cjson writes elements separated by ',' and escapes
-- every '"' inside a string, so a match of the quoted value that starts after '[' or ',' and ends
-- before ']' or ',' is a whole element
local function has(c, ev)
  local from, n = 1, #ev
  while true do
    local i = string.find(c, ev, from, true)
    if not i then return false end
    local b, a = string.byte(c, i - 1), string.byte(c, i + n)
    if (b == 91 or b == 44) and (a == 93 or a == 44) then return true end
    from = i + 1
  end
end
local function quote(v)
  if string.find(v, '[%c"\\/\128-\255]') then return cjson.encode(v) end
  return '"' .. v .. '"'
end
local vals = {S(m.protocol), S(m.coin), S(m.pool_host), S(m.wallet), S(m.worker), S(m.agent), probe}
local added = {}
local arr = {}
for i = 1, 7 do
  local v, c = vals[i], cur[4 + i]
  if v then
    local ev = quote(v)
    if not c then
      c = '[' .. ev .. ']'
      sv(F_[4 + i], c)
      added[i] = true
    elseif not has(c, ev) then
      local a = cjson.decode(c)
      if #a < 64 then
        a[#a + 1] = v
        c = cjson.encode(a)
        sv(F_[4 + i], c)
      end
      added[i] = true
    end
  end
  arr[i] = c
end
-- enrichment: from the latest hit (packet time) that carries it
local eidx = false
if not prev or ts >= prev then
  local e = {country = S(geo.country), subdivision = S(geo.subdivision), city = S(geo.city),
    city_zh = S(geo.city_zh), latitude = S(geo.latitude), longitude = S(geo.longitude),
    asn = S(asn.number), org = S(asn.org), company = S(ent.company), credit_code = S(ent.credit_code),
    site_address = S(ent.site_address), kind = S(ent.kind), verdict = S(mi.verdict)}
  for k, v in pairs(e) do sv(k, v) end
end
if S(geo.country) ~= (cur[12] or nil) or S(geo.subdivision) ~= (cur[13] or nil) or S(asn.number) ~= (cur[14] or nil)
  or S(ent.credit_code) ~= (cur[15] or nil) or S(ent.company) ~= (cur[16] or nil) then
  eidx = true
end
-- estimates: each flow's latest estimate; site totals = sums over flows
local flows_changed = false
local est = h.estimate
if type(est) == 'table' then
  local fk = probe .. '|' .. (S(h.community_id) or '') .. '|' .. fstart
  local oj = redis.call('HGET', flows, fk)
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
    redis.call('HSET', flows, fk, cjson.encode(nf))
    flows_changed = not o
    local names, delta = {}, {}
    local function adj(f, sign)
      if not f then return end
      for _, k in ipairs({'hashrate_hs', 'hashrate_low_hs', 'hashrate_high_hs'}) do
        if N(f[k]) then
          local key = k .. ':' .. tostring(f.algo)
          if not delta[key] then names[#names + 1] = key; delta[key] = 0 end
          delta[key] = delta[key] + sign * f[k]
        end
      end
      local p = T(f.power_w)
      for _, k in ipairs({'low', 'best', 'high'}) do
        if N(p[k]) then
          local key = 'power_w_' .. k
          if not delta[key] then names[#names + 1] = key; delta[key] = 0 end
          delta[key] = delta[key] + sign * p[k]
        end
      end
    end
    adj(o, -1)
    adj(nf, 1)
    if #names > 0 then
      local tot = redis.call('HMGET', site, unpack(names))
      for i = 1, #names do
        local v = (tonumber(tot[i]) or 0) + delta[names[i]]
        if v < 0 then v = 0 end
        sv(names[i], F(v))
        if string.sub(names[i], 1, 8) == 'power_w_' then
          sv('energy_kwh_day_' .. string.sub(names[i], 9), F(v * 24 / 1000))
        end
      end
    end
    sv('estimate_updated', I(now))
  end
end
if isnew or added[5] or flows_changed then
  local nw = 0
  if arr[5] then nw = select(2, string.gsub(arr[5], '","', '')) + 1 end
  sv('workers_seen', I(nw))
  sv('machines_est', I(math.max(nw, redis.call('HLEN', flows))))
end
redis.call('HSET', site, unpack(set))
-- ip (hex digits, '.', ':'), hit_id (hex) and probe (no '"', '\\', controls) are checked by the
-- writer, so plain concatenation is valid JSON and cheaper than cjson.encode
local tail = '","site":"' .. ip .. '","hit_id":"' .. hid .. '","probe":"' .. probe .. '"}'
if isnew then redis.call('PUBLISH', 'mt:events', '{"type":"new_site' .. tail) end
redis.call('PUBLISH', 'mt:events', '{"type":"hit' .. tail)
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
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'json', js, 'site', ip, 'probe', probe, 'hit_id', hid)
  if zchg then redis.call('ZADD', KEYS[5], 'GT', I(ls), ip) end
  for i = 1, #nidx do redis.call('SADD', nidx[i], ip) end
  return 1
end
local r = {1, isnew and 1 or 0, I(ls)}
for i = 1, #nidx do r[#r + 1] = nidx[i] end
return r
