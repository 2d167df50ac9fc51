/**
 * Redis HyperLogLogs as bytes: the union of several sets, computed here rather than in Redis.
 *
 * A Redis HyperLogLog is 16,384 six-bit registers; the union of sets is the register-wise maximum,
 * which is what `PFMERGE` computes. Doing it here lets the flush keep a month's set in Postgres
 * (merged inside its transaction, under a row lock) and lets a read send Redis one set for a whole
 * range instead of one per day. Counting stays Redis's: the result is a valid dense HyperLogLog
 * whose cached count is marked stale, so `PFCOUNT` estimates it afresh.
 *
 * The format (Redis's `hyperloglog.c`): a 16-byte header, `HYLL`, the encoding (0 dense, 1
 * sparse), three unused bytes and an 8-byte cached count whose top bit marks it stale; then either
 * the registers packed 6 bits each, least significant bits first (dense), or runs of registers
 * (sparse): `00xxxxxx` is xxxxxx+1 zeros, `01xxxxxx yyyyyyyy` is xxxxxxyyyyyyyy+1 zeros,
 * `1vvvvvxx` is xx+1 registers of value vvvvv+1.
 *
 * @example
 * const week = mergeSets([monday, tuesday]) // a visitor of both days is in it once
 * await redis.set(key, week); await redis.pfCount(key)
 */

const REGISTERS = 16_384
const BITS = 6
const HEADER = 16
const DENSE_BYTES = (REGISTERS * BITS) / 8
const MAGIC = [0x48, 0x59, 0x4c, 0x4c] // "HYLL"
const DENSE = 0
const SPARSE = 1

/** The registers of one set, one byte each. Throws on bytes that are not a Redis HyperLogLog. */
export function registersOf(set: Uint8Array): Uint8Array {
  if (set.length < HEADER || MAGIC.some((b, i) => set[i] !== b)) throw new Error('not a Redis HyperLogLog')
  const registers = new Uint8Array(REGISTERS)
  if (set[4] === DENSE) {
    if (set.length !== HEADER + DENSE_BYTES) throw new Error('a dense HyperLogLog of the wrong size')
    for (let r = 0; r < REGISTERS; r++) {
      const bit = r * BITS
      const byte = HEADER + (bit >> 3)
      const shift = bit & 7
      const pair = set[byte]! | ((byte + 1 < set.length ? set[byte + 1]! : 0) << 8)
      registers[r] = (pair >> shift) & 63
    }
    return registers
  }
  if (set[4] !== SPARSE) throw new Error('a HyperLogLog of an unknown encoding')
  let r = 0
  for (let i = HEADER; i < set.length; i++) {
    const op = set[i]!
    if ((op & 0xc0) === 0) r += (op & 0x3f) + 1
    else if ((op & 0xc0) === 0x40) r += (((op & 0x3f) << 8) | set[++i]!) + 1
    else {
      const value = ((op >> 2) & 0x1f) + 1
      const end = r + (op & 3) + 1
      if (end > REGISTERS) break
      registers.fill(value, r, end)
      r = end
    }
  }
  if (r !== REGISTERS) throw new Error('a sparse HyperLogLog that does not cover every register')
  return registers
}

/** The dense Redis HyperLogLog of `registers`, its cached count marked stale. */
export function denseSet(registers: Uint8Array): Buffer {
  const out = Buffer.alloc(HEADER + DENSE_BYTES)
  out.set(MAGIC, 0)
  out[4] = DENSE
  out[15] = 0x80
  for (let r = 0; r < REGISTERS; r++) {
    const value = registers[r]!
    if (value === 0) continue
    const bit = r * BITS
    const byte = HEADER + (bit >> 3)
    const shift = bit & 7
    out[byte]! |= (value << shift) & 0xff
    if (shift > 2) out[byte + 1]! |= value >> (8 - shift)
  }
  return out
}

/** The union of sets (bytes of Redis HyperLogLogs), as a dense set; null for none. */
export function mergeSets(sets: Iterable<Uint8Array>): Buffer | null {
  let max: Uint8Array | undefined
  for (const set of sets) {
    const registers = registersOf(set)
    if (!max) max = registers
    else for (let r = 0; r < REGISTERS; r++) if (registers[r]! > max[r]!) max[r] = registers[r]!
  }
  return max ? denseSet(max) : null
}
