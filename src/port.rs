// SPDX-License-Identifier: Apache-2.0
//! What the engine needs from a platform, as a Rust trait. The C table
//! `struct fota_rs_port` implements it in [`crate::ffi::CPort`]; tests
//! implement it in memory.

use crate::error::Errno;

/// TLS options of one connection, as the nRF91 modem takes them.
#[derive(Clone, Copy, Debug)]
pub struct Tls<'a> {
    pub sec_tags: &'a [i32],
    /// SNI and verified name; `None` for IP literals.
    pub hostname: Option<&'a str>,
}

#[derive(Clone, Copy, Debug)]
pub struct ConnectParams<'a> {
    pub host: &'a str,
    pub port: u16,
    pub tls: Option<Tls<'a>>,
    pub pdn_id: u8,
    pub timeout_ms: u32,
}

/// Which step of a connect failed, when the platform can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectStage {
    Dns,
    Tcp,
    Tls,
    Unknown,
}

pub type Detail = heapless::String<96>;

#[derive(Clone, Debug)]
pub struct ConnectError {
    pub errno: Errno,
    pub stage: ConnectStage,
    pub detail: Detail,
}

/// Opaque connection handle from [`Port::connect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle(pub i32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashGeometry {
    pub slot_size: u32,
    pub page_size: u32,
    pub write_block: u32,
    pub erased_value: u8,
}

/// Where the running image lives (for checks before the upgrade).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceLayout {
    pub primary_addr: u32,
    pub primary_size: u32,
    pub ram_addr: u32,
    pub ram_size: u32,
}

pub trait Port {
    fn connect(&mut self, params: &ConnectParams) -> Result<Handle, ConnectError>;
    /// Bytes sent, at least one.
    fn send(&mut self, h: Handle, data: &[u8]) -> Result<usize, Errno>;
    /// Bytes received; `Ok(0)` when the peer closed; `Err(TimedOut)` after `timeout_ms`.
    fn recv(&mut self, h: Handle, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Errno>;
    fn close(&mut self, h: Handle);

    fn flash_geometry(&mut self) -> Result<FlashGeometry, Errno>;
    fn flash_erase(&mut self, off: u32, len: u32) -> Result<(), Errno>;
    fn flash_write(&mut self, off: u32, data: &[u8]) -> Result<(), Errno>;
    fn flash_read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), Errno>;
    fn request_upgrade(&mut self, permanent: bool) -> Result<(), Errno>;

    fn kv_load(&mut self, key: &str, buf: &mut [u8]) -> Result<usize, Errno>;
    fn kv_save(&mut self, key: &str, value: &[u8]) -> Result<(), Errno>;
    fn kv_delete(&mut self, key: &str) -> Result<(), Errno>;

    fn uptime_ms(&mut self) -> u64;
    fn sleep_ms(&mut self, ms: u32);

    // Optional: a platform without them answers `NotSup` and the checks or
    // targets that need them are skipped or refused.

    fn running_version(&mut self) -> Result<crate::version::Version, Errno> {
        Err(Errno::NotSup)
    }
    fn device_layout(&mut self) -> Result<DeviceLayout, Errno> {
        Err(Errno::NotSup)
    }
    fn s0_active(&mut self) -> Result<bool, Errno> {
        Err(Errno::NotSup)
    }
    fn modem_delta_offset(&mut self) -> Result<u32, Errno> {
        Err(Errno::NotSup)
    }
    fn modem_delta_erase(&mut self) -> Result<(), Errno> {
        Err(Errno::NotSup)
    }
    fn modem_delta_write(&mut self, _data: &[u8]) -> Result<(), Errno> {
        Err(Errno::NotSup)
    }
    fn modem_delta_done(&mut self, _apply: bool) -> Result<(), Errno> {
        Err(Errno::NotSup)
    }
}

/// An open connection as an `embedded-io` byte stream, with the receive
/// timeout the engine chose.
pub struct Connection<'p, P: Port> {
    pub port: &'p mut P,
    pub handle: Handle,
    pub timeout_ms: u32,
}

impl<P: Port> embedded_io::ErrorType for Connection<'_, P> {
    type Error = Errno;
}

impl<P: Port> embedded_io::Read for Connection<'_, P> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        self.port.recv(self.handle, buf, self.timeout_ms)
    }
}

impl<P: Port> embedded_io::Write for Connection<'_, P> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.port.send(self.handle, buf)
    }
    fn flush(&mut self) -> Result<(), Errno> {
        Ok(())
    }
}

/// For test ports of the flash-only modules (checks, mcuboot): the network
/// half of [`Port`], which those tests must never reach.
#[cfg(test)]
macro_rules! no_network {
    () => {
        fn connect(
            &mut self,
            _: &$crate::port::ConnectParams,
        ) -> Result<$crate::port::Handle, $crate::port::ConnectError> {
            unreachable!("flash-only test port")
        }
        fn send(&mut self, _: $crate::port::Handle, _: &[u8]) -> Result<usize, Errno> {
            unreachable!("flash-only test port")
        }
        fn recv(&mut self, _: $crate::port::Handle, _: &mut [u8], _: u32) -> Result<usize, Errno> {
            unreachable!("flash-only test port")
        }
        fn close(&mut self, _: $crate::port::Handle) {}
    };
}
#[cfg(test)]
pub(crate) use no_network;
