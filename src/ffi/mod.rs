// SPDX-License-Identifier: Apache-2.0
//! The C side of the port: bindings generated from `include/fota_rs/port.h`,
//! the adapter that makes a `struct fota_rs_port` table a [`Port`], and the
//! logger that routes `log` records to the table's log function.

#![allow(non_upper_case_globals)]

#[rustfmt::skip]
pub mod port_bindings;

use crate::error::Errno;
use crate::logging::{Arg, Level};
use crate::port::{
    ConnectError, ConnectParams, ConnectStage, Detail, DeviceLayout, FlashGeometry, Handle, Port,
};
use crate::text::{Out, Text};
use core::sync::atomic::{AtomicPtr, Ordering};
pub use port_bindings::*;

/// A platform table handed over by C. The table (and its ctx) must stay
/// valid for as long as the engine uses it: ports keep it in static storage.
#[derive(Clone, Copy)]
pub struct CPort {
    table: *const fota_rs_port,
}

// SAFETY: the port contract (port.h) requires the table's functions to be
// callable from the download thread and the caller's thread; the pointer is
// only read.
unsafe impl Send for CPort {}

impl CPort {
    /// # Safety
    /// `table` must point to a `fota_rs_port` that stays valid and unchanged
    /// while this value is used.
    pub const unsafe fn new(table: *const fota_rs_port) -> CPort {
        CPort { table }
    }

    pub fn table(&self) -> *const fota_rs_port {
        self.table
    }

    fn t(&self) -> &fota_rs_port {
        // SAFETY: guaranteed valid by the contract of `CPort::new`.
        unsafe { &*self.table }
    }

    /// Ask a table entry that answers through an out-pointer (the flash
    /// geometry, the running version, the device layout, S0, confirmed,
    /// the modem's delta offset), starting from `out`.
    fn ask<T>(&self, f: Query<T>, mut out: T) -> Result<T, Errno> {
        // SAFETY: `*mut T` and `*mut c_void` are ABI-compatible (thin
        // pointers), so the entry may be called through the erased type;
        // it is only ever called with a pointer to a `T`.
        let f: Query<cty::c_void> = unsafe { core::mem::transmute(f) };
        self.ask_erased(f, (&mut out as *mut T).cast())?;
        Ok(out)
    }

    /// `kv_load` and `kv_save`: the key as a C string, the call, its
    /// errno or its length (at most `len`). One copy for both.
    #[inline(never)]
    fn kv_call(&self, f: KvCall, key: &str, buf: *mut u8, len: usize) -> Result<usize, Errno> {
        let f = f.ok_or(Errno::NotSup)?;
        let mut k = [0u8; 48];
        let k = cstr(key, &mut k).ok_or(Errno::NameTooLong)?;
        // SAFETY: `k` is NUL-terminated; `buf` is valid for `len` bytes
        // (a slice of the caller's) for the call.
        let rc = unsafe { f(self.t().ctx, k.as_ptr().cast(), buf, len) };
        if rc < 0 {
            return Err(Errno::from_code(rc));
        }
        Ok((rc as usize).min(len))
    }

    /// One copy of the call for every `ask` (each inlined, they were 46 to
    /// 80 bytes apiece).
    #[inline(never)]
    fn ask_erased(&self, f: Query<cty::c_void>, out: *mut cty::c_void) -> Result<(), Errno> {
        let f = f.ok_or(Errno::NotSup)?;
        // SAFETY: `out` points to the value the entry's own type names
        // (see `ask`), writable for the call.
        result(unsafe { f(self.t().ctx, out) })
    }
}

/// `kv_load`'s entry, and `kv_save`'s read as it (see there).
type KvCall =
    Option<unsafe extern "C" fn(*mut cty::c_void, *const cty::c_char, *mut u8, usize) -> i32>;

/// A table entry that answers through an out-pointer to a `T`.
type Query<T> = Option<unsafe extern "C" fn(*mut cty::c_void, *mut T) -> i32>;

// One copy: inlined, it was a few hundred bytes over the port calls.
#[inline(never)]
fn result(code: i32) -> Result<(), Errno> {
    if code < 0 {
        Err(Errno::from_code(code))
    } else {
        Ok(())
    }
}

/// Copy `s` into `buf` with a terminating NUL; `None` when it does not fit.
/// One copy for the four callers (inlined, each had its own).
#[inline(never)]
fn cstr<'b>(s: &str, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let n = s.len();
    if n >= buf.len() || crate::bytes::has(s.as_bytes(), 0) {
        return None;
    }
    crate::bytes::copy(buf, s.as_bytes());
    *buf.get_mut(n)? = 0;
    buf.get(..=n)
}

impl Port for CPort {
    fn connect(&mut self, p: &ConnectParams) -> Result<Handle, ConnectError> {
        let no_detail = |errno| ConnectError {
            errno,
            stage: ConnectStage::Unknown,
            detail: Detail::new(),
        };
        let f = self.t().connect.ok_or(no_detail(Errno::NotSup))?;
        // One NUL-terminated copy serves as host and, when it is the same
        // string (always, from the engine), as the TLS name.
        let mut host = [0u8; crate::url::HOST_CAP + 1];
        let host = cstr(p.host, &mut host).ok_or(no_detail(Errno::NameTooLong))?;
        let tls_storage;
        let tls_ptr = match p.tls {
            Some(tls) => {
                let hostname = match tls.hostname {
                    Some(h) if h == p.host => host.as_ptr(),
                    // Only a caller other than the engine names another host.
                    Some(_) => return Err(no_detail(Errno::NotSup)),
                    None => core::ptr::null(),
                };
                tls_storage = fota_rs_tls {
                    sec_tags: tls.sec_tags.as_ptr(),
                    sec_tag_count: tls.sec_tags.len().min(u8::MAX as usize) as u8,
                    hostname: hostname.cast(),
                    peer_verify: fota_rs_peer_verify_FOTA_RS_PEER_VERIFY_REQUIRED as u8,
                };
                &tls_storage as *const fota_rs_tls
            }
            None => core::ptr::null(),
        };
        let params = fota_rs_connect_params {
            host: host.as_ptr().cast(),
            port: p.port,
            tls: tls_ptr,
            pdn_id: p.pdn_id,
            timeout_ms: p.timeout_ms,
        };
        let mut res = fota_rs_connect_result {
            handle: -1,
            stage: fota_rs_connect_stage_FOTA_RS_CONNECT_STAGE_UNKNOWN as u8,
            detail: [0; 96],
        };
        // SAFETY: all pointers in `params` point to locals that outlive the
        // call; `res` is a valid, writable struct.
        let rc = unsafe { f(self.t().ctx, &params, &mut res) };
        if rc >= 0 {
            return Ok(Handle(res.handle));
        }
        let mut detail = Detail::new();
        for &c in res.detail.iter().take_while(|&&c| c != 0) {
            let b = c as u8;
            let ch = if b.is_ascii() && !b.is_ascii_control() {
                b as char
            } else {
                '?'
            };
            if detail.push(ch).is_err() {
                break;
            }
        }
        let stage = match u32::from(res.stage) {
            fota_rs_connect_stage_FOTA_RS_CONNECT_STAGE_DNS => ConnectStage::Dns,
            fota_rs_connect_stage_FOTA_RS_CONNECT_STAGE_TCP => ConnectStage::Tcp,
            fota_rs_connect_stage_FOTA_RS_CONNECT_STAGE_TLS => ConnectStage::Tls,
            _ => ConnectStage::Unknown,
        };
        Err(ConnectError {
            errno: Errno::from_code(rc),
            stage,
            detail,
        })
    }

    fn send(&mut self, h: Handle, data: &[u8]) -> Result<usize, Errno> {
        let f = self.t().send.ok_or(Errno::NotSup)?;
        // SAFETY: `data` is a valid readable slice for the duration of the call.
        let rc = unsafe { f(self.t().ctx, h.0, data.as_ptr(), data.len()) };
        if rc <= 0 {
            return Err(if rc == 0 {
                Errno::ConnReset
            } else {
                Errno::from_code(rc)
            });
        }
        Ok((rc as usize).min(data.len()))
    }

    fn recv(&mut self, h: Handle, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Errno> {
        let f = self.t().recv.ok_or(Errno::NotSup)?;
        // SAFETY: `buf` is a valid writable slice for the duration of the call.
        let rc = unsafe { f(self.t().ctx, h.0, buf.as_mut_ptr(), buf.len(), timeout_ms) };
        if rc < 0 {
            return Err(Errno::from_code(rc));
        }
        Ok((rc as usize).min(buf.len()))
    }

    fn close(&mut self, h: Handle) {
        if let Some(f) = self.t().close {
            // SAFETY: plain call with the handle connect() returned.
            unsafe { f(self.t().ctx, h.0) }
        }
    }

    fn flash_geometry(&mut self) -> Result<FlashGeometry, Errno> {
        let empty = fota_rs_flash_geometry {
            slot_size: 0,
            page_size: 0,
            write_block: 0,
            erased_value: 0xff,
        };
        let g = self.ask(self.t().flash_geometry, empty)?;
        Ok(FlashGeometry {
            slot_size: g.slot_size,
            page_size: g.page_size,
            write_block: g.write_block,
            erased_value: g.erased_value,
        })
    }

    fn flash_erase(&mut self, off: u32, len: u32) -> Result<(), Errno> {
        let f = self.t().flash_erase.ok_or(Errno::NotSup)?;
        // SAFETY: plain call with integer arguments.
        result(unsafe { f(self.t().ctx, off, len) })
    }

    fn flash_write(&mut self, off: u32, data: &[u8]) -> Result<(), Errno> {
        let f = self.t().flash_write.ok_or(Errno::NotSup)?;
        let len = u32::try_from(data.len()).map_err(|_| Errno::Inval)?;
        // SAFETY: `data` is a valid readable slice for the duration of the call.
        result(unsafe { f(self.t().ctx, off, data.as_ptr(), len) })
    }

    fn flash_read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), Errno> {
        let f = self.t().flash_read.ok_or(Errno::NotSup)?;
        let len = u32::try_from(buf.len()).map_err(|_| Errno::Inval)?;
        // SAFETY: `buf` is a valid writable slice for the duration of the call.
        result(unsafe { f(self.t().ctx, off, buf.as_mut_ptr(), len) })
    }

    fn request_upgrade(&mut self, permanent: bool) -> Result<(), Errno> {
        let f = self.t().request_upgrade.ok_or(Errno::NotSup)?;
        // SAFETY: plain call.
        result(unsafe { f(self.t().ctx, permanent) })
    }

    fn kv_load(&mut self, key: &str, buf: &mut [u8]) -> Result<usize, Errno> {
        self.kv_call(self.t().kv_load, key, buf.as_mut_ptr(), buf.len())
    }

    fn kv_save(&mut self, key: &str, value: &[u8]) -> Result<(), Errno> {
        // SAFETY: the two entries differ only in the constness of the
        // value's pointer, which is ABI-compatible; `kv_save` only reads
        // through it (its contract), so the `*mut` of `kv_call` is never
        // written through.
        let f: KvCall = unsafe { core::mem::transmute(self.t().kv_save) };
        self.kv_call(f, key, value.as_ptr().cast_mut(), value.len())
            .map(|_| ())
    }

    fn kv_delete(&mut self, key: &str) -> Result<(), Errno> {
        let f = self.t().kv_delete.ok_or(Errno::NotSup)?;
        let mut k = [0u8; 48];
        let k = cstr(key, &mut k).ok_or(Errno::NameTooLong)?;
        // SAFETY: `k` is NUL-terminated.
        result(unsafe { f(self.t().ctx, k.as_ptr().cast()) })
    }

    fn uptime_ms(&mut self) -> u64 {
        match self.t().uptime_ms {
            // SAFETY: plain call.
            Some(f) => unsafe { f(self.t().ctx) },
            None => 0,
        }
    }

    fn sleep_ms(&mut self, ms: u32) {
        if let Some(f) = self.t().sleep_ms {
            // SAFETY: plain call.
            unsafe { f(self.t().ctx, ms) }
        }
    }

    fn running_version(&mut self) -> Result<crate::version::Version, Errno> {
        let empty = fota_rs_image_version {
            major: 0,
            minor: 0,
            revision: 0,
            build: 0,
        };
        let v = self.ask(self.t().running_version, empty)?;
        Ok(crate::version::Version {
            major: v.major,
            minor: v.minor,
            revision: v.revision,
            build: v.build,
        })
    }

    fn device_layout(&mut self) -> Result<DeviceLayout, Errno> {
        let empty = fota_rs_device_layout {
            primary_addr: 0,
            primary_size: 0,
            ram_addr: 0,
            ram_size: 0,
        };
        let l = self.ask(self.t().device_layout, empty)?;
        Ok(DeviceLayout {
            primary_addr: l.primary_addr,
            primary_size: l.primary_size,
            ram_addr: l.ram_addr,
            ram_size: l.ram_size,
        })
    }

    fn s0_active(&mut self) -> Result<bool, Errno> {
        self.ask(self.t().s0_active, false)
    }

    fn running_confirmed(&mut self) -> Result<bool, Errno> {
        self.ask(self.t().running_confirmed, false)
    }

    fn modem_delta_offset(&mut self) -> Result<u32, Errno> {
        self.ask(self.t().modem_delta_offset, 0)
    }

    fn modem_delta_erase(&mut self) -> Result<(), Errno> {
        let f = self.t().modem_delta_erase.ok_or(Errno::NotSup)?;
        // SAFETY: plain call.
        result(unsafe { f(self.t().ctx) })
    }

    fn modem_delta_write(&mut self, data: &[u8]) -> Result<(), Errno> {
        let f = self.t().modem_delta_write.ok_or(Errno::NotSup)?;
        let len = u32::try_from(data.len()).map_err(|_| Errno::Inval)?;
        // SAFETY: `data` is a valid readable slice for the duration of the call.
        result(unsafe { f(self.t().ctx, data.as_ptr(), len) })
    }

    fn modem_delta_done(&mut self, apply: bool) -> Result<(), Errno> {
        let f = self.t().modem_delta_done.ok_or(Errno::NotSup)?;
        // SAFETY: plain call.
        result(unsafe { f(self.t().ctx, apply) })
    }
}

/// Hands records to the port's log function.
pub struct PortLogger {
    table: AtomicPtr<fota_rs_port>,
}

pub static LOGGER: PortLogger = PortLogger {
    table: AtomicPtr::new(core::ptr::null_mut()),
};

impl PortLogger {
    /// Point at `table` and let records through (every level compiled in).
    /// Nothing in builds without log records (`log-off`).
    ///
    /// `&'static` because the logger dereferences the table on every
    /// record, from any thread, for the rest of the program: a C caller's
    /// pointer becomes one only where the contract that makes it so is
    /// (`fota_rs_init`).
    pub fn install(table: &'static fota_rs_port) {
        if crate::logging::STATIC_MAX == 0 {
            return;
        }
        LOGGER
            .table
            .store((table as *const fota_rs_port).cast_mut(), Ordering::Release);
        crate::logging::start();
    }

    /// Renders one record (`crate::logging::write_record`) and hands it to
    /// the port, NUL-terminated at its length (the contract in port.h).
    /// Inlined in its one caller, `logging::emit`.
    #[inline(always)]
    pub fn log(&self, level: Level, id: u16, values: &[Arg<'_>]) {
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return;
        }
        // SAFETY: `install` stored it from a `&'static fota_rs_port`; only
        // read here.
        let t = unsafe { &*table };
        let Some(f) = t.log else { return };
        // The line, and its NUL after the longest line.
        let mut buf = [0u8; LOG_LINE + 1];
        let mut line = Text::new(buf.get_mut(..LOG_LINE - 3).unwrap_or(&mut []));
        crate::logging::write_record(line.out(), id, values);
        let (mut len, fits) = (line.len(), line.fits());
        if !fits {
            // The line is cut: say so in the room left for the mark.
            let mark = buf.get_mut(len..len + 3).map(<&mut [u8; 3]>::try_from);
            if let Some(Ok(mark)) = mark {
                *mark = *b"...";
                len += 3;
            }
        }
        // Zeroed already; written so the contract does not rest on that.
        if let Some(nul) = buf.get_mut(len) {
            *nul = 0;
        }
        let level = match level {
            Level::Error => fota_rs_log_level_FOTA_RS_LOG_ERR,
            Level::Warn => fota_rs_log_level_FOTA_RS_LOG_WRN,
            Level::Info => fota_rs_log_level_FOTA_RS_LOG_INF,
            Level::Debug => fota_rs_log_level_FOTA_RS_LOG_DBG,
        };
        // SAFETY: msg points to `len` valid bytes and a NUL for the
        // duration of the call.
        unsafe { f(t.ctx, level as u8, buf.as_ptr().cast(), len) }
    }
}

/// Longest log line handed to the port (the contract in port.h); a longer
/// one ends in "...".
const LOG_LINE: usize = 200;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    extern crate std;
    use std::string::String;
    use std::sync::Mutex;
    use std::vec::Vec;

    /// Held by the tests that install a port logger (this one, and the C
    /// API's through fota_rs_init): there is one logger per process.
    pub(crate) static LOGGER_TURN: Mutex<()> = Mutex::new(());

    static LINES: Mutex<Vec<(u8, String)>> = Mutex::new(Vec::new());

    unsafe extern "C" fn capture(
        _: *mut cty::c_void,
        level: u8,
        msg: *const cty::c_char,
        len: usize,
    ) {
        // SAFETY: the logger passes `len` valid bytes and a NUL for the call.
        let bytes = unsafe { core::slice::from_raw_parts(msg.cast::<u8>(), len + 1) };
        assert_eq!(
            bytes.last(),
            Some(&0),
            "line not NUL-terminated at its length"
        );
        let bytes = &bytes[..len];
        let line = String::from_utf8(bytes.to_vec()).expect("log lines are UTF-8");
        LINES.lock().unwrap().push((level, line));
    }

    fn logged(prefix: &str) -> (u8, String) {
        let lines = LINES.lock().unwrap();
        let found = lines.iter().find(|(_, l)| l.starts_with(prefix));
        found
            .cloned()
            .unwrap_or_else(|| panic!("no line {prefix:?} in {lines:?}"))
    }

    #[test]
    fn port_logger_renders_key_values_and_marks_a_cut_line() {
        let _turn = LOGGER_TURN.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: all-zero is a valid table: a null context and every entry
        // None (Option of a function pointer).
        let mut table: fota_rs_port = unsafe { core::mem::zeroed() };
        table.log = Some(capture);
        PortLogger::install(std::boxed::Box::leak(std::boxed::Box::new(table)));

        crate::logging::error!(
            URL_LIMITS,
            host_max = "ECONNRESET",
            path_max = 12288u32,
            host_cap = -5i32,
            path_cap = 5_000_000_000u64
        );
        assert_eq!(
            logged("URL limits"),
            (
                fota_rs_log_level_FOTA_RS_LOG_ERR as u8,
                "URL limits outside 1 ..= the built-in capacity host_max=ECONNRESET \
                 path_max=12288 host_cap=-5 path_cap=0x000000012a05f200"
                    .into()
            )
        );
        crate::logging::set_ids_only(true);
        crate::logging::warn!(SAVE_FAILED, offset = 4096u32, error = "EIO");
        crate::logging::set_ids_only(false);
        assert_eq!(
            logged("#47"),
            (
                fota_rs_log_level_FOTA_RS_LOG_WRN as u8,
                "#47 4096 EIO".into()
            )
        );

        let long = "x".repeat(300);
        crate::logging::info!(DOWNLOADING, url = long.as_str());
        let (level, line) = logged("Downloading");
        assert_eq!(level, fota_rs_log_level_FOTA_RS_LOG_INF as u8);
        assert_eq!(line.len(), LOG_LINE);
        assert!(line.starts_with("Downloading url=xxx"), "{line}");
        assert!(line.ends_with("xxx..."), "{line}");
    }
}
