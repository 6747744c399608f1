// SPDX-License-Identifier: Apache-2.0
//! An `Option` whose empty state is all zero bytes.
//!
//! `Option<T>` often marks `None` with a non-zero niche value inside `T`; one
//! such byte is enough to move the 4 KiB static engine from .bss to .data,
//! which costs the same again in flash for its initial copy. This keeps the
//! engine's initial value all zero.

use core::mem::MaybeUninit;

pub struct ZeroOption<T> {
    some: bool,
    val: MaybeUninit<T>,
}

impl<T> ZeroOption<T> {
    pub const fn none() -> Self {
        ZeroOption {
            some: false,
            val: MaybeUninit::uninit(),
        }
    }

    pub fn is_some(&self) -> bool {
        self.some
    }

    pub fn is_none(&self) -> bool {
        !self.some
    }

    pub fn as_ref(&self) -> Option<&T> {
        if self.some {
            // SAFETY: `some` is set only after `val` was written.
            Some(unsafe { self.val.assume_init_ref() })
        } else {
            None
        }
    }

    pub fn as_mut(&mut self) -> Option<&mut T> {
        if self.some {
            // SAFETY: `some` is set only after `val` was written.
            Some(unsafe { self.val.assume_init_mut() })
        } else {
            None
        }
    }

    /// Store `v`, dropping any previous value.
    pub fn set(&mut self, v: T) {
        self.clear();
        self.val.write(v);
        self.some = true;
    }

    pub fn clear(&mut self) {
        if self.some {
            self.some = false;
            // SAFETY: `val` was initialised (some was true) and is dropped once.
            unsafe { self.val.assume_init_drop() };
        }
    }
}

impl<T> Drop for ZeroOption<T> {
    fn drop(&mut self) {
        self.clear();
    }
}

impl<T> Default for ZeroOption<T> {
    fn default() -> Self {
        Self::none()
    }
}

impl<T: Clone> Clone for ZeroOption<T> {
    fn clone(&self) -> Self {
        let mut c = Self::none();
        if let Some(v) = self.as_ref() {
            c.set(v.clone());
        }
        c
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for ZeroOption<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.as_ref().fmt(f)
    }
}

impl<T> From<Option<T>> for ZeroOption<T> {
    fn from(o: Option<T>) -> Self {
        let mut z = Self::none();
        if let Some(v) = o {
            z.set(v);
        }
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_option() {
        let mut z: ZeroOption<u32> = ZeroOption::none();
        assert!(z.is_none() && z.as_ref().is_none());
        z.set(7);
        assert_eq!(z.as_ref(), Some(&7));
        *z.as_mut().unwrap() += 1;
        assert_eq!(z.as_ref(), Some(&8));
        z.clear();
        assert!(z.is_none());
    }
}
