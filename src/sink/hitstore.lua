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
if new == 0 then
  local r = {0, 0, redis.call('HGET', site, 'last_seen') or I(ts)}
  for i = 1, #idx do r[#r + 1] = idx[i] end
  return r
end
local isnew = redis.call('HSETNX', site, 'ip', ip)
local fsv = math.floor((tonumber(fstart) or ts * 1e6) / 1e6)
local fs = tonumber(redis.call('HGET', site, 'first_seen'))
if not fs or fsv < fs then redis.call('HSET', site, 'first_seen', I(fsv)) end
local prev = tonumber(redis.call('HGET', site, 'last_seen'))
local ls = prev
if not ls or ts > ls then
  redis.call('HSET', site, 'last_seen', I(ts))
  ls = ts
end
redis.call('HSET', site, 'updated', I(now))
redis.call('HINCRBY', site, 'hits', 1)
local function add(field, v)
  if not v then return end
  local cur = redis.call('HGET', site, field)
  local a = {}
  if cur then a = cjson.decode(cur) end
  for i = 1, #a do if a[i] == v then return end end
  if #a >= 64 then return end
  a[#a + 1] = v
  redis.call('HSET', site, field, cjson.encode(a))
end
add('protocols', S(m.protocol))
add('coins', S(m.coin))
add('pools', S(m.pool_host))
add('wallets', S(m.wallet))
add('workers', S(m.worker))
add('agents', S(m.agent))
add('probes', probe)
-- enrichment: from the latest hit (packet time) that carries it
if not prev or ts >= prev then
  local e = {country = S(geo.country), subdivision = S(geo.subdivision), city = S(geo.city),
    city_zh = S(geo.city_zh), latitude = S(geo.latitude), longitude = S(geo.longitude),
    asn = S(asn.number), org = S(asn.org), company = S(ent.company), credit_code = S(ent.credit_code),
    site_address = S(ent.site_address), kind = S(ent.kind), verdict = S(mi.verdict)}
  for k, v in pairs(e) do redis.call('HSET', site, k, v) end
end
-- estimates: each flow's latest estimate; site totals = sums over flows
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
    local function adj(f, sign)
      if not f then return end
      for _, k in ipairs({'hashrate_hs', 'hashrate_low_hs', 'hashrate_high_hs'}) do
        if N(f[k]) then
          local key = k .. ':' .. tostring(f.algo)
          local v = (tonumber(redis.call('HGET', site, key)) or 0) + sign * f[k]
          if v < 0 then v = 0 end
          redis.call('HSET', site, key, F(v))
        end
      end
      local p = T(f.power_w)
      for _, k in ipairs({'low', 'best', 'high'}) do
        if N(p[k]) then
          local v = (tonumber(redis.call('HGET', site, 'power_w_' .. k)) or 0) + sign * p[k]
          if v < 0 then v = 0 end
          redis.call('HSET', site, 'power_w_' .. k, F(v), 'energy_kwh_day_' .. k, F(v * 24 / 1000))
        end
      end
    end
    adj(o, -1)
    adj(nf, 1)
    redis.call('HSET', site, 'estimate_updated', I(now))
  end
end
local w = redis.call('HGET', site, 'workers')
local nw = 0
if w then nw = #cjson.decode(w) end
redis.call('HSET', site, 'workers_seen', I(nw), 'machines_est', I(math.max(nw, redis.call('HLEN', flows))))
if isnew == 1 then
  redis.call('PUBLISH', 'mt:events', cjson.encode({type = 'new_site', site = ip, hit_id = hid, probe = probe}))
end
redis.call('PUBLISH', 'mt:events', cjson.encode({type = 'hit', site = ip, hit_id = hid, probe = probe}))
if op == 'all' then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'json', js, 'site', ip, 'probe', probe, 'hit_id', hid)
  redis.call('ZADD', KEYS[5], 'GT', I(ls), ip)
  for i = 1, #idx do redis.call('SADD', idx[i], ip) end
  return 1
end
local r = {1, isnew, I(ls)}
for i = 1, #idx do r[#r + 1] = idx[i] end
return r
