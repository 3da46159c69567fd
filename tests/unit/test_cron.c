/*
 * test_cron.c - cron schedules: the syntax of crontab(5) and its matching
 * rules, including the either-day rule when both day fields are set.
 */
#include <check.h>
#include <string.h>

#include "cron.h"
#include "runner.h"

static cron_t parse_ok(const char *text)
{
	cron_t c;
	char err[256];

	ck_assert_msg(cron_parse(text, &c, err, sizeof(err)) == 0, "\"%s\": %s", text, err);
	return c;
}

START_TEST(fields_lists_ranges_steps_and_names)
{
	cron_t c = parse_ok("*/15 9-17 * * mon-fri");

	ck_assert(cron_matches(&c, 0, 9, 3, 6, 1));
	ck_assert(cron_matches(&c, 45, 17, 3, 6, 5));
	ck_assert(!cron_matches(&c, 10, 9, 3, 6, 1));
	ck_assert(!cron_matches(&c, 0, 8, 3, 6, 1));
	ck_assert(!cron_matches(&c, 0, 9, 3, 6, 6)); /* Saturday */

	c = parse_ok("5,35 0 1 jan,JUL *");
	ck_assert(cron_matches(&c, 35, 0, 1, 7, 3));
	ck_assert(!cron_matches(&c, 35, 0, 1, 8, 3));

	c = parse_ok("10/20 * * * *");
	ck_assert(cron_matches(&c, 10, 4, 1, 1, 0) && cron_matches(&c, 30, 4, 1, 1, 0) &&
		  cron_matches(&c, 50, 4, 1, 1, 0));
	ck_assert(!cron_matches(&c, 0, 4, 1, 1, 0));

	c = parse_ok("0 0 * * 7"); /* 7 is Sunday, like 0 */
	ck_assert(cron_matches(&c, 0, 0, 9, 3, 0));
}
END_TEST

START_TEST(either_day_field_matches_when_both_are_set)
{
	cron_t c = parse_ok("0 12 13 * fri");

	ck_assert(cron_matches(&c, 0, 12, 13, 2, 2));	/* the 13th, a Tuesday */
	ck_assert(cron_matches(&c, 0, 12, 20, 2, 5));	/* a Friday */
	ck_assert(!cron_matches(&c, 0, 12, 20, 2, 4));

	c = parse_ok("0 12 13 * *");
	ck_assert(!cron_matches(&c, 0, 12, 20, 2, 5));
}
END_TEST

/* Vixie cron: a day field that starts with "*" is unrestricted, steps or not. */
START_TEST(a_day_field_starting_with_a_star_is_unrestricted)
{
	cron_t c = parse_ok("0 9 1 * */1");

	ck_assert(cron_matches(&c, 0, 9, 1, 3, 0));
	ck_assert(!cron_matches(&c, 0, 9, 2, 3, 1)); /* not every day: only the 1st */

	c = parse_ok("0 9 */2 * 1");
	ck_assert(cron_matches(&c, 0, 9, 3, 3, 1));	/* the 3rd, a Monday */
	ck_assert(!cron_matches(&c, 0, 9, 3, 3, 2));	/* an odd day, not a Monday */
	ck_assert(!cron_matches(&c, 0, 9, 4, 3, 1));	/* a Monday, not an odd day */
}
END_TEST

/* Which DST rule a schedule follows: cronie's wildcard jobs have "*" in the minute or hour field. */
START_TEST(wildcard_schedules_have_a_star_in_the_minute_or_hour)
{
	ck_assert(parse_ok("* * * * *").wildcard);
	ck_assert(parse_ok("0 * * * *").wildcard);
	ck_assert(parse_ok("*/5 2 * * *").wildcard);
	ck_assert(!parse_ok("30 2 * * *").wildcard);
	ck_assert(!parse_ok("0,30 1-3 * * *").wildcard);
	ck_assert(!parse_ok("30 2 * * */2").wildcard);
}
END_TEST

START_TEST(bad_schedules_name_the_field)
{
	static const struct {
		const char *text, *expect;
	} bad[] = {
		{ "* * * *", "five fields" },
		{ "* * * * * *", "five fields" },
		{ "60 * * * *", "invalid minute field \"60\"" },
		{ "* 24 * * *", "invalid hour field" },
		{ "* * 0 * *", "invalid day of month field" },
		{ "* * * 13 *", "invalid month field" },
		{ "* * * * 8", "invalid day of week field" },
		{ "*/0 * * * *", "invalid minute field" },
		{ "5-1 * * * *", "invalid minute field" },
		{ "* * * foo *", "invalid month field" },
		{ "1,,2 * * * *", "invalid minute field" },
		/* 2^32 + 1: it must not wrap to a step of 1 on its way to an int. */
		{ "*/4294967297 * * * *", "invalid minute field" },
		{ "*/99999999999999999999 * * * *", "invalid minute field" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cron_t c;
		char err[256] = "";

		ck_assert_int_eq(cron_parse(bad[i].text, &c, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, bad[i].expect) != NULL, "\"%s\": got \"%s\"", bad[i].text, err);
	}
}
END_TEST

RUNNER_MAIN("cron", 30, fields_lists_ranges_steps_and_names,
	    either_day_field_matches_when_both_are_set, a_day_field_starting_with_a_star_is_unrestricted,
	    wildcard_schedules_have_a_star_in_the_minute_or_hour, bad_schedules_name_the_field)
