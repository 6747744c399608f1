// SPDX-License-Identifier: Apache-2.0
//! Text without `core::fmt`: requests, diagnostics and log lines.
//!
//! On Cortex-M33 `core::fmt` with integer formatting costs about 10 KB of
//! flash and links panic paths (issue 5), for what this crate needs: strings
//! and decimal numbers. Every text the core produces goes through [`Out`].

/// Where text goes. A sink that runs out of room keeps what fits and
/// remembers it (see [`Text::fits`]); writing never fails or panics.
pub trait Out {
    /// Appends `s`.
    fn put(&mut self, s: &str);

    /// This sink as the `dyn Out` the writers take.
    fn out(&mut self) -> &mut dyn Out
    where
        Self: Sized,
    {
        self
    }
}

// The writers take `&mut dyn Out`: one copy of each in flash, whatever the
// sink (a request on the socket, a log line, the caller's buffer).
impl dyn Out + '_ {
    /// Appends `s`, for chaining.
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.put(s);
        self
    }

    /// Appends `n` in decimal.
    pub fn dec(&mut self, n: impl Into<u64>) -> &mut Self {
        put_dec(self, n.into());
        self
    }

    /// Appends `n` in decimal with a sign when negative.
    pub fn signed(&mut self, n: impl Into<i64>) -> &mut Self {
        let n = n.into();
        if n < 0 {
            self.put("-");
        }
        put_dec(self, n.unsigned_abs());
        self
    }

    /// Appends `n` as an address: "0x" and eight hex digits.
    pub fn addr(&mut self, n: u32) -> &mut Self {
        self.put("0x");
        self.hex(&n.to_be_bytes())
    }

    /// Appends `bytes` as lowercase hex.
    pub fn hex(&mut self, bytes: &[u8]) -> &mut Self {
        for b in bytes {
            self.put(digit(b >> 4));
            self.put(digit(b & 0xf));
        }
        self
    }
}

/// Bytes as lowercase hex in a log record ([`crate::logging::Arg::Hex`]).
pub struct Hex<'a>(pub &'a [u8]);

/// `bytes` as a `str` when they are all ASCII (URLs, host names and the
/// names here must be). Unlike `core::str::from_utf8` it links no UTF-8
/// validator (360 bytes on Cortex-M33); a byte loop, not `<[u8]>::is_ascii`
/// (word at a time, about 100 bytes more).
pub fn ascii(bytes: &[u8]) -> Option<&str> {
    if bytes.iter().all(u8::is_ascii) {
        // SAFETY: ASCII bytes are valid UTF-8.
        Some(unsafe { core::str::from_utf8_unchecked(bytes) })
    } else {
        None
    }
}

/// Word `i` (from 0) of `words`, NUL-terminated words in one string, as a
/// C string; "" past the last. Name tables are written this way: one
/// string costs no (pointer, length) pair per name, 8 bytes each in
/// flash, and a name is found by a short scan.
#[inline(never)]
pub fn nul_word(words: &'static str, i: usize) -> &'static core::ffi::CStr {
    let mut rest = words.as_bytes();
    let mut left = i;
    while let Some(end) = rest.iter().position(|&b| b == 0) {
        let (word, tail) = rest.split_at(end + 1);
        if left == 0 {
            // SAFETY: `word` ends at its first NUL.
            return unsafe { core::ffi::CStr::from_bytes_with_nul_unchecked(word) };
        }
        left -= 1;
        rest = tail;
    }
    c""
}

/// [`nul_word`] as a `str`, without its NUL.
pub fn word(words: &'static str, i: usize) -> &'static str {
    // SAFETY: the word is a piece of the `str` `words` that starts at its
    // start or after a NUL and ends before a NUL: one-byte characters, so
    // both ends are character boundaries and the piece is UTF-8.
    unsafe { core::str::from_utf8_unchecked(nul_word(words, i).to_bytes()) }
}

/// One string, not a table of sixteen (128 bytes of pointers and lengths).
const DIGITS: &[u8; 16] = b"0123456789abcdef";

fn digit(d: u8) -> &'static str {
    match DIGITS.get(usize::from(d)) {
        // SAFETY: every byte of DIGITS is ASCII, so one alone is UTF-8.
        Some(b) => unsafe { core::str::from_utf8_unchecked(core::slice::from_ref(b)) },
        None => "?",
    }
}

fn put_dec(w: &mut (dyn Out + '_), n: u64) {
    // Numbers here are offsets, sizes, codes and tags. One beyond 32 bits
    // is written in hex rather than link a 64-bit division routine (about
    // 500 bytes on Cortex-M33).
    let Ok(mut n) = u32::try_from(n) else {
        w.put("0x");
        w.hex(&n.to_be_bytes());
        return;
    };
    // u32::MAX has 10 digits; filled from the end.
    let mut digits = [0u8; 10];
    let mut count = 0;
    for d in digits.iter_mut().rev() {
        *d = (n % 10) as u8;
        n /= 10;
        count += 1;
        if n == 0 {
            break;
        }
    }
    for &d in digits.iter().skip(digits.len() - count) {
        w.put(digit(d));
    }
}

/// Text into a caller's buffer:
/// keeps what fits (cut at a character boundary), counts the length the
/// whole text needs, like snprintf. One type (a slice, not a generic
/// buffer): one `put` in flash.
pub struct Text<'a> {
    buf: &'a mut [u8],
    used: usize,
    needed: usize,
}

impl<'a> Text<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        Text {
            buf,
            used: 0,
            needed: 0,
        }
    }

    /// The text kept.
    pub fn as_str(&self) -> &str {
        let kept = self.buf.get(..self.used).unwrap_or(&[]);
        // SAFETY: only whole `&str`s and their prefixes cut at a character
        // boundary are ever copied into `buf[..used]` (see `put`), so the
        // bytes are UTF-8.
        unsafe { core::str::from_utf8_unchecked(kept) }
    }

    /// Bytes kept.
    pub fn len(&self) -> usize {
        self.used
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// Bytes the whole text needs.
    pub fn needed(&self) -> usize {
        self.needed
    }

    /// Whether the whole text was kept.
    pub fn fits(&self) -> bool {
        self.needed == self.used
    }
}

impl Out for Text<'_> {
    fn put(&mut self, s: &str) {
        self.needed = self.needed.saturating_add(s.len());
        if self.used + s.len() != self.needed {
            // Already cut: later pieces would make a text with a hole.
            return;
        }
        let room = self.buf.len().saturating_sub(self.used);
        let mut n = room.min(s.len());
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        let piece = s.as_bytes().get(..n).unwrap_or(&[]);
        crate::bytes::copy(self.buf.get_mut(self.used..).unwrap_or(&mut []), piece);
        self.used += n;
    }
}

/// Hosted builds (tests, the simulator) collect text in a `String`.
#[cfg(not(target_os = "none"))]
impl Out for std::string::String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings() {
        let mut b = [0u8; 80];
        let mut t = Text::new(&mut b);
        t.out()
            .text("a=")
            .dec(0u32)
            .text(" b=")
            .dec(u32::MAX)
            .text(" c=")
            .signed(i32::MIN)
            .text(" d=")
            .signed(-7i32)
            .text(" e=")
            .hex(&[0x0f, 0xa0])
            .text(" f=")
            .addr(0x200);
        assert_eq!(
            t.as_str(),
            "a=0 b=4294967295 c=-2147483648 d=-7 e=0fa0 f=0x00000200"
        );
        assert!(t.fits());
        for n in [1u64, 9, 10, 99, 100, 4_294_967_295] {
            let mut b = [0u8; 24];
            let mut t = Text::new(&mut b);
            t.out().dec(n);
            assert_eq!(t.as_str(), std::format!("{n}"));
        }
        let mut b = [0u8; 48];
        let mut t = Text::new(&mut b);
        t.out().dec(4_294_967_296u64).text(" ").signed(i64::MIN);
        assert_eq!(t.as_str(), "0x0000000100000000 -0x8000000000000000");
    }

    #[test]
    fn cut_keeps_a_prefix_and_counts_the_whole() {
        let mut b = [0u8; 6];
        let mut t = Text::new(&mut b);
        t.out().text("abc").text("défg").text("h");
        // "abcd" + the 2-byte 'é' would be 6 bytes; "abcdé" is 6: kept.
        assert_eq!(t.as_str(), "abcdé");
        assert_eq!(t.needed(), 3 + 5 + 1);
        assert!(!t.fits());

        let mut b = [0u8; 4];
        let mut t = Text::new(&mut b);
        t.out().text("abc").text("é");
        // 'é' does not fit in the one byte left: not split.
        assert_eq!(t.as_str(), "abc");
        t.out().text("d");
        // Nothing after a cut piece.
        assert_eq!(t.as_str(), "abc");
        assert_eq!(t.needed(), 6);
    }

    #[test]
    fn empty_buffer() {
        let mut t = Text::new(&mut []);
        let mut b = [0u8; 3];
        let mut l = Text::new(&mut b);
        l.out().text("abcd");
        assert_eq!((l.as_str(), l.needed()), ("abc", 4));
        t.out().text("x").dec(5u32);
        assert_eq!(t.as_str(), "");
        assert_eq!(t.needed(), 2);
    }
}
