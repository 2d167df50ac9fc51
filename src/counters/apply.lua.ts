import { defineScript } from '../db/script.ts'
import { BOUNDED_DIMENSIONS, VISIT, VISIT_DIMENSIONS } from '../events/types.ts'
import { OTHER } from '../events/values.ts'
import { FIRST_SECTION_ARG, luaHeaderLocals, luaLayoutComment } from './apply-layout.ts'
import { encodeField } from './fields.ts'

/**
 * The visit dimensions whose values a browser controls, capped per day: the group commit gives a
 * visit record the seen sets of these, consecutive in KEYS, in this order.
 */
export const CAPPED_VISIT_DIMENSIONS = VISIT_DIMENSIONS.filter((d) => !BOUNDED_DIMENSIONS.has(d))

const lua = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
// The fields a visit is counted under, from the one codec (fields.ts): the script joins the parts.
const DAY_SUFFIX = encodeField('d', { day: '', type: VISIT })
const QUARTER_SUFFIX = encodeField('h', { quarter: '', type: VISIT })
const DIMENSION_MIDDLE = encodeField('x', { day: '', type: VISIT, dimension: '', value: '' })
if (DIMENSION_MIDDLE !== `|${VISIT}||`) throw new Error('the x field layout changed: update APPLY_BATCH')
// the script reads a visit's host as the last of its values (a request's own comes as an argument)
if (VISIT_DIMENSIONS.at(-1) !== 'hostname')
  throw new Error('hostname is no longer the last visit dimension: update APPLY_BATCH')

/**
 * Applies one group-commit batch atomically and sets every key's TTL in the same step. The
 * batcher builds its arguments with `MergedOps.toScriptArgs` (merge.ts), laid out as
 * apply-layout.ts describes; the comment opening the script is generated from that description.
 *
 * Visits are decided here, where every instance's requests meet: a visitor's current visit is a
 * key that lives `sessionMs` after their last event (the visit rule: see src/events/visit.ts).
 */
export const APPLY_BATCH = defineScript(`#!lua
${luaLayoutComment()}
-- Arguments cost the client more than anything else in the call; with both sections laid out
-- this way a warm batch of 32 requests under the benchmark's browser-like load takes 191
-- arguments, where a record per field and per key's element took 301.
-- Returns the positions (1-based, among the capped records) of the members refused for a full
-- set, so the caller learns which members count by name and which as '(other)', how many log
-- rows were dropped past maxRows, and the indexes in KEYS of the keys it found absent when it set
-- their TTL.
${luaHeaderLocals()}
local i = ${FIRST_SECTION_ARG}
local g = tonumber(ARGV[i]); i = i + 1
for _ = 1, g do
  local key, ones = KEYS[tonumber(ARGV[i])], tonumber(ARGV[i + 1])
  i = i + 2
  for _ = 1, ones do
    redis.call('HINCRBY', key, ARGV[i], 1)
    i = i + 1
  end
  local more = tonumber(ARGV[i]); i = i + 1
  for _ = 1, more do
    redis.call('HINCRBY', key, ARGV[i], ARGV[i + 1])
    i = i + 2
  end
end
local m = tonumber(ARGV[i]); i = i + 1
local refused = {}
-- what each capped record counted as, by its position: a row names an undecided value that way
local decided = {}
for j = 1, m do
  local seen, cap, member = KEYS[tonumber(ARGV[i])], tonumber(ARGV[i + 1]), ARGV[i + 2]
  if redis.call('SISMEMBER', seen, member) == 0 then
    if redis.call('SCARD', seen) < cap then
      redis.call('SADD', seen, member)
    else
      member = '${OTHER}'
      refused[#refused + 1] = j
    end
  end
  decided[tostring(j)] = member
  redis.call('HINCRBY', KEYS[tonumber(ARGV[i + 3])], ARGV[i + 4] .. member, ARGV[i + 5])
  i = i + 6
end
local p = tonumber(ARGV[i]); i = i + 1
for _ = 1, p do
  local n = tonumber(ARGV[i])
  local count = tonumber(ARGV[i + n + 1])
  for k = 1, n do
    redis.call('PFADD', KEYS[tonumber(ARGV[i + k])], unpack(ARGV, i + n + 2, i + n + 1 + count))
  end
  i = i + n + 2 + count
end

local function split(s, sep)
  local parts, from = {}, 1
  while true do
    local at = string.find(s, sep, from, true)
    if not at then
      parts[#parts + 1] = string.sub(s, from)
      return parts
    end
    parts[#parts + 1] = string.sub(s, from, at - 1)
    from = at + 1
  end
end
-- a row's value the caps had not decided yet is written U+001A position U+001A
local function fill(row)
  if string.find(row, '\\26', 1, true) then return (string.gsub(row, '\\26(%d+)\\26', decided)) end
  return row
end
local dimensions = { ${VISIT_DIMENSIONS.map(lua).join(', ')} }
-- for each dimension, its seen set's offset among a record's (0: bounded, not capped)
local capAt = { ${VISIT_DIMENSIONS.map((d) => CAPPED_VISIT_DIMENSIONS.indexOf(d) + 1).join(', ')} }
-- each site's log: its keys, its pending segment and the rows the batch adds to it
local logs = {}
local l = tonumber(ARGV[i]); i = i + 1
for k = 1, l do
  local log = {
    rows = KEYS[tonumber(ARGV[i])], dropped = KEYS[tonumber(ARGV[i + 2])], daily = KEYS[tonumber(ARGV[i + 3])],
    quarters = KEYS[tonumber(ARGV[i + 4])], dimensions = KEYS[tonumber(ARGV[i + 5])], added = {},
  }
  log.segment = redis.call('GET', KEYS[tonumber(ARGV[i + 1])]) or '0'
  logs[k] = log
  i = i + 6
end
local v = tonumber(ARGV[i]); i = i + 1
for _ = 1, v do
  local log = logs[tonumber(ARGV[i])]
  local session, seenAt, at, host = KEYS[tonumber(ARGV[i + 1])], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), ARGV[i + 4]
  local head, packed = ARGV[i + 5], ARGV[i + 6]
  i = i + 7
  local segment, rows = log.segment, log.added
  -- a visit: its last event's time, the pending segment it was last written in, its id, then its
  -- values (counted); a request that goes on with it in the same segment rewrites only the time
  local current = redis.call('GET', session)
  local began, visit, counted, written, last, rest, x = false, nil, nil, nil, nil, nil, nil
  if current then
    x = string.find(current, '\\31', 1, true)
    last = tonumber(string.sub(current, 1, x - 1))
    -- the visit goes on while events come less than sessionMs apart (by the events' own times)
    if last and at - last < sessionMs then
      local y = string.find(current, '\\31', x + 1, true)
      local z = string.find(current, '\\31', y + 1, true)
      written, visit, rest = string.sub(current, x + 1, y - 1), string.sub(current, y + 1, z - 1), z + 1
    end
  end
  local fields
  if visit == nil or written ~= segment then
    -- visitor, candidate visit id, day, quarter, then the dimensions but the host
    fields = split(head, '\\31')
  end
  if visit == nil then
    began = true
    visit = fields[2]
    last = at
    local day, quarter = fields[3], fields[4]
    local values = {}
    for d = 1, #dimensions do
      local value = fields[4 + d]
      if d == #dimensions then value = host end
      if value ~= '' then
        if capAt[d] > 0 then
          local seen = KEYS[seenAt + capAt[d] - 1]
          if redis.call('SISMEMBER', seen, value) == 0 then
            if redis.call('SCARD', seen) < dimCap then redis.call('SADD', seen, value) else value = '${OTHER}' end
          end
        end
        redis.call('HINCRBY', log.dimensions, day .. ${lua(DIMENSION_MIDDLE.slice(0, -1))} .. dimensions[d] .. '|' .. value, 1)
      end
      values[d] = value
    end
    redis.call('HINCRBY', log.daily, day .. ${lua(DAY_SUFFIX)}, 1)
    redis.call('HINCRBY', log.quarters, quarter .. ${lua(QUARTER_SUFFIX)}, 1)
    counted = table.concat(values, '\\31')
  elseif written ~= segment then
    counted = string.sub(current, rest)
  end
  -- the rows leave out their host when it is the visit's (the last of its values): put it back
  -- where it is not
  local values = counted or current
  local restore = not (string.byte(values, -#host - 1) == 31 and string.find(values, host, -#host, true))
  if at > last then last = at end
  if counted then
    redis.call('SET', session, last .. '\\31' .. segment .. '\\31' .. visit .. '\\31' .. counted, 'PX', sessionMs)
  else
    redis.call('SET', session, last .. string.sub(current, x), 'PX', sessionMs)
  end
  local from = 1
  while from <= #packed do
    local to = (string.find(packed, '\\29', from, true) or (#packed + 1)) - 1
    local row = from == 1 and to == #packed and packed or string.sub(packed, from, to)
    from = to + 2
    row = fill(row)
    if restore then
      local c = string.find(row, '\\31', string.find(row, '\\31', string.find(row, '\\31', 1, true) + 1, true) + 1, true)
      row = string.sub(row, 1, c) .. host .. string.sub(row, c + 1)
    end
    row = row .. '\\31' .. visit
    -- the visit's first row in this pending segment carries what every row of it stores
    if written ~= segment then
      row = row .. '\\31' .. (began and '1' or '0') .. '\\31' .. fields[1] .. '\\31' .. counted
      written = segment
    end
    rows[#rows + 1] = row
  end
end
local jn = tonumber(ARGV[i]); i = i + 1
for _ = 1, jn do
  local log = logs[tonumber(ARGV[i])]
  local session, at, visitor, row = KEYS[tonumber(ARGV[i + 1])], tonumber(ARGV[i + 2]), ARGV[i + 3], fill(ARGV[i + 4])
  i = i + 5
  local segment, rows = log.segment, log.added
  local current = redis.call('GET', session)
  if current then
    local x = string.find(current, '\\31', 1, true)
    local last = tonumber(string.sub(current, 1, x - 1))
    -- a back end may date its event before the visit's last one: it belongs to the visit when less
    -- than sessionMs lies between the two, either way round; it never begins one
    if last and math.abs(at - last) < sessionMs then
      local y = string.find(current, '\\31', x + 1, true)
      local z = string.find(current, '\\31', y + 1, true)
      local written = string.sub(current, x + 1, y - 1)
      row = row .. '\\31' .. string.sub(current, y + 1, z - 1)
      local later = at > last
      if later then last = at end
      if written ~= segment then
        -- the visit's first row in this pending segment carries what every row of it stores
        row = row .. '\\31' .. '0' .. '\\31' .. visitor .. '\\31' .. string.sub(current, z + 1)
        redis.call('SET', session, last .. '\\31' .. segment .. string.sub(current, y), 'PX', sessionMs)
      elseif later then
        redis.call('SET', session, last .. string.sub(current, x), 'PX', sessionMs)
      end
    end
  end
  rows[#rows + 1] = row
end
local r = tonumber(ARGV[i]); i = i + 1
for _ = 1, r do
  local rows = logs[tonumber(ARGV[i])].added
  local parts = split(ARGV[i + 1], '\\29')
  i = i + 2
  for k = 1, #parts do rows[#rows + 1] = fill(parts[k]) end
end
local dropped = 0
for k = 1, l do
  local log = logs[k]
  local rows = log.added
  if #rows > 0 then
    local keep = math.min(#rows, math.max(maxRows - redis.call('LLEN', log.rows), 0))
    dropped = dropped + #rows - keep
    -- unpack() has a stack limit of a few thousand values
    for from = 1, keep, 1000 do
      redis.call('RPUSH', log.rows, unpack(rows, from, math.min(from + 999, keep)))
    end
    if keep < #rows then
      redis.call('HINCRBY', log.dropped, math.floor(tonumber(redis.call('TIME')[1]) / 86400), #rows - keep)
    end
  end
end
-- only the keys this instance did not renew within the last minute get their TTL: with many sites a
-- batch names many keys, and an EXPIRE of each on every batch was most of its commands. A key named
-- and not written (a site's log keys are named whole) gets none: the batcher must not take it for
-- renewed
local absent = {}
local e = tonumber(ARGV[i]); i = i + 1
for _ = 1, e do
  local k = tonumber(ARGV[i])
  i = i + 1
  local keyTtl = ttl
  if k <= nSeen then keyTtl = seenTtl elseif k <= nSeen + nRecent then keyTtl = recentTtl end
  if redis.call('EXPIRE', KEYS[k], keyTtl) == 0 then absent[#absent + 1] = k end
end
return { refused, dropped, absent }
`)
