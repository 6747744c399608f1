// SPDX-License-Identifier: Apache-2.0
//! Byte copies that cannot panic. `copy_from_slice` and range indexing
//! link panic paths wherever the compiler cannot prove the lengths, and the
//! device build must have none (issue 5, `make size`).

/// Copies as many bytes as both slices hold; returns that count.
pub fn copy(dst: &mut [u8], src: &[u8]) -> usize {
    let n = dst.len().min(src.len());
    // A memcpy: a byte loop costs the download path about 4 host
    // instructions per byte and copy (callgrind), and `copy_from_slice`
    // keeps its length check (a panic path) even where lengths are equal.
    // SAFETY: n <= dst.len() and n <= src.len(), and `&mut` dst cannot
    // overlap `&` src.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr(), n) }
    n
}

/// True when `b` is one of `set`. A loop, not `<[u8]>::contains`, which
/// links a word-at-a-time memchr (158 bytes on Cortex-M33) for sets of a
/// few bytes.
#[allow(clippy::manual_contains)] // on purpose: see above
pub fn has(set: &[u8], b: u8) -> bool {
    set.iter().any(|&x| x == b)
}

/// ASCII case-insensitive equality with a lowercase name (header field
/// names, tokens, URL schemes). One shared copy: `eq_ignore_ascii_case` is
/// inlined wherever it is used (about 40 bytes on Cortex-M33 each time).
#[inline(never)]
pub fn eq_lower(s: &[u8], lower: &[u8]) -> bool {
    s.len() == lower.len()
        && s.iter()
            .enumerate()
            .all(|(i, a)| lower.get(i) == Some(&a.to_ascii_lowercase()))
}

/// Moves `buf[from..len]` to the front of `buf` (what is left after the
/// first `from` bytes were used). Out-of-range arguments are clamped.
pub fn shift_down(buf: &mut [u8], from: usize, len: usize) {
    // A forward byte loop, not `copy_within`: memmove is 700 bytes of
    // flash on Cortex-M33, and what moves here (the start of the next
    // pipelined response, under 2 KiB) costs microseconds either way.
    if from == 0 {
        // Nothing was used (the caller waits for more bytes).
        return;
    }
    for i in from..len {
        let Some(&b) = buf.get(i) else { break };
        let Some(d) = buf.get_mut(i - from) else {
            break;
        };
        *d = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_takes_the_shorter_length() {
        let mut d = [0u8; 3];
        assert_eq!(copy(&mut d, &[1, 2, 3, 4]), 3);
        assert_eq!(d, [1, 2, 3]);
        assert_eq!(copy(&mut d, &[9]), 1);
        assert_eq!(d, [9, 2, 3]);
    }

    #[test]
    fn eq_lower_ignores_the_case_of_the_first_argument_only() {
        assert!(eq_lower(b"Content-Length", b"content-length"));
        assert!(eq_lower(b"CHUNKED", b"chunked"));
        assert!(!eq_lower(b"chunked", b"CHUNKED"));
        assert!(!eq_lower(b"chunke", b"chunked"));
        assert!(!eq_lower(b"chunkee", b"chunked"));
        assert!(has(b":/?", b'?') && !has(b":/?", b'#') && !has(b"", 0));
    }

    #[test]
    fn shift_down_moves_the_rest_to_the_front() {
        let mut b = [1u8, 2, 3, 4, 5, 6];
        shift_down(&mut b, 2, 5);
        assert_eq!(b, [3, 4, 5, 4, 5, 6]);
        shift_down(&mut b, 7, 9);
        assert_eq!(b, [3, 4, 5, 4, 5, 6]);
        shift_down(&mut b, 1, 99);
        assert_eq!(b, [4, 5, 4, 5, 6, 6]);
    }
}
