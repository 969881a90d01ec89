/* SPDX-License-Identifier: MIT */
/* One hex digit, either case, for the parsers of MACs, UUIDs and percent-encoding. */
#ifndef CMC_HEX_H
#define CMC_HEX_H

/* 0..15, or -1 if c is not a hex digit. */
static inline int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
