/**
 * Writes small MaxMind DB files (format 2.0) for tests, so a lookup can be checked against the
 * record layouts of other databases (GeoLite2-Country, DB-IP, IPinfo) without shipping them.
 * Enough of the format for a country database: a search tree with 24-bit records over the given
 * networks (which must not overlap), and a data section of maps, strings, unsigned integers,
 * arrays and booleans, written without pointers.
 *
 * @example
 * writeFileSync(path, mmdb([['81.2.69.0/24', { country: { iso_code: 'GB' } }]]))
 */
import { isIP } from 'node:net'

export type Value = string | number | boolean | Value[] | { [key: string]: Value }

const MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex') // \xAB\xCD\xEF then "MaxMind.com"

/** A control byte and its size bytes: `type` 1-7 in the byte itself, 8 and up as "extended". */
function header(type: number, size: number): number[] {
  const bytes = size < 29 ? [size] : size < 285 ? [29, size - 29] : [30, (size - 285) >> 8, (size - 285) & 255]
  bytes[0]! |= (type <= 7 ? type : 0) << 5
  if (type > 7) bytes.splice(1, 0, type - 7)
  return bytes
}

function unsigned(type: number, n: number | bigint): number[] {
  const bytes: number[] = []
  for (let v = BigInt(n); v > 0n; v >>= 8n) bytes.unshift(Number(v & 255n))
  return [...header(type, bytes.length), ...bytes]
}

export function encode(value: Value): number[] {
  if (typeof value === 'string') {
    const utf8 = [...Buffer.from(value)]
    return [...header(2, utf8.length), ...utf8]
  }
  if (typeof value === 'number') return unsigned(value < 65536 ? 5 : 6, value)
  if (typeof value === 'boolean') return header(14, value ? 1 : 0)
  if (Array.isArray(value)) return [...header(11, value.length), ...value.flatMap(encode)]
  const entries = Object.entries(value)
  return [...header(7, entries.length), ...entries.flatMap(([k, v]) => [...encode(k), ...encode(v)])]
}

/** The bits of a network's address, as they are walked in a tree of `ipVersion`. */
function bits(cidr: string, ipVersion: 4 | 6): number[] {
  const [address = '', length = ''] = cidr.split('/')
  let bytes: number[]
  if (isIP(address) === 4) {
    bytes = address.split('.').map(Number)
    if (ipVersion === 6) bytes = [...Array(12).fill(0), ...bytes]
  } else {
    const [head = '', tail = ''] = address.split('::')
    const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)))
    const h = groups(head)
    const t = groups(tail)
    bytes = [...h, ...Array(8 - h.length - t.length).fill(0), ...t].flatMap((g) => [g >> 8, g & 255])
  }
  const prefix = Number(length) + (ipVersion === 6 && isIP(address) === 4 ? 96 : 0)
  return Array.from({ length: prefix }, (_, i) => (bytes[i >> 3]! >> (7 - (i & 7))) & 1)
}

type Slot = { node: number } | { data: number } | undefined

export function mmdb(
  networks: [cidr: string, record: Value][],
  { ipVersion = 6, databaseType = 'Test-Country' }: { ipVersion?: 4 | 6; databaseType?: string } = {},
): Buffer {
  const nodes: [Slot, Slot][] = [[undefined, undefined]]
  const data: number[] = []
  for (const [cidr, record] of networks) {
    const offset = data.length
    data.push(...encode(record))
    const path = bits(cidr, ipVersion)
    let node = 0
    path.forEach((bit, depth) => {
      const slots = nodes[node]!
      if (depth === path.length - 1) {
        slots[bit] = { data: offset }
        return
      }
      const next = slots[bit]
      if (next !== undefined && 'node' in next) {
        node = next.node
        return
      }
      nodes.push([undefined, undefined])
      node = nodes.length - 1
      slots[bit] = { node }
    })
  }
  const nodeCount = nodes.length
  const record = (slot: Slot) =>
    slot === undefined ? nodeCount : 'node' in slot ? slot.node : nodeCount + 16 + slot.data
  const tree = Buffer.alloc(nodeCount * 6)
  nodes.forEach(([left, right], i) => {
    tree.writeUIntBE(record(left), i * 6, 3)
    tree.writeUIntBE(record(right), i * 6 + 3, 3)
  })
  const metadata = encode({
    node_count: nodeCount,
    record_size: 24,
    ip_version: ipVersion,
    database_type: databaseType,
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: 1_764_000_000,
    description: { en: 'test database' },
  })
  return Buffer.concat([tree, Buffer.alloc(16), Buffer.from(data), MARKER, Buffer.from(metadata)])
}
