// SPDX-License-Identifier: Apache-2.0
//! fota-rs: firmware-over-the-air downloads for nRF91 / MCUboot devices.
//!
//! A `no_std`, allocation-free core: a URL parser ([`url`]), a sans-IO
//! HTTP/1.1 client ([`http`]), the MCUboot slot writer ([`mcuboot`]), and the
//! download [`engine`] that drives them over a platform [`port`]. The C API
//! ([`capi`], header `include/fota_rs.h`) wraps one engine instance for C
//! callers; the NCS `fota_download_*` compatibility layer sits on top of it.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// Hosted builds (tests, the simulator, the host SDK) use std's panic runtime;
// the core itself uses only `core`.
#[cfg(not(target_os = "none"))]
extern crate std;

mod bytes;
pub mod capi;
pub mod checks;
pub mod diag;
pub mod engine;
pub mod error;
pub mod ffi;
pub mod http;
pub mod image;
pub mod logging;
pub mod mcuboot;
pub mod port;
pub mod records;
pub mod sha256;
pub mod text;
pub mod url;
pub mod version;
mod zopt;

pub use engine::{Config, Engine, Request};
pub use error::{Errno, Error, Stage};

/// On the device a panic cannot happen by construction (no indexing that can
/// fail, no unwrap; `make size` checks that no panic path is linked). Should
/// one slip through, stop here rather than run on with corrupt state.
#[cfg(all(target_os = "none", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
