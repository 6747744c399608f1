// SPDX-License-Identifier: Apache-2.0
//! SHA-256 (FIPS 180-4) around `sha2`'s compression function.
//!
//! The buffering and padding are ours: `sha2`'s `Digest` front end
//! (`digest`'s block buffer, `generic_array`'s conversions) links panic
//! paths into the device image, the bare compression function does not.
//! Nothing here indexes, slices or copies with a length the compiler would
//! have to check: blocks are taken with `chunks_exact` and array
//! conversions, bytes are moved with `zip` loops.

const BLOCK: usize = 64;

const INIT: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// An incremental SHA-256.
#[derive(Clone, Debug)]
pub struct Sha256 {
    state: [u32; 8],
    /// The bytes of a block not yet compressed: the first `len % 64`.
    buf: [u8; BLOCK],
    /// Message bytes taken so far.
    len: u64,
}

impl Default for Sha256 {
    fn default() -> Sha256 {
        Sha256::new()
    }
}

/// Run one 64-byte block through the compression function. The array
/// reference converts to a `&GenericArray<u8, U64>` by its type: no length
/// check, no copy. (The type is inferred, not named: generic-array 0.14.9
/// deprecates it.)
fn compress(state: &mut [u32; 8], block: &[u8; BLOCK]) {
    sha2::compress256(state, core::slice::from_ref(block.into()));
}

impl Sha256 {
    pub const fn new() -> Sha256 {
        Sha256 {
            state: INIT,
            buf: [0; BLOCK],
            len: 0,
        }
    }

    fn buffered(&self) -> usize {
        // Below 64: the cast cannot truncate.
        (self.len % BLOCK as u64) as usize
    }

    pub fn update(&mut self, data: &[u8]) {
        let used = self.buffered();
        self.len = self.len.wrapping_add(data.len() as u64);
        let mut data = data;
        if used > 0 {
            let free = BLOCK - used;
            crate::bytes::copy(self.buf.get_mut(used..).unwrap_or(&mut []), data);
            if data.len() < free {
                return;
            }
            data = data.get(free..).unwrap_or(&[]);
            compress(&mut self.state, &self.buf);
        }
        let mut blocks = data.chunks_exact(BLOCK);
        for block in &mut blocks {
            if let Ok(block) = <&[u8; BLOCK]>::try_from(block) {
                compress(&mut self.state, block);
            }
        }
        crate::bytes::copy(&mut self.buf, blocks.remainder());
    }

    /// The digest of everything passed to [`Sha256::update`]; the hasher
    /// is spent (clone it to go on). In place: taken by value, each call
    /// copied the 104-byte hasher.
    pub fn finalize(&mut self) -> [u8; 32] {
        let used = self.buffered();
        // The message, 0x80, zeros, and the length in bits (big endian) in
        // the last 8 bytes of the last block: a second block when fewer than
        // 9 bytes are left in this one.
        for (i, b) in self.buf.iter_mut().enumerate() {
            if i == used {
                *b = 0x80;
            } else if i > used {
                *b = 0;
            }
        }
        if used >= BLOCK - 8 {
            compress(&mut self.state, &self.buf);
            self.buf = [0; BLOCK];
        }
        let bits = self.len.wrapping_mul(8).to_be_bytes();
        crate::bytes::copy(self.buf.get_mut(BLOCK - 8..).unwrap_or(&mut []), &bits);
        compress(&mut self.state, &self.buf);
        // Byte i of the digest is byte i % 4 of word i / 4, big endian.
        core::array::from_fn(|i| {
            let word = self.state.get(i / 4).copied().unwrap_or(0);
            (word >> (24 - 8 * (i % 4))) as u8
        })
    }
}

/// SHA-256 of `data` in one call.
pub fn digest(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(data);
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use sha2::Digest;
    use std::vec::Vec;

    fn hex(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    fn reference(data: &[u8]) -> [u8; 32] {
        sha2::Sha256::digest(data).into()
    }

    #[test]
    fn known_vectors() {
        assert_eq!(
            digest(b""),
            hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(
            digest(b"abc"),
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            digest(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            hex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        );
        let mut h = Sha256::new();
        let a = [b'a'; 1000];
        for _ in 0..1000 {
            h.update(&a);
        }
        assert_eq!(
            h.finalize(),
            hex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        );
    }

    /// Padding edges: every length around one and two blocks, against `sha2`.
    #[test]
    fn every_short_length() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 31 + 7) as u8).collect();
        for n in 0..data.len() {
            assert_eq!(digest(&data[..n]), reference(&data[..n]), "length {n}");
        }
    }

    /// Random lengths fed in random pieces (including empty ones), against
    /// `sha2`; a clone taken midway finishes the prefix.
    #[test]
    fn random_splits() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..500 {
            let len = (next() % 1500) as usize;
            let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let mut h = Sha256::new();
            let mut at = 0;
            let mut mid = None;
            while at < len {
                let n = ((next() % 150) as usize).min(len - at);
                h.update(&data[at..at + n]);
                at += n;
                if mid.is_none() && next() % 4 == 0 {
                    mid = Some((at, h.clone()));
                }
            }
            if let Some((m, mut c)) = mid {
                assert_eq!(c.finalize(), reference(&data[..m]), "prefix {m} of {len}");
            }
            assert_eq!(h.finalize(), reference(&data), "length {len}");
        }
    }
}
