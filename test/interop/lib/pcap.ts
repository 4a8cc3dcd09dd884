// Test-only capture reader: classic pcap files (Ethernet, Linux cooked) -> reassembled TCP byte
// streams per direction -> BGP messages split by marker and length. Deliberately tiny and
// independent of protocol/ (it must not import the project's codec). RFC 4271 §4.1 (header).
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_LINUX_SLL2 = 276;

export interface TcpSegment {
  ts: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  syn: boolean;
  fin: boolean;
  rst: boolean;
  payload: Buffer;
}

/** Parses a classic pcap file into TCP segments (non-TCP packets are skipped). */
export function readPcapTcp(file: Buffer): TcpSegment[] {
  if (file.length < 24) throw new Error('pcap: file shorter than its global header');
  let le: boolean;
  let nanos: boolean;
  const magicLe = file.readUInt32LE(0);
  const magicBe = file.readUInt32BE(0);
  if (magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS) {
    le = true;
    nanos = magicLe === PCAP_MAGIC_NS;
  } else if (magicBe === PCAP_MAGIC_US || magicBe === PCAP_MAGIC_NS) {
    le = false;
    nanos = magicBe === PCAP_MAGIC_NS;
  } else throw new Error('pcap: bad magic (pcapng is not supported; use tcpdump -w)');
  const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linktype = u32(20) & 0xffff;
  const out: TcpSegment[] = [];
  let off = 24;
  while (off + 16 <= file.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    off += 16;
    if (off + incl > file.length) break; // truncated last record (capture killed mid-write)
    const pkt = file.subarray(off, off + incl);
    off += incl;
    const seg = parseLinkLayer(pkt, linktype, sec + frac / (nanos ? 1e9 : 1e6));
    if (seg) out.push(seg);
  }
  return out;
}

function parseLinkLayer(pkt: Buffer, linktype: number, ts: number): TcpSegment | undefined {
  let etherType: number;
  let l3: number;
  if (linktype === LINKTYPE_ETHERNET) {
    if (pkt.length < 14) return undefined;
    etherType = pkt.readUInt16BE(12);
    l3 = 14;
    if (etherType === 0x8100 && pkt.length >= 18) {
      etherType = pkt.readUInt16BE(16);
      l3 = 18;
    }
  } else if (linktype === LINKTYPE_LINUX_SLL) {
    if (pkt.length < 16) return undefined;
    etherType = pkt.readUInt16BE(14);
    l3 = 16;
  } else if (linktype === LINKTYPE_LINUX_SLL2) {
    if (pkt.length < 20) return undefined;
    etherType = pkt.readUInt16BE(0);
    l3 = 20;
  } else throw new Error(`pcap: unsupported link type ${linktype}`);
  if (etherType === 0x0800) return parseIpv4(pkt.subarray(l3), ts);
  if (etherType === 0x86dd) return parseIpv6(pkt.subarray(l3), ts);
  return undefined;
}

function parseIpv4(p: Buffer, ts: number): TcpSegment | undefined {
  if (p.length < 20 || p[0] >> 4 !== 4 || p[9] !== 6) return undefined;
  const ihl = (p[0] & 0x0f) * 4;
  const total = Math.min(p.readUInt16BE(2), p.length);
  const src = Array.from(p.subarray(12, 16)).join('.');
  const dst = Array.from(p.subarray(16, 20)).join('.');
  return parseTcp(p.subarray(ihl, total), src, dst, ts);
}

function ipv6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // Compress the longest run of zero groups (RFC 5952 §4.2.3).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function parseIpv6(p: Buffer, ts: number): TcpSegment | undefined {
  if (p.length < 40 || p[0] >> 4 !== 6 || p[6] !== 6) return undefined; // no extension headers on our links
  const payloadLen = p.readUInt16BE(4);
  return parseTcp(
    p.subarray(40, 40 + payloadLen),
    ipv6Text(p.subarray(8, 24)),
    ipv6Text(p.subarray(24, 40)),
    ts,
  );
}

function parseTcp(t: Buffer, src: string, dst: string, ts: number): TcpSegment | undefined {
  if (t.length < 20) return undefined;
  const dataOff = (t[12] >> 4) * 4;
  const flags = t[13];
  return {
    ts,
    src,
    dst,
    sport: t.readUInt16BE(0),
    dport: t.readUInt16BE(2),
    seq: t.readUInt32BE(4),
    syn: (flags & 0x02) !== 0,
    fin: (flags & 0x01) !== 0,
    rst: (flags & 0x04) !== 0,
    payload: Buffer.from(t.subarray(dataOff)),
  };
}

/** One direction of one TCP connection, reassembled. */
export interface TcpStream {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** Time of the connection's first segment in this direction. */
  start: number;
  data: Buffer;
  /** Capture time of each byte offset's segment: [offset, ts] pairs in offset order. */
  times: [number, number][];
  /** True when a sequence gap was found (bytes missing from the capture). */
  gap: boolean;
}

/** Reassembles TCP segments into per-direction byte streams (one per SYN-started connection). */
export function reassemble(segments: TcpSegment[]): TcpStream[] {
  interface Flow {
    stream: TcpStream;
    isn: number | undefined;
    parts: { rel: number; ts: number; payload: Buffer }[];
  }
  const open = new Map<string, Flow>();
  const flows: Flow[] = [];
  for (const s of segments) {
    const key = `${s.src}|${s.sport}|${s.dst}|${s.dport}`;
    let flow = open.get(key);
    if (s.syn || !flow) {
      if (flow && s.syn && flow.isn === s.seq + 1) continue; // retransmitted SYN
      flow = {
        stream: {
          src: s.src,
          sport: s.sport,
          dst: s.dst,
          dport: s.dport,
          start: s.ts,
          data: Buffer.alloc(0),
          times: [],
          gap: false,
        },
        isn: s.syn ? s.seq + 1 : s.seq,
        parts: [],
      };
      open.set(key, flow);
      flows.push(flow);
    }
    if (s.payload.length > 0)
      flow.parts.push({
        rel: (s.seq - flow.isn! + 2 ** 32) % 2 ** 32,
        ts: s.ts,
        payload: s.payload,
      });
  }
  for (const f of flows) {
    f.parts.sort((a, b) => a.rel - b.rel || a.ts - b.ts);
    const chunks: Buffer[] = [];
    let next = 0;
    for (const p of f.parts) {
      const end = p.rel + p.payload.length;
      if (end <= next) continue; // retransmission
      if (p.rel > next) {
        f.stream.gap = true;
        break;
      }
      f.stream.times.push([next, p.ts]);
      chunks.push(p.payload.subarray(next - p.rel));
      next = end;
    }
    f.stream.data = Buffer.concat(chunks);
  }
  return flows.map((f) => f.stream).filter((s) => s.data.length > 0);
}

/** A BGP message cut from a stream, with the capture time of its first byte. */
export interface SplitMessage {
  ts: number;
  type: number;
  bytes: Buffer;
}

/** RFC 4271 §4.1: 16-byte all-ones marker, 2-byte length (19..65535), 1-byte type. */
export function splitBgp(
  data: Buffer,
  times: [number, number][] = [],
): { messages: SplitMessage[]; rest: Buffer } {
  const messages: SplitMessage[] = [];
  let off = 0;
  let ti = 0;
  while (off + 19 <= data.length) {
    for (let i = 0; i < 16; i++) {
      if (data[off + i] !== 0xff) throw new Error(`bgp split: bad marker at offset ${off}`);
    }
    const len = data.readUInt16BE(off + 16);
    if (len < 19) throw new Error(`bgp split: bad length ${len} at offset ${off}`);
    if (off + len > data.length) break;
    while (ti + 1 < times.length && times[ti + 1][0] <= off) ti++;
    messages.push({
      ts: times[ti]?.[1] ?? 0,
      type: data[off + 18],
      bytes: Buffer.from(data.subarray(off, off + len)),
    });
    off += len;
  }
  return { messages, rest: data.subarray(off) };
}
