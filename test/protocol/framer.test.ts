// Tests for protocol/framer.ts: a multi-message stream split at every offset (and at every
// pair of offsets for a short one), views versus copies, and lost framing (RFC 4271 §6.1)
// reported after the messages that came before it.

import t from 'tap';
import { Framer } from '../../protocol/framer.js';
import { catchBgpError, hex, MARKER_HEX, message, u16 } from './hand-bytes.js';

// Messages built by hand (RFC 4271 §4): KEEPALIVE, OPEN, an End-of-RIB UPDATE, a longer
// UPDATE (withdrawn routes length 0, attributes length 0, NLRI bytes), NOTIFICATION,
// ROUTE-REFRESH.
const KEEPALIVE = message(4);
const OPEN = message(1, '04 fde9 005a c0000201 08 02 06 01 04 0001 00 01');
const EOR = message(2, '0000 0000');
const UPDATE = message(2, `0000 0000 ${'18 0a0001'.repeat(40)}`);
const NOTIFICATION = message(3, '06 02 03 627965');
const REFRESH = message(5, '0001 00 01');
const STREAM = [OPEN, KEEPALIVE, UPDATE, EOR, NOTIFICATION, REFRESH, KEEPALIVE];
const WHOLE = Buffer.concat(STREAM);

function collect(framer: Framer, chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) for (const m of framer.push(c)) out.push(m);
  return out;
}

/** True when two buffers share any octet of memory. */
function overlaps(a: Buffer, b: Buffer): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

function sameStream(got: Buffer[], want: Buffer[]): boolean {
  return got.length === want.length && got.every((m, i) => m.equals(want[i]));
}

t.test('one chunk holding the whole stream', async (t) => {
  const framer = new Framer({ maxLength: 4096 });
  const got = collect(framer, [WHOLE]);
  t.ok(sameStream(got, STREAM));
  t.equal(framer.bufferedBytes, 0);
});

t.test('split into two chunks at every offset', async (t) => {
  let bad = 0;
  for (let i = 0; i <= WHOLE.length; i++) {
    const framer = new Framer({ maxLength: 4096 });
    const got = collect(framer, [WHOLE.subarray(0, i), WHOLE.subarray(i)]);
    if (!sameStream(got, STREAM) || framer.bufferedBytes !== 0) bad++;
  }
  t.equal(bad, 0, `all ${WHOLE.length + 1} split points give the same messages`);
});

t.test('split into three chunks at every pair of offsets of a short stream', async (t) => {
  const short = [KEEPALIVE, REFRESH, EOR, NOTIFICATION];
  const whole = Buffer.concat(short);
  let bad = 0;
  let runs = 0;
  for (let i = 0; i <= whole.length; i++) {
    for (let j = i; j <= whole.length; j++) {
      const framer = new Framer();
      const chunks = [whole.subarray(0, i), whole.subarray(i, j), whole.subarray(j)];
      if (!sameStream(collect(framer, chunks), short)) bad++;
      runs++;
    }
  }
  t.equal(bad, 0, `all ${runs} pairs of split points give the same messages`);
});

t.test('one octet at a time', async (t) => {
  const framer = new Framer();
  const chunks = Array.from(WHOLE, (b) => Buffer.from([b]));
  t.ok(sameStream(collect(framer, chunks), STREAM));
});

t.test('messages inside a chunk are views; straddling ones are copies of exact size', async (t) => {
  const framer = new Framer();
  const first = Buffer.concat([KEEPALIVE, REFRESH.subarray(0, 10)]);
  const [ka] = [...framer.push(first)];
  t.equal(ka.buffer, first.buffer, 'same memory as the chunk');
  t.equal(ka.byteOffset, first.byteOffset);
  t.equal(framer.bufferedBytes, 10);
  const second = Buffer.concat([REFRESH.subarray(10), KEEPALIVE]);
  const [rr, ka2] = [...framer.push(second)];
  t.ok(rr.equals(REFRESH));
  t.notOk(overlaps(rr, first) || overlaps(rr, second), 'the straddling message was copied');
  t.equal(rr.length, 23);
  t.equal(ka2.buffer, second.buffer, 'the next one is a view again');
  t.equal(ka2.byteOffset, second.byteOffset + 13);
});

t.test('empty chunks change nothing', async (t) => {
  const framer = new Framer();
  t.same([...framer.push(Buffer.alloc(0))], []);
  t.same([...framer.push(KEEPALIVE.subarray(0, 5))], []);
  t.same([...framer.push(Buffer.alloc(0))], []);
  t.ok(sameStream([...framer.push(KEEPALIVE.subarray(5))], [KEEPALIVE]));
});

t.test('bad marker: earlier messages first, then 1/1, then the framer stays dead', async (t) => {
  const bad = Buffer.from(KEEPALIVE);
  bad[3] = 0;
  const framer = new Framer();
  const got: Buffer[] = [];
  const err = catchBgpError(() => {
    for (const m of framer.push(Buffer.concat([OPEN, KEEPALIVE, bad, REFRESH]))) got.push(m);
  });
  t.ok(sameStream(got, [OPEN, KEEPALIVE]));
  t.equal(err.notification.code, 1);
  t.equal(err.notification.subcode, 1);
  t.equal(framer.error, err);
  const again = catchBgpError(() => [...framer.push(KEEPALIVE)]);
  t.equal(again, err);
});

t.test('bad marker in a header that straddles chunks', async (t) => {
  const bad = Buffer.from(REFRESH);
  bad[15] = 0x7f;
  for (let i = 1; i < 19; i++) {
    const framer = new Framer();
    t.same([...framer.push(bad.subarray(0, i))], [], `split at ${i}`);
    const err = catchBgpError(() => [...framer.push(bad.subarray(i))]);
    t.equal(err.notification.subcode, 1, `split at ${i}`);
  }
});

t.test('bad length: 1/2 with the Length field, before anything is allocated', async (t) => {
  for (const length of [0, 18, 4097, 65535]) {
    const framer = new Framer({ maxLength: 4096 });
    // Only the header arrives: the error must come now, not after 4097 octets are buffered.
    const err = catchBgpError(() => [...framer.push(hex(`${MARKER_HEX} ${u16(length)} 02`))]);
    t.equal(err.notification.code, 1, `length ${length}`);
    t.equal(err.notification.subcode, 2, `length ${length}`);
    t.same(err.notification.data, hex(u16(length)));
    t.equal(framer.bufferedBytes, 0);
  }
});

t.test('setMaxLength lifts the limit to 65535 after the OPEN exchange', async (t) => {
  const big = message(2, Buffer.concat([hex('0000 0000'), Buffer.alloc(5000 - 23, 0)]));
  const framer = new Framer({ maxLength: 4096 });
  t.same([...framer.push(KEEPALIVE)].length, 1);
  framer.setMaxLength(65535);
  t.equal(framer.getMaxLength(), 65535);
  const got = collect(framer, [big.subarray(0, 3000), big.subarray(3000)]);
  t.ok(sameStream(got, [big]));
  const strict = new Framer();
  t.equal(catchBgpError(() => [...strict.push(big)]).notification.subcode, 2);
});

t.test('the default maximum is 4096', async (t) => {
  const at = message(2, Buffer.concat([hex('0000 0000'), Buffer.alloc(4096 - 23)]));
  t.equal([...new Framer().push(at)].length, 1);
});

// `each` is the receive path's form of `push`: the same messages, in the same order, with the
// same error after them, and no view object per message.

/** What one chunk gives through `each`: views made here, and the error it threw, if any. */
function viaEach(framer: Framer, chunk: Buffer): { got: Buffer[]; err: unknown } {
  const got: Buffer[] = [];
  try {
    framer.each(chunk, (buf, at) => {
      got.push(buf.subarray(at, at + buf.readUInt16BE(at + 16)));
    });
  } catch (err) {
    return { got, err };
  }
  return { got, err: null };
}

function viaPush(framer: Framer, chunk: Buffer): { got: Buffer[]; err: unknown } {
  const got: Buffer[] = [];
  try {
    for (const m of framer.push(chunk)) got.push(m);
  } catch (err) {
    return { got, err };
  }
  return { got, err: null };
}

t.test('each gives what push gives, for every split of good and broken streams', async (t) => {
  const badMarker = Buffer.from(KEEPALIVE);
  badMarker[3] = 0;
  const badLength = hex(`${MARKER_HEX} ${u16(4097)} 02`);
  const streams = [
    WHOLE,
    Buffer.concat([OPEN, KEEPALIVE, badMarker, REFRESH]),
    Buffer.concat([UPDATE, EOR, badLength]),
  ];
  let bad = 0;
  let runs = 0;
  for (const whole of streams) {
    for (let i = 0; i <= whole.length; i++) {
      for (const j of [i, Math.min(whole.length, i + 7), whole.length]) {
        const chunks = [whole.subarray(0, i), whole.subarray(i, j), whole.subarray(j)];
        const a = new Framer();
        const b = new Framer();
        for (const c of chunks) {
          const x = viaPush(a, c);
          const y = viaEach(b, c);
          const sameErr =
            x.err === null
              ? y.err === null
              : y.err !== null &&
                (x.err as { message: string }).message === (y.err as { message: string }).message;
          if (!sameStream(y.got, x.got) || !sameErr) bad++;
        }
        if (a.bufferedBytes !== b.bufferedBytes) bad++;
        runs++;
      }
    }
  }
  t.equal(bad, 0, `${runs} splits of ${streams.length} streams agree`);
  // More messages in one chunk than the framer first keeps offsets for.
  const many = Buffer.concat([...Array<Buffer>(150).fill(KEEPALIVE), UPDATE, OPEN]);
  const x = viaPush(new Framer(), many);
  const y = viaEach(new Framer(), many);
  t.equal(y.got.length, 152);
  t.ok(sameStream(y.got, x.got) && y.err === null, '152 messages in one chunk agree');
});

t.test('each reads whole messages in place and copies only a straddling one', async (t) => {
  const framer = new Framer();
  const first = Buffer.concat([KEEPALIVE, REFRESH.subarray(0, 10)]);
  const seen: [Buffer, number][] = [];
  framer.each(first, (buf, at) => {
    seen.push([buf, at]);
  });
  t.equal(seen.length, 1);
  t.equal(seen[0][0], first, 'the chunk itself');
  t.equal(seen[0][1], 0);
  const second = Buffer.concat([REFRESH.subarray(10), KEEPALIVE]);
  seen.length = 0;
  framer.each(second, (buf, at) => {
    seen.push([buf, at]);
  });
  t.equal(seen.length, 2);
  t.ok(seen[0][0].equals(REFRESH), 'the straddling message in a buffer of its own');
  t.equal(seen[0][1], 0);
  t.equal(seen[1][0], second);
  t.equal(seen[1][1], 13, 'the next one where it lies in the chunk');
});

t.test('each stops when the callback says so, and survives a push from inside', async (t) => {
  const framer = new Framer();
  const calls: number[] = [];
  framer.each(Buffer.concat([KEEPALIVE, KEEPALIVE, KEEPALIVE]), (_buf, at) => {
    calls.push(at);
    return calls.length < 2;
  });
  t.same(calls, [0, 19], 'no message after the one that returned false');
  // A callback that feeds the same framer again (a consumer re-entering) does not disturb the
  // offsets of the delivery under way.
  const outer: number[] = [];
  const inner: number[] = [];
  let nested = false;
  const f2 = new Framer();
  f2.each(Buffer.concat([KEEPALIVE, REFRESH, KEEPALIVE]), (_buf, at) => {
    outer.push(at);
    if (!nested) {
      nested = true;
      f2.each(Buffer.concat([REFRESH, REFRESH]), (_b, a) => {
        inner.push(a);
      });
    }
  });
  t.same(outer, [0, 19, 42]);
  t.same(inner, [0, 23]);
});
