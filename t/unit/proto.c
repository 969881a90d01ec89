/* SPDX-License-Identifier: MIT */
/* The cmcctl <-> cmcd wire format: records round-trip, hostile input is refused. */
#include "proto.h"
#include "tap.h"

#include <errno.h>

static void test_round_trip(void)
{
	struct cmc_buf b = { 0 };
	struct cmc_record rec;

	cmc_rec_begin(&b, "slot");
	cmc_rec_int(&b, "slot", 3);
	cmc_rec_str(&b, "card", "82576 Gigabit = \"fast\" 100%\n");
	cmc_rec_bool(&b, "sriov", true);
	cmc_rec_str(&b, "empty", "");
	cmc_rec_end(&b);
	tap_ok(!b.failed && b.data[b.len - 1] == '\n', "a record is one line");
	tap_ok(strchr(b.data, '\n') == b.data + b.len - 1, "no newline inside the record");
	tap_is_int(cmc_rec_parse(b.data, &rec), 0, "it parses");
	tap_is_str(rec.type, "slot", "type");
	tap_is_int(rec.nfields, 4, "four fields");
	tap_is_str(cmc_rec_get(&rec, "slot"), "3", "int value");
	tap_ok(rec.fields[0].literal && !rec.fields[1].literal, "ints are literals, strings are not");
	tap_is_str(cmc_rec_get(&rec, "card"), "82576 Gigabit = \"fast\" 100%\n", "string with spaces, =, %%, quotes, newline");
	tap_is_str(cmc_rec_get(&rec, "sriov"), "true", "bool value");
	tap_is_str(cmc_rec_get(&rec, "empty"), "", "empty string");
	tap_ok(cmc_rec_get(&rec, "nope") == NULL, "missing key is NULL");
	cmc_buf_free(&b);
}

static void test_malformed(void)
{
	struct cmc_record rec;
	char l1[] = "X slot a=1", l2[] = "R", l3[] = "R t novalue", l4[] = "R t k=%4", l5[] = "R t K=1",
	     l6[] = "R t k=%00", l7[] = "R t :=1", l8[] = "R t k=%zz";

	tap_ok(cmc_rec_parse(l1, &rec) == -EINVAL, "a line not starting with R");
	tap_ok(cmc_rec_parse(l2, &rec) == -EINVAL, "no type");
	tap_ok(cmc_rec_parse(l3, &rec) == -EINVAL, "a field without =");
	tap_ok(cmc_rec_parse(l4, &rec) == -EINVAL, "a truncated escape");
	tap_ok(cmc_rec_parse(l5, &rec) == -EINVAL, "an upper-case key");
	tap_ok(cmc_rec_parse(l6, &rec) == -EINVAL, "an escaped NUL");
	tap_ok(cmc_rec_parse(l7, &rec) == -EINVAL, "an empty key");
	tap_ok(cmc_rec_parse(l8, &rec) == -EINVAL, "a non-hex escape");
}

static void test_too_many_fields(void)
{
	struct cmc_buf b = { 0 };
	struct cmc_record rec;

	cmc_rec_begin(&b, "t");
	for (int i = 0; i <= CMC_PROTO_MAX_FIELDS; i++)
		cmc_rec_int(&b, "k", i);
	cmc_rec_end(&b);
	tap_ok(cmc_rec_parse(b.data, &rec) == -E2BIG, "more fields than a record holds: -E2BIG");
	cmc_buf_free(&b);
}

static void test_split(void)
{
	char *argv[4];
	char ok[] = "slot  3\n", many[] = "a b c d e", bin[] = "slot \x01";

	tap_is_int(cmc_proto_split(ok, argv, 4), 2, "two words, extra spaces ignored");
	tap_is_str(argv[1], "3", "second word");
	tap_is_int(cmc_proto_split(many, argv, 4), -E2BIG, "too many words");
	tap_is_int(cmc_proto_split(bin, argv, 4), -EINVAL, "a control character");
}

static void test_buf(void)
{
	struct cmc_buf b = { 0 };

	for (int i = 0; i < 1000; i++)
		cmc_buf_printf(&b, "%04d", i);
	tap_is_int(b.len, 4000, "the buffer grows");
	cmc_buf_consume(&b, 3996);
	tap_is_str(b.data, "0999", "consume keeps the tail");
	cmc_buf_free(&b);
}

int main(void)
{
	test_round_trip();
	test_malformed();
	test_too_many_fields();
	test_split();
	test_buf();
	return tap_done();
}
