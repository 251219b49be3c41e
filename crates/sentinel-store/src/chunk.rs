//! Samples in compressed chunks, Gorilla-style: timestamps as
//! delta-of-delta in variable-width buckets, values XOR-ed with the previous
//! one and only the meaningful bits written. Regular scrapes cost about one
//! to two bytes per sample instead of sixteen.
//!
//! Timestamps may go backwards (the step log does); that costs the widest
//! bucket, nothing breaks. Values are stored bit for bit, NaN included.

/// Appends bits to a byte vector, most significant first.
#[derive(Clone, Debug, Default)]
struct BitWriter {
    bytes: Vec<u8>,
    /// Bits used in the last byte (0 = the last byte is full or none yet).
    used: u8,
}

impl BitWriter {
    fn bit(&mut self, b: bool) {
        if self.used == 0 {
            self.bytes.push(0);
        }
        if b && let Some(last) = self.bytes.last_mut() {
            *last |= 0x80 >> self.used;
        }
        self.used = (self.used + 1) % 8;
    }

    /// The low `n` bits of `v`, most significant first.
    fn bits(&mut self, v: u64, n: u8) {
        for i in (0..n).rev() {
            self.bit((v >> i) & 1 == 1);
        }
    }
}

struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn bit(&mut self) -> Option<bool> {
        let byte = *self.bytes.get(self.pos / 8)?;
        let b = byte & (0x80 >> (self.pos % 8)) != 0;
        self.pos += 1;
        Some(b)
    }

    fn bits(&mut self, n: u8) -> Option<u64> {
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit()?);
        }
        Some(v)
    }
}

/// Delta-of-delta buckets: (prefix, prefix length, value bits).
const BUCKETS: [(u64, u8, u8); 4] = [
    (0b10, 2, 7),
    (0b110, 3, 9),
    (0b1110, 4, 12),
    (0b11110, 5, 32),
];

fn sign_extend(v: u64, bits: u8) -> i64 {
    let shift = 64 - u32::from(bits);
    ((v << shift) as i64) >> shift
}

/// Encodes one series' samples, in the order given.
#[derive(Clone, Debug, Default)]
pub struct Encoder {
    w: BitWriter,
    count: u32,
    first_t: i64,
    last_t: i64,
    min_t: i64,
    max_t: i64,
    delta: i64,
    value: u64,
    leading: u8,
    trailing: u8,
}

impl Encoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> u32 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The earliest and latest timestamps encoded (`None` when empty).
    pub fn span(&self) -> Option<(i64, i64)> {
        (self.count > 0).then_some((self.min_t, self.max_t))
    }

    pub fn first(&self) -> Option<i64> {
        (self.count > 0).then_some(self.first_t)
    }

    pub fn push(&mut self, t: i64, v: f64) {
        let bits = v.to_bits();
        match self.count {
            0 => {
                self.w.bits(t as u64, 64);
                self.w.bits(bits, 64);
                self.first_t = t;
                self.min_t = t;
                self.max_t = t;
                self.leading = u8::MAX;
            }
            _ => {
                let delta = t.wrapping_sub(self.last_t);
                let dod = if self.count == 1 {
                    delta
                } else {
                    delta.wrapping_sub(self.delta)
                };
                self.timestamp(dod);
                self.delta = delta;
                self.xor(bits ^ self.value);
                self.min_t = self.min_t.min(t);
                self.max_t = self.max_t.max(t);
            }
        }
        self.last_t = t;
        self.value = bits;
        self.count += 1;
    }

    fn timestamp(&mut self, dod: i64) {
        if dod == 0 {
            self.w.bit(false);
            return;
        }
        for (prefix, plen, vbits) in BUCKETS {
            let half = 1i64 << (vbits - 1);
            if (-half..half).contains(&dod) {
                self.w.bits(prefix, plen);
                self.w.bits(dod as u64, vbits);
                return;
            }
        }
        self.w.bits(0b11111, 5);
        self.w.bits(dod as u64, 64);
    }

    fn xor(&mut self, x: u64) {
        if x == 0 {
            self.w.bit(false);
            return;
        }
        self.w.bit(true);
        let leading = (x.leading_zeros() as u8).min(31);
        let trailing = x.trailing_zeros() as u8;
        if self.leading != u8::MAX && leading >= self.leading && trailing >= self.trailing {
            // Fits the previous window.
            self.w.bit(false);
            let len = 64 - self.leading - self.trailing;
            self.w.bits(x >> self.trailing, len);
        } else {
            self.w.bit(true);
            let len = 64 - leading - trailing;
            self.w.bits(u64::from(leading), 5);
            // 64 meaningful bits are written as 0 (a 6-bit field).
            self.w.bits(u64::from(len) & 63, 6);
            self.w.bits(x >> trailing, len);
            self.leading = leading;
            self.trailing = trailing;
        }
    }

    /// The encoded bytes so far (the encoder can keep going).
    pub fn bytes(&self) -> &[u8] {
        &self.w.bytes
    }
}

/// A chunk that does not decode: the count promises more samples than the
/// bytes hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sample chunk is damaged: {0} samples promised, {1} found")]
pub struct Damaged(pub u32, pub u32);

/// Decodes `count` samples.
pub fn decode(bytes: &[u8], count: u32) -> Result<Vec<(i64, f64)>, Damaged> {
    let mut out = Vec::with_capacity(count as usize);
    let mut r = BitReader { bytes, pos: 0 };
    let short = |n: usize| Damaged(count, n as u32);
    if count == 0 {
        return Ok(out);
    }
    let (mut t, mut v) = match (r.bits(64), r.bits(64)) {
        (Some(t), Some(v)) => (t as i64, v),
        _ => return Err(short(0)),
    };
    out.push((t, f64::from_bits(v)));
    let (mut delta, mut leading, mut trailing) = (0i64, 0u8, 0u8);
    while out.len() < count as usize {
        let dod = read_dod(&mut r).ok_or_else(|| short(out.len()))?;
        delta = if out.len() == 1 {
            dod
        } else {
            delta.wrapping_add(dod)
        };
        t = t.wrapping_add(delta);
        let x = read_xor(&mut r, &mut leading, &mut trailing).ok_or_else(|| short(out.len()))?;
        v ^= x;
        out.push((t, f64::from_bits(v)));
    }
    Ok(out)
}

fn read_dod(r: &mut BitReader<'_>) -> Option<i64> {
    let mut ones = 0;
    while ones < 5 && r.bit()? {
        ones += 1;
    }
    Some(match ones {
        0 => 0,
        5 => r.bits(64)? as i64,
        n => {
            let (_, _, vbits) = BUCKETS[n - 1];
            sign_extend(r.bits(vbits)?, vbits)
        }
    })
}

fn read_xor(r: &mut BitReader<'_>, leading: &mut u8, trailing: &mut u8) -> Option<u64> {
    if !r.bit()? {
        return Some(0);
    }
    if r.bit()? {
        *leading = r.bits(5)? as u8;
        let mut len = r.bits(6)? as u8;
        if len == 0 {
            len = 64;
        }
        *trailing = 64u8.checked_sub(*leading + len)?;
    }
    let len = 64 - *leading - *trailing;
    Some(r.bits(len)? << *trailing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
        let mut e = Encoder::new();
        for (t, v) in points {
            e.push(*t, *v);
        }
        decode(e.bytes(), e.len()).unwrap()
    }

    fn same(a: &[(i64, f64)], b: &[(i64, f64)]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.0 == y.0 && x.1.to_bits() == y.1.to_bits())
    }

    fn bytes_per_sample(points: &[(i64, f64)]) -> f64 {
        let mut e = Encoder::new();
        for (t, v) in points {
            e.push(*t, *v);
        }
        assert!(same(&decode(e.bytes(), e.len()).unwrap(), points));
        e.bytes().len() as f64 / points.len() as f64
    }

    #[test]
    fn regular_scrapes_compress() {
        let at = |i: i64| 1_700_000_000_000 + i * 15_000;
        let constant: Vec<_> = (0..480).map(|i| (at(i), 1.0)).collect();
        // A counter growing by small integers, with scrape jitter of a few ms.
        let mut c = 0.0;
        let counter: Vec<_> = (0..480)
            .map(|i| {
                c += (i * 7 % 5) as f64;
                (at(i) + (i * 13 % 7), c)
            })
            .collect();
        let flat = bytes_per_sample(&constant);
        let grow = bytes_per_sample(&counter);
        assert!(flat < 0.3, "constant: {flat} bytes per sample");
        assert!(grow < 3.0, "counter: {grow} bytes per sample");
    }

    #[test]
    fn special_values_and_backward_time_survive() {
        let points = [
            (10, f64::NAN),
            (5, f64::INFINITY),
            (5, -0.0),
            (i64::MAX, f64::MIN_POSITIVE),
            (i64::MIN, f64::MAX),
            (0, 1.0),
        ];
        assert!(same(&roundtrip(&points), &points));
    }

    #[test]
    fn a_truncated_chunk_is_an_error_not_a_panic() {
        let mut e = Encoder::new();
        for i in 0..50 {
            e.push(i * 1000, i as f64 * 1.7);
        }
        let bytes = e.bytes();
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], 50).is_err(), "cut at {cut}");
        }
        // Garbage decodes to something or to an error; it never panics.
        for n in [1, 2, 30, 5000] {
            let _ = decode(&[0xff; 40], n);
            let _ = decode(&[0x00; 40], n);
        }
    }

    proptest! {
        #[test]
        fn any_samples_roundtrip(points in prop::collection::vec(
            (prop_oneof![0i64..10_000, any::<i64>()], prop_oneof![any::<f64>(), -1e6f64..1e6, Just(0.0)]),
            0..300,
        )) {
            let mut t = 0i64;
            // Mostly increasing times with jitter, sometimes anything.
            let points: Vec<(i64, f64)> = points.into_iter().map(|(dt, v)| {
                t = if dt < 10_000 { t.wrapping_add(dt) } else { dt };
                (t, v)
            }).collect();
            prop_assert!(same(&roundtrip(&points), &points));
        }
    }
}

/// One minute of one series, summarised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Minute {
    pub minute_ms: i64,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub count: f64,
}

/// A block of minutes as four compressed streams (min, max, sum, count),
/// each length-prefixed but the last.
pub fn encode_minutes(minutes: &[Minute]) -> Vec<u8> {
    let pick: [fn(&Minute) -> f64; 4] = [|m| m.min, |m| m.max, |m| m.sum, |m| m.count];
    let mut out = Vec::new();
    for (i, f) in pick.iter().enumerate() {
        let mut e = Encoder::new();
        for m in minutes {
            e.push(m.minute_ms, f(m));
        }
        if i < 3 {
            out.extend_from_slice(
                &u32::try_from(e.bytes().len())
                    .unwrap_or(u32::MAX)
                    .to_le_bytes(),
            );
        }
        out.extend_from_slice(e.bytes());
    }
    out
}

/// Decodes a block of `count` minutes.
pub fn decode_minutes(bytes: &[u8], count: u32) -> Result<Vec<Minute>, Damaged> {
    let mut streams = Vec::with_capacity(4);
    let mut rest = bytes;
    for i in 0..4 {
        let part = if i < 3 {
            let (len, tail) = rest.split_first_chunk::<4>().ok_or(Damaged(count, 0))?;
            let len = u32::from_le_bytes(*len) as usize;
            if tail.len() < len {
                return Err(Damaged(count, 0));
            }
            let (part, tail) = tail.split_at(len);
            rest = tail;
            part
        } else {
            rest
        };
        streams.push(decode(part, count)?);
    }
    let [min, max, sum, n] =
        <[Vec<(i64, f64)>; 4]>::try_from(streams).map_err(|_| Damaged(count, 0))?;
    Ok(min
        .iter()
        .zip(&max)
        .zip(&sum)
        .zip(&n)
        .map(|(((a, b), c), d)| Minute {
            minute_ms: a.0,
            min: a.1,
            max: b.1,
            sum: c.1,
            count: d.1,
        })
        .collect())
}
