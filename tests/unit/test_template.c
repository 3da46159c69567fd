/*
 * test_template.c - the Handlebars renderer: every construct it supports,
 * the standalone-line and ~ rules, how values print, syntax errors with
 * their file:line:col, and the limits on hostile templates and data.
 *
 * Expected outputs were checked against handlebars.js 4.7.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"
#include "template.h"
#include "template_set.h"

/* Partials every test can use. */
static tpl_set_t *test_partials(void)
{
	static const struct {
		const char *name, *text;
	} defs[] = {
		{ "greet", "Hello {{name}}!" },
		{ "lines", "one {{name}}\ntwo\n" },
		{ "item", "[{{n}}@{{@index}}/{{@root.title}}/{{../title}}]" },
		{ "rec", "{{#if next}}({{> rec next}}){{else}}end{{/if}}" },
		{ "self", "x{{> self}}" },
	};
	tpl_set_t *set;
	char err[256];

	tpl_set_new(&set);
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		ck_assert_msg(tpl_set_add_partial(set, defs[i].name, defs[i].text, strlen(defs[i].text),
						  defs[i].name, err, sizeof(err)) == 0,
			      "%s: %s", defs[i].name, err);
	return set;
}

static cJSON *parse(const char *json)
{
	cJSON *data = cJSON_Parse(json ? json : "{}");

	ck_assert_msg(data != NULL, "bad test JSON: %s", json);
	return data;
}

/* Renders text with data and options; fails the test on any error. Caller frees. */
static char *render_opts(const char *text, const char *json, const tpl_options_t *opts)
{
	tpl_set_t *set = test_partials();
	cJSON *data = parse(json);
	tpl_t *tpl;
	char err[512] = "", *out = NULL;

	ck_assert_msg(tpl_compile(text, strlen(text), "t.hbs", set, &tpl, err, sizeof(err)) == 0,
		      "compile \"%s\": %s", text, err);
	ck_assert_msg(tpl_render(tpl, data, set, opts, &out, err, sizeof(err)) == 0,
		      "render \"%s\": %s", text, err);
	tpl_free(tpl);
	tpl_set_free(set);
	cJSON_Delete(data);
	return out;
}

#define expect(text, json, want) expect_opts(text, json, want, NULL)

static void expect_opts(const char *text, const char *json, const char *want,
			const tpl_options_t *opts)
{
	char *out = render_opts(text, json, opts);

	ck_assert_msg(strcmp(out, want) == 0, "\"%s\" rendered \"%s\", expected \"%s\"", text, out, want);
	free(out);
}

/* Compiling len bytes of text fails, and the message is exactly want. */
static void expect_error_n(const char *text, size_t len, const char *want)
{
	tpl_set_t *set = test_partials();
	tpl_t *tpl = NULL;
	char err[512] = "";

	ck_assert_msg(tpl_compile(text, len, "t.hbs", set, &tpl, err, sizeof(err)) == -EINVAL,
		      "\"%s\" compiled", text);
	ck_assert_ptr_null(tpl);
	ck_assert_msg(strcmp(err, want) == 0, "\"%s\": got \"%s\", expected \"%s\"", text, err, want);
	tpl_set_free(set);
}

static void expect_error(const char *text, const char *want)
{
	expect_error_n(text, strlen(text), want);
}

/* Rendering fails with code, and the message contains want. */
static void expect_render_error(const char *text, const char *json, const tpl_options_t *opts,
				int code, const char *want)
{
	tpl_set_t *set = test_partials();
	cJSON *data = parse(json);
	tpl_t *tpl;
	char err[512] = "", *out = (char *)"unset";

	ck_assert_int_eq(tpl_compile(text, strlen(text), "t.hbs", set, &tpl, err, sizeof(err)), 0);
	ck_assert_int_eq(tpl_render(tpl, data, set, opts, &out, err, sizeof(err)), code);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err, want) != NULL, "got \"%s\", expected \"%s\"", err, want);
	tpl_free(tpl);
	tpl_set_free(set);
	cJSON_Delete(data);
}

static const char *const user = "{\"title\":\"T\",\"user\":{\"name\":\"Ada\",\"email\":\"ada@example.com\","
				"\"attributes\":{\"plan\":\"gold\"}},\"items\":[{\"n\":1},{\"n\":2},{\"n\":3}]}";

START_TEST(paths)
{
	expect("Hi {{user.name}}", user, "Hi Ada");
	expect("{{user/name}} {{this.user.name}} {{./user.name}} {{this/user/name}}", user,
	       "Ada Ada Ada Ada");
	expect("{{[user].[name]}} {{user.attributes.plan}}", user, "Ada gold");
	expect("{{items.1.n}} {{items.[2].n}} {{items.length}} {{user.name.length}}", user, "2 3 3 3");
	expect("{{\"user\"}}", "{\"user\":\"literal as name\"}", "literal as name");
	expect("{{ user.name }}{{user.email}}", user, "Adaada@example.com");
}
END_TEST

START_TEST(missing_values_render_empty)
{
	expect("[{{nope}}|{{user.nope.deeper}}|{{items.9.n}}|{{../up}}|{{@index}}|{{@nope}}|{{title.x}}]",
	       user, "[||||||]");
	expect("[{{{nope}}}{{&nope}}]", NULL, "[]");
	expect("[{{a}}]", "null", "[]");
}
END_TEST

START_TEST(escaping_every_special_character)
{
	const char *json = "{\"s\":\"&<>\\\"'`= \u00e9\"}";

	expect("{{s}}", json, "&amp;&lt;&gt;&quot;&#x27;&#x60;&#x3D; \u00e9");
	expect("{{{s}}}|{{& s}}|{{~{s}~}}", json, "&<>\"'`= \u00e9|&<>\"'`= \u00e9|&<>\"'`= \u00e9");
	expect("{{a}}", "{\"a\":[\"<b>\",\"&\"]}", "&lt;b&gt;,&amp;");
	expect("<{{s}}>", "{\"s\":\"<script>alert(1)</script>\"}",
	       "<&lt;script&gt;alert(1)&lt;/script&gt;>");
	/* The template's own text is never escaped. */
	expect("<a href=\"x\">&amp;</a>", NULL, "<a href=\"x\">&amp;</a>");
}
END_TEST

START_TEST(values_print_like_javascript)
{
	expect("{{#each n}}{{this}} {{/each}}",
	       "{\"n\":[1,1.0,0.5,-2,1e21,1e-7,0.000001,123456789012,0.1,1.5e300,-1.25e-8,100,"
	       "0.30000000000000004,12345678901234567890]}",
	       "1 1 0.5 -2 1e+21 1e-7 0.000001 123456789012 0.1 1.5e+300 -1.25e-8 100 "
	       "0.30000000000000004 12345678901234567000 ");
	expect("{{t}} {{f}} [{{z}}] [{{nul}}] {{zero}}",
	       "{\"t\":true,\"f\":false,\"z\":\"\",\"nul\":null,\"zero\":0}", "true false [] [] 0");
	expect("{{a}}|{{o}}|{{e}}|{{{a}}}", "{\"a\":[1,[2,[3,null]],null,\"x\",true,{}],\"o\":{\"k\":1},\"e\":[]}",
	       "1,2,3,,,x,true,[object Object]|[object Object]||1,2,3,,,x,true,[object Object]");
	expect("{{this}}", "\"top\"", "top");
	expect("{{this}}", "[1,2]", "1,2");
}
END_TEST

START_TEST(this_and_parent_contexts)
{
	expect("{{#each items}}{{n}}{{../title}}{{/each}}", user, "1T2T3T");
	expect("{{#with user}}{{name}}/{{../title}}/{{this.name}}{{/with}}", user, "Ada/T/Ada");
	/* if and unless do not change the context, so ../ goes past them. */
	expect("{{#with user}}{{#if name}}{{../title}}{{/if}}{{/with}}", user, "T");
	expect("{{#each a}}{{#each ../b}}{{../n}}{{n}}{{../../t}} {{/each}}|{{/each}}",
	       "{\"t\":\"T\",\"a\":[{\"n\":1},{\"n\":2}],\"b\":[{\"n\":3},{\"n\":4}]}",
	       "13T 14T |23T 24T |");
	/*
	 * As in Handlebars, a block whose context equals the current one (== in
	 * JavaScript) adds no level for ../ to climb.
	 */
	expect("{{#each items}}{{#each ../items}}{{../n}}{{n}} {{/each}}|{{/each}}", user,
	       "1 12 13 |21 2 23 |31 32 3 |");
	expect("{{#each a}}{{#each ../b}}[{{../x}}]{{/each}}{{/each}}",
	       "{\"x\":\"X\",\"a\":[1],\"b\":[\"1\",\"2\",true]}", "[X][][X]");
	expect("{{#each items}}{{this.n}}{{/each}}", user, "123");
	expect("{{../title}}", user, "");
}
END_TEST

START_TEST(root_data)
{
	expect("{{#each items}}{{@root.title}}{{#with @root.user}}{{name}}{{/with}}{{/each}}", user,
	       "TAdaTAdaTAda");
	expect("{{@root.user.name}}", user, "Ada");
}
END_TEST

START_TEST(if_truthiness)
{
	static const char *const falsy[] = { "false", "null", "\"\"", "0", "[]" };
	static const char *const truthy[] = { "true", "\"0\"", "1", "-1", "{}", "[0]", "\" \"" };
	char json[64];

	for (size_t i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++) {
		snprintf(json, sizeof(json), "{\"v\":%s}", falsy[i]);
		expect("{{#if v}}yes{{else}}no{{/if}}", json, "no");
		expect("{{#unless v}}yes{{else}}no{{/unless}}", json, "yes");
	}
	for (size_t i = 0; i < sizeof(truthy) / sizeof(truthy[0]); i++) {
		snprintf(json, sizeof(json), "{\"v\":%s}", truthy[i]);
		expect("{{#if v}}yes{{else}}no{{/if}}", json, "yes");
		expect("{{#unless v}}yes{{else}}no{{/unless}}", json, "no");
	}
	expect("{{#if missing}}yes{{else}}no{{/if}}", NULL, "no");
	expect("{{#if v includeZero=true}}yes{{else}}no{{/if}}", "{\"v\":0}", "yes");
	expect("{{#if v includeZero=true}}yes{{else}}no{{/if}}", "{\"v\":\"\"}", "no");
	expect("{{#if 0}}a{{else}}b{{/if}}{{#if \"x\"}}c{{/if}}{{#if true}}d{{/if}}", NULL, "bcd");
	expect("{{^if v}}inverted{{/if}}", "{\"v\":false}", "inverted");
}
END_TEST

START_TEST(else_if_chains)
{
	const char *t = "{{#if a}}A{{else if b}}B{{else unless c}}notC{{else}}other{{/if}}";

	expect(t, "{\"a\":1}", "A");
	expect(t, "{\"b\":1}", "B");
	expect(t, "{}", "notC");
	expect(t, "{\"c\":1}", "other");
	expect("{{#each e}}x{{else each items}}{{n}}{{/each}}", user, "123");
}
END_TEST

START_TEST(each_over_arrays)
{
	expect("{{#each items}}{{@index}}:{{n}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}}@{{@key}} {{/each}}",
	       user, "0:1F@0 1:2@1 2:3L@2 ");
	expect("{{#each a}}<{{this}}>{{/each}}", "{\"a\":[\"x\",2,null,true]}", "<x><2><><true>");
	expect("{{#each items}}{{#each ../items}}{{@../index}}{{@index}} {{/each}}{{/each}}", user,
	       "00 01 02 10 11 12 20 21 22 ");
}
END_TEST

START_TEST(each_over_objects)
{
	expect("{{#each o}}{{@key}}={{this}}/{{@index}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}} {{/each}}",
	       "{\"o\":{\"b\":1,\"a\":\"<2>\",\"c\":{}}}", "b=1/0F a=&lt;2&gt;/1 c=[object Object]/2L ");
}
END_TEST

START_TEST(each_else_when_nothing_to_iterate)
{
	static const char *const empty[] = { "[]", "{}", "null", "0", "\"str\"", "true" };
	char json[64];

	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		snprintf(json, sizeof(json), "{\"v\":%s,\"t\":\"T\"}", empty[i]);
		expect("{{#each v}}item{{else}}none {{t}}{{/each}}", json, "none T");
	}
	expect("{{#each missing}}item{{else}}none{{/each}}", NULL, "none");
	expect("[{{#each missing}}item{{/each}}]", NULL, "[]");
}
END_TEST

START_TEST(with_blocks)
{
	expect("{{#with user.attributes}}{{plan}}{{/with}}", user, "gold");
	expect("{{#with missing}}x{{else}}no {{title}}{{/with}}", user, "no T");
	expect("{{#with e}}x{{else}}empty{{/with}}", "{\"e\":[]}", "empty");
	expect("{{#with z}}[{{this}}]{{/with}}", "{\"z\":0}", "[0]");
	expect("{{#with o}}{{this}}{{/with}}", "{\"o\":{}}", "[object Object]");
}
END_TEST

START_TEST(comments)
{
	expect("a{{! a comment }}b{{!-- holds }} and {{x}} --}}c", NULL, "abc");
	expect("a {{~! strips ~}} b", NULL, "ab");
	expect("a {{~!-- strips --~}} b", NULL, "ab");
}
END_TEST

START_TEST(whitespace_control)
{
	expect("a  {{~ title ~}}  b", user, "aTb");
	expect("a \n {{~#if title}} x {{~/if~}} \n b", user, "a xb");
	expect("{{#each items~}}\n  {{n}}\n{{~/each}}", user, "123");
	expect("<{{~#if 0}}y{{~else~}} n {{~/if~}}>", NULL, "<n>");
}
END_TEST

START_TEST(standalone_lines)
{
	/* A line holding only a block tag, else, or comment disappears entirely. */
	expect("<ul>\n  {{#each items}}\n  <li>{{n}}</li>\n  {{/each}}\n</ul>\n", user,
	       "<ul>\n  <li>1</li>\n  <li>2</li>\n  <li>3</li>\n</ul>\n");
	expect("{{#if x}}\n  yes\n{{else}}\n  no\n{{/if}}\nend\n", NULL, "  no\nend\n");
	expect("a\n  {{! comment }}  \nb\n", NULL, "a\nb\n");
	expect("a\n{{!-- two\nlines --}}\nb\n", NULL, "a\nb\n");
	expect("\r\n{{#if t}}\r\nx\r\n{{/if}}\r\n", "{\"t\":1}", "\r\nx\r\n");
	expect("  {{#if t}}  \n  x\n  {{/if}}  \nend", "{\"t\":1}", "  x\nend");
	/* Not standalone: other text or another tag on the line. */
	expect("a {{#if t}}\nx{{/if}} b\n", "{\"t\":1}", "a \nx b\n");
	expect("{{#if t}}{{#if t}}\nx\n{{/if}}{{/if}}\n", "{\"t\":1}", "\nx\n\n");
	/* A plain {{value}} never takes its line. */
	expect("a\n{{nope}}\nb", NULL, "a\n\nb");
	/* The first and last lines of the template count. */
	expect("{{#if t}}\nx\n{{/if}}", "{\"t\":1}", "x\n");
}
END_TEST

START_TEST(partials)
{
	expect("{{> greet}}", "{\"name\":\"Ada\"}", "Hello Ada!");
	expect("{{> greet user}}|{{> greet missing}}", user, "Hello Ada!|Hello !");
	expect("{{#each items}}{{> item}}{{/each}}", user, "[1@0/T/][2@1/T/][3@2/T/]");
	expect("{{> \"greet\" this}}", "{\"name\":\"B\"}", "Hello B!");
	expect("{{> rec}}", "{\"next\":{\"next\":{}}}", "((end))");
}
END_TEST

START_TEST(standalone_partials_are_indented)
{
	expect("a\n  {{> lines}}\nb\n", "{\"name\":\"N\"}", "a\n  one N\n  two\nb\n");
	expect("<div>\n    {{> greet}}\n</div>\n", "{\"name\":\"x\"}", "<div>\n    Hello x!</div>\n");
	/* Not standalone: no indent, and the line's text stays. */
	expect("a {{> lines}}b", "{\"name\":\"N\"}", "a one N\ntwo\nb");
}
END_TEST

START_TEST(escaped_tags)
{
	expect("\\{{title}} {{title}}", user, "{{title}} T");
	expect("\\\\{{title}}", user, "\\T");
}
END_TEST

START_TEST(compile_once_render_many)
{
	tpl_t *tpl;
	char err[256];
	const char *text = "{{#if name}}Hi {{name}}{{else}}Hi there{{/if}}";

	ck_assert_int_eq(tpl_compile(text, strlen(text), NULL, NULL, &tpl, err, sizeof(err)), 0);
	ck_assert_str_eq(tpl_filename(tpl), "<template>");
	for (int i = 0; i < 3; i++) {
		cJSON *data = cJSON_Parse(i == 1 ? "{}" : "{\"name\":\"Ada\"}");
		char *out;

		ck_assert_int_eq(tpl_render(tpl, data, NULL, NULL, &out, err, sizeof(err)), 0);
		ck_assert_str_eq(out, i == 1 ? "Hi there" : "Hi Ada");
		free(out);
		cJSON_Delete(data);
	}
	tpl_free(tpl);
	tpl_free(NULL);
}
END_TEST

START_TEST(no_escape_option)
{
	const tpl_options_t plain = { .no_escape = true };

	expect_opts("{{s}}", "{\"s\":\"a & <b>\"}", "a & <b>", &plain);
	expect_opts("{{> greet}}", "{\"name\":\"<i>\"}", "Hello <i>!", &plain);
}
END_TEST

START_TEST(syntax_errors_name_file_line_and_column)
{
	expect_error("line one\n  {{#if x}}\nno close\n", "t.hbs:2:3: unclosed block: {{#if}} has no {{/if}}");
	expect_error("{{#each a}}\n{{#if b}}x{{/each}}", "t.hbs:2:11: {{/each}} does not match {{#if}} at 2:1");
	expect_error("ab\ncd {{name", "t.hbs:2:4: unclosed tag: no }} before the end of the file");
	expect_error("\u00e9\u00e9 {{name}", "t.hbs:1:4: unclosed tag: expected }}");
	expect_error("{{{raw}}", "t.hbs:1:1: unclosed tag: expected }}}");
	expect_error("x\n\n {{! never closed", "t.hbs:3:2: unclosed comment: no }} before the end of the file");
	expect_error("{{!-- never }} closed", "t.hbs:1:1: unclosed comment: no --}} before the end of the file");
	expect_error("a {{#unknown x}}y{{/unknown}}", "t.hbs:1:3: unknown block helper \"unknown\"");
	expect_error("{{#each}}x{{/each}}", "t.hbs:1:1: {{#each}} takes exactly one argument");
	expect_error("\n\n    {{> nosuch}}", "t.hbs:3:5: partial \"nosuch\" not found");
	expect_error("{{else}}", "t.hbs:1:1: {{else}} outside a block");
	expect_error("x {{/if}}", "t.hbs:1:3: {{/if}} closes no open block");
	expect_error("{{#if a}}{{else}}{{else}}{{/if}}", "t.hbs:1:18: {{else}} after the {{else}} of {{#if}}");
	expect_error("{{lookup a b}}", "t.hbs:1:1: unknown helper \"lookup\"");
	expect_error("{{if a}}", "t.hbs:1:1: \"if\" is a block helper: write {{#if ...}}");
	expect_error("{{}}", "t.hbs:1:1: empty tag: expected a name");
	expect_error("{{a/../b}}", "t.hbs:1:3: invalid path \"a/..\"");
	expect_error("{{a.b..c}}", "t.hbs:1:7: unexpected '.' where a name should be");
	expect_error("{{#with a as |b|}}{{/with}}", "t.hbs:1:11: block parameters (as |x|) are not supported");
	expect_error("{{x (y)}}", "t.hbs:1:5: subexpressions ( ) are not supported");
	expect_error("{{#each a key=1}}{{/each}}",
		     "t.hbs:1:11: key=value arguments other than includeZero= on if/unless are not supported");
	expect_error("{{\"open}}", "t.hbs:1:3: unclosed string");
	expect_error("{{> greet a b}}", "t.hbs:1:1: a partial takes at most one argument (its context)");
	expect_error("{{#> layout}}{{/layout}}", "t.hbs:1:1: partial blocks {{#> }} are not supported");
	expect_error_n("a\nb\0c", 5, "t.hbs:2:2: NUL byte in the template");
}
END_TEST

/*
 * Rendered text goes into mail parts labelled UTF-8, so a template that is
 * not UTF-8 (say, saved as Latin-1) must fail when it is compiled, naming
 * where, instead of at every send.
 */
START_TEST(invalid_utf8_is_refused_at_compile_time)
{
	/* Valid text with characters of every length still compiles. */
	const char *ok = "\x41 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	tpl_t *tpl = NULL;
	char err[256];

	expect_error("Caf\xe9 news", "t.hbs:1:4: invalid UTF-8 (byte 0xE9)");
	expect_error("\xc3\xa9t\xc3\xa9\n{{a}} \xff", "t.hbs:2:7: invalid UTF-8 (byte 0xFF)");
	expect_error("{{a}}\xc0\xaf", "t.hbs:1:6: invalid UTF-8 (byte 0xC0)");     /* overlong */
	expect_error("x\xed\xa0\x80", "t.hbs:1:2: invalid UTF-8 (byte 0xED)");     /* surrogate */
	expect_error("ab\xe2\x82", "t.hbs:1:3: invalid UTF-8 (byte 0xE2)");        /* cut short */
	expect_error("{{!-- \x80 --}}", "t.hbs:1:7: invalid UTF-8 (byte 0x80)"); /* even in a comment */
	ck_assert_int_eq(tpl_compile(ok, strlen(ok), "t.hbs", NULL, &tpl, err, sizeof(err)), 0);
	tpl_free(tpl);
}
END_TEST

START_TEST(nesting_is_limited_at_compile_time)
{
	size_t n = TPL_MAX_NESTING + 1;
	char *text = malloc(n * 20 + 1), *p = text;

	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "{{#if a}}");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "{{/if}}");
	expect_error(text, "t.hbs:1:451: blocks nested more than 50 deep");
	/* One level less compiles. */
	text[strlen(text) - 7] = '\0';
	expect(text + 9, "{\"a\":1}", "");
	free(text);
}
END_TEST

/*
 * The links of a flat {{else x}} chain are not nesting (Handlebars takes any
 * number); they have a limit of their own. Blocks inside a link still count
 * their nesting from the chain's own level.
 */
START_TEST(else_chains_are_not_nesting)
{
	size_t n = TPL_MAX_ELSE_CHAIN;
	char *text = malloc(n * 40 + 64), *p = text, want[32], data[32];

	p += sprintf(p, "{{#if a0}}0");
	for (size_t i = 1; i <= n; i++)
		p += sprintf(p, "{{else if a%zu}}%zu", i, i);
	sprintf(p, "{{/if}}");
	snprintf(data, sizeof(data), "{\"a%zu\":1}", n);
	snprintf(want, sizeof(want), "%zu", n);
	expect(text, data, want);
	/* One link more is refused, at that link. */
	sprintf(p, "{{else if z}}{{/if}}");
	{
		tpl_t *tpl = NULL;
		char err[256], msg[64];

		ck_assert_int_eq(tpl_compile(text, strlen(text), "t.hbs", NULL, &tpl, err, sizeof(err)), -EINVAL);

		/* The position is that of the link past the limit: the text up to it, plus one. */
		snprintf(want, sizeof(want), "t.hbs:1:%zu: ", (size_t)(p - text) + 1);
		snprintf(msg, sizeof(msg), "more than %d {{else x}} in a chain", TPL_MAX_ELSE_CHAIN);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0 && strcmp(err + strlen(want), msg) == 0,
			      "got \"%s\"", err);
		ck_assert_ptr_null(tpl);
	}

	/* 49 blocks inside a link: 50 deep with the chain's block, which is allowed; 50 are not. */
	for (size_t extra = TPL_MAX_NESTING - 1; extra <= TPL_MAX_NESTING; extra++) {
		p = text;
		p += sprintf(p, "{{#if x}}{{else if y}}");
		for (size_t i = 0; i < extra; i++)
			p += sprintf(p, "{{#if a}}");
		for (size_t i = 0; i < extra; i++)
			p += sprintf(p, "{{/if}}");
		sprintf(p, "{{/if}}");
		if (extra < TPL_MAX_NESTING)
			expect(text, "{\"y\":1,\"a\":1}", "");
		else
			expect_error(text, "t.hbs:1:464: blocks nested more than 50 deep");
	}
	free(text);
}
END_TEST

START_TEST(output_size_is_capped)
{
	const tpl_options_t small = { .max_output = 10 };

	expect_opts("0123456789", NULL, "0123456789", &small);
	expect_render_error("0123456789{{x}}", "{\"x\":\"!\"}", &small, -EFBIG,
			    "t.hbs: output larger than 10 bytes");
	/* 50^4 copies of s, 325 MB if nothing stopped it. */
	expect_render_error("{{#each a}}{{#each @root.a}}{{#each @root.a}}{{#each @root.a}}{{@root.s}}"
			    "{{/each}}{{/each}}{{/each}}{{/each}}",
			    "{\"s\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\","
			    "\"a\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,"
			    "27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50]}",
			    NULL, -EFBIG, "output larger than 4194304 bytes");
}
END_TEST

START_TEST(partial_recursion_is_limited)
{
	const tpl_options_t shallow = { .max_partial_depth = 3 };

	expect_render_error("{{> self}}", NULL, NULL, -ELOOP, "self:1:2: partials nested more than 20 deep");
	expect_render_error("{{> rec}}", "{\"next\":{\"next\":{\"next\":{\"next\":{}}}}}", &shallow,
			    -ELOOP, "partials nested more than 3 deep");
	expect_opts("{{> rec}}", "{\"next\":{\"next\":{}}}", "((end))", &shallow);
}
END_TEST

START_TEST(work_is_limited)
{
	const tpl_options_t budget = { .max_steps = 1000 };

	/* 50^4 iterations with no output at all: only the step budget stops it. */
	expect_render_error("{{#each a}}{{#each ../a}}{{#each ../a}}{{#each ../a}}{{/each}}{{/each}}"
			    "{{/each}}{{/each}}",
			    "{\"a\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,"
			    "27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50]}",
			    &budget, -ETIMEDOUT, "rendering took more than 1000 steps");
	expect_opts("{{#each a}}{{this}}{{/each}}", "{\"a\":[1,2,3]}", "123", &budget);
}
END_TEST

START_TEST(largest_template_compiles_in_linear_space)
{
	/* ~60,000 paths and strings in 1 MiB: quadratic memory would need tens of gigabytes. */
	static const char unit[] = "{{#if \"s\"}}{{a.b}}{{/if}}";
	size_t n = TPL_MAX_SOURCE / (sizeof(unit) - 1);
	char *text = malloc(n * (sizeof(unit) - 1) + 1), *out, err[256];
	cJSON *data = cJSON_Parse("{\"a\":{\"b\":\"x\"}}");
	tpl_t *tpl;

	for (size_t i = 0; i < n; i++)
		memcpy(text + i * (sizeof(unit) - 1), unit, sizeof(unit) - 1);
	text[n * (sizeof(unit) - 1)] = '\0';
	ck_assert_int_eq(tpl_compile(text, strlen(text), "big.hbs", NULL, &tpl, err, sizeof(err)), 0);
	ck_assert_int_eq(tpl_render(tpl, data, NULL, NULL, &out, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(out), n);
	free(out);
	tpl_free(tpl);
	cJSON_Delete(data);
	free(text);
}
END_TEST

START_TEST(lengths_count_as_work)
{
	const tpl_options_t budget = { .max_steps = 1000 };
	char *json = malloc(70000);

	/* 100 lengths of a 64 KiB string: little output, but 6.4 MB to count. */
	strcpy(json, "{\"a\":[1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,"
		     "8,9,10,1,2,3,4,5,6,7,8,9,10],\"s\":\"");
	{
		size_t at = strlen(json);

		memset(json + at, 'x', 65536);
		strcpy(json + at + 65536, "\"}");
	}
	expect_render_error("{{#each a}}{{../s.length}}{{/each}}", json, &budget, -ETIMEDOUT,
			    "rendering took more than 1000 steps");
	free(json);
}
END_TEST

START_TEST(oversized_template_is_refused)
{
	size_t n = TPL_MAX_SOURCE + 1;
	char *text = malloc(n);
	tpl_t *tpl = NULL;
	char err[256];

	memset(text, 'a', n);
	ck_assert_int_eq(tpl_compile(text, n, "big.hbs", NULL, &tpl, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "big.hbs:1:1: template larger than 1048576 bytes");
	free(text);
}
END_TEST

START_TEST(partials_are_checked_when_added)
{
	tpl_set_t *set;
	char err[256];

	tpl_set_new(&set);
	ck_assert_int_eq(tpl_set_add_partial(set, "a", "{{> b}}", 7, "a.hbs", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "a.hbs:1:1: partial \"b\" not found");
	ck_assert_ptr_null(tpl_set_partial(set, "a"));
	ck_assert_int_eq(tpl_set_add_partial(set, "b", "B", 1, "b.hbs", err, sizeof(err)), 0);
	ck_assert_int_eq(tpl_set_add_partial(set, "a", "{{> b}}", 7, "a.hbs", err, sizeof(err)), 0);
	ck_assert_int_eq(tpl_set_add_partial(set, "a", "again", 5, "a.hbs", err, sizeof(err)), -EEXIST);
	ck_assert_ptr_nonnull(tpl_set_partial(set, "a"));
	tpl_set_free(set);
	tpl_set_free(NULL);
}
END_TEST

START_TEST(missing_partial_at_render_is_an_error_not_a_crash)
{
	tpl_t *tpl;
	char err[256], *out;

	/* Compiled without a set (so unchecked), then rendered without one. */
	ck_assert_int_eq(tpl_compile("a{{> p}}", 8, "t.hbs", NULL, &tpl, err, sizeof(err)), 0);
	ck_assert_int_eq(tpl_check_partials(tpl, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t.hbs:1:2: partial \"p\" not found");
	ck_assert_int_eq(tpl_render(tpl, NULL, NULL, NULL, &out, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "t.hbs:1:2: partial \"p\" not found");
	tpl_free(tpl);
}
END_TEST

RUNNER_MAIN("template", 30, paths, missing_values_render_empty, escaping_every_special_character,
	    values_print_like_javascript, this_and_parent_contexts, root_data, if_truthiness,
	    else_if_chains, each_over_arrays, each_over_objects, each_else_when_nothing_to_iterate,
	    with_blocks, comments, whitespace_control, standalone_lines, partials,
	    standalone_partials_are_indented, escaped_tags, compile_once_render_many, no_escape_option,
	    syntax_errors_name_file_line_and_column, invalid_utf8_is_refused_at_compile_time,
	    nesting_is_limited_at_compile_time, else_chains_are_not_nesting,
	    output_size_is_capped, partial_recursion_is_limited, work_is_limited,
	    largest_template_compiles_in_linear_space, lengths_count_as_work,
	    oversized_template_is_refused, partials_are_checked_when_added,
	    missing_partial_at_render_is_an_error_not_a_crash)
