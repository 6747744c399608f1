// SPDX-License-Identifier: Apache-2.0
//! Error codes shared with C (`enum fota_rs_errno` in `include/fota_rs/port.h`)
//! and the stage a download failed in.
//!
//! The numbers are the project's own, never errno: errno tables differ between
//! newlib, Zephyr's minimal libc and Linux, so the conversion happens only in C
//! where the real `<errno.h>` is in scope.

/// One failure kind. Discriminants equal `enum fota_rs_errno` (checked by a test
/// against the bindgen output).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Errno {
    Inval = 1,
    Already = 2,
    Again = 3,
    NameTooLong = 4,
    HostUnreach = 5,
    ConnRefused = 6,
    ConnReset = 7,
    TimedOut = 8,
    NotConn = 9,
    BadMsg = 10,
    TooBig = 11,
    FileTooBig = 12,
    Io = 13,
    NoEnt = 14,
    NotSup = 15,
    NoMem = 16,
    Access = 17,
    Range = 18,
    Canceled = 19,
    IlSeq = 20,
    MsgSize = 21,
    ConnAborted = 22,
    NetUnreach = 23,
    NoExec = 24,
    Fault = 25,
}

impl Errno {
    /// From a negative (or positive) code returned by a port function.
    pub fn from_code(code: i32) -> Errno {
        use Errno::*;
        match code.unsigned_abs() {
            1 => Inval,
            2 => Already,
            3 => Again,
            4 => NameTooLong,
            5 => HostUnreach,
            6 => ConnRefused,
            7 => ConnReset,
            8 => TimedOut,
            9 => NotConn,
            10 => BadMsg,
            11 => TooBig,
            12 => FileTooBig,
            13 => Io,
            14 => NoEnt,
            15 => NotSup,
            16 => NoMem,
            17 => Access,
            18 => Range,
            19 => Canceled,
            20 => IlSeq,
            21 => MsgSize,
            22 => ConnAborted,
            23 => NetUnreach,
            24 => NoExec,
            _ => Fault,
        }
    }

    /// The negative code handed to C.
    pub fn code(self) -> i32 {
        -(self as i32)
    }

    /// The POSIX name the C layer turns this into (for messages).
    pub fn name(self) -> &'static str {
        crate::text::word(ERRNO_NAMES, (self as usize).wrapping_sub(1))
    }

    /// The same name as a C string.
    pub fn cname(self) -> &'static core::ffi::CStr {
        crate::text::nul_word(ERRNO_NAMES, (self as usize).wrapping_sub(1))
    }

    /// Short description ("connection refused").
    pub fn describe(self) -> &'static str {
        self.description::<true>().unwrap_or("")
    }

    /// The description of the errnos of the failures people meet (refused
    /// TLS or TCP, DNS, HTTP 4xx, image checks); None for the others. A
    /// build without `log-text` writes only these, so the other words of
    /// [`Errno::describe`] are not linked; `crate::diag::expand_codes` adds
    /// them back on the host.
    pub fn plain_description(self) -> Option<&'static str> {
        self.description::<false>()
    }

    /// One lookup for both: `ALL` is a const parameter so that each build
    /// links the part it uses. The words are two strings of NUL-terminated
    /// descriptions ([`crate::text::word`]), each in the order of the
    /// discriminants: those of [`PLAIN`], then the others. A `match` to
    /// string literals became two tables of (pointer, length) per errno.
    fn description<const ALL: bool>(self) -> Option<&'static str> {
        let bit = 1u32 << (self as u32);
        let (words, group) = if PLAIN & bit != 0 {
            (PLAIN_DESCRIPTIONS, PLAIN)
        } else if ALL {
            (OTHER_DESCRIPTIONS, !PLAIN)
        } else {
            return None;
        };
        // The errnos of the same group before this one.
        let i = (group & (bit - 1) & !1).count_ones();
        Some(crate::text::word(words, i as usize))
    }

    /// The errno named `name` ("ECONNREFUSED"), for decoders.
    pub fn from_name(name: &str) -> Option<Errno> {
        (1..=Errno::Fault as i32)
            .map(Errno::from_code)
            .find(|e| e.name() == name)
    }

    /// Whether reconnecting and resuming can help.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Errno::ConnReset
                | Errno::TimedOut
                | Errno::NotConn
                | Errno::ConnAborted
                | Errno::NetUnreach
                | Errno::HostUnreach
        )
    }
}

impl embedded_io::Error for Errno {
    fn kind(&self) -> embedded_io::ErrorKind {
        use embedded_io::ErrorKind as K;
        match self {
            Errno::ConnRefused => K::ConnectionRefused,
            Errno::ConnReset => K::ConnectionReset,
            Errno::ConnAborted => K::ConnectionAborted,
            Errno::NotConn => K::NotConnected,
            Errno::TimedOut => K::TimedOut,
            Errno::Inval => K::InvalidInput,
            Errno::BadMsg | Errno::IlSeq => K::InvalidData,
            Errno::NoMem => K::OutOfMemory,
            Errno::NotSup => K::Unsupported,
            Errno::Access => K::PermissionDenied,
            Errno::NoEnt => K::NotFound,
            _ => K::Other,
        }
    }
}

/// The errnos of the failures people meet (refused TLS or TCP, DNS, HTTP
/// 4xx, image checks), one bit each at its discriminant: their
/// descriptions are in every build.
const PLAIN: u32 = 1 << Errno::Inval as u32
    | 1 << Errno::HostUnreach as u32
    | 1 << Errno::ConnRefused as u32
    | 1 << Errno::FileTooBig as u32
    | 1 << Errno::NoEnt as u32
    | 1 << Errno::NotSup as u32
    | 1 << Errno::Access as u32
    | 1 << Errno::Range as u32
    | 1 << Errno::IlSeq as u32
    | 1 << Errno::NoExec as u32;

/// The descriptions of [`PLAIN`]'s errnos, in the order of their
/// discriminants.
const PLAIN_DESCRIPTIONS: &str = "invalid argument\0\
    host name did not resolve\0\
    connection refused\0\
    image larger than the slot\0\
    not found\0\
    not supported\0\
    access denied\0\
    response does not match the range\0\
    image integrity check failed\0\
    unexpected image type\0";

/// The descriptions of the other errnos, in the order of their
/// discriminants (`log-text` builds and host tools).
const OTHER_DESCRIPTIONS: &str = "a download is already running\0\
    try again later\0\
    URL or host name longer than the configured limit\0\
    connection reset\0\
    timed out\0\
    not connected\0\
    malformed or unexpected HTTP response\0\
    response head larger than the receive buffer\0\
    flash or storage I/O error\0\
    out of buffer space\0\
    cancelled\0\
    message too large for the transport\0\
    connection aborted\0\
    network unreachable\0\
    internal error\0";

/// The names of the errnos in the order of their discriminants, from 1
/// ([`crate::text::nul_word`]).
const ERRNO_NAMES: &str = "EINVAL\0EALREADY\0EAGAIN\0ENAMETOOLONG\0EHOSTUNREACH\0\
    ECONNREFUSED\0ECONNRESET\0ETIMEDOUT\0ENOTCONN\0EBADMSG\0E2BIG\0EFBIG\0EIO\0\
    ENOENT\0ENOTSUP\0ENOMEM\0EACCES\0ERANGE\0ECANCELED\0EILSEQ\0EMSGSIZE\0\
    ECONNABORTED\0ENETUNREACH\0ENOEXEC\0EFAULT\0";

/// The names of the stages in the order of their discriminants.
const STAGE_NAMES: &str = "none\0url\0dns\0connect\0tls\0http\0image\0flash\0schedule\0";

/// Where a download stopped. Discriminants equal `enum fota_rs_stage`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    None = 0,
    Url = 1,
    Dns = 2,
    Connect = 3,
    Tls = 4,
    Http = 5,
    Image = 6,
    Flash = 7,
    Schedule = 8,
}

impl Stage {
    pub const ALL: [Stage; 9] = [
        Stage::None,
        Stage::Url,
        Stage::Dns,
        Stage::Connect,
        Stage::Tls,
        Stage::Http,
        Stage::Image,
        Stage::Flash,
        Stage::Schedule,
    ];

    pub fn cname(self) -> &'static core::ffi::CStr {
        crate::text::nul_word(STAGE_NAMES, self as usize)
    }

    pub fn name(self) -> &'static str {
        crate::text::word(STAGE_NAMES, self as usize)
    }
}

/// A failure: what went wrong and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    pub stage: Stage,
    pub errno: Errno,
}

impl Error {
    pub const fn new(stage: Stage, errno: Errno) -> Self {
        Error { stage, errno }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `enum NAME { PREFIX<word> = <n>, ... }` lines of a header.
    fn header_names(header: &str, prefix: &str) -> std::vec::Vec<(std::string::String, i32)> {
        header
            .lines()
            .filter_map(|l| {
                let (name, n) = l.trim().trim_end_matches(',').split_once(" = ")?;
                Some((name.strip_prefix(prefix)?.into(), n.parse().ok()?))
            })
            .collect()
    }

    /// The descriptions come from two strings by position: each errno
    /// keeps its own words, and a build without `log-text` has those of
    /// the failures people meet only.
    #[test]
    fn each_errno_keeps_its_description() {
        use Errno::*;
        let words = [
            (Inval, "invalid argument", true),
            (Already, "a download is already running", false),
            (Again, "try again later", false),
            (
                NameTooLong,
                "URL or host name longer than the configured limit",
                false,
            ),
            (HostUnreach, "host name did not resolve", true),
            (ConnRefused, "connection refused", true),
            (ConnReset, "connection reset", false),
            (TimedOut, "timed out", false),
            (NotConn, "not connected", false),
            (BadMsg, "malformed or unexpected HTTP response", false),
            (
                TooBig,
                "response head larger than the receive buffer",
                false,
            ),
            (FileTooBig, "image larger than the slot", true),
            (Io, "flash or storage I/O error", false),
            (NoEnt, "not found", true),
            (NotSup, "not supported", true),
            (NoMem, "out of buffer space", false),
            (Access, "access denied", true),
            (Range, "response does not match the range", true),
            (Canceled, "cancelled", false),
            (IlSeq, "image integrity check failed", true),
            (MsgSize, "message too large for the transport", false),
            (ConnAborted, "connection aborted", false),
            (NetUnreach, "network unreachable", false),
            (NoExec, "unexpected image type", true),
            (Fault, "internal error", false),
        ];
        assert_eq!(words.len(), Fault as usize);
        for (e, text, plain) in words {
            assert_eq!(e.describe(), text);
            assert_eq!(e.plain_description(), plain.then_some(text));
        }
    }

    /// The names come from one string each, in the order of the
    /// discriminants: every errno and stage still has its own.
    #[test]
    fn names_follow_the_c_enums() {
        let errnos = header_names(include_str!("../include/fota_rs/port.h"), "FOTA_RS_");
        let errnos: std::vec::Vec<_> = errnos
            .into_iter()
            .filter(|(n, _)| n.starts_with('E'))
            .collect();
        assert_eq!(errnos.len(), Errno::Fault as usize);
        for (name, n) in errnos {
            let e = Errno::from_code(n);
            assert_eq!(e as i32, n);
            assert_eq!(e.name(), name);
            assert_eq!(e.cname().to_str().unwrap(), name);
        }
        let stages = header_names(include_str!("../include/fota_rs.h"), "FOTA_RS_STAGE_");
        assert_eq!(stages.len(), Stage::ALL.len());
        for (name, n) in stages {
            let s = Stage::ALL[n as usize];
            assert_eq!(s.name(), name.to_lowercase());
        }
    }
}
