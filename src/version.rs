// SPDX-License-Identifier: Apache-2.0
//! The MCUboot image version: in an image's header, and of the running image
//! as the port reports it.

/// Image version from the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
    pub revision: u16,
    pub build: u32,
}
