-- 007_shipped_workflows: the product's workflows, loaded once and then the
-- users' to edit (a later migrate never overwrites them).
--
-- Routing is in the rules: united and podcast subscriptions have their own
-- welcome (priority 10); any other subscription matches generic_welcome
-- (no rule, priority 0); every newsletter signup matches newsletter_welcome.
-- Waits are real days; DELAY_SCALE=86400 makes a day last a second.
-- These definitions are checked by tests/unit/test_reactflow.c (which
-- validates and round-trips each), so they are stored as validated (for this
-- migration's transaction only).

SET LOCAL wf.validated = 'on';

INSERT INTO workflow (name, definition, valid) VALUES
('value_highlight_flow', $json$
{
  "name": "value_highlight_flow",
  "trigger": {"source": "manual"},
  "start": "highlight",
  "nodes": {
    "highlight": {"type": "action", "action": "send_email", "template": "value_highlight", "next": null}
  }
}
$json$, true),

('united_welcome', $json$
{
  "name": "united_welcome",
  "trigger": {"source": "subscription", "rule": {"==": [{"var": "subscription_type.name"}, "united"]}, "priority": 10},
  "start": "welcome",
  "nodes": {
    "welcome": {"type": "action", "action": "send_email", "template": "united_welcome", "next": "wait_2d"},
    "wait_2d": {"type": "delay", "seconds": 172800, "next": "check_engaged"},
    "check_engaged": {"type": "condition", "rule": {"!": {"var": "user.engaged"}}, "true": "nudge", "false": "wait_3d"},
    "nudge": {"type": "action", "action": "send_email", "template": "engagement_nudge", "next": "wait_3d"},
    "wait_3d": {"type": "delay", "seconds": 259200, "next": "highlight"},
    "highlight": {"type": "shared_flow", "workflow": "value_highlight_flow", "next": null}
  }
}
$json$, true),

('podcast_welcome', $json$
{
  "name": "podcast_welcome",
  "trigger": {"source": "subscription", "rule": {"==": [{"var": "subscription_type.name"}, "podcast"]}, "priority": 10},
  "start": "welcome",
  "nodes": {
    "welcome": {"type": "action", "action": "send_email", "template": "podcast_welcome", "next": "wait_2d"},
    "wait_2d": {"type": "delay", "seconds": 172800, "next": "check_engaged"},
    "check_engaged": {"type": "condition", "rule": {"!": {"var": "user.engaged"}}, "true": "nudge", "false": "wait_3d"},
    "nudge": {"type": "action", "action": "send_email", "template": "engagement_nudge", "next": "wait_3d"},
    "wait_3d": {"type": "delay", "seconds": 259200, "next": "highlight"},
    "highlight": {"type": "shared_flow", "workflow": "value_highlight_flow", "next": null}
  }
}
$json$, true),

('generic_welcome', $json$
{
  "name": "generic_welcome",
  "trigger": {"source": "subscription", "priority": 0},
  "start": "welcome",
  "nodes": {
    "welcome": {"type": "action", "action": "send_email", "template": "generic_welcome", "next": "wait_2d"},
    "wait_2d": {"type": "delay", "seconds": 172800, "next": "check_engaged"},
    "check_engaged": {"type": "condition", "rule": {"!": {"var": "user.engaged"}}, "true": "nudge", "false": "wait_3d"},
    "nudge": {"type": "action", "action": "send_email", "template": "engagement_nudge", "next": "wait_3d"},
    "wait_3d": {"type": "delay", "seconds": 259200, "next": "highlight"},
    "highlight": {"type": "shared_flow", "workflow": "value_highlight_flow", "next": null}
  }
}
$json$, true),

('newsletter_welcome', $json$
{
  "name": "newsletter_welcome",
  "trigger": {"source": "newsletter", "priority": 0},
  "exit_when": {"!!": {"var": "newsletter.unsubscribed_at"}},
  "start": "welcome",
  "nodes": {
    "welcome": {"type": "action", "action": "send_email", "template": "newsletter_welcome", "next": "wait_3d"},
    "wait_3d": {"type": "delay", "seconds": 259200, "next": "highlight"},
    "highlight": {"type": "action", "action": "send_email", "template": "value_highlight", "next": null}
  }
}
$json$, true)
ON CONFLICT (name) DO NOTHING;
