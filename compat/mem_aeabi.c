/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ARM run-time ABI's memory helpers (__aeabi_memcpy and friends) as calls
 * to the C library's memcpy, memmove and memset.
 *
 * LLVM lowers every copy and fill in the Rust core to these helpers, not to
 * memcpy/memset. Without this file they come from Rust's compiler_builtins
 * (in libfota_rs.a), whose helpers call its own memcpy and memset bodies:
 * about 500 bytes the image carries next to the C library's memcpy and
 * memset, which a Zephyr image always has. Strong definitions here win over
 * compiler_builtins' weak ones, and --gc-sections then drops those bodies.
 *
 * GCC only: clang lowers the memcpy() below to __aeabi_memcpy itself, which
 * would call itself. Elsewhere (clang, hosts) this file is empty and
 * compiler_builtins serves the helpers as before.
 */
#include <stddef.h>
#include <string.h>

#if defined(__ARM_EABI__) && defined(__GNUC__) && !defined(__clang__)

void __aeabi_memcpy(void *dest, const void *src, size_t n);
void __aeabi_memcpy4(void *dest, const void *src, size_t n);
void __aeabi_memcpy8(void *dest, const void *src, size_t n);
void __aeabi_memmove(void *dest, const void *src, size_t n);
void __aeabi_memmove4(void *dest, const void *src, size_t n);
void __aeabi_memmove8(void *dest, const void *src, size_t n);
/* The run-time ABI's argument order: length before value. */
void __aeabi_memset(void *dest, size_t n, int c);
void __aeabi_memset4(void *dest, size_t n, int c);
void __aeabi_memset8(void *dest, size_t n, int c);
void __aeabi_memclr(void *dest, size_t n);
void __aeabi_memclr4(void *dest, size_t n);
void __aeabi_memclr8(void *dest, size_t n);

void __aeabi_memcpy(void *dest, const void *src, size_t n)
{
	memcpy(dest, src, n);
}

void __aeabi_memcpy4(void *dest, const void *src, size_t n)
{
	memcpy(dest, src, n);
}

void __aeabi_memcpy8(void *dest, const void *src, size_t n)
{
	memcpy(dest, src, n);
}

void __aeabi_memmove(void *dest, const void *src, size_t n)
{
	memmove(dest, src, n);
}

void __aeabi_memmove4(void *dest, const void *src, size_t n)
{
	memmove(dest, src, n);
}

void __aeabi_memmove8(void *dest, const void *src, size_t n)
{
	memmove(dest, src, n);
}

void __aeabi_memset(void *dest, size_t n, int c)
{
	memset(dest, c, n);
}

void __aeabi_memset4(void *dest, size_t n, int c)
{
	memset(dest, c, n);
}

void __aeabi_memset8(void *dest, size_t n, int c)
{
	memset(dest, c, n);
}

void __aeabi_memclr(void *dest, size_t n)
{
	memset(dest, 0, n);
}

void __aeabi_memclr4(void *dest, size_t n)
{
	memset(dest, 0, n);
}

void __aeabi_memclr8(void *dest, size_t n)
{
	memset(dest, 0, n);
}

#endif
