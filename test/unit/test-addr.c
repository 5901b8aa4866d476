// SPDX-License-Identifier: GPL-2.0-only
/*
 * Address and prefix parsing of the dataplane library: the forms every map
 * key is built from. An IPv4 address must land IPv4-mapped, an IPv4 prefix
 * length must be shifted into the 128-bit form, and host bits must be
 * refused rather than silently masked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "dataplane.h"

static const __u8 mapped_192_0_2_1[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
					   0, 0, 0xff, 0xff, 192, 0, 2, 1 };

Test(addr, ipv4_is_stored_mapped)
{
	struct xcrs_addr a;

	cr_assert_eq(dp_addr_parse("192.0.2.1", &a), 0);
	cr_assert_arr_eq(a.a, mapped_192_0_2_1, 16);
	cr_assert(dp_addr_is_v4(&a));
}

Test(addr, ipv6_mapped_spelling_is_the_same_key)
{
	struct xcrs_addr a;

	cr_assert_eq(dp_addr_parse("::ffff:192.0.2.1", &a), 0);
	cr_assert_arr_eq(a.a, mapped_192_0_2_1, 16);
}

Test(addr, ipv6)
{
	struct xcrs_addr a;
	const __u8 want[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	cr_assert_eq(dp_addr_parse("2001:db8::1", &a), 0);
	cr_assert_arr_eq(a.a, want, 16);
	cr_assert_not(dp_addr_is_v4(&a));
}

Test(addr, garbage_is_refused)
{
	const char *bad[] = { "", "192.0.2", "192.0.2.256", "2001:db8::g",
			      "192.0.2.1 ", "host.example", "192.0.2.1/24" };
	struct xcrs_addr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(dp_addr_parse(bad[i], &a), -EINVAL, "'%s'",
			     bad[i]);
}

Test(addr, format_round_trip)
{
	const char *in[] = { "192.0.2.1", "198.51.100.255", "2001:db8::1",
			     "2001:db8:cafe::10" };
	char buf[64];
	struct xcrs_addr a;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		cr_assert_eq(dp_addr_parse(in[i], &a), 0);
		dp_addr_format(&a, buf, sizeof(buf));
		cr_expect_str_eq(buf, in[i]);
	}
}

Test(prefix, ipv4_length_is_shifted_to_128_bit_form)
{
	struct xcrs_addr a;
	unsigned plen = 0;

	cr_assert_eq(dp_prefix_parse("192.0.2.0/24", &a, &plen), 0);
	cr_expect_eq(plen, 96 + 24);
	cr_assert_eq(dp_prefix_parse("0.0.0.0/0", &a, &plen), 0);
	cr_expect_eq(plen, 96);
}

Test(prefix, ipv6_length_is_kept)
{
	struct xcrs_addr a;
	unsigned plen = 0;

	cr_assert_eq(dp_prefix_parse("2001:db8::/32", &a, &plen), 0);
	cr_expect_eq(plen, 32);
	cr_assert_eq(dp_prefix_parse("::/0", &a, &plen), 0);
	cr_expect_eq(plen, 0);
}

Test(prefix, bare_address_is_a_host)
{
	struct xcrs_addr a;
	unsigned plen = 0;

	cr_assert_eq(dp_prefix_parse("192.0.2.7", &a, &plen), 0);
	cr_expect_eq(plen, 128);
	cr_assert_eq(dp_prefix_parse("2001:db8::7", &a, &plen), 0);
	cr_expect_eq(plen, 128);
}

Test(prefix, host_bits_are_refused_not_masked)
{
	struct xcrs_addr a;
	unsigned plen = 77;

	cr_expect_eq(dp_prefix_parse("192.0.2.1/24", &a, &plen), -EDOM);
	cr_expect_eq(dp_prefix_parse("2001:db8::1/64", &a, &plen), -EDOM);
	cr_expect_eq(plen, 77, "out-parameter written on failure");
}

Test(prefix, bad_lengths_are_refused)
{
	const char *bad[] = { "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/",
			      "192.0.2.0/-1", "192.0.2.0/+24", "192.0.2.0/ 24",
			      "192.0.2.0/24x", "192.0.2.0/99999999999999999999" };
	struct xcrs_addr a;
	unsigned plen;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(dp_prefix_parse(bad[i], &a, &plen), -EINVAL,
			     "'%s'", bad[i]);
}

Test(names, every_enum_value_has_a_name)
{
	for (int r = 0; r < XCRS_REASON_MAX; r++) {
		const char *n = abi_reason_name(r);

		cr_expect(n && *n && strcmp(n, "?"), "reason %d", r);
	}
	cr_expect_str_eq(abi_action_name(XCRS_ACT_DROP), "drop");
	cr_expect_str_eq(abi_contain_name(XCRS_CONTAIN_NO_LATERAL),
			 "no-lateral");
	cr_expect_str_eq(abi_role_name(XCRS_ROLE_CORE), "core");
}

/* IPv4 is formatted without printf: every value of an octet, and a
 * buffer too short is cut, never overrun. */
Test(addr, ipv4_text_for_every_octet_value)
{
	char buf[64], want[32];
	struct xcrs_addr a;

	for (unsigned v = 0; v < 256; v++) {
		snprintf(want, sizeof(want), "%u.%u.0.%u", v, 255 - v, v / 3);
		cr_assert_eq(dp_addr_parse(want, &a), 0);
		dp_addr_format(&a, buf, sizeof(buf));
		cr_expect_str_eq(buf, want);
	}
	cr_assert_eq(dp_addr_parse("255.255.255.255", &a), 0);
	memset(buf, 'x', sizeof(buf));
	dp_addr_format(&a, buf, 8);
	cr_expect_str_eq(buf, "255.255");
	cr_expect_eq(buf[8], 'x', "written past the buffer");
}
